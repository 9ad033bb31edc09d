# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The AudioCodes Mediant SBC REST API v1, HTTP Basic auth (module_utils/sbc_api.py).
    DOCUMENTATION = r"""
options:
  sbc_url:
    description:
      - Base URL of the SBC's web interface, C(https://<SBC address>); the module adds C(/api/v1/...).
      - Inventory variable C(ump_sbc_url).
    type: str
    required: true
  sbc_username:
    description:
      - SBC user for the REST API (Basic auth). Reading needs Monitor level or above.
      - Inventory variable C(ump_sbc_username).
    type: str
    required: true
  sbc_password:
    description:
      - Password of O(sbc_username). Never logged or returned.
      - Inventory variable C(ump_sbc_password).
    type: str
    required: true
"""
