"""When to poll a service the panel is building: timed to the panel's expected build time.

Each worker process learns how long its panels take to build, per panel, from when the poll that
found a build ready was due (counted from the create's reply; the schedule, not the queue's
delay). A first poll that finds it ready lowers the expectation by a fifth of the interval
between polls near the end; a later one moves it most of the way to what it saw (its due time
less half the interval before it: the build ended between the last "building" and the "ready",
and polls scheduled before anything was learned are a second or more apart). So about
one first poll in five finds the build still running, and a panel whose builds got faster or
slower is learned within a few deliveries. The first poll is scheduled just after the build is
expected to be done, then the service is polled at short intervals (a tenth of the build time, at least
`NEAR_MIN_SECONDS`) for `NEAR_POLLS` polls, and only then less and less often. A poll that fails
(timeout, 5xx) keeps the same schedule: it is tried again soon, never after the longest
interval. Until a panel's first build is seen, polls start after `POLL_SECONDS` and grow 15 %
each (as before the schedule was learned).
"""

import threading

POLL_SECONDS = 1.0
GROWTH = 1.15
MAX_POLL_SECONDS = 30.0
NEAR_POLLS = 8
NEAR_MIN_SECONDS = 0.25
NEAR_SHARE = 0.1
# The first poll goes out this much after the build is expected done: early, it finds the build
# still running and costs a second poll (an interval and a round trip) more often than it saves.
LAG_SECONDS = 0.1
DOWN_SHARE = 0.2  # of the near interval: how much a first poll that found the build done lowers
UP_WEIGHT = 0.8  # how far a later poll's finding moves the expectation towards itself


class BuildTimes:
    """The expected build time of each panel (seconds), learned in this process."""

    def __init__(self) -> None:
        """Nothing learned yet."""
        self._lock = threading.Lock()
        self._expected: dict[int, float] = {}

    def expected(self, panel_id: int) -> float | None:
        """The panel's expected build time, or None before its first observed build."""
        with self._lock:
            return self._expected.get(panel_id)

    def observe(self, panel_id: int, *, ready_after: float, first_poll: bool, waited: float) -> None:
        """A build found ready by a poll due `ready_after` seconds after the create's reply, and
        `waited` seconds after the poll (or the create) before it: the job's first poll, or a later
        one (the build ended in that interval, taken as its middle)."""
        with self._lock:
            old = self._expected.get(panel_id)
            near = near_interval(old)
            seen = max(ready_after - waited / 2, 0.0)
            if old is None:
                new = seen
            elif first_poll:
                new = max(old - DOWN_SHARE * near, 0.0)
            else:
                new = old + UP_WEIGHT * (seen - old)
            self._expected[panel_id] = new

    def forget(self) -> None:
        """Drop what was learned (tests, benchmarks)."""
        with self._lock:
            self._expected.clear()


BUILD_TIMES = BuildTimes()


def near_interval(expected: float | None) -> float:
    """The interval between polls around the expected end of the build."""
    if expected is None:
        return POLL_SECONDS
    return max(NEAR_MIN_SECONDS, NEAR_SHARE * expected)


def first_poll(expected: float | None) -> float:
    """Seconds from the create's reply to the first poll."""
    if expected is None:
        return POLL_SECONDS
    return max(expected + LAG_SECONDS, NEAR_MIN_SECONDS)


def next_poll(polls: int, expected: float | None) -> float:
    """Seconds to the next poll after `polls` polls that did not find the build done (or failed)."""
    if expected is None:
        return min(POLL_SECONDS * GROWTH ** (polls - 1), MAX_POLL_SECONDS)
    near = near_interval(expected)
    if polls < NEAR_POLLS:
        return near
    return min(near * GROWTH ** (polls - NEAR_POLLS + 1), MAX_POLL_SECONDS)
