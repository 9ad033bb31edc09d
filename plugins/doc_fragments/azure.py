# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Authentication, endpoint and retry options shared by every ump365.upgrade Azure module.
    DOCUMENTATION = r"""
options:
  subscription_id:
    description:
      - The Azure subscription that holds the resources.
      - Falls back to the E(AZURE_SUBSCRIPTION_ID) environment variable (set by AWX's
        "Microsoft Azure Resource Manager" credential).
    type: str
  tenant:
    description:
      - Entra ID tenant of the service principal.
      - Falls back to E(AZURE_TENANT), then E(AZURE_TENANT_ID).
    type: str
  client_id:
    description:
      - Application (client) id of the service principal; with O(auth_source=managed_identity) or
        O(auth_source=default_chain), the client id of a user-assigned managed identity.
      - Falls back to E(AZURE_CLIENT_ID).
    type: str
  secret:
    description:
      - Client secret of the service principal.
      - Falls back to E(AZURE_SECRET), then E(AZURE_CLIENT_SECRET).
    type: str
  auth_source:
    description:
      - How to authenticate.
      - V(auto) uses a service principal when O(client_id) and O(secret) are known (options or
        environment), otherwise azure-identity's C(DefaultAzureCredential) chain (environment,
        workload identity, managed identity, Azure CLI).
      - V(service_principal) requires O(client_id), O(secret) and O(tenant).
      - V(managed_identity) uses the VM's or container's managed identity (the controller must run in Azure).
      - V(cli) uses the account of C(az login) on the controller.
      - V(default_chain) always uses C(DefaultAzureCredential).
    type: str
    choices: [auto, service_principal, managed_identity, cli, default_chain]
    default: auto
  cloud_environment:
    description:
      - The Azure cloud by name, as azure.azcollection's C(cloud_environment) - V(AzureCloud) (the
        default), V(AzureUSGovernment) or V(AzureChinaCloud). It selects the Entra ID authority, the
        Resource Manager endpoint and the token scope; O(authority), O(base_url) and
        O(credential_scope) override each of them.
      - Falls back to E(AZURE_CLOUD_ENVIRONMENT), which AWX's "Microsoft Azure Resource Manager"
        credential sets from its "Azure cloud environment" field. When neither is set, V(AzureCloud).
    type: str
  authority:
    description:
      - Entra ID authority (token endpoint host) for a private cloud or a proxy, for example
        V(https://login.microsoftonline.us). Defaults to the authority of O(cloud_environment).
        When set, MSAL instance discovery is turned off.
      - Falls back to E(AZURE_AUTHORITY_HOST). Must be C(https://).
    type: str
  base_url:
    description:
      - Azure Resource Manager endpoint for a private cloud or a proxy. Defaults to the endpoint of
        O(cloud_environment) (V(https://management.azure.com) for V(AzureCloud)). Must be C(https://).
    type: str
  credential_scope:
    description:
      - The token scope to ask for. Defaults to the Resource Manager audience of O(cloud_environment)
        plus C(/.default), for example V(https://management.usgovcloudapi.net/.default); an explicit
        O(base_url) does not change it.
      - Set it for a cloud of its own (Azure Stack Hub) whose Resource Manager audience differs.
    type: str
  ca_bundle:
    description:
      - A CA bundle (PEM) to trust in addition to the system's, for Resource Manager and the token endpoint.
      - Certificate verification cannot be turned off.
      - Falls back to E(REQUESTS_CA_BUNDLE).
    type: path
  retry_attempts:
    description:
      - How many times a request that failed with a conflict (409), throttling (429), a 5xx or a
        connection error is tried in all.
    type: int
    default: 6
  retry_budget:
    description:
      - Seconds the module may spend waiting between retries of one request, in all.
      - A C(Retry-After) from Azure is honoured within it.
    type: float
    default: 600
  retry_base_delay:
    description:
      - First backoff in seconds when Azure gives no C(Retry-After); it doubles per retry, with full jitter.
    type: float
    default: 2.0
requirements:
  - azure-identity >= 1.27
  - azure-mgmt-compute >= 39
notes:
  - The module runs on the controller; delegate it to C(localhost).
  - Retries and long-running operations are reported in RV(ignore:retries) and RV(ignore:operations).
  - The action group C(ump365.upgrade.azure) sets these options for every Azure module at once with C(module_defaults).
"""
