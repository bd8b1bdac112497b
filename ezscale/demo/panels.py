"""Demo provisioning panels: each product's loopback simulator, its panel row and the demo plans
mapped to its packages. One entry per panel: `ezscale run` starts the simulators, the demo seed
adds the panels and mappings (idempotent)."""

import sys
from dataclasses import dataclass, field

from sqlmodel import Session, select

from ezscale.models.provisioning import PanelPlanMapping, ProvisioningPanel
from ezscale.services.core.audit import operator
from ezscale.services.provisioning import panels


@dataclass(frozen=True)
class DemoPanel:
    """A simulator on a loopback port and what the demo maps to it."""

    module: str
    label: str
    simulator: str  # python module run as `python -m <simulator> --port <port>`
    port: int
    credentials: dict[str, str]
    # (plan code, package on the panel, plan options)
    mappings: tuple[tuple[str, str, dict[str, str]], ...]
    options: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """Where the simulator answers."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The simulator's command line."""
        return [sys.executable, "-m", self.simulator, "--port", str(self.port)]


DEMO_PANELS: tuple[DemoPanel, ...] = (
    DemoPanel(
        module="virtfusion",
        label="VirtFusion (demo)",
        simulator="ezscale.simulators.virtfusion",
        port=8393,
        credentials={"token": "demo-virtfusion-token"},
        options={"group": "1", "ipv4": "1", "os": "1"},
        mappings=(("vps-1", "1", {}), ("vps-2", "2", {})),
    ),
    DemoPanel(
        module="pterodactyl",
        label="Pterodactyl (demo)",
        simulator="ezscale.simulators.pterodactyl",
        port=8394,
        credentials={"application_key": "ptla_demo", "client_key": "ptlc_demo"},
        mappings=(("game-minecraft", "1/1", {"memory": "4096", "disk": "20480", "cpu": "200"}),),
    ),
    DemoPanel(
        module="enhance",
        label="Enhance (demo)",
        simulator="ezscale.simulators.enhance",
        port=8395,
        credentials={"access_token": "enhance-demo-token"},
        options={"reseller_org_id": "00000000-0000-4000-8000-000000000001"},
        mappings=(("web-starter", "1", {}),),
    ),
    DemoPanel(
        module="synergycp",
        label="SynergyCP (demo)",
        simulator="ezscale.simulators.synergycp",
        port=8396,
        credentials={"api_key": "scp-demo-key"},
        options={"os_profiles": "ubuntu-24=Ubuntu 24.04;debian-12=Debian 12;rocky-9=Rocky Linux 9"},
        mappings=(
            (
                "dedi-e3",
                "cpu_billing=e-2388g&mem_billing=64gb&disks_billing[]=nvme-1tb&disks_billing[]=nvme-1tb",
                {"ips_billing": "ipv4-29", "pxe_profile_billing": "ubuntu-24", "max_bandwidth": "10TB"},
            ),
        ),
    ),
)


def seed_demo_panels(central: Session) -> None:
    """Add the demo panels and their plan mappings that are missing (audited as the demo)."""
    actor = operator("demo-seed")
    for demo in DEMO_PANELS:
        panel = central.exec(select(ProvisioningPanel).where(ProvisioningPanel.label == demo.label)).first()
        panel_id = panel.id if panel else None
        if panel_id is None:
            panel_id = panels.create_panel(
                central,
                module=demo.module,
                label=demo.label,
                base_url=demo.base_url,
                credentials=demo.credentials,
                options=demo.options,
                actor=actor,
            ).id
        for code, package, options in demo.mappings:
            if (
                central.exec(select(PanelPlanMapping.id).where(PanelPlanMapping.plan_code == code)).first()
                is None
            ):
                panels.set_mapping(
                    central, plan_code=code, panel_id=panel_id, package=package, options=options, actor=actor
                )
