"""``python -m umplab``: start, stop, inspect and break the lab.

    python -m umplab up --state-dir .lab [--hosts N] [--scale S] [--base-port P] [--flavour default|site-b]
    python -m umplab down|state|reset|counters --state-dir .lab
    python -m umplab fault add NAME [key=value ...] | fault clear [NAME] | fault list

Every error is one line on stderr and exit code 2; ``up`` leaves no process behind when it fails.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

FLAVOURS = ("default", "site-b")  # seed.py FLAVOURS (not imported: cli must start without the lab's deps)
DEFAULT_STATE_DIR = os.environ.get("UMPLAB_STATE_DIR", ".lab")
UP_TIMEOUT = 60.0


class LabError(Exception):
    """A one-line, user-facing error."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def read_endpoints(state_dir: Path) -> dict:
    f = state_dir / "endpoints.json"
    if not state_dir.is_dir():
        raise LabError(
            f"state dir {state_dir} does not exist; start a lab with: python -m umplab up --state-dir {state_dir}"
        )
    if not f.exists():
        raise LabError(f"no lab is running in {state_dir}; start one with: python -m umplab up --state-dir {state_dir}")
    ep = json.loads(f.read_text())
    if not _pid_alive(int(ep["pid"])):
        raise LabError(
            f"the lab in {state_dir} is not running (pid {ep['pid']} is gone); run: python -m umplab up --state-dir {state_dir}"
        )
    return ep


def admin_call(ep: dict, method: str, path: str, body: Any = None) -> Any:
    ctx = ssl.create_default_context(cafile=ep["ca_file"])
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        ep["admin"]["url"] + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {ep['admin']['token']}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=60) as r:
            raw = r.read()
    except urllib.error.HTTPError as e:
        raise LabError(
            f"lab admin API {method} {path}: HTTP {e.code} {e.read().decode(errors='replace')[:300]}"
        ) from None
    except OSError as e:
        raise LabError(f"lab admin API {method} {path} unreachable: {e}") from None
    return json.loads(raw) if raw else None


def _check_port_free(port: int) -> None:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise LabError(
                f"port {port} on 127.0.0.1 is busy; choose another --base-port or stop what uses it"
            ) from None


