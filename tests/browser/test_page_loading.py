"""A page's content waits for the page's load handlers: until they have run, the tab holds the
state of the page it was on, and a click on that content would be undone by the load."""

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from tests.browser.conftest import member_session, open_site, page_as

pytestmark = pytest.mark.browser

HYDRATED = '"is_hydrated_rx_state_":true'


class HeldUpdates:
    """Passes the app's websocket through, holding back from the moment `hold` is set every update
    to the browser from the one that says the page's load handlers have run."""

    def __init__(self) -> None:
        self.hold = False
        self.held: list[str | bytes] = []
        self.socket: WebSocketRoute | None = None

    def route(self, socket: WebSocketRoute) -> None:
        self.socket = socket
        server = socket.connect_to_server()
        server.on_message(self._down)
        socket.on_message(server.send)

    def _down(self, message: str | bytes) -> None:
        if self.held or (self.hold and HYDRATED in str(message)):
            self.held.append(message)
        elif self.socket is not None:
            self.socket.send(message)

    def release(self) -> None:
        self.hold = False
        held, self.held = self.held, []
        for message in held:
            assert self.socket is not None
            self.socket.send(message)


def _pump_until(page: Page, condition: Callable[[], bool]) -> None:
    """Let the page's websocket traffic through the route until `condition` holds (15 s at most)."""
    deadline = time.monotonic() + 15
    while not condition():
        assert time.monotonic() < deadline, "the page's load handlers never finished"
        page.wait_for_timeout(20)


def test_the_next_pages_content_waits_for_its_load_handlers(live_app, browser: Browser):
    token = member_session(live_app, "loading.walk@example.com", name="Loading Walk")
    page = page_as(browser, live_app, token, host="acme.localhost")
    updates = HeldUpdates()
    page.route_web_socket("**/_event**", updates.route)
    try:
        open_site(page, live_app.url("acme.localhost", "/client"))
        updates.hold = True
        page.goto(live_app.url("acme.localhost", "/account/security"))
        _pump_until(page, lambda: bool(updates.held))
        # The tab's state says "signed in on a known site" (from the last page) ...
        expect(page.locator("#signed-in-as")).to_have_text("Loading Walk")
        expect(page.locator("#site-root")).to_have_attribute("data-hydrated", "false")
        # ... but the page's own content cannot be clicked before its load has run.
        expect(page.locator("#totp-start")).to_be_hidden()

        updates.release()
        expect(page.locator("#site-root")).to_have_attribute("data-hydrated", "true")
        page.click("#totp-start")
        expect(page.locator("#totp-secret")).not_to_be_empty()
    finally:
        page.context.close()
