# The two quick-start commands: `make run` (the app with demo data) and `make test` (every test).
# `make screenshots`: every page at 1366 and 390 px into screenshots/ (for reviewers).
.PHONY: run test lint screenshots

run:
	@scripts/bootstrap.sh
	.venv/bin/ezscale run

test:
	@scripts/bootstrap.sh --with-browser
	.venv/bin/ruff check .
	.venv/bin/ruff format --check ezscale tests bench
	.venv/bin/mypy
	.venv/bin/python -m pytest -n 2 -m "not browser"
	.venv/bin/python -m pytest -m browser

lint:
	@scripts/bootstrap.sh
	.venv/bin/ruff check .
	.venv/bin/ruff format --check ezscale tests bench
	.venv/bin/mypy

screenshots:
	@scripts/bootstrap.sh --with-browser
	scripts/screenshots.sh
