"""The one loader of a stack's config: Pulumi.yaml's declared keys and defaults, the stack file on top.

The program reads what the engine hands it (`load_settings`, which also refuses a secret stored in
plain text); the Dockerfile tool, the docs script and the tests read the same files here
(`raw_config`), so every reader sees the values the engine would.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from shimmy_gpu.config import SECRET_KEYS, parse_settings
from shimmy_gpu.config_reader import NAMESPACE, ConfigError
from shimmy_gpu.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILE = ROOT / "Pulumi.yaml"


def declared() -> dict[str, dict[str, Any]]:
    """Key (without the project prefix) -> its declaration (type, default, description)."""
    config = yaml.safe_load(PROJECT_FILE.read_text())["config"]
    return {key.removeprefix(f"{NAMESPACE}:"): spec for key, spec in config.items()}


def raw_config(
    stack: str | None, overrides: Mapping[str, Any] | None = None, secret: str | None = None
) -> dict:
    """Config as the engine hands it to the program of `stack` (None: Pulumi.yaml's defaults alone).

    A value stored encrypted (`secure:`) cannot be read here: it becomes `secret` (a stand-in that
    tests pass), or is left at its default when `secret` is None.
    """
    raw = {key: spec.get("default") for key, spec in declared().items()}
    if stack is not None:
        document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
        for key, value in (document.get("config") or {}).items():
            encrypted = isinstance(value, dict) and "secure" in value
            if not encrypted:
                raw[key.removeprefix(f"{NAMESPACE}:")] = value
            elif secret is not None:
                raw[key.removeprefix(f"{NAMESPACE}:")] = secret
    raw.update(overrides or {})
    return raw


def load_settings() -> Settings:
    """The current stack's settings from the engine's config; a bad value ends the program here,
    before any resource is declared, with every problem in one message."""
    import pulumi
    from pulumi.runtime.config import is_config_secret

    config = pulumi.Config()
    raw = {key: value for key in declared() if (value := config.get(key)) is not None}
    plain = [k for k in SECRET_KEYS if raw.get(k) and not is_config_secret(f"{NAMESPACE}:{k}")]
    try:
        if plain:
            raise ConfigError(
                [
                    f"{NAMESPACE}:{k} is stored in plain text: run `pulumi config set --secret {k} ...`"
                    for k in plain
                ]
            )
        return parse_settings(pulumi.get_stack(), raw)
    except ConfigError as error:
        # RunError ends the program with the message alone, before any resource is declared.
        raise pulumi.RunError(str(error)) from None
