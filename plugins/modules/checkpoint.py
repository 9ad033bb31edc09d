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
  store:
    description:
      - Where the run's state may live. V(local) - any directory (the command line). V(persistent) - a
        directory that outlives the job's container - it, or a directory above it, must hold the file C(.ump365-persistent-store)
        that the administrator puts on the persistent volume, and must not be inside AWX's private data
        directory (E(AWX_PRIVATE_DATA_DIR)); otherwise the task fails before reading or writing.
      - V(auto) is V(persistent) inside an AWX job (E(AWX_PRIVATE_DATA_DIR) and E(JOB_ID) set) and
        V(local) elsewhere.
      - When the option is not given, the action plugin takes the variable C(ump_checkpoint_store).
    type: str
    choices: [auto, local, persistent]
    default: auto
extends_documentation_fragment:
  - ump365.upgrade.attributes
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ump365.upgrade.plugins.module_utils import validation
from ansible_collections.ump365.upgrade.plugins.module_utils import checkpoint as ckpt


def main():
    module = AnsibleModule(
        argument_spec=ckpt.ARGUMENT_SPEC,
        required_if=ckpt.REQUIRED_IF,
        supports_check_mode=True,
    )
    validation.check_module(module)
    result = ckpt.apply(module.params, check_mode=module.check_mode)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
