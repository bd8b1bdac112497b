"""A separate process for the wholesale collection race test: its own interpreter and engine.

    python -m tests.services.resellers.collect_worker DAY

It prints "ready", waits for a line on stdin (so every racer starts at once), runs one collection
pass for DAY with the clock at 06:00 that day, and prints its report as one JSON line."""

import json
import sys
from datetime import UTC, date, datetime, time

from ezscale import clock


def main(day: str) -> dict:
    from ezscale.db import central_session
    from ezscale.services.resellers.wholesale_dunning import collect

    on = date.fromisoformat(day)
    clock.set_clock(clock.FrozenClock(datetime.combine(on, time(6), tzinfo=UTC)))
    with central_session() as central:
        central.connection()  # connected before the start signal
    print("ready", flush=True)
    sys.stdin.readline()
    report = collect(on=on)
    return {"charged": report.charged, "mailed": report.mailed}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])), flush=True)
