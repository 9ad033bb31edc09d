"""execution-environment.yml: ansible-builder writes a build context that installs what the project runs with.

Offline: `ansible-builder create` only writes the context (nothing is pulled or built); the collection
tarball it copies in is built from this checkout with `ansible-galaxy collection build`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def ee_context(tmp_path_factory) -> Path:
    """The EE definition and the files it names, laid out as in the repo, plus the built collection."""
    src = tmp_path_factory.mktemp("ee-src")
    shutil.copy(REPO / "execution-environment.yml", src)
    shutil.copy(REPO / "requirements.yml", src)
    (src / "requirements").mkdir()
    shutil.copy(REPO / "requirements" / "runtime.txt", src / "requirements")
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(src / "dist"), str(REPO)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    ctx = tmp_path_factory.mktemp("ee-context")
    proc = subprocess.run(
        [
            str(BIN / "ansible-builder"),
            "create",
            "-f",
            str(src / "execution-environment.yml"),
            "--context",
            str(ctx),
            "--output-filename",
            "Containerfile",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No matches" not in proc.stdout + proc.stderr, "the collection tarball was not found"
    return ctx


def galaxy_version() -> str:
    return yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]


def test_definition_is_schema_v3_with_pinned_core():
    ee = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    assert ee["version"] == 3
    runtime = (REPO / "requirements/runtime.txt").read_text()
    # the EE runs the same ansible-core as the tests
    assert ee["dependencies"]["ansible_core"]["package_pip"] in runtime.splitlines()


def test_context_holds_the_requirements_of_this_repo(ee_context):
    build = ee_context / "_build"
    assert (build / "requirements.txt").read_text() == (REPO / "requirements/runtime.txt").read_text()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert {c["name"] for c in galaxy["collections"]} == set(
        yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"]
    )
    bindep = (build / "bindep.txt").read_text().splitlines()
    assert all("[platform:rpm]" in line for line in bindep if line.strip())
    assert any(line.startswith("git-core") for line in bindep), "AWX project syncs need git in the EE"


def test_context_carries_the_collection_built_from_this_checkout(ee_context):
    tarball = ee_context / "_build" / "ump365" / f"ump365-upgrade-{galaxy_version()}.tar.gz"
    assert tarball.is_file()
    listing = subprocess.run(["tar", "tzf", str(tarball)], capture_output=True, text=True, check=True).stdout
    assert "MANIFEST.json" in listing and "roles/preflight/tasks/main.yml" in listing
    assert "plugins/modules/checkpoint.py" in listing
    assert ".ansible/" not in listing, "galaxy.yml build_ignore must keep the self-link out"


def test_containerfile_installs_core_collections_and_python_deps(ee_context):
    cf = (ee_context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="registry.access.redhat.com/ubi9/ubi:9.6"' in cf
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==' in cf
    assert 'ARG PYCMD="/usr/bin/python3.11"' in cf
    # collections from requirements.yml, then this collection from its tarball, both into the shared path
    galaxy_stage = cf.split("FROM base AS galaxy", 1)[1].split("FROM base AS builder", 1)[0]
    req = galaxy_stage.index(
        "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml"
    )
    own = galaxy_stage.index("/build/ump365/ump365-upgrade-*.tar.gz")
    assert req < own
    assert "--collections-path /usr/share/ansible/collections" in galaxy_stage[own - 200 :]
    # Python requirements and system packages are resolved by the builder stage (introspect + assemble)
    assert "introspect.py introspect --user-pip=requirements.txt --user-bindep=bindep.txt" in cf
    final = cf.split("FROM base AS final", 1)[1]
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in final
    assert "install-from-bindep" in final
