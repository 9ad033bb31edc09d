"""The lab process: builds (or loads) the world, starts every emulator, writes endpoints.json.

Emulators are discovered, not registered: every module in :mod:`umplab.emulators` that defines
``start(lab) -> dict`` is started in ``ORDER`` (default 50), and what it returns is merged into
endpoints.json. That keeps emulators independent of each other and of this file.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import pkgutil
import shutil
import signal
import ssl
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Callable

from . import emulators
from .httpbase import LabHTTPServer
from .seed import build_world
from .tls import LabTLS
from .world import World


def deep_merge(dst: dict, src: dict) -> dict:
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            deep_merge(dst[k], v)
        else:
            dst[k] = v
    return dst


class Lab:
    """What an emulator gets: the world, the CA, and a way to start servers that ``down`` will stop."""

    def __init__(self, state_dir: Path, world: World, tls: LabTLS, base_port: int = 0):
        self.state_dir = state_dir
        self.world = world
        self.tls = tls
        self._next_port = base_port
        self._stoppers: list[Callable[[], None]] = []
        self.endpoints: dict[str, Any] = {}

    def port(self) -> int:
        """The next port to bind: 0 (any free port) unless ``--base-port`` fixed them."""
        if not self._next_port:
            return 0
        p = self._next_port
        self._next_port += 1
        return p

    def serve(
        self,
        handler: type[BaseHTTPRequestHandler],
        tls: bool = True,
        context: ssl.SSLContext | None = None,
        **attrs: Any,
    ) -> LabHTTPServer:
        ctx = context if context is not None else (self.tls.server_context() if tls else None)
        srv = LabHTTPServer(self.world, handler, ctx, port=self.port(), lab=self, **attrs)
        srv.start()
        self._stoppers.append(srv.stop)
        return srv

    def on_stop(self, fn: Callable[[], None]) -> None:
        self._stoppers.append(fn)

    def url(self, srv: LabHTTPServer) -> str:
        return f"https://127.0.0.1:{srv.port}"

    def stop(self) -> None:
        for fn in reversed(self._stoppers):
            try:
                fn()
            except Exception:  # stopping must go on whatever one server does
                pass
        self._stoppers.clear()


def discover() -> list[Any]:
    mods = []
    for info in pkgutil.iter_modules(emulators.__path__):
        mod = importlib.import_module(f"{emulators.__name__}.{info.name}")
        if callable(getattr(mod, "start", None)):
            mods.append(mod)
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 50), m.__name__))


def save_initial(state_dir: Path, world: World) -> None:
    """Keep the freshly seeded world so ``reset`` can bring it back exactly."""
    init = state_dir / "initial"
    shutil.rmtree(init, ignore_errors=True)
    init.mkdir()
    (init / "world.json").write_text(json.dumps(world.data))
    if (state_dir / "disks").exists():
        shutil.copytree(state_dir / "disks", init / "disks")


def reset_world(state_dir: Path, world: World) -> None:
    init = state_dir / "initial"
    with world.lock:
        data = json.loads((init / "world.json").read_text())
        shutil.rmtree(state_dir / "disks", ignore_errors=True)
        if (init / "disks").exists():
            shutil.copytree(init / "disks", state_dir / "disks")
        world.data.clear()
        world.data.update(data)


def serve(
    state_dir: Path, hosts: int, scale: float, base_port: int = 0, flavour: str = "default", shared_sql: bool = False
) -> None:
    """Run the lab in this process until SIGTERM/SIGINT."""
    state_dir = state_dir.resolve()
    shutil.rmtree(state_dir / "disks", ignore_errors=True)
    world = build_world(state_dir, hosts=hosts, scale=scale, flavour=flavour, shared_sql=shared_sql)
    names = [h["fqdn"] for h in world.hosts.values()] + [f"{s}.ump.lab.test" for s in world.data["sbcs"]]
    tls = LabTLS(state_dir, names)
    lab = Lab(state_dir, world, tls, base_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        endpoints: dict[str, Any] = {
            "state_dir": str(state_dir),
            "ca_file": str(tls.ca_file),
            "wrong_ca_file": str(tls.wrong_ca_file),
            "pid": os.getpid(),
            "scale": scale,
            "flavour": flavour,
            "target_version": world.config["target_version"],
            "azure": {"subscription_id": world.data["azure"]["subscription_id"]},
            # lab credentials, for the lab inventory; this file is mode 0600
            "secrets": dict(world.data["secrets"]),
            "hosts": copy.deepcopy(world.hosts),
            "sbcs": {n: {"username": s["username"]} for n, s in world.data["sbcs"].items()},
            "ovoc": {"ip": world.data["ovoc"]["ip"], "username": world.data["ovoc"]["username"]},
        }
        for mod in discover():
            deep_merge(endpoints, mod.start(lab) or {})
        lab.endpoints = endpoints
        # after every emulator has started: what they added to the world is part of the seed
        save_initial(state_dir, world)
        tmp = state_dir / "endpoints.json.tmp"
        tmp.write_text(json.dumps(endpoints, indent=2, sort_keys=True))
        os.chmod(tmp, 0o600)
        os.replace(tmp, state_dir / "endpoints.json")
        stop.wait()
    finally:
        lab.stop()
        try:
            world.save()
        finally:
            for f in ("endpoints.json", "lab.pid"):
                try:
                    (state_dir / f).unlink()
                except FileNotFoundError:
                    pass


def world_copy(world: World) -> dict:
    with world.lock:
        return copy.deepcopy(world.data)
