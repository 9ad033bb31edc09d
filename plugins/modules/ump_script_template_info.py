#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ump_script_template_info
short_description: Read the scenario script templates of a UMP-365 server
version_added: "0.1.0"
description:
  - Reads the SBC scenario script templates (the portal's Scenario Scripts Templates page), so the post-upgrade
    check can compare them with their copy from before the upgrade (the guide's "Updating Scripts").
  - The UMP API has script templates, but their endpoint and shape are not public; O(path) names the endpoint
    (default the lab's, docs/assumptions.md). The answer is a list, or an object wrapping it in
    C(ScriptTemplates), C(value) or C(items).
  - This is an info module; it changes nothing and always reports C(changed=false).
options:
  path:
    description: The script templates endpoint, relative to O(api_url).
    type: str
    default: /api/v3/scripttemplates
extends_documentation_fragment:
  - ump365.upgrade.ump_api
  - ump365.upgrade.rest
  - ump365.upgrade.attributes.info_module
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_ump_api
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Read the script templates
  ump365.upgrade.ump_script_template_info:
    api_url: "{{ ump_api_url }}"
    tenant_id: "{{ ump_api_tenant_id }}"
    client_id: "{{ ump_api_client_id }}"
    client_secret: "{{ ump_api_client_secret }}"
    scope: "{{ ump_api_scope }}"
  delegate_to: localhost
  register: templates
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
templates:
  description: The templates, each with C(id), C(name), C(kind), C(version) and C(body) (the script text).
  returned: always
  type: list
  elements: dict
  sample: [{id: 1, name: Teams Direct Routing, kind: SBC, version: 8.0.400.64, body: "configure voip\n..."}]
retries:
  description: Requests that were retried (status, error, delay), for the run report.
  returned: always
  type: list
  elements: dict
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ump365.upgrade.plugins.module_utils import validation
from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.http import insecure_result, require_requests
from ansible_collections.ump365.upgrade.plugins.module_utils.ump_api import client_from_params, ump_api_argument_spec


def normalise(body):
    if isinstance(body, dict):
        for key in ("ScriptTemplates", "scriptTemplates", "value", "items"):
            if isinstance(body.get(key), list):
                body = body[key]
                break
    if not isinstance(body, list):
        raise errors.RemoteError(
            "the script templates answer is a %s, expected a list" % type(body).__name__,
            system="ump_api",
            operation="read script templates",
            remedy="point path at your UMP version's script templates endpoint",
        )
    out = []
    for t in body:
        if not isinstance(t, dict):
            continue

        def get(*keys, t=t):
            return next((t[k] for k in keys if k in t), None)

        out.append(
            {
                "id": get("Id", "id"),
                "name": get("Name", "name"),
                "kind": get("Kind", "kind", "Type"),
                "version": get("Version", "version"),
                "body": get("Body", "body", "Script", "script"),
            }
        )
    return out


def main():
    spec = ump_api_argument_spec()
    spec.update(path=dict(type="str", default="/api/v3/scripttemplates"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    validation.check_module(module, {"path": "api_path"})
    require_requests(module)
    if not module.params["path"].startswith("/"):
        errors.fail_module(
            module,
            errors.ValidationError(
                "path=%r must start with '/'" % module.params["path"], system="ump_api", operation="configure"
            ),
        )
    client = None
    try:
        client = client_from_params(module.params)
        templates = normalise(client.get(module.params["path"], "read script templates"))
    except errors.UmpError as e:
        errors.fail_module(module, e, retries=client.retries_seen if client else [])
    module.exit_json(changed=False, templates=templates, retries=client.retries_seen, **insecure_result(client))


if __name__ == "__main__":
    main()
