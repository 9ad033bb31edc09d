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
        os.makedirs(directory, 0o700)
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
