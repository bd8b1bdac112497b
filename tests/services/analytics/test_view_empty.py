"""A chart with nothing to draw is named, so the page says "no data" instead of an empty frame."""

from ezscale.services.analytics.view import charts_without_data


def test_charts_without_data():
    charts = {
        "usage": [{"month": "Oct 2026", "Hours": 0.0, "Usage revenue": 0.0}],
        "plans": [],
        "mrr": [
            {"month": "Oct 2026", "MRR": 0.0, "ARR": 0.0},
            {"month": "Nov 2026", "MRR": 1.5, "ARR": 18.0},
        ],
        "movements": [{"month": "Oct 2026", "New": 0.0, "Churned": -2.0}],  # a loss is data too
    }
    assert charts_without_data(charts) == ["usage", "plans"]
