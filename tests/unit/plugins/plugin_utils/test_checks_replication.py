"""The replication-queue check names the open commands in the API's own keys (found by the fault matrix)."""

from __future__ import annotations

from ansible_collections.ump365.upgrade.plugins.plugin_utils import checks as c


def test_open_commands_are_named_from_the_api_keys():
    cmds = [{"Id": 7, "Customer": "contoso21", "CmdType": "Sync", "State": "Executing"}, {"id": 8}]
    res = c.check_replication_queue(
        {"replication_queue": {"open_commands": 2, "executing": 1, "queued": 1, "commands": cmds}}
    )
    assert res["status"] == "fail"
    assert "7 contoso21 Executing" in res["fix"] and "None" not in res["fix"]
