"""Provisioning: delivering VPS (VirtFusion), game servers (Pterodactyl), web hosting (Enhance) and
dedicated servers (SynergyCP) on their panels, and the customer's self-service once delivered.

`module.py` is the contract each product's module meets; one module per panel (`virtfusion.py`,
`pterodactyl.py`, `enhance.py`, `synergycp.py`), each over its own httpx client
(`*_client.py`). Jobs, logs, stock checks and lifecycle calls are written against the contract
only, so they never name a product."""
