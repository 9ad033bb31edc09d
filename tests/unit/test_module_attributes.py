"""Every module declares its attributes through the collection's attributes doc fragment: action, async,
check/diff mode, and action_group exactly as meta/runtime.yml groups it (issue 21 item 6)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_every_module_declares_action_async_and_its_action_group():
    modules = sorted("ump365.upgrade." + p.stem for p in (REPO / "plugins" / "modules").glob("*.py"))
    proc = subprocess.run(
        [str(BIN / "ansible-doc"), "--json", "-t", "module", *modules],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        check=True,
    )
    docs = json.loads(proc.stdout)
    groups = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]
    member_of = {"ump365.upgrade." + m: "ump365.upgrade." + g for g, members in groups.items() for m in members}
    assert set(docs) == set(modules)
    for name, doc in docs.items():
        attrs = doc["doc"]["attributes"]
        for key in ("action", "async", "check_mode", "diff_mode"):
            assert attrs.get(key, {}).get("support") in ("full", "partial", "none", "N/A"), (name, key)
        assert (
            attrs["action"]["support"] == "full"
            and (REPO / "plugins" / "action" / (name.split(".")[-1] + ".py")).is_file()
        )
        membership = attrs.get("action_group", {}).get("membership")
        assert membership == ([member_of[name]] if name in member_of else None), (name, membership)
