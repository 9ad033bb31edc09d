"""The lab's one shared world model.

Everything the emulators show lives here, in one JSON-able dict guarded by one re-entrant lock:

- ``azure``: ARM resources (VMs, disks, snapshots) keyed by lower-cased resource id, in the shape
  ARM returns them, plus the power state of each VM and the long-running operations in flight.
- ``disk_contents``: what is *on* each managed disk or snapshot, keyed like ``azure.resources``. A
  Windows host's state (files, services, installed versions, certificates, local SQL databases) is
  the content of the OS disk its VM currently has attached, so copying a disk into a snapshot and
  back really brings an earlier host back. SQL databases are SQLite files in the disk's folder
  (:meth:`World.disk_dir`) and are copied with it.
- ``hosts``: the network identity of each Windows server (name, FQDN, VM id, role, ports).
- ``entra``: the tenant, app registrations and issued tokens (Entra ID emulator).
- ``ovoc``, ``sbcs``, ``vendor``: systems that are not Windows hosts.
- ``faults``: what the fault-injection admin API asked for; emulators consult :meth:`World.take_fault`.
- ``counters``: round trips per system, read by the benchmarks.

Emulators never talk to each other; they meet only here.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterator


def arm_key(resource_id: str) -> str:
    """ARM resource ids are case-insensitive: one canonical key for lookups."""
    return resource_id.strip().rstrip("/").lower()


def win_key(path: str) -> str:
    """Windows paths are case-insensitive and accept both separators: one canonical key."""
    p = path.replace("/", "\\").rstrip("\\")
    p = re.sub(r"\\+", r"\\", p)
    return p.lower()


class World:
    """The shared state. Hold :attr:`lock` while reading a consistent view or changing anything."""

    def __init__(self, state_dir: str | os.PathLike, data: dict | None = None):
        self.state_dir = Path(state_dir)
        self.lock = threading.RLock()
        self.data: dict[str, Any] = data if data is not None else {}
        self.data.setdefault("faults", [])
        self.data.setdefault("counters", {})
        self._fault_events: list[dict] = []

    # ------------------------------------------------------------------ persistence
    @property
    def world_file(self) -> Path:
        return self.state_dir / "world.json"

    def save(self) -> None:
        with self.lock:
            tmp = self.world_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True, default=str))
            os.replace(tmp, self.world_file)

    @classmethod
    def load(cls, state_dir: str | os.PathLike) -> "World":
        state_dir = Path(state_dir)
        return cls(state_dir, json.loads((state_dir / "world.json").read_text()))

    def snapshot(self) -> dict:
        """A deep copy of the whole world, with the SQL databases dumped as rows (for ``umplab state``)."""
        with self.lock:
            out = copy.deepcopy(self.data)
            out["sql_dump"] = {}
            for host in self.data.get("hosts", {}):
                dbs = self.sql_databases(host)
                if dbs:
                    out["sql_dump"][host] = {db: self.sql_dump(host, db) for db in dbs}
            return out

    # ------------------------------------------------------------------ config and time
    @property
    def config(self) -> dict:
        return self.data.setdefault("config", {})

    @property
    def scale(self) -> float:
        return float(self.config.get("scale", 0.0))

    def duration(self, real_seconds: float) -> float:
        """How long an operation that takes ``real_seconds`` in production takes in the lab."""
        return max(0.0, real_seconds * self.scale)

    def lab_sleep(self, real_seconds: float) -> None:
        """Sleep for the scaled duration of a real operation (never while holding the lock)."""
        d = self.duration(real_seconds)
        if d > 0:
            time.sleep(d)
        self.count("lab.critical_path_seconds", d)

    # ------------------------------------------------------------------ counters
    def count(self, name: str, n: float = 1) -> None:
        with self.lock:
            c = self.data.setdefault("counters", {})
            c[name] = c.get(name, 0) + n

    def reset_counters(self) -> None:
        with self.lock:
            self.data["counters"] = {}

    # ------------------------------------------------------------------ faults
    def add_fault(self, name: str, **params: Any) -> dict:
        """Inject a fault. ``times`` (int) limits how often it fires; ``host`` etc. narrow it."""
        with self.lock:
            fault = {"name": name, "params": params, "fired": 0}
            self.data["faults"].append(fault)
            return fault

    def clear_faults(self, name: str | None = None) -> int:
        with self.lock:
            before = len(self.data["faults"])
            self.data["faults"] = [f for f in self.data["faults"] if name is not None and f["name"] != name]
            return before - len(self.data["faults"])

    def peek_fault(self, name: str, **match: Any) -> dict | None:
        """The params of an active fault ``name`` whose params agree with ``match``; nothing consumed.

        A param the fault does not set matches anything, so ``fault add arm.429`` hits every request
        while ``fault add arm.429 host=ump02`` hits only ump02's.
        """
        with self.lock:
            for f in self.data["faults"]:
                if f["name"] != name:
                    continue
                p = f["params"]
                times = p.get("times")
                if times is not None and f["fired"] >= int(times):
                    continue
                if all(str(p[k]).lower() == str(v).lower() for k, v in match.items() if k in p):
                    return p
            return None

    def clock_skew(self, host: str | None) -> float:
        """Seconds by which ``host``'s servers' clocks differ from the true time (fault ``clock.skew seconds=N
        [host=H]``; the controller's clock is never moved): ARM's ``timeCreated`` of H's new snapshots and
        disks, H's Windows clock (setup's ``ansible_date_time``, folders cmd.exe makes)."""
        p = self.peek_fault("clock.skew", host=host or "")
        return float(p.get("seconds", 0)) if p else 0.0

    def take_fault(self, name: str, **match: Any) -> dict | None:
        """Like :meth:`peek_fault`, but counts one firing (so ``times=N`` faults run out)."""
        with self.lock:
            for f in self.data["faults"]:
                if f["name"] != name:
                    continue
                p = f["params"]
                times = p.get("times")
                if times is not None and f["fired"] >= int(times):
                    continue
                if all(str(p[k]).lower() == str(v).lower() for k, v in match.items() if k in p):
                    f["fired"] += 1
                    self.count(f"fault.{name}")
                    return p
            return None

    # ------------------------------------------------------------------ azure resources
    @property
    def resources(self) -> dict[str, dict]:
        return self.data.setdefault("azure", {}).setdefault("resources", {})

    def resource(self, resource_id: str) -> dict | None:
        return self.resources.get(arm_key(resource_id))

    def power_state(self, vm_id: str) -> str:
        return self.data["azure"].setdefault("power", {}).get(arm_key(vm_id), "running")

    def set_power_state(self, vm_id: str, state: str) -> None:
        with self.lock:
            power = self.data["azure"].setdefault("power", {})
            if power.get(arm_key(vm_id), "running") == "running" and state != "running":
                # every stop is counted: a process started before it is dead even when the VM is running
                # again by the time the process next looks (a stop/start shorter than its poll)
                stops = self.data["azure"].setdefault("stops", {})
                stops[arm_key(vm_id)] = stops.get(arm_key(vm_id), 0) + 1
            power[arm_key(vm_id)] = state

    def vm_stops(self, vm_id: str) -> int:
        """How many times the VM went from running to stopped/deallocated since the lab was seeded."""
        with self.lock:
            return self.data["azure"].get("stops", {}).get(arm_key(vm_id), 0)

    # ------------------------------------------------------------------ disk contents
    @property
    def disk_contents(self) -> dict[str, dict]:
        return self.data.setdefault("disk_contents", {})

    def disk_dir(self, disk_id: str) -> Path:
        """A folder for the binary contents of a disk (SQLite databases). Created on demand."""
        safe = re.sub(r"[^a-z0-9._-]+", "_", arm_key(disk_id).split("/providers/")[-1])
        d = self.state_dir / "disks" / safe
        d.mkdir(parents=True, exist_ok=True)
        return d

    def copy_disk_contents(self, src_id: str, dst_id: str) -> None:
        """What a snapshot or a disk-from-snapshot does to the data: a full, independent copy."""
        with self.lock:
            src = self.disk_contents.get(arm_key(src_id))
            if src is None:
                raise KeyError(f"no contents recorded for {src_id}")
            self.disk_contents[arm_key(dst_id)] = copy.deepcopy(src)
            dst_dir = self.disk_dir(dst_id)
            shutil.rmtree(dst_dir)
            shutil.copytree(self.disk_dir(src_id), dst_dir)

    def delete_disk_contents(self, disk_id: str) -> None:
        with self.lock:
            self.disk_contents.pop(arm_key(disk_id), None)
            shutil.rmtree(self.disk_dir(disk_id), ignore_errors=True)

    # ------------------------------------------------------------------ hosts
    @property
    def hosts(self) -> dict[str, dict]:
        return self.data.setdefault("hosts", {})

    def host(self, name: str) -> dict:
        try:
            return self.hosts[name]
        except KeyError:
            raise KeyError(f"unknown lab host {name!r}") from None

    def host_os_disk_id(self, name: str) -> str:
        vm = self.resource(self.host(name)["vm_id"])
        return vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]

    def host_state(self, name: str) -> dict:
        """The Windows state of host ``name``: the contents of its VM's current OS disk."""
        with self.lock:
            return self.disk_contents[arm_key(self.host_os_disk_id(name))]

    def host_reachable(self, name: str) -> bool:
        """A host answers only while its VM runs and has an OS disk attached."""
        with self.lock:
            h = self.host(name)
            return (
                self.power_state(h["vm_id"]) == "running" and arm_key(self.host_os_disk_id(name)) in self.disk_contents
            )

    # ------------------------------------------------------------------ SQL (SQLite files on the SQL host's disk)
    def record_sql_backup(self, sql_host: str) -> None:
        """A BACKUP DATABASE completed on ``sql_host`` (fault ``sql.down after_backup=true`` waits for one)."""
        with self.lock:
            done = self.data.setdefault("sql_backups_taken", [])
            if sql_host not in done:
                done.append(sql_host)

    def sql_backup_taken(self, sql_host: str) -> str:
        """``"true"`` once a backup completed on ``sql_host`` since the lab's last reset, else ``"false"``."""
        with self.lock:
            return "true" if sql_host in self.data.get("sql_backups_taken", []) else "false"

    def record_wyupdate_failed(self, host: str) -> None:
        """A wyUpdate step failed on ``host`` (fault ``winhost.unreachable after_wyupdate_failed=true`` waits
        for one). Kept outside the host's disk: an OS-disk swap does not undo it."""
        with self.lock:
            done = self.data.setdefault("wyupdate_failed", [])
            if host not in done:
                done.append(host)

    def wyupdate_failed(self, host: str) -> str:
        """``"true"`` once a wyUpdate step failed on ``host`` since the lab's last reset, else ``"false"``."""
        with self.lock:
            return "true" if host in self.data.get("wyupdate_failed", []) else "false"

    def sql_host_for(self, ump_host: str) -> str:
        """The host whose SQL Server holds ``ump_host``'s databases (itself, or its backend SQL server)."""
        return self.host(ump_host).get("sql_host", ump_host)

    # A SQL Server is either the default instance of a host (``host_state["sql"]``) or a named instance on a
    # shared machine: a host entry with ``sql_instance`` whose VM (``vm_id``) is the machine's, so it shares
    # the machine's disk, files (the backup folder) and services, with its own databases and logins
    # (``host_state["sql_instances"][<instance>]``), port and @@SERVERNAME ``MACHINE\INSTANCE``.
    def sql_instance(self, sql_host: str) -> str | None:
        return self.hosts.get(sql_host, {}).get("sql_instance")

    def sql_state(self, sql_host: str) -> dict:
        inst = self.sql_instance(sql_host)
        st = self.host_state(sql_host)
        if inst:
            return st.get("sql_instances", {}).get(inst, {})
        return st.get("sql", {})

    def sql_server_name(self, sql_host: str) -> str:
        """``@@SERVERNAME``: the machine's name, and for a named instance a backslash and the instance name."""
        h = self.hosts.get(sql_host, {})
        inst = h.get("sql_instance")
        machine = str(h.get("machine", sql_host)).upper()
        return f"{machine}\\{inst}" if inst else machine

    def sql_service(self, sql_host: str) -> str:
        """The instance's Windows service: ``MSSQLSERVER`` or ``MSSQL$<instance>``."""
        inst = self.sql_instance(sql_host)
        return f"MSSQL${inst}" if inst else "MSSQLSERVER"

    def sql_path(self, sql_host: str, database: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_]+", database):
            raise ValueError(f"invalid database name {database!r}")
        inst = self.sql_instance(sql_host)
        name = f"{inst}__{database}" if inst else database
        return self.disk_dir(self.host_os_disk_id(sql_host)) / f"{name}.sqlite"

    def sql_databases(self, sql_host: str) -> list[str]:
        with self.lock:
            return list(self.sql_state(sql_host).get("databases", []))

    def sql_connect(self, sql_host: str, database: str) -> sqlite3.Connection:
        """A new SQLite connection to ``database`` on ``sql_host``; the caller closes it."""
        if database not in self.sql_databases(sql_host):
            raise KeyError(f"database {database!r} does not exist on {sql_host}")
        conn = sqlite3.connect(self.sql_path(sql_host, database), timeout=30, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        return conn

    def sql_dump(self, sql_host: str, database: str) -> dict[str, list[dict]]:
        conn = self.sql_connect(sql_host, database)
        try:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            return {t: [dict(r) for r in conn.execute(f'SELECT * FROM "{t}"')] for t in tables}
        finally:
            conn.close()

    def sql_rows(self, sql_host: str, database: str, query: str, params: tuple = ()) -> list[dict]:
        conn = self.sql_connect(sql_host, database)
        try:
            return [dict(r) for r in conn.execute(query, params)]
        finally:
            conn.close()

    def sql_exec(self, sql_host: str, database: str, statement: str, params: tuple = ()) -> int:
        conn = self.sql_connect(sql_host, database)
        try:
            with conn:
                return conn.execute(statement, params).rowcount
        finally:
            conn.close()

    def app_setting(self, ump_host: str, name: str) -> str | None:
        rows = self.sql_rows(
            self.sql_host_for(ump_host),
            "SysAdminTenant",
            "SELECT Value FROM ApplicationSetting WHERE Name = ?",
            (name,),
        )
        return rows[0]["Value"] if rows else None

    # ------------------------------------------------------------------ secrets (for the no-leak tests)
    def all_secrets(self) -> list[str]:
        return sorted(set(self.data.get("secrets", {}).values()))


def iter_services(state: dict, pattern: str) -> Iterator[tuple[str, dict]]:
    """Services of a host state matching a Windows wildcard (case-insensitive, ``*`` and ``?``)."""
    rx = re.compile("^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$", re.I)
    for name, svc in state.get("services", {}).items():
        if rx.match(name):
            yield name, svc
