# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Microsoft Graph as an application: the automation's service principal (client credentials).
    DOCUMENTATION = r"""
options:
  graph_url:
    description:
      - Base URL of Microsoft Graph (national clouds have their own).
    type: str
    default: https://graph.microsoft.com
  tenant:
    description:
      - The Entra ID tenant (directory) id or verified domain of the provider tenant that holds the app registrations.
    type: str
    required: true
  client_id:
    description:
      - Application (client) id of the automation's service principal. It needs the Microsoft Graph application
        permission C(Application.Read.All) with admin consent.
    type: str
    required: true
  secret:
    description:
      - Client secret of O(client_id).
    type: str
    required: true
  authority:
    description:
      - The Entra ID authority the token is requested from (C(<authority>/<tenant>/oauth2/v2.0/token)).
    type: str
    default: https://login.microsoftonline.com
  ca_bundle:
    description:
      - PEM file of the CAs to trust for Graph and the authority, instead of the system store.
    type: path
  validate_certs:
    description:
      - Verify TLS certificates. Only turn this off in a throw-away test environment.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: int
    default: 30
"""
