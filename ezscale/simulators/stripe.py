"""localstripe (a stateful fake Stripe) on loopback, for tests and the demo.

`python -m ezscale.simulators.stripe --port N [--state FILE]` serves it on
127.0.0.1 only; `--state` keeps its data across restarts (the demo), else it starts empty.
"""

import argparse
import pickle
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(port: int, *, state: Path | None = None) -> subprocess.Popen:
    """Start the simulator as a child process and wait until it answers."""
    command = [sys.executable, "-m", "ezscale.simulators.stripe", "--port", str(port)]
    if state is not None:
        command += ["--state", str(state)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the Stripe simulator exited at start")
        try:
            httpx.get(f"{base}/js.stripe.com/v3/", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the Stripe simulator did not start")


def register_webhook(api_base: str, *, url: str, secret: str, name: str = "ezscale") -> None:
    """Make localstripe send signed events to `url` (its /_config/webhooks API)."""
    httpx.post(
        f"{api_base}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=5
    ).raise_for_status()


def _serve(port: int, state: Path | None) -> None:
    from aiohttp import web
    from localstripe import resources, server

    def load(store: resources.Store) -> None:
        if state is not None and state.exists():
            store.update(pickle.loads(state.read_bytes()))

    def dump(store: resources.Store) -> None:
        if state is not None:
            state.write_bytes(pickle.dumps(dict(store), protocol=pickle.HIGHEST_PROTOCOL))

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    resources.store.try_load_from_disk()
    web.run_app(server.app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state", type=Path, default=None)
    args = parser.parse_args()
    _serve(args.port, args.state)
