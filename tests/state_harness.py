"""Reflex page states for tests, without a browser: a root state with the request a page load
would carry (host, session cookie, path and query), and a way to call one event handler."""

import inspect

import reflex as rx
from reflex.istate.data import RouterData

from tests.loops import run_on_own_loop


def page_state(cls, *, host: str, token: str | None = None, path: str = "/", query: str = ""):
    """The instance of state `cls` for a request to http://<host><path>?<query> with this session."""
    root = rx.State(_reflex_internal_init=True)
    headers = {"host": host, "origin": f"http://{host}"}
    if token:
        headers["cookie"] = f"ezscale_session={token}"
    root.router = RouterData.from_router_data(
        {"headers": headers, "pathname": path, "asPath": f"{path}?{query}" if query else path}
    )
    return root.get_substate(cls.get_full_name().split(".")[1:])


def call(state, name: str, *args):
    """Run event handler `name` of `state` (awaiting it when it is async)."""
    result = type(state).event_handlers[name].fn(state, *args)
    if inspect.isawaitable(result):
        return run_on_own_loop(result)
    return result
