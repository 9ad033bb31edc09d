"""No secret the lab uses ever reaches an output: console at -vvvv, the Ansible log, reports, checkpoints, facts.

Two runs on the 2-host lab: ``playbooks/upgrade.yml`` at -vvvv with a wyUpdate fault on ump02 (so its
rescue, the OS-disk swap and the database restore run and print), and
``tests/reliability/playbooks/wrong_credentials.yml`` where every client (ARM, UMP API, Graph, SBC, OVOC,
SQL, WinRM, runas) is handed a wrong credential so each error path prints. The wrong credentials are
searched for too: an error must not echo the password it was given.

Every secret is searched raw, URL-encoded, JSON-escaped, base64 (at each byte alignment, UTF-8 and
UTF-16LE as PowerShell's -EncodedCommand carries it) and as the HTTP Basic ``user:password`` header.
"""

from __future__ import annotations

import base64
import json
import math
import os
import secrets
import stat
import urllib.parse
from pathlib import Path

import pytest


BASIC_USERS = ("Admin", "ovoc-api", "ump-svc", "labadmin")


def _b64_inner(data: bytes) -> list[str]:
    """The base64 characters that depend on ``data`` only, wherever it sits in a larger encoded blob."""
    out = []
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + data).decode()
        lo, hi = math.ceil(8 * k / 6), (8 * (k + len(data))) // 6
        out.append(enc[lo:hi])
    return out


def secret_forms(secret: str) -> dict[str, str]:
    forms = {
        "raw": secret,
        "url-encoded": urllib.parse.quote(secret, safe=""),
        "url-encoded (form)": urllib.parse.quote_plus(secret),
        "json-escaped": json.dumps(secret)[1:-1],
    }
    for enc in ("utf-8", "utf-16-le"):
        for i, b in enumerate(_b64_inner(secret.encode(enc))):
            forms[f"base64 {enc} @{i}"] = b
    for user in BASIC_USERS:
        forms[f"Basic {user}:"] = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {k: v for k, v in forms.items() if len(v) >= 8}


def find_leaks(named_secrets: dict[str, str], files: list[Path]) -> list[str]:
    leaks = []
    for f in files:
        text = f.read_text(errors="replace")
        for name, secret in named_secrets.items():
            for form, value in secret_forms(secret).items():
                at = text.find(value)
                if at >= 0:
                    leaks.append(f"{name} ({form}) in {f}: ...{text[max(0, at - 120) : at + 40]!r}")
                    break
    return leaks


def _files(*paths: Path) -> list[Path]:
    out = []
    for p in paths:
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out.extend(sorted(x for x in p.rglob("*") if x.is_file()))
    return out


def lab_secrets(lab) -> dict[str, str]:
    """Every credential the lab holds, plus the Entra ID tokens it issued during the runs."""
    state = lab.state()
    named = {f"lab secret {k}": v for k, v in state["secrets"].items()}
    for i, token in enumerate(sorted(state["entra"]["tokens"])):
        named[f"entra token #{i}"] = token
    named["lab admin token"] = lab.endpoints["admin"]["token"]
    return named


def test_the_search_finds_a_planted_secret_in_every_form(tmp_path):
    secret = "Plant!" + secrets.token_urlsafe(12)
    forms = secret_forms(secret)
    for form, value in forms.items():
        f = tmp_path / f"{len(os.listdir(tmp_path))}.log"
        f.write_text(f"some output {value} more output\n")
        assert find_leaks({"planted": secret}, [f]), form
    # inside a bigger base64 blob (a WinRM payload), at every alignment
    for k in range(3):
        blob = base64.b64encode(os.urandom(k) + f"x{secret}y".encode("utf-16-le")).decode()
        f = tmp_path / f"blob{k}.txt"
        f.write_text(blob)
        assert find_leaks({"planted": secret}, [f]), k
    clean = tmp_path / "clean.txt"
    clean.write_text("nothing here ********\n")
    assert not find_leaks({"planted": secret}, [clean])


@pytest.fixture
def run_dirs(fresh_lab, tmp_path):
    d = {name: tmp_path / name for name in ("reports", "checkpoints", "facts")}
    for p in d.values():
        p.mkdir()
    return d


