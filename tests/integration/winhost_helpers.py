"""Run a batch of tasks against the lab's Windows hosts in ONE ansible-playbook run and get every result.

Each ansible task costs ~0.7 s of Ansible start-up when run ad hoc, so tests put many checks in one
play and read the results from the ansible.posix.json callback.
"""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path
from typing import Any

import yaml

# keys Ansible itself (controller, Ansible.Basic, async) adds to every result
COMMON_KEYS = {
    "changed",
    "failed",
    "msg",
    "invocation",
    "warnings",
    "deprecations",
    "stdout_lines",
    "stderr_lines",
    "_ansible_no_log",
    "skipped",
    "ansible_job_id",
    "started",
    "finished",
    "results_file",
    "ansible_async_watchdog_pid",
    "diff",
    "action",
}


def run_tasks(
    lab, tmp_path: Path, tasks: list[dict], hosts: str = "ump01", play_vars: dict | None = None
) -> dict[str, dict[str, Any]]:
    """{task name: {host: result}}; every task must have a unique ``name``."""
    play = [{"name": "winhost checks", "hosts": hosts, "gather_facts": False, "vars": play_vars or {}, "tasks": tasks}]
    pb = tmp_path / f"winhost_{len(list(tmp_path.glob('winhost_*.yml')))}.yml"
    pb.write_text(yaml.safe_dump(play, sort_keys=False))
    proc = lab.playbook(
        str(pb),
        env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
    )
    try:
        # profile_tasks (ansible.cfg) prints around the JSON document
        start = proc.stdout.index("\n{") + 1 if not proc.stdout.startswith("{") else 0
        data, _ = json.JSONDecoder().raw_decode(proc.stdout[start:])
    except ValueError:
        raise AssertionError(f"no JSON from ansible-playbook:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}") from None
    out: dict[str, dict[str, Any]] = {}
    for p in data["plays"]:
        for t in p["tasks"]:
            out[t["task"]["name"]] = t["hosts"]
    return out


def module_return_doc(fqcn: str) -> dict:
    """The RETURN documentation of the real, installed module."""
    ns, coll, name = fqcn.split(".")
    spec = importlib.util.find_spec(f"ansible_collections.{ns}.{coll}")
    base = Path(next(iter(spec.submodule_search_locations))) / "plugins" / "modules"
    if (base / f"{name}.yml").exists():
        return yaml.safe_load((base / f"{name}.yml").read_text()).get("RETURN") or {}
    tree = ast.parse((base / f"{name}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "RETURN":
            return yaml.safe_load(node.value.value) or {}
    return {}


# RETURN says "always" but the module's code sets the key only on skip/failure (read in the .ps1):
# win_command.ps1 / win_shell.ps1 set msg only for creates/removes skips and "non-zero return code".
DOC_ERRATA = {"ansible.windows.win_command": {"msg"}, "ansible.windows.win_shell": {"msg"}}
# keys the module's code returns that RETURN does not list: win_feature.ps1 sets $result.success (line ~109)
UNDOCUMENTED_BUT_RETURNED = {"ansible.windows.win_feature": {"success"}}


def assert_keys_documented(fqcn: str, result: dict, must_have: set[str] | None = None) -> None:
    """Every key we return is in the real RETURN block, and every 'always'/'success' key is there."""
    doc = {k: v for k, v in module_return_doc(fqcn).items() if k not in DOC_ERRATA.get(fqcn, set())}
    extra = set(result) - set(doc) - COMMON_KEYS - UNDOCUMENTED_BUT_RETURNED.get(fqcn, set())
    assert not extra, f"{fqcn} returns undocumented keys {sorted(extra)}"
    required = {k for k, v in doc.items() if str(v.get("returned", "")).strip() in ("always", "success")}
    missing = (required | (must_have or set())) - set(result)
    assert not missing, f"{fqcn} success result lacks documented keys {sorted(missing)}"


def assert_contains_documented(fqcn: str, key: str, items: list[dict], complete: bool = False) -> None:
    """Every key of each element is documented (and, with ``complete``, every documented key is there)."""
    doc = module_return_doc(fqcn)[key].get("contains") or {}
    for item in items:
        extra = set(item) - set(doc)
        assert not extra, f"{fqcn} {key}[] has undocumented keys {sorted(extra)}"
        if complete:
            missing = set(doc) - set(item)
            assert not missing, f"{fqcn} {key}[] lacks documented keys {sorted(missing)}"
