# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The UMP-365 tenantui API and its Entra ID client-credentials authentication (module_utils/ump_api.py).
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the UMP server's tenantui API, C(https://<UMP FQDN>/tenantui).
      - Inventory variable C(ump_api_url).
    type: str
    required: true
  tenant_id:
    description:
      - Entra ID tenant (directory) id that holds the app registration used to call the API.
      - Inventory variable C(ump_api_tenant_id).
    type: str
    required: true
  client_id:
    description:
      - Application (client) id of the app registration allowed to call the UMP API.
      - Inventory variable C(ump_api_client_id).
    type: str
    required: true
  client_secret:
    description:
      - A client secret of that app registration. Never logged or returned.
      - Inventory variable C(ump_api_client_secret) (keep it in a vault or an AWX credential).
    type: str
    required: true
  scope:
    description:
      - The API's scope, C(api://<app id of the UMP API>/.default); C(/.default) is added when missing.
      - Inventory variable C(ump_api_scope).
    type: str
    required: true
  authority:
    description:
      - The Entra ID authority host; tokens come from C(<authority>/<tenant_id>/oauth2/v2.0/token).
      - Inventory variable C(ump_api_authority).
    type: str
    default: https://login.microsoftonline.com
  token_cache:
    description:
      - Keep access tokens in a file on the controller (mode 0600, in a 0700 directory) so the tasks of a
        playbook share one token until it is about to expire, instead of requesting one per task.
      - The file holds only access tokens and their expiry, keyed by a hash of authority, tenant, client id,
        scope and client secret; never the secret.
      - Set to V(false) on controllers shared with users who must not hold a token.
    type: bool
    default: true
  token_cache_path:
    description:
      - The token cache file (see O(token_cache)).
      - If not given, the environment variable E(UMP365_TOKEN_CACHE) is used (the test suite points it into
        its temporary directory), then the default.
    type: path
    default: ~/.ansible/ump365/ump_api_tokens.json
  channel_id:
    description: Value of the optional C(X-Ovoc-Channel-Id) header.
    type: str
"""
