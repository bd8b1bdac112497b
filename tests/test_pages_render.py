"""Every registered page builds and renders to the frontend's component tree — a broken Var,
handler or layout fails here in a second instead of in a browser test's app build."""

import pytest

from ezscale.pages import PAGES as REGISTERED  # importing the package registers every page


@pytest.mark.parametrize("page", REGISTERED, ids=lambda p: p.route)
def test_page_renders(page):
    rendered = page.view().render()
    assert rendered
