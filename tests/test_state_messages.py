"""What a user sees when a request is refused: the DomainError's message, never Python's text."""

import pytest

from ezscale.errors import DomainError, NotFound
from ezscale.state.messages import attempt, parse_id


def test_a_refusal_becomes_its_message_and_a_success_clears_it():
    def refuse():
        raise NotFound("No such invoice.")

    assert attempt(refuse) == (None, "No such invoice.")
    assert attempt(lambda: 42) == (42, "")


def test_a_python_error_is_never_turned_into_a_message():
    assert not issubclass(DomainError, ValueError)
    with pytest.raises(ValueError, match="invalid literal"):
        attempt(lambda: int("abc"))


@pytest.mark.parametrize("value", ["abc", "", "1.5", None])
def test_an_id_that_is_not_a_number_is_not_found(value):
    _, message = attempt(lambda: parse_id(value, "invoice"))
    assert message == "No such invoice."
    assert parse_id("17", "invoice") == 17
