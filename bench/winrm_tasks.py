"""WinRM cost per Ansible task against the UMP lab's Windows hosts.

    python bench/winrm_tasks.py [--tasks 20] [--keep]

Starts a two-host lab (scale 0), then:
- runs ``ansible -m ansible.windows.win_ping`` ad hoc three times (wall time: mostly Ansible's start-up);
- runs one play of N win_service / win_command / win_stat tasks on both hosts and reads the lab's
  counters: HTTP requests and SOAP operations per task, and the server's own time per task
  (``winrm.server_seconds``, the time the WinRM emulator spends answering, waits included);
- runs pywinrm's ``Session.run_cmd('hostname')`` in a loop (TLS + NTLM + shell + command per call).
Prints a table and writes bench/results/winrm_tasks.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "lab"))

from umplab.client import LabClient


def env(state_dir: Path) -> dict:
    e = dict(os.environ)
    e.update(
        UMPLAB_STATE_DIR=str(state_dir),
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".ansible" / "collections"),
        ANSIBLE_NOCOLOR="1",
        PYTHONPATH=str(REPO / "lab") + os.pathsep + e.get("PYTHONPATH", ""),
        PATH=str(BIN) + os.pathsep + e.get("PATH", ""),
    )
    return e


def winrm_counters(lab: LabClient) -> dict:
    return {k: v for k, v in lab.counters().items() if k.startswith("winrm.")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    state_dir = Path(tempfile.mkdtemp(prefix="umplab-bench-winrm-"))
    e = env(state_dir)
    subprocess.run(
        [sys.executable, "-m", "umplab", "up", "--state-dir", str(state_dir), "--hosts", "2", "--scale", "0"],
        check=True,
        env=e,
        capture_output=True,
    )
    out: dict = {}
    try:
        lab = LabClient(state_dir)
        walls = []
        for _ in range(3):
            lab.reset_counters()
            t = time.monotonic()
            subprocess.run(
                [
                    str(BIN / "ansible"),
                    "-i",
                    str(REPO / "inventories" / "lab"),
                    "ump01",
                    "-m",
                    "ansible.windows.win_ping",
                ],
                check=True,
                env=e,
                cwd=REPO,
                capture_output=True,
            )
            walls.append(time.monotonic() - t)
        c = winrm_counters(lab)
        out["adhoc_win_ping"] = {
            "wall_s": [round(w, 3) for w in walls],
            "http_requests": c.get("winrm.requests"),
            "server_ms": round(1000 * c.get("winrm.server_seconds", 0), 1),
        }

        mods = [
            {"ansible.windows.win_service": {"name": "SysAdmin.TenantSvc"}},
            {"ansible.windows.win_command": "hostname"},
            {"ansible.windows.win_stat": {"path": "C:\\acs\\SysAdminKit\\version.txt"}},
        ]
        tasks = [dict(mods[i % len(mods)], name=f"t{i}") for i in range(args.tasks)]
        pb = state_dir / "bench.yml"
        import yaml

        pb.write_text(yaml.safe_dump([{"hosts": "ump_servers", "gather_facts": False, "tasks": tasks}]))
        lab.reset_counters()
        t = time.monotonic()
        subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(REPO / "inventories" / "lab"), str(pb)],
            check=True,
            env=e,
            cwd=REPO,
            capture_output=True,
        )
        wall = time.monotonic() - t
        c = winrm_counters(lab)
        n = args.tasks * 2
        out["playbook"] = {
            "tasks_per_host": args.tasks,
            "hosts": 2,
            "wall_s": round(wall, 2),
            "wall_per_task_s": round(wall / args.tasks, 3),
            "http_requests_per_task": round(c.get("winrm.requests", 0) / n, 2),
            "soap_ops_per_task": {
                op: round(c.get(f"winrm.{op}", 0) / n, 2)
                for op in ("create", "command", "send", "receive", "signal", "delete")
            },
            "server_ms_per_task": round(1000 * c.get("winrm.server_seconds", 0) / n, 1),
        }

        import winrm

        ep = lab.endpoints
        s = winrm.Session(
            f"https://127.0.0.1:{ep['hosts']['ump01']['winrm_port']}/wsman",
            auth=("labadmin", ep["secrets"]["winrm_admin_password"]),
            transport="ntlm",
            server_cert_validation="validate",
            ca_trust_path=ep["ca_file"],
        )
        s.run_cmd("hostname")
        t = time.monotonic()
        for _ in range(30):
            s.run_cmd("hostname")
        out["pywinrm_run_cmd_ms"] = round(1000 * (time.monotonic() - t) / 30, 1)
    finally:
        subprocess.run(
            [sys.executable, "-m", "umplab", "down", "--state-dir", str(state_dir)], env=e, capture_output=True
        )
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "winrm_tasks.json").write_text(json.dumps(out, indent=2))
    print(f"{'measure':44} value")
    print(f"{'ad-hoc win_ping wall (s), 3 runs':44} {out['adhoc_win_ping']['wall_s']}")
    print(
        f"{'ad-hoc win_ping HTTP requests / server ms':44} {out['adhoc_win_ping']['http_requests']} / {out['adhoc_win_ping']['server_ms']}"
    )
    p = out["playbook"]
    print(f"{'playbook wall per task (s), 2 hosts':44} {p['wall_per_task_s']}")
    print(f"{'HTTP requests per task':44} {p['http_requests_per_task']}")
    print(f"{'SOAP operations per task':44} {p['soap_ops_per_task']}")
    print(f"{'server ms per task':44} {p['server_ms_per_task']}")
    print(f"{'pywinrm run_cmd (new TLS+NTLM each) ms':44} {out['pywinrm_run_cmd_ms']}")
    if not args.keep:
        import shutil

        shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
