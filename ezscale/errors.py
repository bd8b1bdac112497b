"""Domain errors: their message is safe to show to the person who caused them.

`DomainError` is not a `ValueError`: a stray `ValueError` (a bad `int()`, say) is a bug, never a
message for the user, so the two are caught apart."""


class DomainError(Exception):
    """A request that cannot be carried out; nothing was changed."""


class NotFound(DomainError):
    """The thing asked for does not exist (or belongs to someone else)."""
