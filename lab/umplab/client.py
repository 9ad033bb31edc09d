"""Helpers for tests and tools: find a running lab and talk to its admin API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .cli import admin_call, read_endpoints


class LabClient:
    def __init__(self, state_dir: str | Path):
        self.state_dir = Path(state_dir)
        self.endpoints = read_endpoints(self.state_dir)

    @property
    def ca_file(self) -> str:
        return self.endpoints["ca_file"]

    def state(self) -> dict:
        return admin_call(self.endpoints, "GET", "/state")

    def reset(self) -> None:
        admin_call(self.endpoints, "POST", "/reset")

    def fault(self, name: str, **params: Any) -> dict:
        return admin_call(self.endpoints, "POST", "/faults", {"name": name, "params": params})

    def clear_faults(self, name: str | None = None) -> None:
        admin_call(self.endpoints, "DELETE", "/faults" + (f"/{name}" if name else ""))

    def counters(self) -> dict:
        return admin_call(self.endpoints, "GET", "/counters")

    def reset_counters(self) -> None:
        admin_call(self.endpoints, "DELETE", "/counters")

    def set_scale(self, scale: float) -> dict:
        return admin_call(self.endpoints, "PATCH", "/config", {"scale": scale})

    def host_state(self, host: str) -> dict:
        return admin_call(self.endpoints, "GET", f"/hosts/{host}/state")

    def set_host_state(self, host: str, path: list[str], value: Any) -> None:
        """Change a host by hand (``value=None`` deletes): e.g. ``["files", "c:\\acs\\x.txt"]``."""
        admin_call(self.endpoints, "POST", f"/hosts/{host}/state", {"path": path, "value": value})

    def secrets(self) -> list[str]:
        return sorted(set(self.state()["secrets"].values()))

    def dump(self) -> str:
        return json.dumps(self.state(), indent=1, sort_keys=True)
