"""Start a loopback simulator as a child process and wait until it answers (`ezscale run`)."""

import socket
import subprocess
import sys
import time
from collections.abc import Sequence

import httpx


def start(module: str, port: int, *, probe: str = "/", args: Sequence[str] = ()) -> subprocess.Popen:
    """`python -m ezscale.simulators.<module> --port <port> <args>`, once `probe` answers at all."""
    process = subprocess.Popen(
        [sys.executable, "-m", f"ezscale.simulators.{module}", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the {module} simulator exited at start")
        try:
            httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the {module} simulator did not start")


def free_port() -> int:
    """A loopback port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
