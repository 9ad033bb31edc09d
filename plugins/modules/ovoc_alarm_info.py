#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ovoc_alarm_info
short_description: Read OVOC's active alarms on a device (the UMP server)
version_added: "0.1.0"
description:
  - Finds the device by IP address in OVOC's topology (as M(ump365.upgrade.ovoc_device_info) does) and reads its
    active alarms, for the post-upgrade check that no critical alarm is raised on the UMP device.
  - The alarms endpoint, its filter and field names are not public; O(alarms_path), O(alarms_filter),
    O(alarms_key) and O(severity_field) name them (defaults the lab's, docs/assumptions.md).
  - A device that is not found is not an error; RV(exists) is V(false) and RV(alarms) empty.
  - This is an info module; it changes nothing and always reports C(changed=false).
options:
  device_ip:
    description: The device's IP address as OVOC knows it, normally the UMP server's IP (C(ump_ip)).
    type: str
    required: true
  alarms_path:
    description: The active alarms endpoint, relative to O(ovoc_url).
    type: str
    default: /ovoc/v1/alarms/actives
  alarms_filter:
    description: The C(filter) query parameter; C({id}) is the device's OVOC id and C({ip}) its IP address.
    type: str
    default: (nodeId={id})
  alarms_key:
    description: The name of the list of alarms in the answer.
    type: str
    default: alarms
  severity_field:
    description: The severity field of an alarm (for example C(Critical), C(Major), C(Minor)).
    type: str
    default: severity
extends_documentation_fragment:
  - ump365.upgrade.ovoc
  - ump365.upgrade.rest
  - ump365.upgrade.attributes.info_module
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_ovoc
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Active alarms on the UMP device
  ump365.upgrade.ovoc_alarm_info:
    ovoc_url: "{{ ump_ovoc_url }}"
    ovoc_username: "{{ ump_ovoc_username }}"
    ovoc_password: "{{ ump_ovoc_password }}"
    device_ip: "{{ ump_ip }}"
  delegate_to: localhost
  register: alarms
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
  sample: http://ovoc.example.com
exists:
  description: Whether OVOC has a device with that IP address.
  returned: always
  type: bool
  sample: true
device:
  description: C(id), C(name) and C(ip_address) of the device; empty when it does not exist.
  returned: always
  type: dict
  sample: {id: 1, name: UMP01, ip_address: 10.201.80.11}
alarms:
  description: The active alarms, each with C(id), C(severity), C(name), C(description), C(source) and C(date).
  returned: always
  type: list
  elements: dict
  sample: [{id: 7, severity: Critical, name: UMP Management Disconnected, description: "...", source: UMP01, date: "2026-11-23T10:00:00Z"}]
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
from ansible_collections.ump365.upgrade.plugins.module_utils.http import insecure_result, require_list, require_requests
from ansible_collections.ump365.upgrade.plugins.module_utils.ovoc_api import client_from_params, ovoc_argument_spec


def normalise(alarm, severity_field):
    def get(*keys):
        return next((alarm[k] for k in keys if k in alarm), None)

    return {
        "id": get("id", "alarmId"),
        "severity": alarm.get(severity_field),
        "name": get("name", "alarmName"),
        "description": get("description", "textualDescription"),
        "source": get("source", "sourceName"),
        "date": get("date", "time", "raisedTime"),
    }


def main():
    spec = ovoc_argument_spec()
    spec.update(
        device_ip=dict(type="str", required=True),
        alarms_path=dict(type="str", default="/ovoc/v1/alarms/actives"),
        alarms_filter=dict(type="str", default="(nodeId={id})"),
        alarms_key=dict(type="str", default="alarms", no_log=False),
        severity_field=dict(type="str", default="severity"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    validation.check_module(module)
    require_requests(module)
    p = module.params
    if not p["alarms_path"].startswith("/"):
        errors.fail_module(
            module,
            errors.ValidationError(
                "alarms_path=%r must start with '/'" % p["alarms_path"], system="ovoc", operation="configure"
            ),
        )
    client = None
    try:
        client = client_from_params(p)
        devices = client.devices_by_ip(p["device_ip"])
        if not devices:
            module.exit_json(
                changed=False,
                exists=False,
                device={},
                alarms=[],
                retries=client.retries_seen,
                **insecure_result(client),
            )
        dev = devices[0]
        flt = p["alarms_filter"].replace("{id}", str(dev.get("id"))).replace("{ip}", str(p["device_ip"]))
        resp = client.request(
            "GET",
            p["alarms_path"],
            params={"filter": flt},
            operation="read active alarms",
            resource="device %s" % p["device_ip"],
            expect=(200, 204),
        )
        # 204: no active alarm; anything else must be the list (an HTML page or a wrong shape is an
        # error naming the endpoint, never "no alarms")
        raw = (
            []
            if resp.status == 204
            else require_list(
                resp.body,
                "ovoc",
                "read active alarms",
                resp.endpoint,
                keys=(p["alarms_key"],),
                item_fields={p["severity_field"]: (str, int, None)},
            )
        )
        alarms = [normalise(a, p["severity_field"]) for a in raw]
    except errors.UmpError as e:
        errors.fail_module(module, e, retries=client.retries_seen if client else [])
    module.exit_json(
        changed=False,
        exists=True,
        device={"id": dev.get("id"), "name": dev.get("name"), "ip_address": dev.get("ipAddress")},
        alarms=alarms,
        retries=client.retries_seen,
        **insecure_result(client),
    )


if __name__ == "__main__":
    main()
