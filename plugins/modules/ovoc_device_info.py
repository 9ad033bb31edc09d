#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ovoc_device_info
short_description: Find a device in OVOC by IP address, with its status and UMP management status
version_added: "0.1.0"
description:
  - Looks the device up with C(GET /ovoc/v1/topology/devices?detail=1&filter=(ipAddress='<ip>')).
  - The upgrade guide's post-upgrade check needs the UMP device to exist and be C(Active), and its
    "UMP Management" status to be C(Connected); this module returns both and does not judge them.
  - The answer's field names are not public; O(devices_key), O(status_field) and O(management_status_path) name
    them (defaults from the AudioCodes Live API, docs/assumptions.md).
  - A device that is not found is not an error; RV(exists) is V(false).
  - This is an info module; it changes nothing and always reports C(changed=false).
options:
  device_ip:
    description:
      - The device's IP address as OVOC knows it, normally the UMP server's IP (inventory variable C(ump_ip)).
    type: str
    required: true
  devices_path:
    description: The devices endpoint, relative to O(ovoc_url).
    type: str
    default: /ovoc/v1/topology/devices
  devices_key:
    description: The name of the list of devices in the answer.
    type: str
    default: devices
  status_field:
    description: Dotted path of the device status in a device object.
    type: str
    default: status
  management_status_path:
    description: Dotted path of the UMP management status in a device object.
    type: str
    default: applicationsStatus.management.managementStatus
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
- name: Find the UMP server in OVOC
  ump365.upgrade.ovoc_device_info:
    ovoc_url: "{{ ump_ovoc_url }}"
    ovoc_username: "{{ ump_ovoc_username }}"
    ovoc_password: "{{ ump_ovoc_password }}"
    ca_bundle: "{{ ump_ca_bundle | default(omit) }}"
    device_ip: "{{ ump_ip }}"
  delegate_to: localhost
  register: ovoc

- name: The UMP device is Active and its UMP Management is Connected
  ansible.builtin.assert:
    that:
      - ovoc.exists
      - ovoc.status == 'Active'
      - ovoc.management_status == 'Connected'
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
exists:
  description: Whether OVOC has a device with that IP address.
  returned: always
  type: bool
  sample: true
status:
  description: The device status (for example C(Active) or C(Error)); null when the device is missing.
  returned: always
  type: str
  sample: Active
management_status:
  description: The UMP management status (for example C(Connected) or C(Disconnected)); null when missing.
  returned: always
  type: str
  sample: Connected
device:
  description: C(id), C(name), C(ip_address), C(product_type), C(status) and C(management_status) of the device.
  returned: always
  type: dict
  sample: {id: 1, name: UMP01, ip_address: 10.201.80.11, product_type: UMP, status: Active, management_status: Connected}
devices:
  description: Every matching device as OVOC returned it.
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
from ansible_collections.ump365.upgrade.plugins.module_utils.http import insecure_result, require_requests
from ansible_collections.ump365.upgrade.plugins.module_utils.ovoc_api import (
    client_from_params,
    ovoc_argument_spec,
    summarise,
)


def main():
    spec = ovoc_argument_spec()
    spec.update(
        device_ip=dict(type="str", required=True),
        devices_path=dict(type="str", default="/ovoc/v1/topology/devices"),
        devices_key=dict(type="str", default="devices", no_log=False),
        status_field=dict(type="str", default="status"),
        management_status_path=dict(type="str", default="applicationsStatus.management.managementStatus"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    validation.check_module(module)
    require_requests(module)
    p = module.params
    client = None
    try:
        client = client_from_params(p, devices_path=p["devices_path"], devices_key=p["devices_key"])
        devices = client.devices_by_ip(p["device_ip"])
    except errors.UmpError as e:
        errors.fail_module(module, e, retries=client.retries_seen if client else [])
    device = summarise(devices[0], p["status_field"], p["management_status_path"]) if devices else {}
    module.exit_json(
        changed=False,
        exists=bool(devices),
        status=device.get("status"),
        management_status=device.get("management_status"),
        device=device,
        devices=devices,
        retries=client.retries_seen,
        **insecure_result(client),
    )


if __name__ == "__main__":
    main()
