#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sbc_info
short_description: Read an AudioCodes SBC's status, active alarms, dial-plan rules and licence
version_added: "0.1.0"
description:
  - Reads an AudioCodes Mediant SBC over its REST API v1 with HTTP Basic auth.
  - C(status) - C(GET /api/v1/status) (C(versionID), C(operationalState), C(highAvailability), ...).
  - C(alarms) - every active alarm, following the C(GET /api/v1/alarms/active) cursor page by page (no alarms
    is a 204 answer and an empty list).
  - C(dial_plan_rules) - the rows of the C([ DialPlanRule ]) table of the INI file (C(GET /api/v1/files/ini));
    the SBC has no JSON endpoint for them. Their prefixes are linted (see O(prefix_syntax)).
  - C(numbers) - the numbers in one column of one INI table (O(numbers_table), O(numbers_column); by default
    the C(Prefix) column of C([ DialPlanRule ])), one entry per C(;)-separated value. Where an SBC keeps
    per-user numbers is not public; a table or column the INI does not have fails naming the tables or
    columns it has (never an empty list).
  - C(number_tables) - which INI table columns hold the numbers given in O(locate_numbers) (counts only, never
    a value; an INI may hold passwords); for discovering O(numbers_table) and O(numbers_column).
  - C(license) - C(GET /api/v1/license).
  - A 409 answer (HA synchronisation in progress) is retried; 401 and 403/405 fail with what to fix.
  - This is an info module; it changes nothing and always reports C(changed=false).
