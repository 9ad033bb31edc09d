"""lookup('ump365.upgrade.checkpoint'): a host's checkpoint read on the controller."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader


def LookupModule():  # loaded as Ansible loads it, with its documented options
    return lookup_loader.get("ump365.upgrade.checkpoint")


def test_reads_each_hosts_checkpoint_and_an_empty_one_when_none(tmp_path):
    (tmp_path / "ump01__8.0.515.json").write_text(
        json.dumps({"host": "ump01", "run_id": "8.0.515", "phases": {"services_stop": {"status": "done"}}})
    )
    got = LookupModule().run(["ump01", "ump02"], {}, dir=str(tmp_path), run_id="8.0.515")
    assert got[0]["phases"]["services_stop"]["status"] == "done"
    assert got[1] == {"host": "ump02", "run_id": "8.0.515", "phases": {}, "created": None}


def test_a_broken_checkpoint_says_what_to_do(tmp_path):
    (tmp_path / "ump01__r.json").write_text("{not json")
    with pytest.raises(AnsibleLookupError, match="move it aside"):
        LookupModule().run(["ump01"], {}, dir=str(tmp_path), run_id="r")


def test_no_filter_reads_files_on_the_controller():
    """Reading files is a lookup's job (#21 item 2): the checkpoint_read filter became this lookup."""
    import ast
    import glob
    import os

    from ansible_collections.ump365.upgrade.plugins.filter import windows_roles

    for path in glob.glob(os.path.join(os.path.dirname(windows_roles.__file__), "*.py")):
        tree = ast.parse(open(path).read())
        calls = [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        assert "open" not in calls, path
        imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
        assert "checkpoint" not in imported, path
