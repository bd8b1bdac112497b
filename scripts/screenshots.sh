#!/usr/bin/env bash
# `make screenshots`: every page at 1366 px and 390 px wide, as visitor, customer, reseller owner
# and admin, saved as full-page PNGs under screenshots/<width>/ (git-ignored) for reviewers.
# It is the browser walk of tests/browser/test_page_widths.py (the live demo app of the browser
# tests, on its own throw-away databases), which also fails if a page scrolls sideways.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-screenshots}"
rm -rf "$out"
mkdir -p "$out"
EZSCALE_SCREENSHOT_DIR="$(cd "$out" && pwd)" .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/browser/test_page_widths.py
echo "Screenshots in $out/390 and $out/1366"
