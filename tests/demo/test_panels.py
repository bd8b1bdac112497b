"""The demo's panels: one entry per simulator, seeded once with the demo plans mapped."""

from ezscale.demo.panels import DEMO_PANELS, seed_demo_panels
from ezscale.services.provisioning import panels


def test_demo_panels_are_seeded_once_with_their_mappings(central):
    seed_demo_panels(central)
    seed_demo_panels(central)  # idempotent
    rows = panels.list_panels(central)
    assert [r.label for r in rows] == sorted(p.label for p in DEMO_PANELS)
    mapped = {m.plan_code for m in panels.list_mappings(central)}
    assert mapped == {code for p in DEMO_PANELS for code, _, _ in p.mappings}
    assert all(p.command()[-2:] == ["--port", str(p.port)] for p in DEMO_PANELS)
