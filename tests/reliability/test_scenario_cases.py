"""The Molecule-proved [policy] cases of docs/reliability.md name proofs that exist (no lab needed)."""

from __future__ import annotations

from tests.reliability import scenario_cases


def test_every_named_proof_exists():
    cases = scenario_cases.load()
    assert {c["name"] for c in cases} >= {
        "rerun_after_rollback",
        "rollback_playbook_no_limit",
        "rollback_playbook_backend_sql",
        "cleanup_keeps_live",
    }
    assert scenario_cases.missing_proofs(cases) == []


def test_a_missing_proof_is_named():
    case = {
        "name": "x",
        "proved_by": [
            {"scenario": "rollback", "playbook": "side_effect.yml", "task": "no such task"},
            {"pytest": "tests/reliability/test_scenario_cases.py::test_nope"},
            {"pytest": "tests/reliability/test_scenario_cases.py::test_a_missing_proof_is_named"},
        ],
    }
    errors = scenario_cases.missing_proofs([case, {"name": "y"}])
    assert errors == [
        "x: no task 'no such task' in extensions/molecule/rollback/side_effect.yml",
        "x: no pytest tests/reliability/test_scenario_cases.py::test_nope",
        "y: no proof named",
    ]


def test_doc_lines_have_one_row_per_case():
    rows = [line for line in scenario_cases.doc_lines() if line.startswith("| `")]
    assert len(rows) == len(scenario_cases.load())
