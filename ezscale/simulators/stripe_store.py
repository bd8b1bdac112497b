"""Indexes over localstripe's store, so that a request to the Stripe simulator costs the same
whatever the store holds.

localstripe keeps every object in one dict (`"<kind>:<id>" → object`) and builds each list by
scanning all of it; a charge's `refunds` and a customer's `subscriptions` are such lists, so
every charge or customer it returns (a PaymentIntent's reply included) cost one pass over every
object, and the simulator slowed from 24 to 6.6 req/s between 2,000 and 10,000 customers.

`install(resources)` keeps, in step with the store (set, delete, update, clear):

- per kind, its objects in store order: what a list starts from, instead of the scan;
- for the attributes lists filter on that do not change once the object is made (`FILTERS`),
  the objects per value. localstripe sets them after storing the object, so new objects are
  filed at the next list, and an object changed through the API (`POST /v1/charges/{id}`) is
  filed again.

A list filtered on such an attribute (`GET /v1/charges?customer=…`) starts from that value's
objects, in store order; localstripe's own filter still runs on them, so every list returns the
same objects in the same order as with the scan.
"""

import contextvars
from collections.abc import Callable
from typing import Any

# kind → the list filter answered from an index (the attribute and the list's parameter).
FILTERS = {"charge": "customer", "refund": "charge", "subscription": "customer", "invoice": "customer"}
# (kind, value) the next list of that kind starts from, set by the filtered lists' wrapper.
_NARROW: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("narrow", default=None)


def _kind(key: Any) -> str | None:
    if isinstance(key, str):
        kind, colon, _ = key.partition(":")
        if colon:
            return kind
    return None


class Index:
    """The store's objects per kind, and per value of the `FILTERS` attributes."""

    def __init__(self) -> None:
        self.kinds: dict[str, dict[str, Any]] = {}
        self.position: dict[str, int] = {}  # a key's place in the store (insertion order)
        self.counter = 0
        self.filed: dict[str, str | None] = {}  # key → the value it is filed under (None: any)
        self.by_value: dict[tuple[str, str | None], set[str]] = {}
        self.pending: dict[str, None] = {}  # keys stored or changed since the last list

    def put(self, key: Any, obj: Any, *, new: bool) -> None:
        kind = _kind(key)
        if kind is None:
            return
        self.kinds.setdefault(kind, {})[key] = obj
        if new:
            self.counter += 1
            self.position[key] = self.counter
        if kind in FILTERS:
            self.refile(key)

    def drop(self, key: Any) -> None:
        kind = _kind(key)
        if kind is None:
            return
        self.kinds.get(kind, {}).pop(key, None)
        self.position.pop(key, None)
        self._unfile(key)
        self.pending.pop(key, None)

    def clear(self) -> None:
        for table in (self.kinds, self.position, self.filed, self.by_value, self.pending):
            table.clear()

    def refile(self, key: str) -> None:
        """File `key` again at the next list (its filter attribute may have changed)."""
        self._unfile(key)
        self.pending[key] = None

    def _unfile(self, key: str) -> None:
        if key in self.filed:
            kind = _kind(key)
            assert kind is not None
            self.by_value[(kind, self.filed.pop(key))].discard(key)

    def _file_pending(self) -> None:
        for key in self.pending:
            kind = _kind(key)
            assert kind is not None
            value = getattr(self.kinds[kind][key], FILTERS[kind], None)
            filed = value if isinstance(value, str) else None  # not an id: a candidate of every value
            self.filed[key] = filed
            self.by_value.setdefault((kind, filed), set()).add(key)
        self.pending.clear()

    def objects(self, kind: str) -> list[Any]:
        """The objects a list of `kind` starts from, in store order: all of them, or those of
        the value a filtered list asked for (and any whose attribute is not an id)."""
        narrow = _NARROW.get()
        _NARROW.set(None)  # only the list that asked: not a nested one
        objects = self.kinds.get(kind, {})
        if narrow is None or narrow[0] != kind:
            return list(objects.values())
        self._file_pending()
        keys = self.by_value.get((kind, narrow[1]), set()) | self.by_value.get((kind, None), set())
        return [objects[key] for key in sorted(keys, key=self.position.__getitem__)]


def _narrowed(original: Callable[..., Any], kind: str, parameter: str) -> Any:
    """`original` (a class's `_api_list_all`) starting from the index when filtered on `parameter`."""

    def list_all(cls, url, *args, **kwargs):
        value = kwargs.get(parameter)
        token = _NARROW.set((kind, value) if isinstance(value, str) and value else None)
        try:
            return original(url, *args, **kwargs)
        finally:
            _NARROW.reset(token)

    return classmethod(list_all)


def install(resources: Any) -> Index:
    """Index `resources.store` (localstripe's) and make its lists use the index."""
    index = Index()
    _keep_in_step(resources.Store, index)
    for key, value in dict.items(resources.store):
        index.put(key, value, new=True)
    _list_from(resources, index)
    return index


def _keep_in_step(store_class: Any, index: Index) -> None:
    """Every change to the store (localstripe's `Store`, a dict) made to the index too."""
    set_item, del_item = store_class.__setitem__, store_class.__delitem__

    def __setitem__(self, key, value):
        new = key not in self
        set_item(self, key, value)
        index.put(key, value, new=new)

    def __delitem__(self, key):
        del_item(self, key)
        index.drop(key)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            new = key not in self
            dict.__setitem__(self, key, value)
            index.put(key, value, new=new)

    def clear(self):
        dict.clear(self)
        index.clear()

    def pop(self, key, *default):
        value = dict.pop(self, key, *default)
        index.drop(key)
        return value

    store_class.__setitem__, store_class.__delitem__ = __setitem__, __delitem__
    store_class.update, store_class.clear, store_class.pop = update, clear, pop


def _list_from(resources: Any, index: Index) -> None:
    """localstripe's lists started from the index; an object changed by the API filed again."""

    def list_all(cls, url, limit=None, starting_after=None, **kwargs):
        # localstripe's StripeObject._api_list_all, from the index instead of a scan of the store
        if kwargs:
            raise resources.UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        listed = resources.List(url, limit=limit, starting_after=starting_after)
        listed._list = index.objects(cls.object)
        return listed

    resources.StripeObject._api_list_all = classmethod(list_all)
    by_kind = {cls.object: cls for cls in resources.StripeObject.__subclasses__()}
    for kind, parameter in FILTERS.items():
        cls = by_kind[kind]
        cls._api_list_all = _narrowed(cls._api_list_all, kind, parameter)
    update_object = resources.StripeObject._update

    def _update(self, **data):
        update_object(self, **data)
        key = f"{self.object}:{self.id}"
        if self.object in FILTERS and key in index.position:
            index.refile(key)

    resources.StripeObject._update = _update
