# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``upgrade_reconcile`` and ``snapshot_restore_problems`` filters (documentation in the .yml files);
the logic is in plugin_utils/reconcile.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.ump365.upgrade.plugins.plugin_utils import reconcile as r


def _opt_dict(name, what, value):
    if value is not None and not isinstance(value, dict):
        raise AnsibleFilterError("%s: %s must be a dictionary or null, got a %s" % (name, what, type(value).__name__))
    return value


def upgrade_reconcile(checkpoint, host, target, snapshots=None, versions=None, host_files=None, changing_phases=()):
    _opt_dict("upgrade_reconcile", "the checkpoint", checkpoint)
    _opt_dict("upgrade_reconcile", "versions", versions)
    _opt_dict("upgrade_reconcile", "host_files", host_files)
    if snapshots is not None and not isinstance(snapshots, list):
        raise AnsibleFilterError(
            "upgrade_reconcile: snapshots must be a list or null, got a %s" % type(snapshots).__name__
        )
    if not host or not target:
        raise AnsibleFilterError("upgrade_reconcile: host and target are required (got %r, %r)" % (host, target))
    return r.reconcile(checkpoint or {}, str(host), str(target), snapshots, versions, host_files, list(changing_phases))


def snapshot_restore_problems(snapshots, ref, host, target, attempt="", from_version="", named_by_operator=False):
    if snapshots is not None and not isinstance(snapshots, list):
        raise AnsibleFilterError(
            "snapshot_restore_problems: snapshots must be a list or null, got a %s" % type(snapshots).__name__
        )
    if not ref:
        return ["no snapshot is recorded for this attempt"]
    found = r.find_snapshot(snapshots or [], ref)
    return r.restore_problems(
        found, str(host), str(target), str(attempt or ""), str(from_version or ""), bool(named_by_operator)
    )


class FilterModule(object):
    def filters(self):
        return {"upgrade_reconcile": upgrade_reconcile, "snapshot_restore_problems": snapshot_restore_problems}
