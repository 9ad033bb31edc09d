# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host, per-run checkpoints on the controller: which phases finished, with their outputs.

One JSON file per host and upgrade (``<dir>/<host>__<run_id>.json``), written atomically (temp file +
rename) so a controller killed mid-write leaves the previous checkpoint intact. A rerun reads it and
resumes at the first unfinished phase; the rollback reads the snapshot id from it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import tempfile
import time

PHASE_STATUSES = ("started", "done", "failed", "skipped", "rolled_back")

# Shared by the module (plugins/modules/checkpoint.py) and its controller-side action plugin.
ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    host=dict(type="str", required=True),
    run_id=dict(type="str", required=True),
    phase=dict(type="str"),
    status=dict(type="str", default="done", choices=list(PHASE_STATUSES)),
    outputs=dict(type="dict", default={}),
    error=dict(type="str"),
    state=dict(type="str", default="present", choices=["present", "query", "absent"]),
)
REQUIRED_IF = [("state", "present", ["phase"])]
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def _check_name(kind, value):
    if not isinstance(value, str) or not _SAFE.match(value):
        raise ValueError(
            "%s %r is not a safe file-name part (letters, digits, '.', '_', '-'; at most 200)" % (kind, value)
        )
    return value


def checkpoint_path(directory, host, run_id):
    return os.path.join(directory, "%s__%s.json" % (_check_name("host", host), _check_name("run_id", run_id)))


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def load(directory, host, run_id):
    path = checkpoint_path(directory, host, run_id)
    try:
        with open(path) as f:
            data = json.load(f)
    except IOError:
        return {"host": host, "run_id": run_id, "phases": {}, "created": None}
    except ValueError as e:
        raise ValueError("checkpoint %s is not valid JSON (%s); move it aside to start this host afresh" % (path, e))
    data.setdefault("phases", {})
    return data


def save(directory, host, run_id, data):
    path = checkpoint_path(directory, host, run_id)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700, exist_ok=True)  # hosts of a batch race here
    fd, tmp = tempfile.mkstemp(prefix=".ckpt-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def record(data, phase, status, outputs=None, error=None):
    """Return a copy of ``data`` with ``phase`` set to ``status`` (outputs merged, timestamps kept)."""
    if status not in PHASE_STATUSES:
        raise ValueError("status %r is not one of %s" % (status, ", ".join(PHASE_STATUSES)))
    new = json.loads(json.dumps(data))
    if not new.get("created"):
        new["created"] = now_iso()
    ph = new["phases"].setdefault(phase, {})
    ts = now_iso()
    if status == "started":
        ph.setdefault("started", ts)
        ph.setdefault("attempts", 0)
        ph["attempts"] += 1
    else:
        ph.setdefault("started", ts)
        ph["ended"] = ts
    ph["status"] = status
    if outputs:
        ph.setdefault("outputs", {}).update(outputs)
    if error is not None:
        ph["error"] = error
    elif status == "done":
        ph.pop("error", None)
    new["updated"] = ts
    return new


def _done(data):
    return [k for k, v in data.get("phases", {}).items() if v.get("status") == "done"]


def apply(p, check_mode=False):
    """Do what the checkpoint module's arguments ``p`` ask; return the result dict (``failed`` on error)."""
    try:
        path = checkpoint_path(p["path"], p["host"], p["run_id"])
        before = load(p["path"], p["host"], p["run_id"])
    except ValueError as e:
        return {"failed": True, "msg": "checkpoint for host %r: %s" % (p["host"], e)}

    if p["state"] == "query":
        return {"changed": False, "checkpoint": before, "path": path, "done_phases": _done(before)}

    if p["state"] == "absent":
        exists = os.path.exists(path)
        if exists and not check_mode:
            os.unlink(path)
        return {
            "changed": exists,
            "checkpoint": {},
            "path": path,
            "done_phases": [],
            "diff": {"before": before if exists else {}, "after": {}},
        }

    if not _SAFE.match(p["phase"] or ""):
        return {
            "failed": True,
            "msg": "phase %r is not a valid phase name (letters, digits, '.', '_', '-')" % p["phase"],
        }
    outputs = p.get("outputs") or {}
    old_phase = before["phases"].get(p["phase"], {})
    unchanged = (
        old_phase.get("status") == p["status"]
        and all(old_phase.get("outputs", {}).get(k) == v for k, v in outputs.items())
        and (p.get("error") is None or old_phase.get("error") == p["error"])
    )
    if unchanged:
        return {"changed": False, "checkpoint": before, "path": path, "done_phases": _done(before)}
    after = record(before, p["phase"], p["status"], outputs, p.get("error"))
    if not check_mode:
        try:
            save(p["path"], p["host"], p["run_id"], after)
        except (IOError, OSError) as e:
            return {
                "failed": True,
                "msg": "cannot write checkpoint %s for host %s: %s; check the directory's permissions"
                % (path, p["host"], e),
            }
    return {
        "changed": True,
        "checkpoint": after,
        "path": path,
        "done_phases": _done(after),
        "diff": {"before": {p["phase"]: old_phase}, "after": {p["phase"]: after["phases"][p["phase"]]}},
    }
