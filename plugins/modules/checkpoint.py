#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: checkpoint
short_description: Record or read a UMP host's upgrade progress on the controller
version_added: "0.1.0"
description:
  - Keeps one JSON file per host and upgrade run on the controller, with the status and outputs of
    each phase (for example the pre-upgrade snapshot id).
  - A rerun reads it to resume at the first unfinished phase; the rollback reads the snapshot from it.
  - Writes are atomic (temporary file and rename), so a controller killed mid-write keeps the previous state.
  - Run it on the controller (C(delegate_to=localhost)).
options:
  path:
    description: Directory that holds the checkpoint files.
    type: path
    required: true
  host:
    description: The host the checkpoint is about (normally C(inventory_hostname)).
    type: str
    required: true
  run_id:
    description: Identifies one upgrade of the host, for example the target version.
    type: str
    required: true
  phase:
    description: The phase to record. Required when O(state=present).
    type: str
  status:
    description: The phase's new status.
    type: str
    choices: [started, done, failed, skipped, rolled_back]
    default: done
  outputs:
    description: Values the phase produced, merged into the phase's recorded outputs.
    type: dict
    default: {}
  error:
    description: Why the phase failed (with O(status=failed)).
    type: str
  state:
    description:
      - C(present) records O(phase); C(query) only reads; C(absent) deletes the checkpoint file.
    type: str
    choices: [present, query, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: In check mode nothing is written; the result shows what would be recorded.
  diff_mode:
    support: full
    description: Shows the phase before and after the change.
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Record the pre-upgrade snapshot
  ump365.upgrade.checkpoint:
    path: "{{ ump_checkpoint_dir }}"
    host: "{{ inventory_hostname }}"
    run_id: "{{ ump_target_version }}"
    phase: snapshot
    status: done
    outputs:
      snapshot_id: "{{ snap.id }}"
  delegate_to: localhost

- name: Read where this host stopped
  ump365.upgrade.checkpoint:
    path: "{{ ump_checkpoint_dir }}"
    host: "{{ inventory_hostname }}"
    run_id: "{{ ump_target_version }}"
    state: query
  delegate_to: localhost
  register: ckpt
"""

RETURN = r"""
checkpoint:
  description: The whole checkpoint after the change (or as read).
  returned: always
  type: dict
  sample: {"host": "ump01", "run_id": "8.0.515", "phases": {"snapshot": {"status": "done", "outputs": {"snapshot_id": "/subscriptions/..."}}}}
path:
  description: The checkpoint file.
  returned: always
  type: str
  sample: /var/lib/ump365/checkpoints/ump01__8.0.515.json
done_phases:
  description: Phases whose status is C(done), in the order they were first recorded.
  returned: always
  type: list
  elements: str
  sample: [preflight, snapshot]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ump365.upgrade.plugins.module_utils import checkpoint as ckpt


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            host=dict(type="str", required=True),
            run_id=dict(type="str", required=True),
            phase=dict(type="str"),
            status=dict(type="str", default="done", choices=list(ckpt.PHASE_STATUSES)),
            outputs=dict(type="dict", default={}),
            error=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "query", "absent"]),
        ),
        required_if=[("state", "present", ["phase"])],
        supports_check_mode=True,
    )
    p = module.params
    try:
        path = ckpt.checkpoint_path(p["path"], p["host"], p["run_id"])
        before = ckpt.load(p["path"], p["host"], p["run_id"])
    except ValueError as e:
        module.fail_json(msg="checkpoint for host %r: %s" % (p["host"], e))

    def done(data):
        return [k for k, v in data.get("phases", {}).items() if v.get("status") == "done"]

    if p["state"] == "query":
        module.exit_json(changed=False, checkpoint=before, path=path, done_phases=done(before))

    if p["state"] == "absent":
        exists = os.path.exists(path)
        if exists and not module.check_mode:
            os.unlink(path)
        module.exit_json(
            changed=exists,
            checkpoint={},
            path=path,
            done_phases=[],
            diff={"before": before if exists else {}, "after": {}},
        )

    if p["phase"] and not ckpt._SAFE.match(p["phase"]):
        module.fail_json(msg="phase %r is not a valid phase name (letters, digits, '.', '_', '-')" % p["phase"])
    old_phase = before["phases"].get(p["phase"], {})
    unchanged = (
        old_phase.get("status") == p["status"]
        and all(old_phase.get("outputs", {}).get(k) == v for k, v in p["outputs"].items())
        and (p["error"] is None or old_phase.get("error") == p["error"])
    )
    if unchanged:
        module.exit_json(changed=False, checkpoint=before, path=path, done_phases=done(before))
    after = ckpt.record(before, p["phase"], p["status"], p["outputs"], p["error"])
    if not module.check_mode:
        try:
            ckpt.save(p["path"], p["host"], p["run_id"], after)
        except (IOError, OSError) as e:
            module.fail_json(
                msg="cannot write checkpoint %s for host %s: %s; check the directory's permissions"
                % (path, p["host"], e)
            )
    module.exit_json(
        changed=True,
        checkpoint=after,
        path=path,
        done_phases=done(after),
        diff={"before": {p["phase"]: old_phase}, "after": {p["phase"]: after["phases"][p["phase"]]}},
    )


if __name__ == "__main__":
    main()
