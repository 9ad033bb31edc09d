#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ump_task
short_description: Wait for a UMP-365 background task to finish
version_added: "0.1.0"
description:
  - Reads a UMP task with C(GET /api/v2/task/{id}) and, with O(wait=true), polls it until its status is
    C(CompletedSuccess) or C(Failed), or O(timeout) passes.
  - Fails when the task ends C(Failed) (with the task's message) or is still running at the timeout.
  - It only reads the task; it never changes anything and always reports C(changed=false).
options:
  task_id:
    description: The task id, as returned by the API call that started the task.
    type: str
    required: true
  wait:
    description: Poll until the task finishes. With V(false) the task is read once and returned as it is.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the task to finish.
    type: float
    default: 1800
  poll_interval:
    description: Seconds between two reads of the task.
    type: float
    default: 10
extends_documentation_fragment:
  - ump365.upgrade.ump_api
  - ump365.upgrade.rest
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_ump_api
attributes:
  check_mode:
    support: full
    description: Reads only, so it waits the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is no diff.
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Wait for the dial-plan update to reach the SBC
  ump365.upgrade.ump_task:
    api_url: "{{ ump_api_url }}"
    tenant_id: "{{ ump_api_tenant_id }}"
    client_id: "{{ ump_api_client_id }}"
    client_secret: "{{ ump_api_client_secret }}"
    scope: "{{ ump_api_scope }}"
    ca_bundle: "{{ ump_ca_bundle | default(omit) }}"
    task_id: "{{ dial_plan_change.task_id }}"
    wait_timeout: 900
  delegate_to: localhost
"""

RETURN = r"""
insecure_http:
  description: True when the URL was plain C(http://) and O(allow_insecure_http) let it through (the run report shows it).
  returned: when O(allow_insecure_http) was used with an C(http://) URL
  type: bool
  sample: true
insecure_url:
  description: The C(http://) URL used.
  returned: when RV(insecure_http) is returned
  type: str
  sample: http://sbc01.example.com
task:
  description: The task as the API returned it last.
  returned: always
  type: dict
  sample: {id: 1002, kind: DialPlanUpdate, status: CompletedSuccess, message: Completed}
status:
  description: The task's last status, C(In Progress), C(CompletedSuccess) or C(Failed).
  returned: always
  type: str
  sample: CompletedSuccess
history:
  description: Each status the task was seen in, with the seconds since the wait began.
  returned: always
  type: list
  elements: dict
  sample: [{status: In Progress, elapsed: 0.0}, {status: CompletedSuccess, elapsed: 20.1}]
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 20.1
retries:
  description: Requests that were retried (status, error, delay), for the run report.
  returned: always
  type: list
  elements: dict
  sample: []
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ump365.upgrade.plugins.module_utils import validation
from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.http import insecure_result, require_requests
from ansible_collections.ump365.upgrade.plugins.module_utils.ump_api import client_from_params, ump_api_argument_spec


def main():
    spec = ump_api_argument_spec()
    spec.update(
        task_id=dict(type="str", required=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="float", default=1800),
        poll_interval=dict(type="float", default=10),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    validation.check_module(module)
    require_requests(module)
    p = module.params
    for name in ("wait_timeout", "poll_interval"):
        if p[name] < 0:
            errors.fail_module(
                module, errors.ValidationError("%s must be >= 0, got %r" % (name, p[name]), operation="configure")
            )
    client = None
    start = time.monotonic()
    try:
        client = client_from_params(p)
        if p["wait"]:
            task, history = client.wait_task(p["task_id"], timeout=p["wait_timeout"], interval=p["poll_interval"])
        else:
            task = client.task(p["task_id"])
            history = [{"status": task.get("status"), "elapsed": 0.0}]
    except errors.UmpError as e:
        extra = {"retries": client.retries_seen if client else []}
        if "task" in e.details:
            extra["task"] = e.details["task"]
            extra["status"] = e.details["task"].get("status")
            extra["history"] = e.details.get("history", [])
        errors.fail_module(module, e, **extra)
    module.exit_json(
        changed=False,
        task=task,
        status=task.get("status"),
        history=history,
        elapsed=round(time.monotonic() - start, 3),
        retries=client.retries_seen,
        **insecure_result(client),
    )


if __name__ == "__main__":
    main()
