"""Run a module's main() in-process with arguments and capture what it exits with (amazon.aws style)."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    def __init__(self, result: dict, failed: bool):
        super().__init__(result.get("msg", ""))
        self.result = result
        self.failed = failed


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    raise ModuleExit(kwargs, failed=False)


def _fail_json(self, msg, **kwargs):
    kwargs["msg"] = msg
    kwargs["failed"] = True
    raise ModuleExit(kwargs, failed=True)


@pytest.fixture
def run_module(monkeypatch):
    """``run_module(module, args, check_mode=False, diff=False) -> (result, failed)``."""
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)

    def run(module, args: dict, check_mode: bool = False, diff: bool = False):
        a = dict(args)
        a["_ansible_check_mode"] = check_mode
        a["_ansible_diff"] = diff
        with patch_module_args(a):
            try:
                module.main()
            except ModuleExit as e:
                json.dumps(e.result)  # results must be JSON-able
                return e.result, e.failed
        raise AssertionError("module returned without exit_json/fail_json")

    return run
