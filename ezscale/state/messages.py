"""What a user sees when a request is refused: a `DomainError`'s message, never a Python error."""

from collections.abc import Callable
from typing import TypeVar

from ezscale.errors import DomainError, NotFound

T = TypeVar("T")


def attempt(fn: Callable[[], T]) -> tuple[T | None, str]:
    """Run `fn`: (its result, "") or, when it was refused, (None, the message the user sees).

    Any other exception is a bug: it propagates (Reflex logs it) and its text is never shown."""
    try:
        return fn(), ""
    except DomainError as error:
        return None, str(error)


def parse_id(value: str | int, what: str) -> int:
    """An id the page sent back; anything but a whole number is "No such <what>."."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound(f"No such {what}.") from None
