#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ump_portal_info
short_description: Read the UMP-365 Multitenant portal data the upgrade guide checks
version_added: "0.1.0"
description:
  - Reads what the upgrade guide has the operator look up in the Multitenant portal, normalised to one shape.
  - C(versions) - the Tenants page, SysAdminKit and MultiTenant versions and each customer's version, state and
    last replication.
  - C(replication_queue) - the replication actions queue, "Open Commands, Executing, Queued" and the open commands.
  - C(authentication_status) - Security > Authentication Status, the synchronisation app's client id, whether a
    secret is set, the redirect URL, and per customer the M365 e-mail, method (Password or Token), last
    verification and its status.
  - C(invitations) - the Customer Invitations page.
  - C(sbcs) - the SBC List page.
  - C(invitation_settings) - System > Invitation Settings, the Customer Authentication Portal URL.
  - C(licence) - System > License, the licences and whether a valid one is missing.
  - This data has no public API. With O(source=api) it is read from the endpoints in O(portal_paths), whose
    defaults are the lab's assumption (docs/assumptions.md); point them at your UMP version's endpoints.
  - This is an info module; it changes nothing and always reports C(changed=false).
options:
  sections:
    description: The portal sections to read.
    type: list
    elements: str
    choices: [authentication_status, invitation_settings, invitations, licence, replication_queue, sbcs, versions]
    default: [authentication_status, invitation_settings, invitations, licence, replication_queue, sbcs, versions]
  source:
    description:
      - Where the portal data comes from. V(api) reads the UMP API endpoints in O(portal_paths).
      - Reading the SysAdminTenant database directly is planned as a second source.
    type: str
    choices: [api]
    default: api
  portal_paths:
    description:
      - Endpoint (relative to O(api_url)) per section, overriding the defaults
        C(versions=/api/v3/portal/versions), C(replication_queue=/api/v3/portal/replicationqueue),
        C(authentication_status=/api/v3/portal/authenticationstatus), C(invitations=/api/v3/portal/invitations),
        C(sbcs=/api/v3/portal/sbcs), C(invitation_settings=/api/v3/portal/invitationsettings),
        C(licence=/api/v2/license).
    type: dict
    default: {}
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
- name: The replication queue must be empty before the upgrade
  ump365.upgrade.ump_portal_info:
    api_url: "{{ ump_api_url }}"
    tenant_id: "{{ ump_api_tenant_id }}"
    client_id: "{{ ump_api_client_id }}"
    client_secret: "{{ ump_api_client_secret }}"
    scope: "{{ ump_api_scope }}"
    ca_bundle: "{{ ump_ca_bundle | default(omit) }}"
    sections: [replication_queue]
  delegate_to: localhost
  register: ump_portal
  until: ump_portal.portal.replication_queue.open_commands == 0
  retries: 20
  delay: 30

- name: Every customer is on the target version
  ansible.builtin.assert:
    that: ump_portal.portal.versions.customers | rejectattr('version', 'equalto', ump_target_version) | list | length == 0
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
portal:
  description: One key per requested section.
  returned: always
  type: dict
  contains:
    versions:
      description: C(sysadminkit_version), C(multitenant_version), C(available_users), C(available_customers) and
        C(customers) (C(guid), C(name), C(state), C(version), C(replication_time)).
      type: dict
      returned: when requested
    replication_queue:
      description: C(open_commands), C(executing), C(queued) and C(commands), the open commands.
      type: dict
      returned: when requested
    authentication_status:
      description: C(client_id), C(client_secret_configured), C(redirect_uri) and C(customers) (C(customer),
        C(m365_email), C(method), C(last_verified), C(last_status)). The secret itself is never returned.
      type: dict
      returned: when requested
    invitations:
      description: The customer invitations as the endpoint returns them.
      type: list
      returned: when requested
    sbcs:
      description: The SBC list as the endpoint returns it.
      type: list
      returned: when requested
    invitation_settings:
      description: C(portal_url), the Customer Authentication Portal URL.
      type: dict
      returned: when requested
    licence:
      description: C(licences), C(missing) (no valid licence) and C(multitenant_version).
      type: dict
      returned: when requested
  sample:
    replication_queue: {open_commands: 0, executing: 0, queued: 0, commands: []}
    invitation_settings: {portal_url: "https://ump01.example.com/authenticate"}
source:
  description: Where the data came from.
  returned: always
  type: str
  sample: api
endpoints:
  description: The endpoint read for each section.
  returned: always
  type: dict
  sample: {replication_queue: /api/v3/portal/replicationqueue}
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
from ansible_collections.ump365.upgrade.plugins.module_utils.ump_api import (
    PORTAL_PATHS,
    PORTAL_SECTIONS,
    client_from_params,
    ump_api_argument_spec,
)


def main():
    spec = ump_api_argument_spec()
    spec.update(
        sections=dict(type="list", elements="str", choices=list(PORTAL_SECTIONS), default=list(PORTAL_SECTIONS)),
        source=dict(type="str", default="api", choices=["api"]),
        portal_paths=dict(type="dict", default={}),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    validation.check_module(module)
    require_requests(module)
    p = module.params
    for key, value in p["portal_paths"].items():
        if key not in PORTAL_PATHS or not isinstance(value, str) or not value.startswith("/"):
            errors.fail_module(
                module,
                errors.ValidationError(
                    "portal_paths.%s=%r: the key must be one of %s and the value a path starting with '/'"
                    % (key, value, ", ".join(PORTAL_SECTIONS)),
                    system="ump_api",
                    operation="configure",
                ),
            )
    client = None
    portal = {}
    try:
        client = client_from_params(p)
        client.portal_paths.update(p["portal_paths"])
        for section in sorted(set(p["sections"])):
            portal[section] = client.portal(section)
    except errors.UmpError as e:
        errors.fail_module(module, e, retries=client.retries_seen if client else [])
    module.exit_json(
        changed=False,
        portal=portal,
        source=p["source"],
        endpoints={s: client.portal_paths[s] for s in portal},
        retries=client.retries_seen,
        **insecure_result(client),
    )


if __name__ == "__main__":
    main()
