"""The collection tarball ships the collection, not the development tree (issue 21 item 7)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# top-level entries a collection may ship; anything else in the tarball is a packaging leak
ALLOWED_TOP = {
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "LICENSE",
    "meta",
    "plugins",
    "roles",
    "playbooks",
    "docs",
    "changelogs",
    "awx",
    "requirements",
    "requirements.yml",
    # the collection's own Python and system dependencies, read by ansible-builder (awx/, issue 20)
    "requirements.txt",
    "bindep.txt",
    "execution-environment.yml",
}
NEVER = ("lab/", "bench/", "scripts/", "tests/", ".ansible", "extensions/", "inventories/", ".venv", ".lab")


@pytest.fixture(scope="module")
def tarball_names(tmp_path_factory) -> list[str]:
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(REPO)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    (tar,) = out.glob("ump365-upgrade-*.tar.gz")
    with tarfile.open(tar) as t:
        return t.getnames()


def test_tarball_ships_only_the_collection(tarball_names):
    tops = {n.split("/", 1)[0] for n in tarball_names}
    assert tops <= ALLOWED_TOP, f"not part of the collection: {sorted(tops - ALLOWED_TOP)}"
    leaks = [n for n in tarball_names if n.startswith(NEVER) or "/__pycache__" in n or n.endswith(".pyc")]
    assert not leaks, leaks
    assert "requirements/dev.txt" not in tarball_names
    assert not [n for n in tarball_names if n.startswith("docs/") and n.endswith((".png", ".jpg", ".svg"))]


def test_tarball_has_license_and_the_collection(tarball_names):
    assert "LICENSE" in tarball_names
    assert "GNU GENERAL PUBLIC LICENSE" in (REPO / "LICENSE").read_text()[:200]
    assert "Version 3" in (REPO / "LICENSE").read_text()[:200]
    license_field = yaml.safe_load((REPO / "galaxy.yml").read_text())["license"]
    assert license_field == ["GPL-3.0-or-later"]
    for must in (
        "meta/runtime.yml",
        "plugins/callback/report.py",
        "roles/upgrade/tasks/main.yml",
        "playbooks/upgrade.yml",
    ):
        assert must in tarball_names, must
    assert any(n.startswith("plugins/modules/") for n in tarball_names)


def test_lab_is_an_installable_package():
    """`umplab` is a package with a console script, installed by `make setup` (requirements/dev.txt)."""
    import tomllib

    meta = tomllib.loads((REPO / "lab" / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "umplab"
    assert meta["project"]["scripts"]["umplab"] == "umplab.cli:main"
    assert "-e ./lab" in (REPO / "requirements" / "dev.txt").read_text().splitlines()
