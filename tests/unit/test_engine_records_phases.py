"""The upgrade engine alone records phases (issue 21 item 1): no role but roles/upgrade writes the checkpoint
while the engine runs it. A role that must leave a record mid-phase calls the engine's progress record
(roles/upgrade/tasks/progress.yml); preflight run on its own (no engine) may still record itself."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES = {"ump365.upgrade.checkpoint", "checkpoint"}


def _tasks(items):
    for t in items or []:
        if not isinstance(t, dict):
            continue
        yield t
        for key in ("block", "rescue", "always"):
            yield from _tasks(t.get(key))


def _writes(path: Path) -> list[dict]:
    out = []
    for t in _tasks(yaml.safe_load(path.read_text())):
        for mod in MODULES & set(t):
            if (t[mod] or {}).get("state", "present") != "query":
                out.append(t)
    return out


def _when(task: dict) -> str:
    w = task.get("when", "")
    return " and ".join(w) if isinstance(w, list) else str(w)


def test_only_the_engine_writes_the_checkpoint_while_it_runs_a_phase():
    offenders = []
    for path in sorted((REPO / "roles").glob("*/tasks/**/*.yml")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith("roles/upgrade/"):
            continue
        for task in _writes(path):
            # a role run on its own (playbooks/preflight.yml) may record itself; under the engine it may not
            if "upgrade_progress is not defined" in _when(task):
                continue
            offenders.append(f"{rel}: {task.get('name')}")
    assert offenders == [], "roles that record phases themselves (return outputs to the engine instead)"


def test_the_progress_record_is_the_engines_and_never_marks_a_phase_done():
    (task,) = _writes(REPO / "roles" / "upgrade" / "tasks" / "progress.yml")
    args = task["ump365.upgrade.checkpoint"]
    assert args["phase"].startswith("progress.") and args["status"] == "started"
    # the engine resolves the task file in its own role and passes it to the phase's roles
    main_yml = (REPO / "roles" / "upgrade" / "tasks" / "main.yml").read_text()
    assert '_upgrade_progress_tasks: "{{ role_path }}/tasks/progress.yml"' in main_yml
    phase_yml = (REPO / "roles" / "upgrade" / "tasks" / "phase.yml").read_text()
    assert 'tasks: "{{ _upgrade_progress_tasks }}"' in phase_yml
