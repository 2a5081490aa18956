"""Configuration from the environment, with the local defaults of scripts/defaults.env.

The shell scripts that start the local services read the same file, so both sides always agree on ports
and URLs. Anything set in the environment wins; secrets only ever come from there.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = BASE_DIR / "scripts" / "defaults.env"


def _read_defaults() -> dict[str, str]:
    defaults: dict[str, str] = {}
    if not DEFAULTS_FILE.exists():
        return defaults
    for raw in DEFAULTS_FILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        defaults[key.strip()] = value.strip()
    return defaults


_DEFAULTS = _read_defaults()


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value:
        return value
    if name in _DEFAULTS:
        return _DEFAULTS[name]
    if default is None:
        raise RuntimeError(f"environment variable {name} is required")
    return default


def env_bool(name: str, default: bool) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]
