"""controller_files: writes the report files, leaves equal ones alone, writes nothing in check mode, and never
reports a change of the host (report files on the controller are not one: ``written`` says what it did)."""

from __future__ import annotations

from ansible_collections.ump365.upgrade.plugins.module_utils import controller_files as files_utils
from ansible_collections.ump365.upgrade.plugins.modules import controller_files

FILES = [{"name": "ump01_x.csv", "content": "a;b\n"}, {"name": "ump01_x.json", "content": '{"a": 1}\n'}]


def test_writes_then_leaves_equal_files_alone(run_module, tmp_path):
    folder = tmp_path / "reports"
    res, failed = run_module(controller_files, {"path": str(folder), "files": FILES}, check_mode=True)
    assert not failed and not res["changed"] and res["written"] and not folder.exists()
    res, failed = run_module(controller_files, {"path": str(folder), "files": FILES})
    assert not failed and not res["changed"] and res["written"]
    assert [f["changed"] for f in res["files"]] == [True, True]
    assert (folder / "ump01_x.csv").read_text() == "a;b\n" and oct(folder.stat().st_mode & 0o777) == "0o750"
    assert oct((folder / "ump01_x.json").stat().st_mode & 0o777) == "0o640"
    res, _failed = run_module(controller_files, {"path": str(folder), "files": FILES})
    assert not res["changed"] and not res["written"]
    res, failed = run_module(controller_files, {"path": str(folder), "files": [{"name": "../x", "content": ""}]})
    assert failed and "plain name" in res["msg"]


def test_a_folder_another_host_created_meanwhile_is_used(run_module, tmp_path, monkeypatch):
    """Two hosts of a batch: both see no folder, the other one creates it first; this one must not fail."""
    folder = tmp_path / "reports"
    folder.mkdir()
    real_isdir = files_utils.os.path.isdir
    answers = [False]  # the module's own look sees no folder; later looks (makedirs') see it

    def isdir(p):
        return answers.pop() if p == str(folder) and answers else real_isdir(p)

    monkeypatch.setattr(files_utils.os.path, "isdir", isdir)
    res, failed = run_module(controller_files, {"path": str(folder), "files": FILES})
    assert not failed, res.get("msg")
    assert (folder / "ump01_x.csv").read_text() == "a;b\n"
