"""A loopback DNS server answering TXT (and A) queries from a dict: the custom-domain checks
speak real DNS to it in tests and demos."""

from collections.abc import Iterator
from contextlib import contextmanager

from dnslib import QTYPE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class _ZoneResolver(BaseResolver):
    def __init__(self, txt: dict[str, list[str]]) -> None:
        self.txt = txt

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        if name not in self.txt:
            reply.header.rcode = 3  # NXDOMAIN
        elif qtype == "TXT":
            for value in self.txt[name]:
                reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT(value), ttl=60))
        elif qtype == "A":
            reply.add_answer(RR(name, QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
        return reply


@contextmanager
def dns_server(txt: dict[str, list[str]]) -> Iterator[str]:
    """Serve `txt` (name → TXT strings, mutable while running); yields "127.0.0.1:port"."""
    server = DNSServer(
        _ZoneResolver(txt),
        address="127.0.0.1",
        port=0,
        logger=DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data"),
    )
    server.start_thread()
    try:
        yield f"127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.stop()
