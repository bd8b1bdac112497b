"""When accrued workspace usage is invoiced: the first billing date at or after its end."""

from datetime import UTC, datetime

import pytest

from ezscale.services.kasm.credit import usage_invoice_date


@pytest.mark.parametrize(
    ("ended", "anchor_day", "invoiced"),
    [
        (datetime(2026, 11, 10, 9, 20, tzinfo=UTC), 1, datetime(2026, 12, 1, tzinfo=UTC)),
        (datetime(2026, 12, 1, tzinfo=UTC), 1, datetime(2026, 12, 1, tzinfo=UTC)),  # split at the boundary
        (datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC), 1, datetime(2027, 1, 1, tzinfo=UTC)),
        (datetime(2026, 11, 10, 9, 20, tzinfo=UTC), 15, datetime(2026, 11, 15, tzinfo=UTC)),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), 28, datetime(2027, 1, 28, tzinfo=UTC)),
    ],
)
def test_usage_is_invoiced_on_the_first_billing_date_at_or_after_it_ends(ended, anchor_day, invoiced):
    assert usage_invoice_date(ended, anchor_day=anchor_day) == invoiced
