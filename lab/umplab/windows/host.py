"""What runs a command on an emulated Windows host: Ansible's exec payloads and plain command lines.

ansible-core 2.19 (ansible/executor/powershell/module_manifest.py) runs everything through
``bootstrap_wrapper.ps1`` fed on stdin with ``<bootstrap json>\\n\\0\\0\\0\\0\\n<exec manifest json>``
(plus ``\\n\\0\\0\\0\\0\\n<input>`` for put_file). The manifest's ``actions`` say what to do:

- ``module_wrapper.ps1`` with ``Script=ansible_collections.<ns>.<coll>.plugins.modules.<name>.ps1`` and
  ``Variables[complex_args]``: run that module (dispatched on the FQCN);
- ``become_wrapper.ps1`` first: run as ``BecomeUser`` with ``secure_params.BecomePassword``;
- ``async_wrapper.ps1`` + ``async_watchdog.ps1``: answer "started" now, run the module in the
  background, write the result to ``<AsyncDir>\\<jid>.<pid>`` for ``ansible.windows.async_status``;
- ``winrm_put_file.ps1`` / ``winrm_fetch_file.ps1`` / ``powershell_mkdtemp.ps1`` /
  ``powershell_expand_user.ps1``: Ansible's own file transfer and temp-dir helpers.
A plain ``Remove-Item '<path>' -Force -Recurse;`` script removes the remote temp dir.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import threading
import time
from typing import Any

from ..world import World
from . import argspec, fs
from .modules import REGISTRY, ModuleContext, ModuleFail
from .process import Cancelled, Process, ProcessTable

SEP = b"\n\x00\x00\x00\x00\n"
MODULE_RE = re.compile(r"^ansible_collections\.(\w+)\.(\w+)\.plugins\.modules\.(\w+)\.ps1$", re.I)

# modules written on the legacy Parse-Args/Exit-Json utils (Ansible.ModuleUtils.Legacy): they do not
# reject unknown options and add no invocation to their result
LEGACY = {
    "ansible.windows.async_status",
    "ansible.windows.win_file",
    "ansible.windows.win_copy",
    "ansible.windows.slurp",
    "ansible.windows.win_shell",
    "community.windows.win_firewall_rule",
    "ansible.windows.win_feature",
    "ansible.windows.win_reg_stat",
}


def become_check(world: World, host: str, user: str, password: str | None) -> tuple[str | None, str]:
    """(account name, error) for runas: the password must be the account's."""
    name = user.split("\\")[-1].split("@")[0]
    if name.upper() in ("SYSTEM", "NT AUTHORITY\\SYSTEM"):
        return "SYSTEM", ""
    with world.lock:
        accounts = world.host_state(host).get("accounts", {})
        acct_name = next((n for n in accounts if n.lower() == name.lower()), None)
        acct = accounts.get(acct_name) if acct_name else None
    if acct is None or not acct.get("enabled", True):
        return None, (
            f"Failed to become user {user}: LogonUser failed (The user name or password is incorrect, "
            "Win32ErrorCode 1326 - 0x0000052E)"
        )
    if password != acct.get("password"):
        return None, (
            f"Failed to become user {user}: LogonUser failed (The user name or password is incorrect, "
            "Win32ErrorCode 1326 - 0x0000052E)"
        )
    return acct_name, ""


