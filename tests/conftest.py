"""Shared fixtures: the collection on sys.path, a running UMP lab, and a way to run playbooks on it."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Nothing a test runs writes into the real home directory: the UMP API token cache of every module
# (in-process or in an ansible-playbook child) and Ansible's own home (its local temp folder, which
# ansible creates when its constants load) go to a temporary directory of this test process. Set before
# anything imports ansible.
_HOME = tempfile.mkdtemp(prefix="ump365-tests-home-")
atexit.register(shutil.rmtree, _HOME, True)
os.environ["UMP365_TOKEN_CACHE"] = os.path.join(_HOME, "ump365", "ump_api_tokens.json")
os.environ["ANSIBLE_HOME"] = os.path.join(_HOME, "ansible")
os.environ["ANSIBLE_LOCAL_TEMP"] = os.path.join(_HOME, "ansible", "tmp")

import pytest

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / ".ansible" / "collections"
for p in (str(REPO / "lab"), str(COLLECTIONS)):
    if p not in sys.path:
        sys.path.insert(0, p)

from umplab.client import LabClient

BIN = Path(sys.executable).parent


def lab_env(state_dir: Path, **extra: str) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "UMPLAB_STATE_DIR": str(state_dir),
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "PYTHONPATH": str(REPO / "lab") + os.pathsep + env.get("PYTHONPATH", ""),
            "PATH": str(BIN) + os.pathsep + env.get("PATH", ""),
        }
    )
    env.update(extra)
    return env


def umplab(
    *args: str, state_dir: Path | None = None, check: bool = True, timeout: float = 90
) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "umplab", *args]
    if state_dir is not None:
        cmd += ["--state-dir", str(state_dir)]
    return subprocess.run(
        cmd, capture_output=True, text=True, check=check, timeout=timeout, env=lab_env(state_dir or REPO / ".lab")
    )


class Lab(LabClient):
    """A running lab plus helpers to run Ansible against it."""

    def env(self, **extra: str) -> dict:
        return lab_env(self.state_dir, **extra)

    @staticmethod
    def playbook_command(playbook: str, *args: str, extra_vars: dict | None = None) -> list[str]:
        """``ansible-playbook -i inventories/lab <playbook> <args> [-e <extra_vars as JSON>]``."""
        cmd = [str(BIN / "ansible-playbook"), "-i", str(REPO / "inventories" / "lab"), str(REPO / playbook), *args]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        return cmd

    def playbook(
        self,
        playbook: str,
        *args: str,
        check: bool = False,
        timeout: float = 900,
        extra_vars: dict | None = None,
        env: dict | None = None,
    ) -> subprocess.CompletedProcess:
        cmd = self.playbook_command(playbook, *args, extra_vars=extra_vars)
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=self.env(**(env or {}))
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{playbook} failed (rc={proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
            )
        return proc

    def adhoc(
        self, pattern: str, module: str, module_args: str = "", *args: str, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        cmd = [str(BIN / "ansible"), "-i", str(REPO / "inventories" / "lab"), pattern, "-m", module, *args]
        if module_args:
            cmd += ["-a", module_args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=self.env())

    def inventory(self) -> dict:
        out = subprocess.run(
            [sys.executable, str(REPO / "inventories" / "lab" / "umplab_inventory.py"), "--list"],
            capture_output=True,
            text=True,
            check=True,
            env=self.env(),
        )
        return json.loads(out.stdout)


@pytest.fixture(scope="session")
def lab_session(tmp_path_factory) -> Lab:
    """One lab process for the whole session (2 hosts, scale 0)."""
    state_dir = tmp_path_factory.mktemp("lab")
    umplab("up", "--hosts", "2", "--scale", "0", state_dir=state_dir)
    try:
        yield Lab(state_dir)
    finally:
        umplab("down", state_dir=state_dir, check=False)


@pytest.fixture
def lab(lab_session: Lab) -> Lab:
    """The session's lab, reset to its seeded state with no faults before every test.

    Resetting is cheap (a copy of the seeded world and its SQLite files), and it keeps each test
    independent of what ran before it on the same worker (pytest-xdist runs files in any order).
    """
    lab_session.clear_faults()
    lab_session.reset()
    yield lab_session
    lab_session.clear_faults()


@pytest.fixture
def fresh_lab(lab: Lab) -> Lab:
    """The reset lab with its round-trip counters zeroed too."""
    lab.reset_counters()
    return lab


# `make test` runs pytest-xdist with `--dist loadfile --no-loadscope-reorder`: whole files are handed to the three
# workers in collection order. The files that take longest go first (measured: `--durations`, docs/performance.md),
# so that no long file is started last and runs alone at the end while the other workers idle; every other file
# keeps its place after them (the unit tests, many and short, fill the gaps at the end).
SLOW_FILES_FIRST = (
    "tests/reliability/test_fault_matrix.py",
    "tests/integration/test_azure_snapshot_rollback.py",
    "tests/integration/test_awx_survey.py",
    "tests/integration/test_sql_modules.py",
    "tests/integration/test_upgrade_orchestration.py",
    "tests/reliability/test_crash_resume.py",
    "tests/reliability/test_site_b.py",
    "tests/integration/test_awx_configure_playbook.py",
    "tests/reliability/test_secrets.py",
    "tests/integration/test_windows_roles_faults.py",
    "tests/integration/test_awx_run_state.py",
    "tests/integration/test_winhost_wyupdate.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.relative_to(REPO).as_posix(), len(rank)))
