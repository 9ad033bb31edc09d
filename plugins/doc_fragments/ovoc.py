# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The OVOC REST API, HTTP Basic auth (module_utils/ovoc_api.py).
    DOCUMENTATION = r"""
options:
  ovoc_url:
    description:
      - Base URL of the OVOC server, C(https://<OVOC address>); the module adds C(/ovoc/v1/...).
      - Inventory variable C(ump_ovoc_url).
    type: str
    required: true
  ovoc_username:
    description:
      - OVOC operator for the REST API (Basic auth).
      - Inventory variable C(ump_ovoc_username).
    type: str
    required: true
  ovoc_password:
    description:
      - Password of O(ovoc_username). Never logged or returned.
      - Inventory variable C(ump_ovoc_password).
    type: str
    required: true
"""
