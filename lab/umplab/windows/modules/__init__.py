"""Emulated Ansible modules, keyed by FQCN. Each takes a :class:`ModuleContext`, returns the result dict.

Return values follow each module's RETURN documentation in the installed collection
(ansible.windows 3.3, community.windows); tests compare the keys.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..host import WindowsHost
    from ..process import Process

REGISTRY: dict[str, Callable[["ModuleContext"], dict]] = {}


def module(*names: str, extra_options: dict | None = None) -> Callable:
    def deco(fn: Callable) -> Callable:
        if extra_options:
            fn.extra_options = extra_options  # type: ignore[attr-defined]
        for n in names:
            REGISTRY[n.lower()] = fn
        return fn

    return deco


class ModuleFail(Exception):
    def __init__(self, msg: str, **extra: Any):
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


class ModuleContext:
    def __init__(
        self,
        host: "WindowsHost",
        proc: "Process",
        user: str,
        params: dict,
        check_mode: bool,
        diff: bool,
        env: dict,
        fqcn: str,
        cancel: threading.Event | None = None,
    ):
        self.host = host
        self.world = host.world
        self.name = host.name
        self.proc = proc
        self.user = user
        self.params = params
        self.check_mode = check_mode
        self.diff = diff
        self.env = env
        self.fqcn = fqcn
        self.changed = False
        self.warnings: list[str] = []
        if cancel is not None:
            proc.cancel = cancel

    @property
    def lock(self):
        return self.world.lock

    def state(self) -> dict:
        """The host's Windows state (hold ``ctx.lock``)."""
        return self.world.host_state(self.name)

    def files(self) -> dict:
        return self.state()["files"]

    def fail(self, msg: str, **extra: Any) -> None:
        raise ModuleFail(msg, **extra)

    def sleep(self, real_seconds: float) -> None:
        self.proc.sleep(real_seconds)

    def in_group(self, group: str) -> bool:
        from ..accounts import in_group

        return in_group(self.state(), self.user, group)


from . import basic, command, files, network, services  # noqa: F401  (registers the modules)