options:
  gather:
    description: What to read.
    type: list
    elements: str
    choices: [status, alarms, dial_plan_rules, numbers, number_tables, license]
    default: [status, alarms, dial_plan_rules]
  locate_numbers:
    description: Numbers (for example users' DIDs) to look for in every INI table column with C(number_tables).
    type: list
    elements: str
    default: []
  numbers_table:
    description: The INI table whose O(numbers_column) holds the numbers read with C(numbers) (without brackets).
    type: str
    default: DialPlanRule
  numbers_column:
    description: The column of O(numbers_table) holding the numbers, without the C(<Table>_) prefix.
    type: str
    default: Prefix
  alarm_page_size:
    description: Alarms per page (the C(limit) parameter); the SBC may return fewer.
    type: int
    default: 20
  alarm_details:
    description: Read each alarm's details (C(severity), C(source), C(date)) with C(GET /api/v1/alarms/active/{id}).
    type: bool
    default: false
  prefix_syntax:
    description:
      - The rule the dial-plan prefixes are linted against; V(both) applies the SBC's syntax and the upgrade
        guide's stricter UMP rule (for customers with a Hosted Essentials licence), V(none) skips the lint.
    type: str
    choices: [ump, sbc, both, none]
    default: both
extends_documentation_fragment:
  - ump365.upgrade.sbc
  - ump365.upgrade.rest
  - ump365.upgrade.attributes.info_module
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_sbc
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Read the customer's SBC
  ump365.upgrade.sbc_info:
    sbc_url: "{{ ump_sbc_url }}"
    sbc_username: "{{ ump_sbc_username }}"
    sbc_password: "{{ ump_sbc_password }}"
    ca_bundle: "{{ ump_ca_bundle | default(omit) }}"
  delegate_to: localhost
  register: sbc

- name: Dial-plan prefixes follow the UMP syntax rules
  ansible.builtin.assert:
    that: sbc.prefix_findings | selectattr('rule', 'equalto', 'ump') | list | length == 0
    fail_msg: "{{ sbc.prefix_findings | map(attribute='why') | list }}"
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
status:
  description: The SBC's status object.
  returned: when C(status) is gathered
  type: dict
  sample: {versionID: 7.40A.500.775, operationalState: UNLOCKED, highAvailability: Not Operational}
alarms:
  description: The active alarms (C(id), C(description), C(url); with O(alarm_details) also C(severity),
    C(source) and C(date)).
  returned: when C(alarms) is gathered
  type: list
  elements: dict
  sample: [{id: "1", description: "Proxy lost", url: /api/v1/alarms/active/1}]
alarm_pages:
  description: How many pages were read to get every alarm.
  returned: when C(alarms) is gathered
  type: int
  sample: 1
dial_plan_rules:
  description: The INI's DialPlanRule rows (C(Index), C(DialPlanName), C(Name), C(Prefix), C(Tag)).
  returned: when C(dial_plan_rules) is gathered
  type: list
  elements: dict
  sample: [{Index: 0, DialPlanName: contoso-dp, Name: rule1, Prefix: "+4455896552", Tag: TEAMS}]
prefix_findings:
  description:
    - Prefix problems, each with C(entry), C(position), C(why), C(rule) (C(ump) or C(sbc)), C(code) and the
      dial-plan rule's C(dial_plan) and C(rule_name).
  returned: when C(dial_plan_rules) is gathered
  type: list
  elements: dict
  sample: [{entry: "+44x", position: 3, rule: ump, code: notation, why: "notation 'x' is not allowed in UMP prefixes"}]
numbers:
  description:
    - The values of O(numbers_column) in O(numbers_table), one per C(;)-separated entry, each with C(table),
      C(index) (the row's key), C(value) and, for dial-plan rules, C(dial_plan).
  returned: when C(numbers) is gathered
  type: list
  elements: dict
  sample: [{table: DialPlanRule, index: 1, value: "+44587996[01-20]", dial_plan: contoso-dp}]
number_tables:
  description: The INI table columns holding at least one of O(locate_numbers), most matched first.
  returned: when C(number_tables) is gathered
  type: list
  elements: dict
  sample: [{table: DialPlanRule, column: Prefix, matched: 5, rows: 2}]
license:
  description: The SBC's licence object.
  returned: when C(license) is gathered
  type: dict
  sample: {FeatureKey: "SBC-Sessions=100"}
retries:
  description: Requests that were retried (status, error, delay), for the run report.
  returned: always
  type: list
  elements: dict
  sample: []
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ump365.upgrade.plugins.module_utils import validation
from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils import prefix as prefix_lint
from ansible_collections.ump365.upgrade.plugins.module_utils.http import insecure_result, require_requests
from ansible_collections.ump365.upgrade.plugins.module_utils.sbc_api import (
    client_from_params,
    ini_table,
    sbc_argument_spec,
)

INI_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def main():
    spec = sbc_argument_spec()
    spec.update(
        gather=dict(
            type="list",
            elements="str",
            choices=["status", "alarms", "dial_plan_rules", "numbers", "number_tables", "license"],
            default=["status", "alarms", "dial_plan_rules"],
        ),
        numbers_table=dict(type="str", default="DialPlanRule"),
        numbers_column=dict(type="str", default="Prefix"),
        locate_numbers=dict(type="list", elements="str", default=[]),
        alarm_page_size=dict(type="int", default=20),
        alarm_details=dict(type="bool", default=False),
        prefix_syntax=dict(type="str", default="both", choices=["ump", "sbc", "both", "none"]),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    validation.check_module(module)
    require_requests(module)
    p = module.params
    for opt in ("numbers_table", "numbers_column"):
        if not INI_NAME.match(p[opt] or ""):
            module.fail_json(msg="%s %r is not an INI table/column name (letters, digits, '_')" % (opt, p[opt]))
    client = None
    result = {}
    try:
        client = client_from_params(p)
        if "status" in p["gather"]:
            result["status"] = client.status()
        if "alarms" in p["gather"]:
            result["alarms"], result["alarm_pages"] = client.active_alarms(p["alarm_page_size"], p["alarm_details"])
        wants_ini = set(p["gather"]) & {"dial_plan_rules", "numbers", "number_tables"}
        ini_text = client.ini() if len(wants_ini) > 1 else None
        if "dial_plan_rules" in p["gather"]:
            rules = ini_table(ini_text, "DialPlanRule") if ini_text is not None else client.dial_plan_rules()
            findings = []
            if p["prefix_syntax"] != "none":
                findings = prefix_lint.lint_many([r.get("Prefix") for r in rules], p["prefix_syntax"])
                for f in findings:
                    f["dial_plan"] = rules[f["item"]].get("DialPlanName")
                    f["rule_name"] = rules[f["item"]].get("Name")
            result["dial_plan_rules"] = rules
            result["prefix_findings"] = findings
        if "numbers" in p["gather"]:
            result["numbers"] = client.numbers(p["numbers_table"], p["numbers_column"], ini_text=ini_text)
        if "number_tables" in p["gather"]:
            result["number_tables"] = client.locate_numbers(p["locate_numbers"], ini_text=ini_text)
        if "license" in p["gather"]:
            result["license"] = client.license()
    except errors.UmpError as e:
        errors.fail_module(module, e, retries=client.retries_seen if client else [])
    module.exit_json(changed=False, retries=client.retries_seen, **insecure_result(client), **result)


if __name__ == "__main__":
    main()
