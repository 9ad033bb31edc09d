"""execution-environment.yml: ansible-builder writes a build context that installs what the project runs with.

Offline: `ansible-builder create` only writes the context (nothing is pulled or built); the collection
tarball it copies in is built from this checkout with `ansible-galaxy collection build`.
"""

from __future__ import annotations

import re
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


def test_ee_installs_no_ansible_package_and_only_this_collection(ee_context):
    build = ee_context / "_build"
    # no `ansible` package (~470 MB), no Python or system list of its own: introspection gives them
    assert not (build / "requirements.txt").exists() and not (build / "bindep.txt").exists()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": f"ump365/ump365-upgrade-{galaxy_version()}.tar.gz", "type": "file"}], (
        "its galaxy.yml dependencies come with it"
    )


def test_collection_declares_exactly_the_collections_it_uses():
    deps = yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"]
    used = set()
    for path in [*REPO.glob("roles/*/tasks/*.yml"), *REPO.glob("playbooks/*.yml")]:
        used |= set(
            re.findall(r"^\s*-?\s*((?!ump365\.|ansible\.builtin\.)[a-z_]+\.[a-z_]+)\.[a-z_]+:", path.read_text(), re.M)
        )
    assert set(deps) == used, f"galaxy.yml dependencies {sorted(deps)} != used {sorted(used)}"


def test_introspect_lists_the_collections_requirements(tmp_path):
    """What ansible-builder's builder stage runs (introspect.py) on the installed collection."""
    dest = tmp_path / "ansible_collections" / "ump365" / "upgrade"
    dest.mkdir(parents=True)
    tarball = tmp_path / "c.tar.gz"
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (tarball,) = tmp_path.glob("ump365-upgrade-*.tar.gz")
    subprocess.run(["tar", "xzf", str(tarball), "-C", str(dest)], check=True)
    proc = subprocess.run(
        [str(BIN / "ansible-builder"), "introspect", "--sanitize", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = yaml.safe_load(proc.stdout.split("---", 1)[1])
    python = {line.split("#")[0].strip() for line in data["python"]}
    wanted = {
        line.strip()
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert python == wanted and all("from collection ump365.upgrade" in line for line in data["python"])
    assert "pywinrm==0.5.0" in python and "python-tds==1.17.1" in python
    assert not any(p.startswith("ansible==") or p.startswith("jmespath") for p in python)
    assert any(line.startswith("ca-certificates") for line in data["system"])
    # the same pins as the project's tested set
    runtime = set((REPO / "requirements/runtime.txt").read_text().split())
    assert python <= runtime


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
    # this collection (and, through its galaxy.yml, its dependencies) in the galaxy stage ...
    galaxy_stage = cf.split("FROM base AS galaxy", 1)[1].split("FROM base AS builder", 1)[0]
    assert "WORKDIR /build" in galaxy_stage
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in galaxy_stage
    # ... then the builder stage introspects what was installed (the collections' requirements)
    builder = cf.split("FROM base AS builder", 1)[1].split("FROM base AS final", 1)[0]
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in builder
    assert (
        "introspect.py introspect --write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt" in builder
    )
    final = cf.split("FROM base AS final", 1)[1]
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in final
    assert "install-from-bindep" in final
