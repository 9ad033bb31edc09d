"""Survey answers exactly as AWX passes them reach the playbooks as the types they need (issue 20 item 1).

tests/integration/awx_launch.py builds the job's extra vars the way AWX does (survey defaults that pass
AWX's own validation, launch answers, the env/extravars file with every string !unsafe); the playbooks
read them through the ump365.upgrade.survey_* filters. One lab run launches the upgrade template's
defaults (the "Batches" default is the text "1,25%,100%"), one other answers, each in check mode with
the upgrade reduced to its read-only preflight phase.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.ump365.upgrade.plugins.plugin_utils import survey
from tests.conftest import REPO
from tests.integration.awx_launch import extravars_file, launch_extra_vars

TEMPLATES = {
    t["name"]: t for f in sorted((REPO / "awx").glob("*_templates/*.yml")) for t in yaml.safe_load(f.read_text())
}
PREFLIGHT_ONLY = (
    '{"upgrade_phases": [{"name": "preflight", "role": "ump365.upgrade.preflight", "changes_host": false}]}'
)


def parse(extra_vars: dict) -> dict:
    """What the playbooks make of the survey variables (the same parsers the filters call)."""
    out = {}
    out["batches"] = survey.parse_batches(
        extra_vars.get("ump_upgrade_batches", ""), "ump_upgrade_batches", [1, "25%", "100%"]
    )
    out["max_fail"] = survey.parse_int(extra_vars.get("ump_max_fail_percentage"), "ump_max_fail_percentage", 0, 100, 0)
    out["rollback"] = survey.parse_bool(extra_vars.get("ump_rollback_on_failure", True), "ump_rollback_on_failure")
    out["customers"] = survey.parse_list(extra_vars.get("ump_upgrade_customers", []), "ump_upgrade_customers")
    return out


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_launches_with_its_survey_defaults(name):
    ev = launch_extra_vars(TEMPLATES[name])
    parsed = parse(ev)
    # a wave of the workflow is one batch (its template's extra_vars); everything else the playbook's default
    assert parsed["batches"] == (["100%"] if name == "UMP-365 upgrade wave" else [1, "25%", "100%"])
    assert parsed["max_fail"] == 0 and parsed["rollback"] is True and parsed["customers"] == []
    assert ev.get("ump_target_version", "8.0.515") == "8.0.515"


def test_awx_sends_text_for_batches_and_a_string_for_the_boolean():
    ev = launch_extra_vars(TEMPLATES["UMP-365 upgrade"])
    # exactly what broke `serial` before: AWX has no list question
    assert ev["ump_upgrade_batches"] == "1,25%,100%" and ev["ump_rollback_on_failure"] == "true"
    assert "ump_max_fail_percentage" not in ev  # no default: absent, not 0
    assert "!unsafe '1,25%,100%'" in extravars_file(TEMPLATES["UMP-365 upgrade"])


@pytest.mark.parametrize(
    "answers, expected",
    [
        (
            {
                "ump_upgrade_batches": "2, 50%",
                "ump_max_fail_percentage": 10,
                "ump_rollback_on_failure": "false",
                "ump_upgrade_customers": "cust1, cust2,",
            },
            {"batches": [2, "50%"], "max_fail": 10, "rollback": False, "customers": ["cust1", "cust2"]},
        ),
        (
            {"ump_upgrade_batches": "1\n100%", "ump_max_fail_percentage": 0, "ump_upgrade_customers": ""},
            {"batches": [1, "100%"], "max_fail": 0, "rollback": True, "customers": []},
        ),
    ],
)
def test_other_answers(answers, expected):
    assert parse(launch_extra_vars(TEMPLATES["UMP-365 upgrade"], answers)) == expected


@pytest.mark.parametrize(
    "var, value, names",
    [
        ("ump_upgrade_batches", "1,abc", "'1,abc'"),
        ("ump_upgrade_batches", "0,100%", "'0,100%'"),
        ("ump_upgrade_batches", "1,150%", "150%"),
        ("ump_rollback_on_failure", "maybe", "'maybe'"),
    ],
)
def test_bad_answers_are_refused_naming_the_value(var, value, names):
    ev = launch_extra_vars({"name": "x", "extra_vars": {var: value}})
    with pytest.raises(ValueError, match=re.escape(var) + ".*" + re.escape(names)):
        parse(ev)


def test_awx_refuses_what_its_validation_refuses():
    with pytest.raises(ValueError, match="expected to be an integer"):
        launch_extra_vars(TEMPLATES["UMP-365 upgrade"], {"ump_max_fail_percentage": "10"})


def _launch(lab, tmp_path: Path, answers: dict | None, *args: str):
    f = tmp_path / "extravars"
    f.write_text(extravars_file(TEMPLATES["UMP-365 upgrade"], answers))
    return lab.playbook(
        "playbooks/upgrade.yml",
        "-e",
        "@" + str(f),
        "-e",
        PREFLIGHT_ONLY,
        "-e",
        "ump_checkpoint_dir=" + str(tmp_path / "ckpt"),
        "--check",
        *args,
        check=False,
    )


@pytest.mark.lab
def test_upgrade_template_answers_through_awx_extravars_against_the_lab(lab, tmp_path):
    hosts = sorted(lab.inventory()["ump_servers"]["hosts"])
    p = _launch(lab, tmp_path, None)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    # serial [1, "25%", "100%"] over two hosts: a canary batch of one, then the other host
    assert p.stdout.count("PLAY [Upgrade UMP-365 servers]") == 2
    for h in hosts:
        assert re.search(r"^%s\s+: ok=\d+ .*failed=0" % re.escape(h), p.stdout, re.M), p.stdout[-3000:]

    p = _launch(
        lab,
        tmp_path,
        {
            "ump_upgrade_batches": "100%",
            "ump_max_fail_percentage": 0,
            "ump_rollback_on_failure": "false",
            "ump_upgrade_customers": "cust1,cust2",
        },
    )
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert p.stdout.count("PLAY [Upgrade UMP-365 servers]") == 1

    p = _launch(lab, tmp_path, {"ump_upgrade_batches": "1,25 percent"})
    assert p.returncode != 0
    assert "ump_upgrade_batches='1,25 percent'" in p.stdout + p.stderr
