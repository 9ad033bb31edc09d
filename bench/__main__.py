"""The four figures of issue 12, each taken in one run against the UMP lab.

    python -m bench [--hosts N] [--scale S] [--quick] [--batches 100%]

Runs ``playbooks/upgrade.yml -i inventories/lab`` twice on fresh labs: once for 1 host and once for N hosts,
both at the same scale (default 1/60 of the real durations), and reports:

1. fleet scaling: wall(N hosts) / wall(1 host);
2. controller overhead: (wall - lab critical path) / wall for the 1-host run, and extrapolated to real
   durations (critical path x 1/scale, controller time unchanged). The critical path is the lab's
   ``lab.critical_path_seconds`` counter (the sum of ``world.lab_sleep``: services, wyUpdate steps,
   customer upgrades, SQL backups...) PLUS the union of the host's ARM long-running operations'
   [start, ends_at] intervals read from the lab's state: the ARM emulator's operations are time-based
   (they settle when polled after ``ends_at``) and do not go through ``lab_sleep``;
3. round trips per host from the lab's counters of the 1-host run (WinRM commands, ARM requests for the
   snapshot, SQL, UMP/SBC/OVOC...), attributed per phase by sampling the counters during the run and
   matching the samples to the report's phase timeline; and ARM requests for a restore (rollback.yml
   after the upgrade);
4. controller CPU seconds (user+sys of the ansible-playbook process tree, from
   ``resource.getrusage(RUSAGE_CHILDREN)`` around the subprocess) per host, and peak memory of the tree
   for the N-host run, sampled from /proc every 0.25 s: the sum of the RSS of ansible-playbook and all its
   descendants (a page the forked workers share is counted once per process) and the sum of their PSS
   (/proc/<pid>/smaps_rollup: a shared page divided among the processes sharing it, the real footprint);
   ``ru_maxrss`` of children, the largest single process, is reported too.
5. downtime per host (issue 19): from the start of the 1-host run's services_stop phase to the end of its
   post_verify phase (run report timeline), split into the lab's own work (``lab.critical_path_seconds``
   of the phases in the window + ARM operations that started in it) and the controller's share (the rest);
   and the rollback time: ``rollback.yml --limit ump01`` after the upgrade (the same steps as the automatic
   rollback: swap, SQL restore, services start, verify at the old version), split into ARM operations,
   the lab's own work (services start...) and the controller's share beyond both.

The lab runs in its own process (``python -m umplab up``): its CPU is not counted in (4).
Prints a table and writes bench/results/bench-<UTC time>.json (and bench/results/latest.json).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "lab"))

from umplab.client import LabClient

ARM_POLLS = ("arm.requests.diskOperations.read", "arm.requests.operations.read")
PAGE = os.sysconf("SC_PAGE_SIZE")


def env(state_dir: Path, report_dir: Path) -> dict:
    e = dict(os.environ)
    e.update(
        UMPLAB_STATE_DIR=str(state_dir),
        UMP365_REPORT_DIR=str(report_dir),
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".ansible" / "collections"),
        ANSIBLE_NOCOLOR="1",
        PYTHONPATH=str(REPO / "lab") + os.pathsep + e.get("PYTHONPATH", ""),
        PATH=str(BIN) + os.pathsep + e.get("PATH", ""),
    )
    return e


# ---------------------------------------------------------------------------------------------- sampling
TICK = os.sysconf("SC_CLK_TCK")


def _pss(pid: int) -> int:
    """Proportional set size in bytes (/proc/<pid>/smaps_rollup): shared pages divided among their sharers."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _tree_rss(root: int) -> tuple[int, int, float, int]:
    """(sum of RSS bytes, process count, CPU seconds, sum of PSS bytes) of ``root`` and its descendants.

    RSS counts a page shared by the forked workers once per process; PSS divides it among them, so the
    PSS sum is the tree's real footprint (pages shared with processes outside the tree, e.g. the lab's
    copy of the same Python libraries, are divided with those too).

    CPU is utime+stime+cutime+cstime summed over the live processes: a reaped process's time is in its
    parent's cutime/cstime, so nothing is counted twice or lost while the root lives.
    """
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rfind(")") + 2 :].split()
        pid, ppid = int(d), int(rest[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(rest[21]) * PAGE
        cpu[pid] = sum(int(x) for x in rest[11:15]) / TICK
    total, n, secs, pss, todo = 0, 0, 0.0, 0, [root]
    while todo:
        p = todo.pop()
        if p in rss:
            total += rss[p]
            secs += cpu[p]
            pss += _pss(p)
            n += 1
        todo.extend(children.get(p, []))
    return total, n, secs, pss


class Sampler(threading.Thread):
    """Samples the process tree's RSS and (optionally) the lab's counters while the playbook runs."""

    def __init__(self, pid: int, lab: LabClient | None, interval: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.lab, self.interval = pid, lab, interval
        self.stop = threading.Event()
        self.peak_rss, self.peak_procs, self.peak_pss = 0, 0, 0
        self.counter_samples: list[tuple[float, dict]] = []
        self.cpu_samples: list[tuple[float, float]] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            rss, procs, cpu, pss = _tree_rss(self.pid)
            self.cpu_samples.append((time.time(), cpu))
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_procs = max(self.peak_procs, procs)
            if self.lab is not None and n % 2 == 0:
                try:
                    self.counter_samples.append((time.time(), self.lab.counters()))
                except Exception:
                    pass
            n += 1
            self.stop.wait(self.interval)


# ---------------------------------------------------------------------------------------------- lab runs
def lab_up(hosts: int, scale: float) -> Path:
    state_dir = Path(tempfile.mkdtemp(prefix="bench-lab-"))
    cmd = [sys.executable, "-m", "umplab", "up", "--hosts", str(hosts), "--scale", str(scale)]
    subprocess.run(
        [*cmd, "--state-dir", str(state_dir)],
        check=True,
        capture_output=True,
        text=True,
        env=env(state_dir, state_dir / "reports"),
        timeout=300,
    )
    return state_dir


def lab_down(state_dir: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "umplab", "down", "--state-dir", str(state_dir)],
        capture_output=True,
        env=env(state_dir, state_dir / "reports"),
        timeout=120,
    )


def run_playbook(
    state_dir: Path, name: str, extra: dict, sample_counters: bool, timeout: float, args: list[str] | None = None
) -> dict:
    lab = LabClient(state_dir)
    report_dir = state_dir / f"reports-{name.split('.')[0]}"
    cmd = [str(BIN / "ansible-playbook"), "-i", str(REPO / "inventories" / "lab"), str(REPO / "playbooks" / name)]
    cmd += args or []
    cmd += ["-e", json.dumps(extra)]
    log = state_dir / f"{name}.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    started = time.time()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env(state_dir, report_dir))
        sampler = Sampler(proc.pid, lab if sample_counters else None)
        sampler.start()
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise SystemExit(f"{name} did not finish in {timeout:.0f} s (log: {log})") from None
        finally:
            sampler.stop.set()
            sampler.join()
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = log.read_text()
    if rc != 0:
        raise SystemExit(f"{name} failed (rc={rc}); log {log}:\n{text[-4000:]}")
    reports = sorted(report_dir.glob("*.json"))
    return {
        "playbook": name,
        "wall_s": wall,
        "started": started,
        "cpu_user_s": after.ru_utime - before.ru_utime,
        "cpu_sys_s": after.ru_stime - before.ru_stime,
        "ru_maxrss_children_bytes": after.ru_maxrss * 1024,  # the largest process ever waited for
        "peak_tree_rss_bytes": sampler.peak_rss,
        "peak_tree_pss_bytes": sampler.peak_pss,
        "peak_tree_procs": sampler.peak_procs,
        "recap": text.split("PLAY RECAP")[-1].strip() if "PLAY RECAP" in text else "",
        "profile_tasks": _profile_tasks(text),
        "report": json.loads(reports[-1].read_text()) if reports else None,
        "counter_samples": sampler.counter_samples,
        "cpu_samples": sampler.cpu_samples,
        "log": str(log),
    }


def _profile_tasks(text: str) -> list[tuple[str, float]]:
    """The profile_tasks summary at the end of the log: [(task, seconds)], slowest first."""
    tail = text.split("TASKS RECAP")[-1]
    return [(m[1], float(m[2])) for m in re.finditer(r"^(.+?) -+ ([0-9.]+)s$", tail, re.M)]


def arm_ops(lab: LabClient, since: float) -> list[dict]:
    ops = lab.state().get("azure", {}).get("operations", {}).values()
    return sorted((o for o in ops if o.get("start", 0) >= since), key=lambda o: o["start"])


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    total, cur_s, cur_e = 0.0, None, None
    for s, e in sorted(intervals):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s
    return total


def _parse_iso(s: str) -> float:
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def per_phase(samples: list[tuple[float, dict]], report: dict | None, host: str) -> dict:
    """Counter deltas between consecutive samples, attributed to the phase running at the sample's time."""
    if not report or host not in report.get("hosts", {}):
        return {}
    spans = [(_parse_iso(p["start"]), _parse_iso(p["end"]), p["name"]) for p in report["hosts"][host]["phases"]]
    out: dict[str, dict] = {}
    prev: dict = {}
    for t, c in samples:
        phase = "other"
        for s, e, name in spans:
            if s - 0.1 <= t <= e + 0.5:
                phase = name
        for k, v in c.items():
            d = v - prev.get(k, 0)
            if d:
                out.setdefault(phase, {})
                out[phase][k] = round(out[phase].get(k, 0) + d, 3)
        prev = c
    return out


def task_results(recap: str, host: str) -> int | None:
    """ok + skipped + failed + rescued + ignored of ``host`` in the PLAY RECAP (every task result it had)."""
    m = re.search(rf"^{re.escape(host)}\s*:(.*)$", recap, re.M)
    if not m:
        return None
    fields = dict(re.findall(r"(\w+)=(\d+)", m[1]))
    return sum(int(fields.get(k, 0)) for k in ("ok", "skipped", "failed", "rescued", "ignored"))


def group_counts(c: dict) -> dict:
    def s(prefix: str) -> float:
        return sum(v for k, v in c.items() if (k.startswith(prefix) if prefix.endswith(".") else k == prefix))

    arm_polls = sum(c.get(k, 0) for k in ARM_POLLS)
    # after a PUT long-running operation azure-core GETs the resource once more (base_polling.py, the
    # final GET of the original URI): that GET is part of the operation, like its polls
    final_gets = sum(c.get(f"arm.requests.{t}.write", 0) for t in ("snapshots", "disks", "virtualMachines"))
    return {
        "winrm_commands": s("winrm.command"),
        "winrm_module_runs": s("winrm.module."),
        "winrm_http_requests": s("winrm.requests"),
        "arm_requests": s("arm.requests."),
        "arm_polls": arm_polls,
        "arm_non_poll": s("arm.requests.") - arm_polls,
        "arm_lro_final_gets": final_gets,
        "arm_issued": s("arm.requests.") - arm_polls - final_gets,
        "arm_lro_followups": arm_polls + final_gets,
        "sql_round_trips": s("sql.requests"),
        "ump_api_requests": s("ump_api.requests"),
        "sbc_requests": s("sbc.requests"),
        "ovoc_requests": s("ovoc.requests"),
        "entra_requests": s("entra.requests"),
        "graph_requests": s("graph.requests"),
    }


def downtime(up: dict, scale: float, host: str = "ump01") -> dict:
    """Services stopped -> verified running, from the run report's timeline, and the controller's share.

    The lab's own work in the window is the ``lab.critical_path_seconds`` of the phases in it (per_phase
    counters) plus the union of the ARM operations that started in it (none when the snapshot is taken
    before the services stop)."""
    phases = ((up.get("report") or {}).get("hosts", {}).get(host, {}) or {}).get("phases", [])
    spans = {p["name"]: (_parse_iso(p["start"]), _parse_iso(p["end"])) for p in phases}
    if "services_stop" not in spans or "post_verify" not in spans:
        return {}
    start, end = spans["services_stop"][0], spans["post_verify"][1]
    inside = [n for n, (s, e) in spans.items() if s >= start - 0.1 and e <= end + 0.1]
    lab_s = sum(up["per_phase"].get(n, {}).get("lab.critical_path_seconds", 0) for n in inside)
    arm_s = union_seconds(
        [(o["start"], o["ends_at"]) for o in up.get("arm_ops", []) if "start" in o and start <= o["start"] <= end]
    )
    wall = end - start
    ctrl = max(wall - lab_s - arm_s, 0.0)
    winrm = sum(up["per_phase"].get(n, {}).get("winrm.command", 0) for n in inside)
    wait_min_real = (lab_s + arm_s) / scale / 60 if scale else 0
    return {
        "wall_s": wall,
        "phases": inside,
        "controller_cpu_s": sum(up.get("cpu_per_phase", {}).get(n, 0) for n in inside),
        "winrm_commands": winrm,
        "wait_minutes_real": wait_min_real,
        "winrm_per_wait_minute": winrm / wait_min_real if wait_min_real else None,
        "lab_sleep_s": lab_s,
        "arm_ops_s": arm_s,
        "controller_s": ctrl,
        "real_s": ctrl + (lab_s + arm_s) / scale if scale else None,
    }


def rollback_time(rb: dict, scale: float) -> dict:
    wall = rb["wall_s"]
    lab_s, arm_s = rb.get("lab_sleep_s", 0), rb.get("arm_ops_s", 0)
    ctrl = max(wall - lab_s - arm_s, 0.0)
    wait_min_real = (lab_s + arm_s) / scale / 60 if scale else 0
    winrm = rb.get("counters", {}).get("winrm.command", 0)
    return {
        "wall_s": wall,
        "controller_cpu_s": rb["cpu_user_s"] + rb["cpu_sys_s"],
        "winrm_commands": winrm,
        "wait_minutes_real": wait_min_real,
        "lab_sleep_s": lab_s,
        "arm_ops_s": arm_s,
        "controller_s": ctrl,
        "real_s": ctrl + (lab_s + arm_s) / scale if scale else None,
    }


# ---------------------------------------------------------------------------------------------- main
def one_host(scale: float, extra: dict, timeout: float) -> dict:
    state_dir = lab_up(1, scale)
    try:
        lab = LabClient(state_dir)
        lab.reset_counters()
        t_start = time.time()
        up = run_playbook(state_dir, "upgrade.yml", extra, True, timeout)
        counters = lab.counters()
        ops = arm_ops(lab, t_start)
        arm_crit = union_seconds([(o["start"], o["ends_at"]) for o in ops])
        lab_crit = counters.get("lab.critical_path_seconds", 0)
        crit = lab_crit + arm_crit
        up["counters"] = counters
        up["per_phase"] = per_phase(up.pop("counter_samples"), up["report"], "ump01")
        cpu_phase = per_phase([(t, {"cpu_s": c}) for t, c in up.pop("cpu_samples")], up["report"], "ump01")
        up["cpu_per_phase"] = {k: v.get("cpu_s", 0) for k, v in cpu_phase.items()}
        up["arm_ops"] = [
            {
                "kind": o["kind"],
                "seconds": round(o["ends_at"] - o["start"], 3),
                "op": o.get("op"),
                "start": o["start"],
                "ends_at": o["ends_at"],
            }
            for o in ops
        ]
        # restore: rollback.yml --limit ump01 after the upgrade (the automatic rollback's steps)
        lab.reset_counters()
        t_rb = time.time()
        rb = run_playbook(
            state_dir, "rollback.yml", dict(extra, swap_os_disk_verify_reachable=False), False, timeout, ["-l", "ump01"]
        )
        rb.pop("counter_samples")
        rb.pop("cpu_samples")
        rb["counters"] = lab.counters()
        rb_ops = arm_ops(lab, t_rb)
        rb["arm_ops_s"] = union_seconds([(o["start"], o["ends_at"]) for o in rb_ops])
        rb["lab_sleep_s"] = rb["counters"].get("lab.critical_path_seconds", 0)
        return {
            "upgrade": up,
            "rollback": rb,
            "critical_path": {"lab_sleep_s": lab_crit, "arm_ops_s": arm_crit, "total_s": crit},
        }
    finally:
        lab_down(state_dir)


def n_hosts(hosts: int, scale: float, extra: dict, timeout: float) -> dict:
    state_dir = lab_up(hosts, scale)
    try:
        lab = LabClient(state_dir)
        lab.reset_counters()
        up = run_playbook(state_dir, "upgrade.yml", extra, False, timeout)
        up.pop("counter_samples")
        up.pop("cpu_samples")
        up["counters"] = lab.counters()
        return {"upgrade": up}
    finally:
        lab_down(state_dir)


def fmt_bytes(b: float) -> str:
    return f"{b / 2**20:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=8, help="hosts of the fleet run (default 8, see docs)")
    ap.add_argument("--scale", type=float, default=1 / 60, help="lab scale (default 1/60)")
    ap.add_argument("--quick", action="store_true", help="fleet run of 4 hosts at scale 1/600")
    ap.add_argument(
        "--batches",
        default="100%",
        help="ump_upgrade_batches for both runs, comma-separated (default 100%%: one batch; "
        "the playbook's default 1,25%%,100%% adds two batch boundaries)",
    )
    ap.add_argument("--timeout", type=float, default=1800, help="per playbook run, seconds")
    ap.add_argument(
        "--one-host",
        action="store_true",
        help="only the 1-host upgrade and rollback (figures 2, 3, 4 of one host, 5); no fleet run",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.hosts, args.scale = min(args.hosts, 4), 1 / 600
    batches = [int(b) if b.isdigit() else b for b in args.batches.split(",")]

    results: dict = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_before": os.getloadavg(),
        },
        "hosts": args.hosts,
        "scale": args.scale,
        "batches": batches,
    }
    with tempfile.TemporaryDirectory(prefix="bench-ckpt-") as ck:
        extra1 = {"ump_checkpoint_dir": str(Path(ck) / "one"), "ump_upgrade_batches": batches}
        extran = {"ump_checkpoint_dir": str(Path(ck) / "fleet"), "ump_upgrade_batches": batches}
        print(f"[bench] 1-host upgrade at scale {args.scale:.5f} ...", flush=True)
        one = one_host(args.scale, extra1, args.timeout)
        if args.one_host:
            args.hosts, fleet = 1, one
        else:
            print(f"[bench] {args.hosts}-host upgrade ...", flush=True)
            fleet = n_hosts(args.hosts, args.scale, extran, args.timeout)

    w1 = one["upgrade"]["wall_s"]
    wn = fleet["upgrade"]["wall_s"]
    crit = one["critical_path"]["total_s"]
    ctrl = w1 - crit
    crit_real = crit / args.scale if args.scale else 0
    rt = group_counts(one["upgrade"]["counters"])
    rb = group_counts(one["rollback"]["counters"])
    cpu1 = one["upgrade"]["cpu_user_s"] + one["upgrade"]["cpu_sys_s"]
    cpun = fleet["upgrade"]["cpu_user_s"] + fleet["upgrade"]["cpu_sys_s"]
    figures = {
        "fleet_scaling": {"wall_1_s": w1, "wall_n_s": wn, "hosts": args.hosts, "ratio": wn / w1, "aim": 1.3},
        "controller_overhead": {
            "wall_s": w1,
            "critical_path_s": crit,
            "critical_path_lab_sleep_s": one["critical_path"]["lab_sleep_s"],
            "critical_path_arm_s": one["critical_path"]["arm_ops_s"],
            "controller_s": ctrl,
            "ratio": ctrl / w1,
            "critical_path_real_s": crit_real,
            "ratio_real": ctrl / (ctrl + crit_real) if crit_real else None,
            "aim": 0.10,
        },
        "round_trips_per_host": {
            "upgrade": rt,
            "restore_arm_requests": rb["arm_requests"],
            "restore_arm_polls": rb["arm_polls"],
            "restore_arm_non_poll": rb["arm_non_poll"],
            "restore_arm_issued": rb["arm_issued"],
            "restore_arm_lro_followups": rb["arm_lro_followups"],
            "fleet_average": {k: v / args.hosts for k, v in group_counts(fleet["upgrade"]["counters"]).items()},
            "aims": {"winrm_commands": 40, "arm_non_poll_each": 8, "sql_round_trips": 20},
        },
        "controller_cpu": {
            "cpu_s_1_host": cpu1,
            "task_results_1_host": task_results(one["upgrade"]["recap"], "ump01"),
            "cpu_s_n_hosts": cpun,
            "cpu_s_per_host_in_fleet": cpun / args.hosts,
            "peak_tree_rss_n_hosts_bytes": fleet["upgrade"]["peak_tree_rss_bytes"],
            "peak_tree_pss_n_hosts_bytes": fleet["upgrade"]["peak_tree_pss_bytes"],
            "peak_tree_procs_n_hosts": fleet["upgrade"]["peak_tree_procs"],
            "ru_maxrss_children_bytes": fleet["upgrade"]["ru_maxrss_children_bytes"],
            "aim_rss_bytes": 1.5 * 2**30,
        },
    }
    figures["downtime"] = downtime(one["upgrade"], args.scale)
    figures["rollback_time"] = rollback_time(one["rollback"], args.scale)
    results["figures"] = figures
    results["one_host"] = one
    results["fleet"] = fleet

    f = figures
    co = f["controller_overhead"]
    cc = f["controller_cpu"]
    print()
    print(f"{'figure':<44} {'value':>14} {'aim':>10}")
    print("-" * 70)
    print(f"{'1 fleet scaling wall(%d)/wall(1)' % args.hosts:<44} {f['fleet_scaling']['ratio']:>14.2f} {'<= 1.3':>10}")
    print(f"{'  wall 1 host / %d hosts (s)' % args.hosts:<44} {f'{w1:.1f} / {wn:.1f}':>14}")
    print(f"{'2 controller overhead at scale':<44} {co['ratio']:>14.1%} {'<= 10%':>10}")
    print(f"{'  wall / critical path (s)':<44} {f'{w1:.1f} / {crit:.1f}':>14}")
    if co["ratio_real"] is not None:
        print(f"{'  extrapolated to real durations':<44} {co['ratio_real']:>14.1%} {'<= 10%':>10}")
    print(f"{'3 WinRM commands per host':<44} {rt['winrm_commands']:>14.0f} {'<= 40':>10}")
    print(f"{'  WinRM HTTP requests per host':<44} {rt['winrm_http_requests']:>14.0f}")
    print(
        f"{'  ARM snapshot (upgrade): non-poll + polls':<44} {'%.0f + %.0f' % (rt['arm_non_poll'], rt['arm_polls']):>14} {'<= 8 +':>10}"
    )
    print(
        f"{'  ARM restore (rollback): non-poll + polls':<44} {'%.0f + %.0f' % (rb['arm_non_poll'], rb['arm_polls']):>14}"
    )
    print(
        f"{'  ARM restore: issued + LRO (polls, final GETs)':<44} "
        f"{'%.0f + %.0f' % (rb['arm_issued'], rb['arm_lro_followups']):>14} {'<= 8 +':>10}"
    )
    print(f"{'  SQL round trips per host':<44} {rt['sql_round_trips']:>14.0f} {'<= 20':>10}")
    for k in ("ump_api_requests", "sbc_requests", "ovoc_requests", "entra_requests", "graph_requests"):
        print(f"{'  ' + k.replace('_', ' '):<44} {rt[k]:>14.0f}")
    fa = f["round_trips_per_host"]["fleet_average"]
    print(
        f"{'  %d-host run, per host: WinRM cmds / SQL' % args.hosts:<44} "
        f"{'%.1f / %.1f' % (fa['winrm_commands'], fa['sql_round_trips']):>14}"
    )
    print(f"{'4 controller CPU s, 1-host run':<44} {cc['cpu_s_1_host']:>14.1f} {'<= 6':>10}")
    print(f"{'  task results, 1-host run (ok + skipped)':<44} {cc['task_results_1_host']:>14}")
    print(f"{'  controller CPU s per host, %d-host run' % args.hosts:<44} {cc['cpu_s_per_host_in_fleet']:>14.1f}")
    print(
        f"{'  peak tree RSS, %d-host run (sampled)' % args.hosts:<44} {fmt_bytes(cc['peak_tree_rss_n_hosts_bytes']):>14} {'<= 1.5 GiB':>10}"
    )
    print(
        f"{'  peak tree PSS, %d-host run (sampled)' % args.hosts:<44} {fmt_bytes(cc['peak_tree_pss_n_hosts_bytes']):>14} {'<= 1.5 GiB':>10}"
    )
    print(f"{'  largest single process ru_maxrss':<44} {fmt_bytes(cc['ru_maxrss_children_bytes']):>14}")
    dt, rbt = f["downtime"], f["rollback_time"]
    if dt:
        print(f"{'5 downtime (services stop -> verified), s':<44} {dt['wall_s']:>14.1f}")
        print(
            f"{'  lab + ARM / controller (s)':<44} {'%.1f / %.1f' % (dt['lab_sleep_s'] + dt['arm_ops_s'], dt['controller_s']):>14}"
            f" {'<= 10':>10}"
        )
        print(f"{'  extrapolated to real durations (s)':<44} {dt['real_s']:>14.0f}")
        print(f"{'  controller CPU in the window (s)':<44} {dt['controller_cpu_s']:>14.1f}")
        print(
            f"{'  WinRM cmds / real minutes of waiting':<44} "
            f"{'%.0f / %.1f' % (dt['winrm_commands'], dt['wait_minutes_real']):>14}"
        )
    print(f"{'  rollback time (rollback.yml), s':<44} {rbt['wall_s']:>14.1f}")
    print(
        f"{'  ARM / lab / controller (s)':<44} {'%.1f/%.1f/%.1f' % (rbt['arm_ops_s'], rbt['lab_sleep_s'], rbt['controller_s']):>14}"
    )
    print(f"{'  extrapolated to real durations (s)':<44} {rbt['real_s']:>14.0f}")
    print(
        f"{'  rollback controller CPU s / WinRM cmds':<44} "
        f"{'%.1f / %.0f' % (rbt['controller_cpu_s'], rbt['winrm_commands']):>14}"
    )
    print()
    print("round trips per phase (1 host, sampled counters):")
    durations: dict[str, float] = {}
    rep = one["upgrade"]["report"] or {}
    for p in rep.get("hosts", {}).get("ump01", {}).get("phases", []):
        durations[p["name"]] = durations.get(p["name"], 0) + p["duration_s"]
    results["one_host"]["phase_seconds"] = durations
    names = list(durations)

    def order(name: str) -> int:
        return names.index(name) if name in names else len(names)

    for phase in sorted(set(one["upgrade"]["per_phase"]) | set(one["upgrade"]["cpu_per_phase"]), key=order):
        c = one["upgrade"]["per_phase"].get(phase, {})
        g = group_counts(c)
        if not any(g.values()) and phase not in one["upgrade"]["cpu_per_phase"]:
            continue
        nz = ", ".join(f"{k.replace('_requests', '').replace('_round_trips', '')}={v:.0f}" for k, v in g.items() if v)
        cpu = one["upgrade"]["cpu_per_phase"].get(phase, 0)
        print(f"  {phase:<18} {durations.get(phase, 0):>6.1f} s wall {cpu:>5.1f} s CPU  {nz}")

    results["machine"]["load_after"] = os.getloadavg()
    print(f"load average before / after: {results['machine']['load_before']} / {results['machine']['load_after']}")
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"bench-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    (out_dir / "latest.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"\nwritten {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
