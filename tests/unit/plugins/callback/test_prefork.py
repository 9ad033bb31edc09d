"""The prefork callback: what it loads in the main process before the workers fork, and that it never fails a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]

PROBE = r"""
import gc, json, sys
from ansible_collections.ump365.upgrade.plugins.callback import prefork

def loaded():
    return {
        "test_plugins": any(m.startswith("ansible.plugins.test.core") for m in sys.modules),
        "filter_plugins": any(m.startswith("ansible.plugins.filter.core") for m in sys.modules),
        "modules": [m for m in prefork.PRELOAD_MODULES if m in sys.modules],
        "frozen": gc.get_freeze_count(),
    }

before = loaded()
if sys.argv[1:] == ["missing"]:
    prefork.PRELOAD_MODULES = prefork.PRELOAD_MODULES + ("ansible.no_such_module_here",)
cb = prefork.CallbackModule()
shown = []
cb._display.vvv = shown.append
cb.v2_playbook_on_start(None)
after = loaded()
cb.v2_playbook_on_start(None)
print(json.dumps({"before": before, "after": after, "shown": shown}))
"""


def _probe(*args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO / ".ansible" / "collections"))
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True, env=env, timeout=120
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_playbook_start_loads_what_workers_would_load_and_freezes_the_heap():
    from ansible_collections.ump365.upgrade.plugins.callback import prefork

    r = _probe()
    # nothing of it was there before: the callback is what loads it
    assert not r["before"]["test_plugins"] and r["before"]["frozen"] == 0
    assert "ansible.plugins.action.normal" not in r["before"]["modules"]
    assert r["after"]["test_plugins"] and r["after"]["filter_plugins"]
    assert r["after"]["modules"] == list(prefork.PRELOAD_MODULES)
    assert r["after"]["frozen"] > 10000
    assert r["shown"] == []


def test_a_module_that_cannot_be_loaded_is_left_out_and_named_at_vvv():
    r = _probe("missing")
    assert r["after"]["test_plugins"] and r["after"]["frozen"] > 10000
    assert len(r["shown"]) == 1 and "ansible.no_such_module_here" in r["shown"][0]