class WindowsHost:
    """The behaviour of one host; the WinRM server calls :meth:`run` for every command."""

    def __init__(self, world: World, name: str, table: ProcessTable):
        self.world = world
        self.name = name
        self.table = table
        table.runner = self.run

    # ------------------------------------------------------------------ entry point
    def run(self, proc: Process) -> int:
        from . import executables

        if proc.exe in ("powershell", "pwsh"):
            script = proc.script
            if script is None:  # -Command -: the script is stdin
                script = bytes(proc.stdin).decode("utf-8", errors="replace")
            if "$codeJson = foreach ($in in $input)" in script or (
                "$input" in script and bytes(proc.stdin).find(SEP) >= 0
            ):
                return self.run_bootstrap(proc)
            m = re.fullmatch(
                r"(?:Set-StrictMode -Version Latest\s*)?Remove-Item '(.*)' -Force( -Recurse)?;\s*(?:If \(-not \$\?\).*)?",
                script.strip(),
                re.S,
            )
            if m:
                path = m.group(1).replace("''", "'")
                with self.world.lock:
                    files = self.world.host_state(self.name)["files"]
                    fs.remove(files, fs.expand_env(path, proc.user))
                return 0
            rc, out, err = executables.run_powershell(self, proc, proc.user, script)
            proc.write_out(out)
            proc.write_err(err)
            return rc
        cmdline = (proc.command + " " + proc.args).strip()
        rc, out, err = executables.run_cmdline(self, proc, proc.user, cmdline, stdin=bytes(proc.stdin))
        proc.write_out(out)
        proc.write_err(err)
        return rc

    # ------------------------------------------------------------------ Ansible payloads
    def run_bootstrap(self, proc: Process) -> int:
        data = bytes(proc.stdin)
        parts = data.split(SEP, 2)
        try:
            bootstrap = json.loads(parts[0])
            manifest = json.loads(parts[1]) if len(parts) > 1 else {"actions": [], "scripts": {}}
        except ValueError as e:
            proc.write_out(json.dumps({"failed": True, "msg": f"failed to parse exec manifest: {e}"}))
            return 1
        extra = parts[2] if len(parts) > 2 else b""
        if bootstrap.get("name") != "exec_wrapper":
            proc.write_out(json.dumps({"failed": True, "msg": f"unknown bootstrap script {bootstrap.get('name')!r}"}))
            return 1
        actions = manifest.get("actions") or []
        if not actions:
            proc.write_out(json.dumps({"failed": True, "msg": "exec manifest has no actions"}))
            return 1
        first = actions[0]["name"]
        params = actions[0].get("params") or {}
        self.world.count("winrm.payloads")
        if first == "winrm_put_file.ps1":
            return self.put_file(proc, params, extra)
        if first == "winrm_fetch_file.ps1":
            return self.fetch_file(proc, params)
        if first == "powershell_mkdtemp.ps1":
            path = fs.expand_env(params["Directory"], proc.user) + "\\" + params["Name"]
            with self.world.lock:
                fs.mkdir(self.world.host_state(self.name)["files"], path)
            proc.write_out(fs.display(path) + "\r\n")
            return 0
        if first == "powershell_expand_user.ps1":
            proc.write_out(fs.expand_env(params["Path"], proc.user) + "\r\n")
            return 0
        return self.run_module_actions(proc, actions)

    def put_file(self, proc: Process, params: dict, extra: bytes) -> int:
        path = params["Path"]
        chunks = [c for c in extra.split(b"\r\n") if c.strip()]
        try:
            data = b"".join(base64.b64decode(c) for c in chunks)
        except ValueError as e:
            proc.write_err(f"put_file: invalid base64 input: {e}\r\n")
            return 1
        with self.world.lock:
            files = self.world.host_state(self.name)["files"]
            if not fs.is_dir(files, fs.parent(path)):
                proc.write_err(
                    f"Exception calling \"Create\" with \"1\" argument(s): \"Could not find a part of the path '{path}'.\"\r\n"
                )
                return 1
            fs.write_bytes(files, path, data, make_parents=False)
        self.world.count("winrm.put_file_bytes", len(data))
        proc.write_out(json.dumps({"sha1": hashlib.sha1(data).hexdigest()}) + "\r\n")
        return 0

    def fetch_file(self, proc: Process, params: dict) -> int:
        path = params["Path"]
        size = int(params.get("BufferSize") or 524288)
        offset = int(params.get("Offset") or 0)
        with self.world.lock:
            files = self.world.host_state(self.name)["files"]
            if fs.is_dir(files, path):
                proc.write_out("[DIR]\r\n")
                return 0
            try:
                data = fs.read_bytes(files, path)
            except FileNotFoundError:
                proc.write_err(f"{path} does not exist\r\n")
                return 1
        chunk = data[offset : offset + size]
        if chunk:
            proc.write_out(base64.b64encode(chunk).decode() + "\r\n")
        return 0

    def run_module_actions(self, proc: Process, actions: list[dict]) -> int:
        names = [a["name"] for a in actions]
        by_name = {a["name"]: a for a in actions}
        user = proc.user
        if "become_wrapper.ps1" in by_name:
            b = by_name["become_wrapper.ps1"]
            become_user = (b.get("params") or {}).get("BecomeUser") or "SYSTEM"
            password = (b.get("secure_params") or {}).get("BecomePassword")
            acct, err = become_check(self.world, self.name, become_user, password)
            if acct is None:
                proc.write_out(
                    json.dumps({"failed": True, "msg": f"Unhandled exception while executing module: {err}"})
                )
                return 1
            user = acct
            self.world.count("winrm.become")
        mw = by_name.get("module_wrapper.ps1")
        if mw is None:
            proc.write_out(json.dumps({"failed": True, "msg": f"unsupported exec actions: {', '.join(names)}"}))
            return 1
        mparams = mw.get("params") or {}
        script = mparams.get("Script") or ""
        m = MODULE_RE.match(script)
        fqcn = ".".join(m.groups()) if m else script
        complex_args: dict = {}
        for var in mparams.get("Variables") or []:
            if var.get("Name") == "complex_args":
                complex_args = var.get("Value") or {}
        env = mparams.get("Environment") or {}
        if "async_wrapper.ps1" in by_name:
            return self.start_async(proc, user, fqcn, complex_args, env, by_name)
        result = self.run_module(proc, user, fqcn, complex_args, env)
        proc.write_out(json.dumps(result))
        return 1 if result.get("failed") else 0

    def run_module(
        self, proc: Process, user: str, fqcn: str, complex_args: dict, env: dict, cancel: threading.Event | None = None
    ) -> dict:
        handler = REGISTRY.get(fqcn.lower())
        self.world.count(f"winrm.module.{fqcn}")
        if handler is None:
            return {
                "failed": True,
                "changed": False,
                "msg": f"The lab host {self.name} does not emulate module {fqcn}: it cannot run it "
                f"(emulated: {', '.join(sorted(REGISTRY))})",
            }
        legacy = fqcn.lower() in LEGACY
        try:
            params, invocation = argspec.validate(
                fqcn, complex_args, getattr(handler, "extra_options", None), strict=not legacy
            )
        except argspec.ArgError as e:
            out = {"failed": True, "msg": str(e)}
            if not legacy:
                out["changed"] = False
            return out
        ctx = ModuleContext(
            host=self,
            proc=proc,
            user=user,
            params=params,
            check_mode=bool(complex_args.get("_ansible_check_mode")),
            diff=bool(complex_args.get("_ansible_diff")),
            env=env,
            fqcn=fqcn,
            cancel=cancel,
        )
        try:
            result = handler(ctx) or {}
            result.setdefault("changed", ctx.changed)
        except ModuleFail as e:
            result = {"failed": True, "msg": e.msg, "changed": ctx.changed}
            result.update(e.extra)
        except Cancelled:
            raise
        if ctx.warnings:
            result.setdefault("warnings", []).extend(ctx.warnings)
        if not legacy:
            result["invocation"] = {"module_args": invocation}
        return result

    # ------------------------------------------------------------------ async
    def start_async(self, proc: Process, user: str, fqcn: str, complex_args: dict, env: dict, by_name: dict) -> int:
        ap = by_name["async_wrapper.ps1"].get("params") or {}
        timeout = int((by_name.get("async_watchdog.ps1", {}).get("params") or {}).get("Timeout") or 0)
        async_dir = fs.expand_env(ap.get("AsyncDir") or "%USERPROFILE%\\.ansible_async", user, env)
        pid = random.randint(1000, 65000)
        jid = f"{ap.get('AsyncJid') or 'j' + str(random.randint(1, 10**12))}.{pid}"
        results_path = async_dir.rstrip("\\") + "\\" + jid
        started = {
            "started": True,
            "finished": False,
            "results_file": results_path,
            "ansible_job_id": jid,
            "_ansible_suppress_tmpdir_delete": True,
            "ansible_async_watchdog_pid": pid,
        }
        with self.world.lock:
            files = self.world.host_state(self.name)["files"]
            fs.mkdir(files, async_dir)
            fs.write_text(files, results_path, json.dumps(started))
        cancel = threading.Event()
        job = {"jid": jid, "fqcn": fqcn, "cancel": cancel, "started_at": time.time(), "user": user}
        with self.table.jobs_lock:
            self.table.jobs[jid] = job
        self.world.count("winrm.async_jobs")
        bg = Process(self.table, "powershell.exe", "", user, 65001, env, None)
        bg.cancel = cancel

        def work() -> None:
            try:
                try:
                    result = self.run_module(bg, user, fqcn, complex_args, env, cancel=cancel)
                    final = dict(started, finished=True)
                    final.update(result)
                except Cancelled:
                    final = dict(
                        started,
                        finished=True,
                        failed=True,
                        msg="failure during async watchdog: timed out waiting for module completion",
                    )
                except Exception as e:
                    final = dict(started, finished=True, failed=True, msg=f"lab host internal error: {e}")
                final.pop("_ansible_suppress_tmpdir_delete", None)
                with self.world.lock:
                    # the job ran on the disk it started on; a host restored meanwhile does not see it
                    disk = self.world.disk_contents.get(bg.disk or "")
                    if disk is not None and disk is bg.disk_state:
                        fs.write_text(disk["files"], results_path, json.dumps(final))
            finally:
                with self.table.jobs_lock:
                    self.table.jobs.pop(jid, None)

        threading.Thread(target=work, name=f"async-{jid}", daemon=True).start()
        if timeout > 0:
            timer = threading.Timer(timeout, cancel.set)
            timer.daemon = True
            timer.start()
        proc.write_out(json.dumps(started))
        return 0


def new_host(world: World, name: str, table: ProcessTable) -> WindowsHost:
    return WindowsHost(world, name, table)


def _unused(x: Any) -> Any:
    return x
