"""Reflex configuration: everything deployment-specific comes from the environment."""

import os

import reflex as rx

from ezscale.node import node_environment
from ezscale.settings import get_settings

os.environ.update(node_environment())

_settings = get_settings()

config = rx.Config(
    app_name="ezscale",
    app_module_import="ezscale.app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    db_url=_settings.central_url,
    # Several backend processes can serve one site when the state lives in Redis.
    redis_url=_settings.redis_url,
    state_manager_mode=(
        rx.constants.StateManagerMode.REDIS if _settings.redis_url else rx.constants.StateManagerMode.DISK
    ),
    # No origin is trusted by Reflex's own CORS layer; ezscale.http.edge allows a tenant's own origins.
    cors_allowed_origins=[],
    frontend_port=_settings.port,
    backend_port=_settings.port,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="blue", gray_color="slate", radius="medium")
        ),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
