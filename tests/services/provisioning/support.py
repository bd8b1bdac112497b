"""Shared set-up for the provisioning tests: a VirtFusion simulator on loopback (on the test's
frozen clock) configured as a panel, the demo VPS plans mapped to it, and a job driver."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlmodel import Session, select

from ezscale import clock
from ezscale.models.provisioning import ProvisioningJob, ProvisioningPanel
from ezscale.services.core.audit import operator
from ezscale.services.provisioning import jobs, panels, stock
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.simulators.virtfusion import VirtFusionSimulator, serve

ADMIN = operator("test-admin")
TIMEOUT = 0.5  # the panel's timeout in tests (creates wait twice as long); the simulator hangs longer


@contextmanager
def virtfusion(
    central: Session, *, label: str = "VF", **sim_options: object
) -> Iterator[tuple[VirtFusionSimulator, int]]:
    """A simulator on the frozen clock, configured as panel `label`; vps-1 → package 1, vps-2 → 2."""
    sim_options.setdefault("hang_seconds", 1.5)
    sim = VirtFusionSimulator(clock=clock.now, **sim_options)
    running = serve(sim)
    try:
        panel = panels.create_panel(
            central,
            module="virtfusion",
            label=label,
            base_url=running.url,
            credentials={"token": sim.token},
            options={"group": "1", "ipv4": "1", "os": "1"},
            actor=ADMIN,
        )
        row = central.get(ProvisioningPanel, panel.id)
        row.timeout_seconds = TIMEOUT  # below the form's minimum, so the timeout tests stay fast
        central.add(row)
        central.commit()
        for code, package in (("vps-1", "1"), ("vps-2", "2")):
            panels.set_mapping(central, plan_code=code, panel_id=panel.id, package=package, actor=ADMIN)
        stock.forget()
        yield sim, panel.id
    finally:
        running.stop()
        stock.forget()


def job_ids(tenant: TenantInfo) -> list[int]:
    with tenant_session(tenant) as db:
        return list(db.exec(select(ProvisioningJob.id).order_by(ProvisioningJob.id)))


def drive(tenant: TenantInfo, job_id: int, frozen: clock.FrozenClock, *, steps: int = 60) -> str:
    """Run a job step by step, moving the frozen clock to each next run; its final status."""
    status = "skipped"
    for _ in range(steps):
        with tenant_session(tenant) as db:
            result = jobs.run_job(db, tenant=tenant, job_id=job_id)
        status = result.status
        if result.again_in is None:
            return status
        frozen.advance(timedelta(seconds=result.again_in))
    return status