def test_no_secret_in_any_output_of_a_rollback_run_and_of_wrong_credentials(fresh_lab, run_dirs, tmp_path):
    lab = fresh_lab
    customers_before = lab.state()["sql_dump"]["ump02-sql"]["SysAdminTenant"]["Customer"]
    lab.fault("wyupdate.fail_step", host="ump02", step="RunSqlScripts")
    log = tmp_path / "ansible.log"
    env = {
        "ANSIBLE_LOG_PATH": str(log),
        "ANSIBLE_CACHE_PLUGIN": "jsonfile",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(run_dirs["facts"]),
        "UMP365_REPORT_DIR": str(run_dirs["reports"]),
    }
    upgrade = lab.playbook(
        "playbooks/upgrade.yml",
        "-vvvv",
        extra_vars={"ump_checkpoint_dir": str(run_dirs["checkpoints"]), "ump_upgrade_batches": [2]},
        env=env,
    )
    assert upgrade.returncode != 0
    assert "ump02: the upgrade to 8.0.515 failed in phase wyupdate" in upgrade.stdout  # the rescue ran
    # the same end state as tests/integration/test_upgrade_rollback.py, so this run can stand in for it
    state = lab.state()
    outcome = {
        h: json.loads((run_dirs["checkpoints"] / f"{h}__8.0.515.json").read_text())["phases"]["outcome"]["outputs"]
        for h in ("ump01", "ump02")
    }
    assert {h: o["result"] for h, o in outcome.items()} == {"ump01": "upgraded", "ump02": "rolled_back"}
    assert state["hosts"]["ump02"]["sql_host"] == "ump02-sql"
    assert lab.host_state("ump01")["ump"]["components"]["SysAdminKit"] == "8.0.515"
    assert lab.host_state("ump02")["ump"]["components"]["SysAdminKit"] == "8.0.400.64"
    assert state["sql_dump"]["ump02-sql"]["SysAdminTenant"]["Customer"] == customers_before
    assert {c["Version"] for c in state["sql_dump"]["ump01"]["SysAdminTenant"]["Customer"]} == {"8.0.515"}
    report = json.loads(next(run_dirs["reports"].glob("*.json")).read_text())
    assert {h: v["final_state"] for h, v in report["hosts"].items()} == {"ump01": "upgraded", "ump02": "rolled_back"}

    # the wrong credentials come from a vars file: `-e key=value` is echoed by ansible-playbook at -vvvv
    wrong = {
        "wrong_secret": "Wrong!" + secrets.token_urlsafe(16),
        "wrong_password": "Wrong!" + secrets.token_urlsafe(16),
    }
    vars_file = tmp_path / "wrong.json"
    vars_file.write_text(json.dumps({**wrong, "results_file": str(tmp_path / "wrong-results.json")}))
    bad = lab.playbook(
        "tests/reliability/playbooks/wrong_credentials.yml",
        "-vvvv",
        "-e",
        f"@{vars_file}",
        env=env,
    )
    assert bad.returncode == 0, bad.stdout[-3000:]
    results = json.loads((tmp_path / "wrong-results.json").read_text())
    for system, result in results.items():  # every error path ran and said why
        assert result.get("failed") or result.get("unreachable"), (system, result)
        assert result.get("msg"), (system, result)

    outputs = tmp_path / "outputs"
    outputs.mkdir()
    for name, text in (
        ("upgrade.stdout", upgrade.stdout),
        ("upgrade.stderr", upgrade.stderr),
        ("wrong.stdout", bad.stdout),
        ("wrong.stderr", bad.stderr),
    ):
        (outputs / name).write_text(text)
    files = _files(outputs, log, tmp_path / "wrong-results.json", *run_dirs.values())
    assert {f.parent.name for f in files} >= {"outputs", "reports", "checkpoints", "facts"}
    assert log.stat().st_size > 100_000  # -vvvv really was logged
    assert any(f.suffix == ".xml" for f in files) and any(f.suffix == ".html" for f in files)

    named = lab_secrets(lab)
    assert sum(k.startswith("entra token") for k in named) >= 2  # tokens were issued and are searched
    named.update({f"wrong credential {k}": v for k, v in wrong.items()})
    leaks = find_leaks(named, files)
    assert not leaks, "\n".join(leaks)

    # the UMP API token cache is the one place a token rests on disk by design: owner-only
    # (the suite points it into its temp dir, tests/conftest.py; the run must really have used it)
    cache = Path(os.environ["UMP365_TOKEN_CACHE"])
    assert cache.exists(), "the modules did not use UMP365_TOKEN_CACHE (%s)" % cache
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
