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
    store=dict(type="str", default="auto", choices=["auto", "local", "persistent"]),
)
# The file an administrator puts at the top of a persistent volume (docs/awx.md): its presence says the
# directory outlives the job's container. A directory created by the job itself never has it.
PERSISTENT_MARKER = ".ump365-persistent-store"
# What AWX sets in every job's environment (awx/main/tasks/jobs.py BaseTask.build_env / RunJob.build_env).
AWX_JOB_ENV = ("AWX_PRIVATE_DATA_DIR", "JOB_ID")
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


def in_awx_job(environ=None):
    environ = os.environ if environ is None else environ
    return all(environ.get(k) for k in AWX_JOB_ENV)


def store_problem(directory, store, environ=None):
    """Why ``directory`` cannot hold a run's state for ``store`` (None when it can).

    ``auto`` is ``persistent`` inside an AWX job and ``local`` elsewhere. ``persistent`` needs the
    administrator's marker file in the directory and refuses the job's private data directory, which AWX
    deletes with the container: a resumable run whose checkpoints die with it would resume nothing and
    let a rollback job guess the snapshot.
    """
    environ = os.environ if environ is None else environ
    if store == "auto":
        store = "persistent" if in_awx_job(environ) else "local"
    if store == "local":
        return None
    real = os.path.realpath(directory)
    private = environ.get("AWX_PRIVATE_DATA_DIR")
    if private and (real + os.sep).startswith(os.path.realpath(private) + os.sep):
        return "%s is inside the job's private data directory %s, which AWX deletes with the job's container" % (
            directory,
            private,
        )
    # the marker sits at the top of the volume; the state may live in any directory below it
    here = real
    while True:
        if os.path.isfile(os.path.join(here, PERSISTENT_MARKER)):
            return None
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    return (
        "neither %s nor a directory above it has the file %s: it is not on the persistent volume the run's "
        "state must live on (a job's container and everything written in it is thrown away when the job ends)"
        % (directory, PERSISTENT_MARKER)
    )


def apply(p, check_mode=False, environ=None):
    """Do what the checkpoint module's arguments ``p`` ask; return the result dict (``failed`` on error)."""
    problem = store_problem(p["path"], p.get("store") or "auto", environ)
    if problem:
        return {
            "failed": True,
            "msg": "checkpoint for host %s: refusing to keep the run's state where it would be lost: %s. Mount a "
            "persistent volume there and create the file %s on it (docs/awx.md, 'Run state'), or set "
            "ump_checkpoint_store=local for a run that need not resume." % (p["host"], problem, PERSISTENT_MARKER),
        }
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
