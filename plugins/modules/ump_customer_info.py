#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ump_customer_info
short_description: Read the customers of a UMP-365 server through its tenantui REST API
version_added: "0.1.0"
description:
  - Lists the customers (tenants) of one UMP-365 SP Edition server with C(GET /api/v3/customer), or reads one
    customer with C(GET /api/v3/customer/{guid}).
  - Optionally reads each site location with C(GET /api/v2/sitelocation/{id}) (SBC and Microsoft 365 deployment
    states) and each of its dial plans, and lints the dial-plan prefixes against the upgrade guide's UMP rule.
  - This is an info module; it changes nothing and always reports C(changed=false).
options:
  customer:
    description:
      - One customer, by C(UmpCustomerGuid) or C(CustomerShortName) (case-insensitive). Omit for all customers.
    type: str
  details:
    description:
      - Read each customer's details (application client id, secret expiry, site locations, version).
      - Implied by O(customer), O(site_locations) and O(dial_plans).
    type: bool
    default: false
  site_locations:
    description: Read each site location of each customer from the v2 API (implies O(details)).
    type: bool
    default: false
  dial_plans:
    description:
      - Read the dial plans of each site location and lint their prefixes (implies O(site_locations)).
    type: bool
    default: false
  prefix_syntax:
    description:
      - Which rule the dial-plan prefixes are linted against with O(dial_plans=true); see the
        P(ump365.upgrade.prefix_lint#filter) filter.
    type: str
    choices: [ump, sbc, both]
    default: ump
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
- name: All customers of this UMP server, with site locations and dial plans
  ump365.upgrade.ump_customer_info:
    api_url: "{{ ump_api_url }}"
    tenant_id: "{{ ump_api_tenant_id }}"
    client_id: "{{ ump_api_client_id }}"
    client_secret: "{{ ump_api_client_secret }}"
    scope: "{{ ump_api_scope }}"
    authority: "{{ ump_api_authority | default(omit) }}"
    ca_bundle: "{{ ump_ca_bundle | default(omit) }}"
    dial_plans: true
  delegate_to: localhost
  register: ump_customers

- name: Every site location is Deployed
  ansible.builtin.assert:
    that: item.sbcDeploymentStateName == 'Deployed'
    fail_msg: "{{ item.name }}: SBC deployment state {{ item.sbcDeploymentStateName }}"
  loop: "{{ ump_customers.customers | map(attribute='site_locations') | flatten }}"
  loop_control:
    label: "{{ item.name }}"
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
customers:
  description:
    - The customers as the API returns them; with O(details) (or O(customer)) the details object.
    - With O(site_locations) each has C(site_locations), the v2 objects plus C(sbcDeploymentStateName) and
      C(m365DeploymentStateName) (C(3) = C(Deployed)).
    - With O(dial_plans) each site location has C(dial_plans), each with C(rules) and C(prefix_findings).
  returned: always
  type: list
  elements: dict
  sample:
    - UmpCustomerGuid: 27c62ee4-c77d-69f9-3e55-bac6cd5e4a16
      CustomerShortName: adatum01
      LicenseType: Hosted Pro
      MsTenantId: d7b8484c-eb1f-edb9-2f52-8581b84982f7
      ActiveUserCount: 32
      State: Deployed
count:
  description: Number of customers returned.
  returned: always
  type: int
  sample: 4
prefix_findings:
  description: Every dial-plan prefix finding of every customer, each with C(customer), C(site_location) and C(dial_plan).
  returned: always
  type: list
  elements: dict
  sample: []
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
from ansible_collections.ump365.upgrade.plugins.module_utils import prefix as prefix_lint
from ansible_collections.ump365.upgrade.plugins.module_utils.http import insecure_result, require_requests
from ansible_collections.ump365.upgrade.plugins.module_utils.ump_api import client_from_params, ump_api_argument_spec


def find_customer(client, wanted):
    listed = client.customers()
    w = wanted.strip().lower()
    for c in listed:
        if str(c.get("UmpCustomerGuid", "")).lower() == w or str(c.get("CustomerShortName", "")).lower() == w:
            return c
    raise errors.NotFoundError(
        "customer %r is not on this UMP server (it has: %s)"
        % (wanted, ", ".join(sorted(str(c.get("CustomerShortName")) for c in listed)) or "no customers"),
        system="ump_api",
        operation="find customer",
        resource=client.base_url,
        remedy="use a UmpCustomerGuid or CustomerShortName from the list",
    )


def main():
    spec = ump_api_argument_spec()
    spec.update(
        customer=dict(type="str"),
        details=dict(type="bool", default=False),
        site_locations=dict(type="bool", default=False),
        dial_plans=dict(type="bool", default=False),
        prefix_syntax=dict(type="str", default="ump", choices=["ump", "sbc", "both"]),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    validation.check_module(module)
    require_requests(module)
    p = module.params
    want_dial_plans = p["dial_plans"]
    want_sites = p["site_locations"] or want_dial_plans
    want_details = p["details"] or want_sites or bool(p["customer"])
    client = None
    findings = []
    try:
        client = client_from_params(p)
        customers = [find_customer(client, p["customer"])] if p["customer"] else client.customers()
        out = []
        for c in customers:
            if want_details:
                c = client.customer(c["UmpCustomerGuid"])
            if want_sites:
                sites = []
                for s in c.get("SiteLocation") or []:
                    site = client.site_location(s["id"])
                    if want_dial_plans:
                        plans = []
                        for dp in site.get("dialPlans") or []:
                            plan = client.dial_plan(c["UmpCustomerGuid"], site["id"], dp["id"])
                            rules = plan.get("rules") or []
                            plan_findings = prefix_lint.lint_many([r.get("prefix") for r in rules], p["prefix_syntax"])
                            for f in plan_findings:
                                f["customer"] = c.get("CustomerShortName")
                                f["site_location"] = site.get("name")
                                f["dial_plan"] = plan.get("name")
                                f["rule_name"] = rules[f["item"]].get("name")
                            plan["prefix_findings"] = plan_findings
                            findings.extend(plan_findings)
                            plans.append(plan)
                        site["dial_plans"] = plans
                    sites.append(site)
                c = dict(c)
                c["site_locations"] = sites
            out.append(c)
    except errors.UmpError as e:
        errors.fail_module(module, e, retries=client.retries_seen if client else [])
    module.exit_json(
        changed=False,
        customers=out,
        count=len(out),
        prefix_findings=findings,
        retries=client.retries_seen,
        **insecure_result(client),
    )


if __name__ == "__main__":
    main()
