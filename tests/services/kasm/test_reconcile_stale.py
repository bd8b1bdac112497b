"""Reconcile with a stale `get_kasms` listing never closes a workspace started or resumed after
the listing was taken (Kasm simulator, injected clock)."""

from datetime import timedelta

from ezscale.models.kasm import WorkspaceStatus
from ezscale.services.kasm import workspaces as kasm
from ezscale.services.kasm.sync import fresh_listing, reconcile
from tests.services.kasm.test_workspaces import env  # noqa: F401  (the simulator fixture)


def _stopped(env, clock, template: str) -> int:  # noqa: F811
    workspace_id = env.order(template=template)
    env.provision(workspace_id, clock)
    clock.advance(timedelta(minutes=5))
    with env.db() as db:
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    env.step(workspace_id)  # released in Kasm (destroyed, or stopped when persistent)
    assert env.workspace(workspace_id).status is WorkspaceStatus.STOPPED
    return workspace_id


def _started_after(env, clock, workspace_id: int):  # noqa: F811
    """A listing taken now, then the workspace started a minute later: the listing is stale."""
    listing = env.client.get_kasms()
    clock.advance(timedelta(minutes=1))
    with env.db() as db:
        kasm.start_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    env.provision(workspace_id, clock)
    assert env.workspace(workspace_id).status is WorkspaceStatus.RUNNING
    return listing


def test_a_listing_from_before_a_start_does_not_close_the_workspace(env, clock):  # noqa: F811
    workspace_id = _stopped(env, clock, "Ubuntu + VS Code")  # ephemeral: a new Kasm session
    stale = _started_after(env, clock, workspace_id)
    assert env.workspace(workspace_id).kasm_id not in {k.kasm_id for k in stale.kasms}
    with env.db() as db:
        result = reconcile(db, tenant=env.tenant, listing=stale, client=env.client)
    ws = env.workspace(workspace_id)
    assert result.stopped_outside == [] and ws.status is WorkspaceStatus.RUNNING
    assert ws.kasm_id in env.sim.kasms and env.sessions(workspace_id)[-1].stopped_at is None


def test_a_listing_from_before_a_resume_does_not_close_the_workspace(env, clock):  # noqa: F811
    workspace_id = _stopped(env, clock, "Ubuntu Desktop")  # persistent: the same session resumes
    kasm_id = env.workspace(workspace_id).kasm_id
    stale = _started_after(env, clock, workspace_id)
    assert {k.kasm_id: k.operational_status for k in stale.kasms}[kasm_id] == "stopped"
    with env.db() as db:
        result = reconcile(db, tenant=env.tenant, listing=stale, client=env.client)
    assert result.stopped_outside == [] and env.workspace(workspace_id).status is WorkspaceStatus.RUNNING
    assert env.sessions(workspace_id)[-1].stopped_at is None


def test_a_listing_taken_after_the_start_still_closes_a_real_outside_stop(env, clock):  # noqa: F811
    workspace_id = _stopped(env, clock, "Ubuntu + VS Code")
    _started_after(env, clock, workspace_id)
    clock.advance(timedelta(minutes=10))
    env.sim.stop_outside(env.workspace(workspace_id).kasm_id)
    with env.db() as db:
        result = reconcile(db, tenant=env.tenant, listing=env.client.get_kasms(), client=env.client)
    assert result.stopped_outside == [workspace_id]
    assert env.workspace(workspace_id).status is WorkspaceStatus.STOPPED


def test_each_tenant_pass_gets_a_listing_newer_than_its_changes(env, clock):  # noqa: F811
    workspace_id = _stopped(env, clock, "Ubuntu + VS Code")
    stale = _started_after(env, clock, workspace_id)
    clock.advance(timedelta(seconds=1))
    with env.db() as db:
        listing = fresh_listing(db, listing=stale, client=env.client)
        assert listing is not stale and listing.taken_at > env.workspace(workspace_id).changed_at
        assert env.workspace(workspace_id).kasm_id in {k.kasm_id for k in listing.kasms}
        assert fresh_listing(db, listing=listing, client=env.client) is listing  # nothing newer: reused
