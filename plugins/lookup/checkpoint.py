# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: checkpoint
short_description: Read hosts' upgrade checkpoints on the controller
version_added: "0.1.0"
author:
  - ump365.upgrade developers (@ump365)
description:
  - Returns, for each host named in the terms, the checkpoint that M(ump365.upgrade.checkpoint) keeps for it
    and O(run_id) in O(dir) (C(phases) empty when there is none), without running a module.
  - A lookup, because it reads files on the controller (a filter transforms data and reads nothing).
  - Only reads; record phases with M(ump365.upgrade.checkpoint).
options:
  _terms:
    description: The hosts.
    type: list
    elements: str
    required: true
  dir:
    description: The checkpoint directory.
    type: path
    required: true
  run_id:
    description: The run id (the target version).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The phases recorded for this host
  ansible.builtin.debug:
    msg: "{{ lookup('ump365.upgrade.checkpoint', inventory_hostname, dir=ump_checkpoint_dir, run_id='8.0.515') }}"
"""

RETURN = r"""
_raw:
  description: One checkpoint per host (C(host), C(run_id), C(phases), C(created)).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.ump365.upgrade.plugins.module_utils import checkpoint as ckpt


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        directory, run_id = self.get_option("dir"), self.get_option("run_id")
        out = []
        for host in terms:
            try:
                out.append(ckpt.load(directory, str(host), run_id))
            except ValueError as e:
                raise AnsibleLookupError(str(e))
        return out
