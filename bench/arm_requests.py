"""Count Azure Resource Manager requests per snapshot and per restore, against the UMP lab.

    python bench/arm_requests.py [--scale 0,0.01] [--keep]

For each scale it starts a one-host lab, runs playbooks/snapshot.yml then playbooks/rollback.yml for
ump01 (the real modules over azure-mgmt-compute), and reads the lab's per-request counters
(``arm.requests.<op>``). Polls (``diskOperations.read``, ``operations.read``) are reported apart: their
number is paced by the lab's Retry-After, which follows the scaled duration. The aim is at most 8
requests per snapshot and per restore besides the polls and the SDK's final GET after each LRO.
Prints a table and writes bench/results/arm_requests.json.
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
POLL_OPS = ("arm.requests.diskOperations.read", "arm.requests.operations.read")
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


def playbook(state_dir: Path, name: str, extra: dict) -> float:
    t = time.monotonic()
    proc = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(REPO / "inventories" / "lab"),
            str(REPO / "playbooks" / name),
            "--limit",
            "ump01",
            "-e",
            json.dumps(extra),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env(state_dir),
        timeout=1800,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return time.monotonic() - t


def arm_counts(lab: LabClient) -> dict:
    c = {k: v for k, v in lab.counters().items() if k.startswith("arm.requests.")}
    polls = sum(c.get(k, 0) for k in POLL_OPS)
    total = sum(c.values())
    # after a PUT long-running operation the SDK GETs the resource once more (azure-core base_polling.py)
    final_gets = sum(c.get(f"arm.requests.{t}.write", 0) for t in ("snapshots", "disks", "virtualMachines"))
    return {
        "total": total,
        "polls": polls,
        "non_poll": total - polls,
        "lro_final_gets": final_gets,
        "issued_by_module": total - polls - final_gets,
        "by_op": dict(sorted(c.items())),
    }


def run(scale: float, keep: bool) -> dict:
    state_dir = Path(tempfile.mkdtemp(prefix="bench-arm-"))
    up = [sys.executable, "-m", "umplab", "up", "--hosts", "1", "--scale", str(scale), "--state-dir", str(state_dir)]
    subprocess.run(up, check=True, capture_output=True, text=True, env=env(state_dir), timeout=120)
    try:
        lab = LabClient(state_dir)
        extra = {"ump_checkpoint_dir": str(state_dir / "checkpoints"), "swap_os_disk_verify_reachable": False}
        lab.reset_counters()
        snap_s = playbook(state_dir, "snapshot.yml", extra)
        snap = arm_counts(lab)
        lab.reset_counters()
        restore_s = playbook(state_dir, "rollback.yml", extra)
        restore = arm_counts(lab)
        return {
            "scale": scale,
            "snapshot": dict(snap, wall_seconds=round(snap_s, 2)),
            "restore": dict(restore, wall_seconds=round(restore_s, 2)),
        }
    finally:
        if not keep:
            subprocess.run(
                [sys.executable, "-m", "umplab", "down", "--state-dir", str(state_dir)],
                capture_output=True,
                env=env(state_dir),
                timeout=60,
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="0,0.01", help="comma-separated lab scales (default 0,0.01)")
    ap.add_argument("--keep", action="store_true", help="leave the labs running")
    args = ap.parse_args(argv)
    results = [run(float(s), args.keep) for s in args.scale.split(",")]
    print(f"{'scale':>6} {'step':<9} {'requests':>8} {'module':>7} {'final GET':>9} {'polls':>6} {'wall s':>7}")
    for r in results:
        for step in ("snapshot", "restore"):
            x = r[step]
            print(
                f"{r['scale']:>6} {step:<9} {x['total']:>8} {x['issued_by_module']:>7} {x['lro_final_gets']:>9} "
                f"{x['polls']:>6} {x['wall_seconds']:>7}"
            )
    out = REPO / "bench" / "results" / "arm_requests.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": results}, indent=1)
    )
    print(f"written {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
