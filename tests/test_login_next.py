"""After signing in, only same-site paths are followed (no open redirect)."""

import pytest

from ezscale.state.login import home_for, safe_next


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/client/billing", "/client/billing"),
        ("//evil.example/x", "/client"),
        ("https://evil.example", "/client"),
        ("/\\evil.example", "/client"),
        ("", "/client"),
        ("/login", "/client"),
    ],
)
def test_next_path_is_followed_only_when_on_this_site(path, expected):
    assert safe_next(path, "customer") == expected


def test_each_role_has_a_home():
    assert [home_for(r) for r in ("customer", "reseller_owner", "reseller_staff", "platform_admin")] == [
        "/client",
        "/reseller",
        "/reseller",
        "/admin",
    ]
