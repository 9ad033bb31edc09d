#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: win_services_state
short_description: Stop or start Windows services, waiting on the host for each within a timeout
version_added: "0.1.0"
description:
  - Brings every service in O(names) to O(state), in one WinRM command whose waits run on the host
    (O(method=batch), each service within O(timeout) seconds), or with M(ansible.windows.win_service) per
    service (O(method=each)).
  - Returns, per service, the state it reached, how long it took, and the error; it does not fail when a
    service does not reach the state, so the caller can report every service and decide.
  - This is an action plugin; the decisions and the timing run on the controller.
options:
  names:
    description: The services, by service name.
    type: list
    elements: str
    required: true
  state:
    description: The state each service should reach.
    type: str
    required: true
    choices: [stopped, started]
  timeout:
    description:
      - Seconds to wait for each service, on the host (O(method=batch)); the controller sets no alarm of its
        own, so the task's C(timeout) keyword stays in force.
    type: int
    default: 60
  force_dependent_services:
    description: With O(state=stopped), also stop services that depend on it.
    type: bool
    default: false
  method:
    description:
      - C(each) runs M(ansible.windows.win_service) per service (one WinRM command each, a time per service).
        win_service waits for as long as the service takes, so O(timeout) does not apply; bound the task with
        its C(timeout) keyword.
      - C(batch) runs one script through M(ansible.windows.win_shell) (one WinRM command in all, no time per
        service) that asks for every change (C(Stop-Service -NoWait) or C(ServiceController.Start())) and
        then waits on the host for each service with C(ServiceController.WaitForStatus(state, timeout)), so
        each service has O(timeout) seconds. A service named in an error record is reported failed (with
        C(timed_out) when its wait ran out), the others as having reached O(state).
    type: str
    choices: [each, batch]
    default: each
extends_documentation_fragment:
  - ump365.upgrade.attributes
attributes:
  check_mode:
    support: full
    description: Passes check mode to M(ansible.windows.win_service), which then changes nothing.
  diff_mode:
    support: none
    description: No diff; the per-service results show before and after.
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Stop the UMP services, 120 s each at most
  ump365.upgrade.win_services_state:
    names: [SysAdmin.TenantSvc, SysAdmin.PeeringSvc, w3svc]
    state: stopped
    timeout: 120
  register: stopped
"""

RETURN = r"""
results:
  description: One entry per service, in the order of O(names).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The service.
      type: str
      sample: SysAdmin.TenantSvc
    requested:
      description: The state asked for.
      type: str
      sample: stopped
    state:
      description: The state win_service reported afterwards (None on a timeout or error).
      type: str
      sample: stopped
    changed:
      description: Whether win_service changed the service.
      type: bool
    failed:
      description: Whether the service did not reach the state (error or timeout).
      type: bool
    timed_out:
      description: Whether the timeout ran out.
      type: bool
    seconds:
      description: Seconds the call took (None with O(method=batch)).
      type: float
      sample: 2.4
    batch_seconds:
      description: Seconds the whole batch took (only with O(method=batch)).
      type: float
      sample: 6.1
    msg:
      description: The error, when it failed.
      type: str
failed_services:
  description: Names of the services that did not reach the state.
  returned: always
  type: list
  elements: str
retries:
  description:
    - One entry per service whose command lost the WinRM connection (C(code=connection_lost)); the command may
      have run on the host, so the caller reads the services again to judge. Shown as retries in the run report.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ump365.upgrade.plugins.module_utils import validation
from ansible_collections.ump365.upgrade.plugins.module_utils import action_specs


def main():
    module = AnsibleModule(
        argument_spec=action_specs.WIN_SERVICES_STATE,
        supports_check_mode=True,
    )
    validation.check_module(module)
    module.fail_json(msg="ump365.upgrade.win_services_state runs on the controller as an action plugin only")


if __name__ == "__main__":
    main()
