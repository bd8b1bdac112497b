# The two quick-start commands: `make run` (the app with demo data) and `make test` (every test).
.PHONY: run test lint

run:
	@scripts/bootstrap.sh
	.venv/bin/ezscale run

test:
	@scripts/bootstrap.sh --with-browser
	.venv/bin/ruff check .
	.venv/bin/ruff format --check ezscale tests bench
	.venv/bin/python -m pytest

lint:
	@scripts/bootstrap.sh
	.venv/bin/ruff check .
	.venv/bin/ruff format --check ezscale tests bench
