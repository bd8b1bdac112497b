"""The `ezscale` command line, as an operator uses it."""

from click.testing import CliRunner

from ezscale.cli import main
from tests.actors import audit_trail


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_demo_is_idempotent_and_prints_logins(platform):
    first = _run("demo")
    assert first.exit_code == 0, first.output
    assert "customer@ezscale.test / customer-demo-pass" in first.output
    assert "owner@acme.test" in first.output and "admin@ezscale.test" in first.output
    second = _run("demo")
    assert second.exit_code == 0
    listing = _run("tenant", "list")
    assert [line.split()[0] for line in listing.output.splitlines()[1:]] == ["ezscale", "acme"]


def test_tenant_create_list_suspend_and_reactivate(platform):
    created = _run(
        "tenant",
        "create",
        "--name",
        "Beta Hosting",
        "--slug",
        "beta",
        "--owner-email",
        "o@beta.test",
        "--color",
        "#00AA55",
    )
    assert created.exit_code == 0, created.output
    assert "Created tenant beta" in created.output
    assert "beta" in _run("tenant", "list").output
    suspended = _run("tenant", "suspend", "beta")
    assert suspended.exit_code == 0 and "suspended" in _run("tenant", "list").output
    assert _run("tenant", "reactivate", "beta").exit_code == 0
    assert "active" in _run("tenant", "list").output
    trail = audit_trail("reseller.")
    assert [(action, target, after) for _, action, target, after, _ in trail] == [
        ("reseller.suspend", "tenant:beta", {"status": "suspended"}),
        ("reseller.reactivate", "tenant:beta", {"status": "active"}),
    ]
    assert all(actor.startswith("cli:") for actor, *_ in trail)


def test_bad_input_gives_a_clear_error_and_no_traceback(platform):
    bad = _run("tenant", "create", "--name", "X", "--slug", "Not OK", "--owner-email", "o@x.test")
    assert bad.exit_code == 1
    assert "Error: Slug must be" in bad.output and "Traceback" not in bad.output
    missing = _run("tenant", "suspend", "ghost")
    assert missing.exit_code == 1 and "No tenant with slug “ghost”" in missing.output
    assert "No tenants yet" in _run("tenant", "list").output


def test_db_upgrade_twice_reports_nothing_to_do(platform):
    _run("demo")
    output = _run("db", "upgrade").output
    assert "up to date" in output and "Done: 0 database(s) migrated." in output
