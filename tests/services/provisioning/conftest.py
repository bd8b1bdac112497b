"""Every provisioning test starts with nothing learned of the panels (answer and build times)."""

import pytest

from ezscale.services.provisioning.panel_http import LATENCY
from ezscale.services.provisioning.polling import BUILD_TIMES


@pytest.fixture(autouse=True)
def _nothing_learned():
    LATENCY.forget()
    BUILD_TIMES.forget()
    yield
    LATENCY.forget()
    BUILD_TIMES.forget()
