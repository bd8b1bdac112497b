"""Platform admin → one service's provisioning: where it lives on its panel, its jobs (failed
ones can be retried) and the step-by-step log; a force sync re-reads it from the panel."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, area_page
from ezscale.components.tables import cell_table
from ezscale.services.provisioning.logs import LogRow
from ezscale.services.provisioning.staff import JobRow
from ezscale.state.admin_service import AdminServiceState as S

V = S.view


def _summary() -> rx.Component:
    items = [
        ("Customer", V.customer),
        ("Plan", V.plan),
        ("Status", V.status),
        ("Reason", V.status_reason),
        ("Panel", V.panel),
        ("Panel id", V.external_id),
        ("Hostname", V.hostname),
        ("IP addresses", V.ips),
    ]
    return rx.card(
        rx.data_list.root(
            *[rx.data_list.item(rx.data_list.label(k), rx.data_list.value(v)) for k, v in items],
            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
        ),
        id="service-summary",
        width="100%",
    )


def _job_cells(job: JobRow) -> list[rx.Component]:
    return [
        rx.table.cell(job.action),
        rx.table.cell(rx.badge(job.status), class_name="job-status"),
        rx.table.cell(job.attempts),
        rx.table.cell(job.next_run),
        rx.table.cell(rx.text(job.last_error, size="1")),
        rx.table.cell(
            rx.cond(
                job.retryable,
                rx.button(
                    "Retry",
                    size="1",
                    on_click=S.retry(job.id),  # type: ignore[misc]  # background handler, see pyproject
                    loading=S.busy,
                    class_name="retry-job",
                ),
            )
        ),
    ]


def _log_cells(row: LogRow) -> list[rx.Component]:
    return [
        rx.table.cell(rx.text(row.at, white_space="nowrap")),
        rx.table.cell(row.step),
        rx.table.cell(rx.badge(row.outcome)),
        rx.table.cell(row.attempt),
        rx.table.cell(rx.text(row.message, size="1")),
    ]


def _body() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(V.label, size="6"),
            rx.spacer(),
            rx.button(
                "Run waiting jobs now", on_click=S.run_now, loading=S.busy, variant="soft", id="run-now"
            ),
            rx.button("Force sync", on_click=S.sync, loading=S.busy, variant="soft", id="force-sync"),
            width="100%",
            wrap="wrap",
        ),
        _summary(),
        rx.heading("Jobs", size="4"),
        cell_table(
            ["Action", "Status", "Attempts", "Next run", "Last error", ""],
            V.jobs,
            _job_cells,
            "service-jobs",
            empty="No provisioning jobs: this service was never sent to a panel.",
        ),
        rx.heading("Provisioning log", size="4"),
        cell_table(
            ["When", "Step", "Outcome", "Attempt", "Message"],
            V.log,
            _log_cells,
            "service-log",
            empty="Nothing logged yet.",
        ),
        rx.link(
            "← Customer record",
            href=f"{routes.ADMIN_CUSTOMER}?tenant=" + S.tenant_id + "&user=" + V.user_id.to_string(),
            size="2",
        ),
        spacing="4",
        width="100%",
    )


@area_page(
    Area.ADMIN,
    route=routes.ADMIN_SERVICE,
    title="Service provisioning",
    on_load=S.load,
    denied=S.denied,
    message="Not allowed: platform admins only.",
)
def admin_service() -> rx.Component:
    return rx.vstack(
        rx.cond(S.message != "", rx.callout(S.message, color_scheme="green", id="admin-service-message")),
        rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", id="admin-service-error")),
        rx.cond(V, _body()),
        spacing="4",
        width="100%",
    )
