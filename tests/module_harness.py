"""Run a module's main() in-process in a test: exit_json/fail_json raise Exit with the module's result."""

from __future__ import annotations


class Exit(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg", ""))
        self.result = result


def _exit(self, **kw):
    kw.setdefault("changed", False)
    raise Exit(kw)


def _fail(self, msg, **kw):
    kw.update(msg=msg, failed=True)
    raise Exit(kw)
