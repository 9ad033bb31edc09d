"""The [policy] cases proved by a Molecule scenario (tests/reliability/scenario_cases.yml): their table in
docs/reliability.md, and the check that each named proof (a Molecule task, a pytest) exists."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).with_name("scenario_cases.yml")
MOLECULE = REPO / "extensions" / "molecule"


def load() -> list[dict]:
    return yaml.safe_load(DATA.read_text())


def _task_names(tasks) -> set[str]:
    names = set()
    for t in tasks or []:
        if not isinstance(t, dict):
            continue
        if t.get("name"):
            names.add(t["name"])
        for key in ("block", "rescue", "always"):
            names |= _task_names(t.get(key))
    return names


def _play_task_names(path: Path) -> set[str]:
    names = set()
    for play in yaml.safe_load(path.read_text()) or []:
        for key in ("pre_tasks", "tasks", "post_tasks"):
            names |= _task_names(play.get(key))
    return names


def _pytest_exists(node: str) -> bool:
    file, _, func = node.partition("::")
    path = REPO / file
    if not path.is_file() or not func:
        return False
    tree = ast.parse(path.read_text())
    return any(isinstance(n, ast.FunctionDef) and n.name == func.split("[")[0] for n in ast.walk(tree))


def missing_proofs(cases: list[dict] | None = None) -> list[str]:
    """Each proof that does not exist: a Molecule scenario not run by `molecule test --all` (no
    molecule.yml), a playbook or task name not found, a pytest function not found; a case with no proof."""
    errors = []
    for case in load() if cases is None else cases:
        if not case.get("proved_by"):
            errors.append(f"{case.get('name')}: no proof named")
        for p in case.get("proved_by") or []:
            if "pytest" in p:
                if not _pytest_exists(p["pytest"]):
                    errors.append(f"{case['name']}: no pytest {p['pytest']}")
                continue
            scen = MOLECULE / p["scenario"]
            book = scen / p["playbook"]
            if not (scen / "molecule.yml").is_file():
                errors.append(f"{case['name']}: no Molecule scenario {p['scenario']}")
            elif not book.is_file():
                errors.append(f"{case['name']}: no {book.relative_to(REPO)}")
            elif p["task"] not in _play_task_names(book):
                errors.append(f"{case['name']}: no task {p['task']!r} in {book.relative_to(REPO)}")
    return errors


def _proof_text(p: dict) -> str:
    if "pytest" in p:
        return f"`{p['pytest']}`"
    return f"`molecule test -s {p['scenario']}` {p['playbook']}: {p['task']}"


def doc_lines() -> list[str]:
    """The second table of docs/reliability.md (raises when a named proof does not exist)."""
    errors = missing_proofs()
    if errors:
        raise ValueError("tests/reliability/scenario_cases.yml names proofs that do not exist: " + "; ".join(errors))
    lines = [
        "## Cases proved in a Molecule scenario",
        "",
        "Cases that need a host with an earlier run behind it (tests/reliability/scenario_cases.yml). Each proof",
        "asserts the lab's own state (extensions/molecule/shared/labcheck.py reads its ARM resources, SQL rows",
        "and host files) or the host's checkpoint; the scenario runs in `make test`.",
        "",
        "| case | fault | expected | proved by |",
        "| --- | --- | --- | --- |",
    ]
    for case in load():
        proofs = "<br>".join(_proof_text(p).replace("|", "\\|") for p in case["proved_by"])
        lines.append(f"| `{case['name']}` | {case['fault']} | {case['expected']} | {proofs} |")
    lines.append("")
    return lines
