"""Domain errors: their message is safe to show to the person who caused them."""


class DomainError(ValueError):
    """A request that cannot be carried out; nothing was changed."""


class NotFound(DomainError):
    """The thing asked for does not exist (or belongs to someone else)."""
