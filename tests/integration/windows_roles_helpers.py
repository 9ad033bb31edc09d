"""Run the Windows roles' test playbooks on the lab and read what each task returned (ansible.posix.json)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


PLAYBOOKS = Path(__file__).parent / "playbooks"


def needs_winrm(lab) -> None:
    """The lab must publish WinRM for its hosts (a lab that stopped would otherwise skip every Windows
    test silently: it is a failure); start with no checkpoints."""
    hosts = lab.endpoints.get("hosts", {})
    missing = sorted(n for n, h in hosts.items() if not h.get("winrm_port"))
    assert hosts and not missing, "the lab publishes no WinRM endpoint for %s (endpoints.json hosts)" % (
        missing or "any host"
    )
    shutil.rmtree(lab.state_dir / "checkpoints", ignore_errors=True)


class Run:
    """One ansible-playbook run: return code, output, and every task result per host."""

    def __init__(self, proc, data):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.data = data

    def results(self, host: str = "ump01") -> list[tuple[str, dict]]:
        out = []
        for play in self.data.get("plays", []):
            for task in play["tasks"]:
                res = task["hosts"].get(host)
                if res is not None:
                    out.append((task["task"]["name"], res))
        return out

    def facts(self, host: str = "ump01") -> dict:
        """Facts set by the run's tasks (later tasks win), as the run report reads them."""
        facts: dict = {}
        for _name, res in self.results(host):
            facts.update(res.get("ansible_facts") or {})
        return facts

    def failure(self, host: str = "ump01") -> str:
        msgs = [res.get("msg", "") for _n, res in self.results(host) if res.get("failed") and not res.get("ignored")]
        return msgs[-1] if msgs else ""

    def task(self, name_part: str, host: str = "ump01") -> dict:
        found = [res for name, res in self.results(host) if name_part in name]
        assert found, f"no task named like {name_part!r}"
        return found[-1]


def run_playbook(lab, playbook: str, extra_vars: dict | None = None, check_mode: bool = False) -> Run:
    args = ["--check"] if check_mode else []
    ev = {"ump_checkpoint_dir": str(lab.state_dir / "checkpoints")}
    ev.update(extra_vars or {})
    proc = lab.playbook(
        str(PLAYBOOKS / playbook),
        *args,
        check=False,
        extra_vars=ev,
        env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
    )
    try:
        # profile_tasks (ansible.cfg) prints around the JSON document
        start = 0 if proc.stdout.startswith("{") else proc.stdout.index("\n{") + 1
        data, _ = json.JSONDecoder().raw_decode(proc.stdout[start:])
    except ValueError:
        raise AssertionError(f"no JSON from ansible-playbook:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}") from None
    return Run(proc, data)


def checkpoint(lab, host: str = "ump01", run_id: str = "8.0.515") -> dict:
    path = lab.state_dir / "checkpoints" / f"{host}__{run_id}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def services_state(lab, host: str = "ump01") -> dict:
    st = lab.host_state(host)
    return {n: s["state"] for n, s in st["services"].items()}


def host_file(lab, path: str, host: str = "ump01") -> str | None:
    st = lab.host_state(host)
    f = st["files"].get(path.lower())
    return f.get("content") if f else None
