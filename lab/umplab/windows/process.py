"""A command running in a WinRS shell: stdin in, stdout/stderr out, an exit code at the end.

A command that reads stdin (PowerShell running Ansible's bootstrap wrapper or ``-Command -``) starts
once stdin is closed (``End="true"``); any other command starts when it is created. The work runs on
its own thread so a Receive can time out (OperationTimeout) while it runs, as on Windows.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from typing import Any, Callable

from ..world import World


class Cancelled(Exception):
    """The command was terminated (Signal terminate, shell deleted, async watchdog)."""


class Process:
    def __init__(
        self,
        table: "ProcessTable",
        command: str,
        args: str,
        user: str,
        codepage: int,
        env: dict[str, str],
        cwd: str | None,
    ):
        self.table = table
        self.command = command
        self.args = args
        self.user = user
        self.codepage = codepage
        self.env = env
        self.cwd = cwd
        self.stdin = bytearray()
        self.stdin_closed = False
        self.script: str | None = None  # decoded -EncodedCommand
        self.reads_stdin = False
        self.cond = threading.Condition()
        self.out = bytearray()
        self.err = bytearray()
        self.done = False
        self.rc = 0
        self.started = False
        self.cancel = threading.Event()
        self.disk = self._disk()
        # the very state object: a lab reset or a restored disk replaces it, and the process dies
        self.disk_state = self.table.world.disk_contents.get(self.disk or "")
        self.vm_stops = self._vm_stops()
        self._classify()

    def _disk(self) -> str | None:
        try:
            return self.table.world.host_os_disk_id(self.table.host).lower()
        except (KeyError, TypeError):
            return None

    def _vm_stops(self) -> int:
        try:
            return self.table.world.vm_stops(self.table.world.host(self.table.host)["vm_id"])
        except (KeyError, TypeError):
            return 0

    def host_gone(self) -> bool:
        """The machine this process runs on was stopped or got another OS disk (processes die with it)."""
        w = self.table.world
        return (
            not w.host_reachable(self.table.host)
            or self._disk() != self.disk
            or w.disk_contents.get(self.disk or "") is not self.disk_state
            or self._vm_stops() != self.vm_stops
        )

    # ------------------------------------------------------------------ command line
    def _classify(self) -> None:
        # WinRS takes "<exe> <args>" in Command with or without separate Arguments (pywinrm's run_ps)
        line = (self.command + " " + self.args).strip()
        m = re.match(r'^\s*("[^"]+"|\S+)\s*(.*)$', line, re.S)
        self.command, self.args = (m.group(1), m.group(2)) if m else (line, "")
        exe = self.command.strip().strip('"')
        base = re.split(r"[\\/]", exe)[-1].lower()
        if base.endswith(".exe"):
            base = base[:-4]
        self.exe = base
        if base in ("powershell", "pwsh"):
            m = re.search(r"-(?:EncodedCommand|enc|e|ec)\s+(\S+)", self.args, re.I)
            if m:
                try:
                    self.script = base64.b64decode(m.group(1)).decode("utf-16-le")
                except ValueError:
                    self.script = ""
                # bootstrap_wrapper.ps1 reads the exec manifest from $input (stdin)
                self.reads_stdin = "$input" in self.script
            elif re.search(r"-Command\s+-(\s|$)", self.args, re.I):
                self.reads_stdin = True
            else:
                m = re.search(r"-Command\s+(.*)$", self.args, re.I | re.S)
                self.script = m.group(1) if m else ""
        elif base == "cmd" and not self.args.strip():
            self.reads_stdin = True

    def module_name(self) -> str:
        """The short name of the Ansible module this command runs (from its exec manifest), else ``""``."""
        m = re.search(rb"plugins\.modules\.(\w+)\.ps1", bytes(self.stdin))
        return m.group(1).decode() if m else ""

    # ------------------------------------------------------------------ I/O
    def feed(self, data: bytes, end: bool) -> None:
        with self.cond:
            self.stdin.extend(data)
            if end:
                self.stdin_closed = True
        if end:
            self.start_if_ready()

    def start_if_ready(self) -> None:
        with self.cond:
            if self.started or (self.reads_stdin and not self.stdin_closed):
                return
            self.started = True
        threading.Thread(target=self._run, name=f"winrm-cmd-{self.exe}", daemon=True).start()

    def _run(self) -> None:
        rc = 1
        try:
            rc = self.table.runner(self)
        except Cancelled:
            rc = 0xC000013A - (1 << 32)  # STATUS_CONTROL_C_EXIT as a signed exit code
        except Exception as e:  # the host must answer, whatever the emulation does
            self.write_err(f"lab host internal error: {type(e).__name__}: {e}\r\n")
            rc = 1
        with self.cond:
            self.rc = int(rc or 0)
            self.done = True
            self.cond.notify_all()

    def write_out(self, data: str | bytes) -> None:
        b = data.encode("utf-8") if isinstance(data, str) else data
        with self.cond:
            self.out.extend(b)
            self.cond.notify_all()

    def write_err(self, data: str | bytes) -> None:
        b = data.encode("utf-8") if isinstance(data, str) else data
        with self.cond:
            self.err.extend(b)
            self.cond.notify_all()

    def read(self, timeout: float) -> tuple[bytes, bytes, bool, int]:
        self.start_if_ready()
        with self.cond:
            self.cond.wait_for(lambda: self.done or self.out or self.err, timeout=max(0.05, timeout))
            if not self.done:
                # output usually comes right before the exit: answer both in one Receive when it does
                self.cond.wait_for(lambda: self.done, timeout=min(0.05, max(0.0, timeout)))
            out, err = bytes(self.out), bytes(self.err)
            self.out.clear()
            self.err.clear()
            return out, err, self.done, self.rc

    def terminate(self) -> None:
        self.cancel.set()

    def sleep(self, real_seconds: float) -> None:
        """A lab duration that a terminate, or the machine going away, interrupts."""
        d = self.table.world.duration(real_seconds)
        self.table.world.count("lab.critical_path_seconds", d)
        end = time.monotonic() + d
        while True:
            left = end - time.monotonic()
            if self.cancel.wait(max(0.0, min(left, 1.0))) or self.host_gone():
                raise Cancelled()
            if left <= 1.0:
                return

    def hang(self) -> None:
        """A program that never finishes: returns never, raises Cancelled when killed."""
        while True:
            if self.cancel.wait(1.0) or self.host_gone():
                raise Cancelled()


class ProcessTable:
    """The processes of one host (and its async jobs, which outlive their WinRM command)."""

    def __init__(self, world: World, host: str, lab: Any):
        self.world = world
        self.host = host
        self.lab = lab
        self.runner: Callable[[Process], int] = lambda p: 0
        self.jobs: dict[str, dict] = {}
        self.jobs_lock = threading.Lock()
        self.running: dict[str, int] = {}  # image name -> instances running (wyupdate "another instance")
        # image name (lower case) -> [{"proc", "killed"}]: the UMP programs running now (taskkill /IM)
        self.programs: dict[str, list[dict]] = {}

    def spawn(self, command: str, args: str, user: str, codepage: int, env: dict, cwd: str | None) -> Process:
        p = Process(self, command, args, user, codepage, env, cwd)
        if not p.reads_stdin:
            p.start_if_ready()
        return p
