# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client of the OVOC (One Voice Operations Center) REST API, HTTP Basic auth.

``GET /ovoc/v1/topology/devices?detail=1&filter=(ipAddress='<ip>')`` (facts/ump_sbc_ovoc.md). The
field names of the answer are not public: the list key (default ``devices``), the device status
field (default ``status``) and the UMP management status path (default
``applicationsStatus.management.managementStatus``, as the AudioCodes Live API shows it) are options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.http import HttpClient, require_list

try:
    from requests.auth import HTTPBasicAuth
except ImportError:  # pragma: no cover
    HTTPBasicAuth = None

DEVICES_PATH = "/ovoc/v1/topology/devices"
DEVICES_KEY = "devices"
STATUS_FIELD = "status"
MANAGEMENT_STATUS_PATH = "applicationsStatus.management.managementStatus"


def dig(obj, path):
    """The value at a dotted ``path`` in nested dicts, or None."""
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


class OvocClient(HttpClient):
    system = "ovoc"

    def __init__(self, base_url, username, password, devices_path=DEVICES_PATH, devices_key=DEVICES_KEY, **kw):
        if not username or not password:
            raise errors.ValidationError(
                "the OVOC username and password are required",
                system=self.system,
                operation="configure",
                remedy="set ump_ovoc_username and ump_ovoc_password",
            )
        auth = HTTPBasicAuth(username, password) if HTTPBasicAuth is not None else None
        super(OvocClient, self).__init__(base_url, auth=auth, **kw)
        self.username = username
        self.add_secret(password)
        self.devices_path = devices_path
        self.devices_key = devices_key

    def error_for(self, resp, method, path, operation, resource):
        err = super(OvocClient, self).error_for(resp, method, path, operation, resource)
        if resp.status == 401:
            err.remedy = "check ump_ovoc_username and ump_ovoc_password (an OVOC operator allowed to use the REST API)"
        elif resp.status == 403:
            err.remedy = "give the OVOC operator %r a role that may read the topology" % self.username
        return err

    def devices_by_ip(self, ip):
        try:
            ip = str(ipaddress.ip_address(str(ip).strip()))
        except ValueError:
            raise errors.ValidationError(
                "%r is not an IP address" % (ip,), system=self.system, operation="find device", remedy="set ump_ovoc_ip"
            )
        resp = self.request(
            "GET",
            self.devices_path,
            params={"detail": "1", "filter": "(ipAddress='%s')" % ip},
            operation="find device",
            resource="device %s" % ip,
            expect=(200, 204),
        )
        if resp.status == 204:
            return []
        devices = require_list(
            resp.body,
            self.system,
            "find device",
            resp.endpoint,
            keys=(self.devices_key,),
            item_fields={"id": (int, str), "ipAddress": (str, None)},
        )
        # a server that ignores the filter must not make us report another device
        return [d for d in devices if not isinstance(d, dict) or d.get("ipAddress") in (None, ip)]


def summarise(device, status_field=STATUS_FIELD, management_path=MANAGEMENT_STATUS_PATH):
    return {
        "id": device.get("id"),
        "name": device.get("name"),
        "ip_address": device.get("ipAddress"),
        "product_type": device.get("productType"),
        "status": dig(device, status_field),
        "management_status": dig(device, management_path),
    }


def ovoc_argument_spec():
    from ansible_collections.ump365.upgrade.plugins.module_utils.http import rest_argument_spec

    spec = dict(
        ovoc_url=dict(type="str", required=True),
        ovoc_username=dict(type="str", required=True),
        ovoc_password=dict(type="str", required=True, no_log=True),
    )
    spec.update(rest_argument_spec())
    return spec


def client_from_params(params, **extra):
    from ansible_collections.ump365.upgrade.plugins.module_utils.http import rest_client_kwargs

    kw = rest_client_kwargs(params)
    kw.update(extra)
    return OvocClient(params["ovoc_url"], params["ovoc_username"], params["ovoc_password"], **kw)
