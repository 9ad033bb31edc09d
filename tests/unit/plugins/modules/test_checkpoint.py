from __future__ import annotations

import json

from ansible_collections.ump365.upgrade.plugins.modules import checkpoint


def args(tmp_path, **kw):
    base = {"path": str(tmp_path), "host": "ump01", "run_id": "8.0.515"}
    base.update(kw)
    return base


def test_record_then_rerecord_is_unchanged(tmp_path, run_module):
    res, failed = run_module(checkpoint, args(tmp_path, phase="snapshot", outputs={"snapshot_id": "snap-1"}))
    assert not failed and res["changed"]
    assert res["done_phases"] == ["snapshot"]
    on_disk = json.loads((tmp_path / "ump01__8.0.515.json").read_text())
    assert on_disk["phases"]["snapshot"]["outputs"] == {"snapshot_id": "snap-1"}
    res, _failed = run_module(checkpoint, args(tmp_path, phase="snapshot", outputs={"snapshot_id": "snap-1"}))
    assert res["changed"] is False


def test_check_mode_writes_nothing_but_shows_diff(tmp_path, run_module):
    res, _failed = run_module(checkpoint, args(tmp_path, phase="preflight"), check_mode=True, diff=True)
    assert res["changed"] and res["diff"]["after"]["preflight"]["status"] == "done"
    assert not (tmp_path / "ump01__8.0.515.json").exists()


def test_query_and_absent(tmp_path, run_module):
    run_module(checkpoint, args(tmp_path, phase="a", status="started"))
    res, _failed = run_module(checkpoint, args(tmp_path, state="query"))
    assert res["checkpoint"]["phases"]["a"]["status"] == "started" and res["done_phases"] == []
    res, _failed = run_module(checkpoint, args(tmp_path, state="absent"))
    assert res["changed"] and not (tmp_path / "ump01__8.0.515.json").exists()
    res, _failed = run_module(checkpoint, args(tmp_path, state="absent"))
    assert res["changed"] is False


def test_unsafe_host_name_fails_naming_the_value(tmp_path, run_module):
    res, failed = run_module(checkpoint, args(tmp_path, host="../../etc/passwd", phase="x"))
    assert failed and "../../etc/passwd" in res["msg"]


def test_corrupt_checkpoint_gives_a_fix(tmp_path, run_module):
    (tmp_path / "ump01__8.0.515.json").write_text("{not json")
    res, failed = run_module(checkpoint, args(tmp_path, state="query"))
    assert failed and "move it aside" in res["msg"]
