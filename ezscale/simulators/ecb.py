"""A loopback copy of the ECB's daily reference rates feed (`eurofxref-daily.xml`).

Serves `GET /stats/eurofxref/eurofxref-daily.xml` exactly as the ECB does (gesmes envelope,
eurofxref namespace, one dated `Cube`, rates as units per 1 EUR with the ECB's decimals).
The day and the rates can be changed (`set_day`, or `POST /sim/day` with JSON
`{"date": "2026-11-27", "rates": {"USD": "1.1650"}}`), and one fault can be injected for the next
requests (`fail`, or `POST /sim/fault` with `{"fault": "500"}`): `500`, `timeout` (hang longer
than a client waits), `malformed` (cut-off XML), `empty` (no rates), `negative` (a rate ≤ 0).

Run alone: `python -m ezscale.simulators.ecb --port 8399`.
"""

import argparse
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import quoteattr

from ezscale.simulators.rest import RunningServer, SimHandler, start, wait_forever

FEED_PATH = "/stats/eurofxref/eurofxref-daily.xml"
FAULTS = ("500", "timeout", "malformed", "empty", "negative")

# A realistic day (ECB decimals: USD 4, JPY 2, GBP 5 …), in the ECB's order.
DEFAULT_RATES: dict[str, str] = {
    "USD": "1.1650",
    "JPY": "171.23",
    "CZK": "24.362",
    "DKK": "7.4640",
    "GBP": "0.86250",
    "HUF": "389.15",
    "PLN": "4.2635",
    "RON": "5.0772",
    "SEK": "11.0120",
    "CHF": "0.9372",
    "ISK": "143.40",
    "NOK": "11.6905",
    "TRY": "47.8720",
    "AUD": "1.7905",
    "BRL": "6.3421",
    "CAD": "1.6092",
    "CNY": "8.3380",
    "HKD": "9.0870",
    "IDR": "19061.47",
    "ILS": "3.9300",
    "INR": "102.1445",
    "KRW": "1618.32",
    "MXN": "21.7418",
    "MYR": "4.9266",
    "NZD": "1.9867",
    "PHP": "66.417",
    "SGD": "1.4960",
    "THB": "37.812",
    "ZAR": "20.5960",
}


@dataclass
class EcbSimulator:
    """The feed's state: the day published, its rates, the fault to inject, the requests seen."""

    day: date = date(2026, 11, 27)
    rates: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RATES))
    fault: str | None = None
    hang_seconds: float = 5.0
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set_day(self, day: date, rates: dict[str, str] | None = None) -> None:
        """Publish a new day; `rates` replaces the given currencies' rates."""
        with self._lock:
            self.day = day
            self.rates.update(rates or {})

    def fail(self, fault: str | None) -> None:
        """Inject a fault into every following request (None: answer normally again)."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self.fault = fault

    def document(self) -> bytes:
        """The feed as the ECB writes it (with the current fault applied)."""
        with self._lock:
            rates = {} if self.fault == "empty" else dict(self.rates)
            if self.fault == "negative":
                rates["USD"] = "-1.1650"
            cubes = "\n".join(
                f"\t\t\t<Cube currency={quoteattr(code)} rate={quoteattr(value)}/>"
                for code, value in rates.items()
            )
            text = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
                'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">\n'
                "\t<gesmes:subject>Reference rates</gesmes:subject>\n"
                "\t<gesmes:Sender>\n\t\t<gesmes:name>European Central Bank</gesmes:name>\n"
                "\t</gesmes:Sender>\n"
                f"\t<Cube>\n\t\t<Cube time='{self.day.isoformat()}'>\n{cubes}\n\t\t</Cube>\n\t</Cube>\n"
                "</gesmes:Envelope>\n"
            )
            if self.fault == "malformed":
                text = text[: len(text) // 2]
            return text.encode()


def _handler_for(sim: EcbSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(SimHandler):
        def _reply(self, status: int, body: bytes = b"", content_type: str = "text/xml") -> None:
            self.send(status, body, content_type)

        def do_GET(self) -> None:
            if self.path.split("?")[0] != FEED_PATH:
                return self._reply(404, b"Not Found", "text/plain")
            sim.requests += 1
            if sim.fault == "timeout":
                time.sleep(sim.hang_seconds)
            if sim.fault == "500":
                return self._reply(500, b"Internal Server Error", "text/plain")
            self._reply(200, sim.document())

        def do_POST(self) -> None:
            try:
                body = json.loads(self.body() or b"{}")
                if self.path == "/sim/day":
                    sim.set_day(date.fromisoformat(body["date"]), body.get("rates"))
                elif self.path == "/sim/fault":
                    sim.fail(body.get("fault"))
                else:
                    return self._reply(404, b"Not Found", "text/plain")
            except (ValueError, KeyError, TypeError) as error:
                return self._reply(400, json.dumps({"error": str(error)}).encode(), "application/json")
            self._reply(204)

    return Handler


def serve(sim: EcbSimulator, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve the feed on a loopback port in a daemon thread."""
    return start(_handler_for(sim), host=host, port=port)


def main() -> None:
    parser = argparse.ArgumentParser(description="ECB reference rates feed simulator")
    parser.add_argument("--port", type=int, default=8399)
    parser.add_argument("--date", type=date.fromisoformat, default=date.today())
    args = parser.parse_args()
    running = serve(EcbSimulator(day=args.date), port=args.port)
    wait_forever(f"ECB rates feed on {running.url}{FEED_PATH}")


if __name__ == "__main__":
    main()
