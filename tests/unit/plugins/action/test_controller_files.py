"""controller_files (an action plugin; its module file is documentation only): writes the report files, leaves
equal ones alone, writes nothing in check mode, and never reports a change of the host (report files on the
controller are not one: ``written`` says what it did)."""

from __future__ import annotations

import ast
import os
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible_collections.ump365.upgrade.plugins.action import controller_files as mod
from ansible_collections.ump365.upgrade.plugins.plugin_utils import controller_files as files_utils

FILES = [{"name": "ump01_x.csv", "content": "a;b\n"}, {"name": "ump01_x.json", "content": '{"a": 1}\n'}]


def run_action(args, check_mode=False):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    action = mod.ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={"inventory_hostname": "ump01"})


def test_writes_then_leaves_equal_files_alone(tmp_path):
    folder = tmp_path / "reports"
    res = run_action({"path": str(folder), "files": FILES}, check_mode=True)
    assert not res.get("failed") and not res["changed"] and res["written"] and not folder.exists()
    res = run_action({"path": str(folder), "files": FILES})
    assert not res.get("failed") and not res["changed"] and res["written"]
    assert [f["changed"] for f in res["files"]] == [True, True]
    assert (folder / "ump01_x.csv").read_text() == "a;b\n" and oct(folder.stat().st_mode & 0o777) == "0o750"
    assert oct((folder / "ump01_x.json").stat().st_mode & 0o777) == "0o640"
    res = run_action({"path": str(folder), "files": FILES})
    assert not res["changed"] and not res["written"]
    with pytest.raises(AnsibleActionFail, match="plain name"):
        run_action({"path": str(folder), "files": [{"name": "../x", "content": ""}]})


def test_a_folder_another_host_created_meanwhile_is_used(tmp_path, monkeypatch):
    """Two hosts of a batch: both see no folder, the other one creates it first; this one must not fail."""
    folder = tmp_path / "reports"
    folder.mkdir()
    real_isdir = files_utils.os.path.isdir
    answers = [False]  # the plugin's own look sees no folder; later looks (makedirs') see it

    def isdir(p):
        return answers.pop() if p == str(folder) and answers else real_isdir(p)

    monkeypatch.setattr(files_utils.os.path, "isdir", isdir)
    res = run_action({"path": str(folder), "files": FILES})
    assert not res.get("failed"), res.get("msg")
    assert (folder / "ump01_x.csv").read_text() == "a;b\n"


def test_the_module_file_is_documentation_only():
    path = os.path.join(os.path.dirname(mod.__file__), "..", "modules", "controller_files.py")
    tree = ast.parse(open(path).read())
    assigned = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}
    assert assigned == {"__metaclass__", "DOCUMENTATION", "EXAMPLES", "RETURN"}
    assert not [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.Import))]
