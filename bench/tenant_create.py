"""Benchmark: create one tenant (database, migrations, seed); `ezscale db upgrade` over 100 tenants.

    .venv/bin/python bench/tenant_create.py [--tenants 100] [--backend sqlite|postgres|both]

Tenants are copies of the template `db upgrade` keeps at the head revision; the first tenants are
also created without one (empty database + every migration) for comparison.
Targets: a tenant ready in < 1 s on SQLite and < 2 s on PostgreSQL (issue 2); create + migrate +
seed ≤ 0.1 s on PostgreSQL with the template (issue 13).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alembic import command

from bench._platform import bench_platform, postgres_url
from ezscale import migrations
from ezscale.db import central_session, engine_for, tenant_database_url
from ezscale.services.tenancy.tenants import create_tenant, upgrade_all
from ezscale.settings import get_settings


def _downgrade(database_name: str) -> None:
    config = migrations._config("tenant")
    with engine_for(tenant_database_url(database_name)).begin() as connection:
        config.attributes["connection"] = connection
        try:
            command.downgrade(config, "base")
        finally:
            config.attributes.pop("connection", None)


def _create(count: int, first: int) -> tuple[list[float], list[str]]:
    timings, names = [], []
    for n in range(first, first + count):
        started = time.perf_counter()
        with central_session() as session:
            tenant = create_tenant(session, name=f"Reseller {n}", slug=f"r{n}", owner_email=f"o@r{n}.test")
        timings.append(time.perf_counter() - started)
        names.append(tenant.database_name)
        print(f"\r  created {len(names)}/{count} tenants", end="", file=sys.stderr)
    print(file=sys.stderr)
    return timings, names


def run(backend: str, count: int) -> dict[str, float]:
    with bench_platform(backend) as prefix:
        migrations.upgrade_central()
        # Without a template (where none has been built): an empty database and every migration.
        os.environ["EZSCALE_TEMPLATE_DB_PREFIX"] = f"{prefix}_none_"
        os.environ["EZSCALE_TEMPLATE_DIR"] = os.path.join(os.environ["EZSCALE_DATA_DIR"], "none")
        get_settings.cache_clear()
        scratch, names = _create(min(count, 20), 0)
        del os.environ["EZSCALE_TEMPLATE_DB_PREFIX"], os.environ["EZSCALE_TEMPLATE_DIR"]
        get_settings.cache_clear()
        started = time.perf_counter()
        migrations.ensure_template("tenant")
        template = time.perf_counter() - started
        timings, copied = _create(count, len(names))
        names += copied
        for name in names:
            _downgrade(name)
        started = time.perf_counter()
        migrated = upgrade_all()
        full = time.perf_counter() - started
        assert migrated == len(names), migrated
        started = time.perf_counter()
        again = upgrade_all(lambda name, did: did and print("still behind:", name))
        assert again == 0, again
        noop = time.perf_counter() - started
    return {
        "scratch_median": statistics.median(scratch),
        "template_build": template,
        "create_median": statistics.median(timings),
        "create_p95": sorted(timings)[int(len(timings) * 0.95) - 1],
        "create_max": max(timings),
        "tenants": len(names),
        "upgrade_all": full,
        "upgrade_noop": noop,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if args.backend == "both" and postgres_url() is None:
        backends = ["sqlite"]
        print("PostgreSQL not reachable: SQLite only.", file=sys.stderr)
    print(
        "| backend | without template, median | template build | from template: median | p95 | max "
        "| db upgrade (all behind) | db upgrade (up to date) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for backend in backends:
        r = run(backend, args.tenants)
        cells = [
            backend,
            f"{r['scratch_median'] * 1000:.0f} ms",
            f"{r['template_build']:.2f} s",
            f"{r['create_median'] * 1000:.0f} ms",
            f"{r['create_p95'] * 1000:.0f} ms",
            f"{r['create_max'] * 1000:.0f} ms",
            f"{r['upgrade_all']:.2f} s ({r['tenants']:.0f})",
            f"{r['upgrade_noop']:.2f} s",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
