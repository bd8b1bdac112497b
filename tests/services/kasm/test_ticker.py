"""The browser's copy of the billing rule (assets/kasm-ticker.js) agrees with kasm_usage."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ezscale.money import Money
from ezscale.node import node_environment
from ezscale.services.kasm.usage import rate_micro, session_cost

TICKER = Path(__file__).resolve().parents[3] / "assets" / "kasm-ticker.js"

HARNESS = """
global.window = {};
global.document = { getElementById: () => null, querySelectorAll: () => [] };
global.setInterval = () => 0;
eval(require("fs").readFileSync(process.argv[1], "utf8"));
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = cases.map(([s, rate, d, sym]) => {
  const minor = window.kasmTicker.costMinor(s, rate, d);
  return [minor.toString(), window.kasmTicker.money(minor, d, sym)];
});
console.log(JSON.stringify(out));
"""


@pytest.mark.slow  # runs node
def test_browser_cost_equals_billed_cost():
    rates = [
        Decimal(r) for r in ("0.15", "0.30", "0.60", "0.20", "0.40", "0.80", "0.123457", "7.5", "123.456789")
    ]
    seconds = [0, 1, 59, 899, 900, 901, 1799, 3600, 3601, 9420, 86_399, 360_000, 10_000_000]
    cases = [(s, rate, currency) for s in seconds for rate in rates for currency in ("USD", "JPY", "KWD")]
    payload = [
        [s, rate_micro(rate), {"USD": 2, "JPY": 0, "KWD": 3}[c], "$" if c == "USD" else ""]
        for s, rate, c in cases
    ]
    node = str(Path(sys.executable).parent / "node")
    result = subprocess.run(
        [node, "-e", HARNESS, str(TICKER)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        env=node_environment(),
    )
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for (s, rate, currency), (minor, text) in zip(cases, json.loads(result.stdout), strict=True):
        expected = session_cost(start=start, end=start + timedelta(seconds=s), rate=rate, currency=currency)
        assert int(minor) == expected.amount_minor, (s, rate, currency)
        if currency == "USD":
            assert text == Money(expected.amount_minor, "USD").format()
