"""An in-process lab (World + the WinRM emulator) for tests that change the world directly.

Imported by the winrm test modules (not a conftest.py, so other areas' fixtures stay independent).
"""

from __future__ import annotations

import pytest

from umplab.emulators import winrm as winrm_emulator
from umplab.runtime import Lab
from umplab.seed import build_world
from umplab.tls import LabTLS


@pytest.fixture
def inproc_lab(tmp_path):
    world = build_world(tmp_path, hosts=2, scale=0.0)
    tls = LabTLS(tmp_path, [h["fqdn"] for h in world.hosts.values()])
    lab = Lab(tmp_path, world, tls)
    lab.endpoints = winrm_emulator.start(lab)
    try:
        yield lab, world
    finally:
        lab.stop()
