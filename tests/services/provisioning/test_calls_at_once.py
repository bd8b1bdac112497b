"""Panel calls made at once (`together`, `each`) and the stock checks shared while in flight
(`confirm` for deliveries, `check_plan` for orders)."""

import sys
import threading
from collections.abc import Callable

import pytest

from ezscale.errors import DomainError
from ezscale.services.provisioning import stock
from ezscale.services.provisioning.module import PanelRejected, PanelUnavailable, Stock
from ezscale.services.provisioning.panel_http import each, together

WAIT = 5.0  # only a broken implementation waits this long


@pytest.fixture(autouse=True)
def _cold_stock():
    stock.forget()
    yield
    stock.forget()


def _meet(parties: int) -> Callable[[], str]:
    """A call that returns only once `parties` calls wait together (made one after another, the
    first would never return: the barrier breaks after WAIT and the call raises)."""
    barrier = threading.Barrier(parties, timeout=WAIT)
    return lambda: f"met {barrier.wait()}"


def test_together_makes_the_calls_at_once_and_keeps_their_order():
    meet = _meet(3)
    first, second, third = together(lambda: ("a", meet()), lambda: ("b", meet()), lambda: ("c", meet()))
    assert [first[0], second[0], third[0]] == ["a", "b", "c"]


def test_together_ends_every_call_then_raises_the_first_error_in_order():
    ended = threading.Event()

    def refused() -> None:
        raise PanelRejected("refused")

    def slow_then_down() -> None:
        ended.wait(WAIT)
        raise PanelUnavailable("down")

    def last() -> str:
        ended.set()
        return "made"

    with pytest.raises(PanelRejected, match="refused"):
        together(refused, slow_then_down, last)
    assert ended.is_set()


def test_each_reads_at_once_in_order():
    meet = _meet(4)
    assert [r[0] for r in each(lambda n: (n, meet()), [3, 1, 4, 2], width=4)] == [3, 1, 4, 2]

    def down_at_two(n: int) -> int:
        if n == 2:
            raise PanelUnavailable("down")
        return n

    with pytest.raises(PanelUnavailable):
        each(down_at_two, [1, 2, 3])


def _waiting_on_the_shared_check(thread: threading.Thread) -> bool:
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name == "result":  # Future.result: the check in flight
            return True
        frame = frame.f_back
    return False


def _six_at_once(ask: Callable[[Callable[[], Stock]], object], answer: Stock | Exception) -> list[object]:
    """`ask(check)` from six threads, the five others starting while the first one's check is
    held at the panel; asserts the panel was asked once, and returns what each got (an answer,
    or the type of the error raised)."""
    release, started = threading.Event(), threading.Event()
    checks: list[str] = []

    def check() -> Stock:
        checks.append("panel")
        started.set()
        release.wait(WAIT)
        if isinstance(answer, Exception):
            raise answer
        return answer

    got: list[object] = []

    def one() -> None:
        try:
            got.append(ask(check))
        except Exception as error:
            got.append(type(error))

    leader = threading.Thread(target=one)
    leader.start()
    assert started.wait(WAIT)
    others = [threading.Thread(target=one) for _ in range(5)]
    for thread in others:
        thread.start()
    while not all(_waiting_on_the_shared_check(t) for t in others):
        assert leader.is_alive()
        threading.Event().wait(0.01)  # a state poll, not a timing assumption
    release.set()
    for thread in [leader, *others]:
        thread.join(WAIT)
    assert checks == ["panel"]
    return got


def test_deliveries_starting_together_share_one_check():
    assert (
        _six_at_once(lambda check: stock.confirm("vps-1", check), Stock(available=3))
        == [Stock(available=3)] * 6
    )
    kept = stock.confirm("vps-1", lambda: pytest.fail("asked the panel again"))
    assert kept == Stock(available=3)


class _HeldPanel:
    """The plan's module, its capacity check given by the test."""

    check: Callable[[], Stock]

    def check_capacity(self, _mapping: object) -> Stock:
        return self.check()


@pytest.mark.parametrize(
    ("answer", "each_gets"),
    [(Stock(available=0), Stock(available=0)), (PanelUnavailable("down"), DomainError)],
)
def test_orders_placed_together_share_the_check_in_flight(central, monkeypatch, answer, each_gets):
    """An order's check is fresh (nothing kept is reused) but joins one already asking the panel;
    a panel that cannot answer refuses each of them clearly."""
    panel = _HeldPanel()
    monkeypatch.setattr(stock, "module_for_plan", lambda _central, _code: (panel, None))

    def order(check: Callable[[], Stock]) -> Stock | None:
        panel.check = check
        return stock.check_plan("vps-1", fresh=True)

    assert _six_at_once(order, answer) == [each_gets] * 6
    panel.check = lambda: Stock(available=5)
    assert stock.check_plan("vps-1", fresh=True) == Stock(available=5)  # not the kept answer


def test_a_check_the_panel_cannot_answer_leaves_it_to_the_create():
    def down() -> Stock:
        raise PanelUnavailable("down")

    assert stock.confirm("vps-1", down) is None

    def misconfigured() -> Stock:
        raise PanelRejected("no token")

    with pytest.raises(PanelRejected):  # a broken configuration is not hidden
        stock.confirm("vps-1", misconfigured)


def test_a_no_is_never_reused():
    answers = iter([Stock(available=0), Stock(available=2)])
    assert stock.confirm("vps-1", lambda: next(answers)) == Stock(available=0)
    assert stock.confirm("vps-1", lambda: next(answers)) == Stock(available=2)