def cmd_up(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    if not state_dir.parent.resolve().is_dir():
        raise LabError(f"cannot create state dir {state_dir}: its parent {state_dir.parent} does not exist")
    state_dir.mkdir(exist_ok=True)
    pid_file = state_dir / "lab.pid"
    if pid_file.exists():
        try:
            old = int(pid_file.read_text().strip())
        except ValueError:
            old = 0
        if old and _pid_alive(old):
            raise LabError(
                f"a lab is already running in {state_dir} (pid {old}); run: python -m umplab down --state-dir {state_dir}"
            )
        pid_file.unlink()
    (state_dir / "endpoints.json").unlink(missing_ok=True)
    if args.hosts < 1 or args.hosts > 64:
        raise LabError(f"--hosts must be between 1 and 64, got {args.hosts}")
    if args.scale < 0:
        raise LabError(f"--scale must be >= 0, got {args.scale}")
    if args.base_port:
        # admin, entra, arm, then per host and per system: check a generous window up front
        for p in range(args.base_port, args.base_port + 8 + 6 * args.hosts):
            _check_port_free(p)
    log = open(state_dir / "lab.log", "ab")
    cmd = [
        sys.executable,
        "-m",
        "umplab",
        "_serve",
        "--state-dir",
        str(state_dir.resolve()),
        "--hosts",
        str(args.hosts),
        "--scale",
        str(args.scale),
        "--base-port",
        str(args.base_port),
        "--flavour",
        args.flavour,
    ]
    if getattr(args, "shared_sql", False):
        cmd.append("--shared-sql")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    log.close()
    pid_file.write_text(str(proc.pid))
    deadline = time.monotonic() + UP_TIMEOUT
    ep_file = state_dir / "endpoints.json"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pid_file.unlink(missing_ok=True)
            tail = (state_dir / "lab.log").read_text(errors="replace").strip().splitlines()
            raise LabError(f"the lab failed to start: {tail[-1] if tail else 'no output'} (see {state_dir}/lab.log)")
        if ep_file.exists():
            ep = json.loads(ep_file.read_text())
            if ep.get("pid") == proc.pid:
                print(
                    f"lab up: {args.hosts} host(s), scale {args.scale}, flavour {args.flavour}, endpoints in {ep_file}"
                )
                return 0
        time.sleep(0.05)
    _terminate(proc.pid)
    pid_file.unlink(missing_ok=True)
    raise LabError(f"the lab did not become ready within {UP_TIMEOUT:.0f}s (see {state_dir}/lab.log)")


def _terminate(pid: int, timeout: float = 15.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def cmd_down(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    pid_file = state_dir / "lab.pid"
    if not state_dir.is_dir():
        raise LabError(f"state dir {state_dir} does not exist; nothing to stop")
    if not pid_file.exists():
        print(f"no lab running in {state_dir}")
        return 0
    pid = int(pid_file.read_text().strip() or 0)
    if pid:
        _terminate(pid)
    pid_file.unlink(missing_ok=True)
    (state_dir / "endpoints.json").unlink(missing_ok=True)
    print(f"lab down ({state_dir})")
    return 0


def cmd_state(args: argparse.Namespace) -> int:
    print(json.dumps(admin_call(read_endpoints(Path(args.state_dir)), "GET", "/state"), indent=1, sort_keys=True))
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    admin_call(read_endpoints(Path(args.state_dir)), "POST", "/reset")
    print("lab reset to its seeded state")
    return 0


def cmd_counters(args: argparse.Namespace) -> int:
    print(json.dumps(admin_call(read_endpoints(Path(args.state_dir)), "GET", "/counters"), indent=1, sort_keys=True))
    return 0


def _parse_value(v: str) -> Any:
    try:
        return json.loads(v)
    except ValueError:
        return v


def cmd_fault(args: argparse.Namespace) -> int:
    ep = read_endpoints(Path(args.state_dir))
    if args.fault_cmd == "add":
        params = {}
        for kv in args.params:
            if "=" not in kv:
                raise LabError(f"fault parameter {kv!r} is not key=value")
            k, v = kv.split("=", 1)
            params[k] = _parse_value(v)
        print(json.dumps(admin_call(ep, "POST", "/faults", {"name": args.name, "params": params})))
    elif args.fault_cmd == "clear":
        print(json.dumps(admin_call(ep, "DELETE", "/faults" + (f"/{args.name}" if args.name else ""))))
    else:
        print(json.dumps(admin_call(ep, "GET", "/faults"), indent=1))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .runtime import serve

    serve(Path(args.state_dir), args.hosts, args.scale, args.base_port, args.flavour, shared_sql=args.shared_sql)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="umplab", description="The UMP lab: a UMP-365 estate on loopback.")
    sub = p.add_subparsers(dest="cmd", required=True)

    def with_dir(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help="where the lab keeps its state (default .lab)")
        return sp

    up = with_dir(sub.add_parser("up", help="start every emulator on loopback and wait until ready"))
    up.add_argument("--hosts", type=int, default=2, help="number of UMP servers (default 2)")
    up.add_argument(
        "--scale", type=float, default=0.0, help="lab duration = real duration x scale (default 0: as fast as possible)"
    )
    up.add_argument("--base-port", type=int, default=0, help="bind consecutive ports from here (default: any free)")
    up.add_argument(
        "--shared-sql",
        action="store_true",
        help="the even-numbered UMP servers' backend databases share one SQL Server machine (a named instance each)",
    )
    up.add_argument(
        "--flavour",
        choices=FLAVOURS,
        default="default",
        help="vendor details: default (the roles' defaults) or site-b (every non-public detail differs; docs/lab.md)",
    )
    up.set_defaults(fn=cmd_up)
    for name, fn, hlp in [
        ("down", cmd_down, "stop the lab"),
        ("state", cmd_state, "print the whole world as JSON"),
        ("reset", cmd_reset, "bring the world back to its seeded state"),
        ("counters", cmd_counters, "print round-trip counters"),
    ]:
        with_dir(sub.add_parser(name, help=hlp)).set_defaults(fn=fn)
    fault = with_dir(sub.add_parser("fault", help="inject or clear faults"))
    fsub = fault.add_subparsers(dest="fault_cmd", required=True)
    fa = fsub.add_parser("add")
    fa.add_argument("name")
    fa.add_argument("params", nargs="*", help="key=value (value parsed as JSON when it can be)")
    fc = fsub.add_parser("clear")
    fc.add_argument("name", nargs="?")
    fl = fsub.add_parser("list")
    for sp in (fa, fc, fl):
        sp.add_argument("--state-dir", default=argparse.SUPPRESS)
    fault.set_defaults(fn=cmd_fault)
    serve = with_dir(sub.add_parser("_serve", help=argparse.SUPPRESS))
    serve.add_argument("--hosts", type=int, default=2)
    serve.add_argument("--scale", type=float, default=0.0)
    serve.add_argument("--base-port", type=int, default=0)
    serve.add_argument("--shared-sql", action="store_true")
    serve.add_argument("--flavour", choices=FLAVOURS, default="default")
    serve.set_defaults(fn=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except LabError as e:
        print(f"umplab: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
