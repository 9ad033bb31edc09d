"""`make test` runs every check the README promises: read from make's own dry run, not from the Makefile's text."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    shutil.which("make") is None, reason="make is what runs `make test`; without it there is nothing to ask"
)
def test_make_test_runs_every_molecule_scenario_the_linters_sanity_and_pytest():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", "test"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    ).stdout
    scenarios = sorted(p.parent.name for p in (REPO / "extensions" / "molecule").glob("*/molecule.yml"))
    assert scenarios, "no Molecule scenario found"
    for name in scenarios:
        assert f"molecule test --scenario-name {name}\n" in out, f"`make test` would not run Molecule scenario {name}"
    for command in ("ruff check .", "ruff format --check .", "ansible-lint", "ansible-test-sanity.sh", "-m pytest"):
        assert command in out, f"`make test` would not run {command}"
