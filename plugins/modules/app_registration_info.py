#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: app_registration_info
short_description: Check a UMP server's synchronization app registration through Microsoft Graph
version_added: "0.1.0"
description:
  - Reads the app registration whose application (client) id is O(app_id) (the UMP portal's Authentication
    Status client id, C(AuthStatus.ClientId)) with C(GET /v1.0/applications?$filter=appId eq '<id>') and
    checks it against AudioCodes' app-registration guide.
  - "Checks, returned in the run report's C(ump_checks) convention: C(app_registration_multitenant) (supported
    account types: any organizational directory), C(app_registration_redirect_uri)
    (C(https://<fqdn>/authenticate/OAuth2Callback) is a Web redirect URI), C(app_registration_implicit_grant)
    (access tokens and ID tokens), C(app_registration_api_permissions) (Microsoft Graph permissions configured) and
    C(app_registration_client_secret_expiry) (warn O(warn_days) ahead, fail when expired or missing)."
  - Reads only; a failed check does not fail the task, the calling role decides.
extends_documentation_fragment:
  - ump365.upgrade.graph
  - ump365.upgrade.attributes.info_module
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_graph
options:
  app_id:
    description:
      - Application (client) id of the UMP server's synchronization app registration.
    type: str
    required: true
  fqdn:
    description:
      - FQDN of the UMP server; the redirect URI must be C(https://<fqdn>/authenticate/OAuth2Callback).
      - Without it the redirect URI check is reported as C(skip).
    type: str
  warn_days:
    description:
      - Warn when the client secret expires within this many days.
    type: int
    default: 60
notes:
  - The client secret valid the longest counts; every secret is listed in RV(app_registration.passwordCredentials).
  - Admin consent of the API permissions is not visible on the application object and is not checked.
seealso:
  - name: Microsoft Graph application resource
    description: The fields this module reads.
    link: https://learn.microsoft.com/en-us/graph/api/resources/application
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Check the synchronization app registration of this UMP server
  ump365.upgrade.app_registration_info:
    graph_url: "{{ ump_graph_url | default('https://graph.microsoft.com') }}"
    tenant: "{{ ump_azure_tenant_id }}"
    client_id: "{{ ump_azure_client_id }}"
    secret: "{{ ump_azure_secret }}"
    authority: "{{ ump_azure_authority | default('https://login.microsoftonline.com') }}"
    ca_bundle: "{{ ump_ca_bundle | default(omit) }}"
    app_id: "{{ auth_status_client_id }}"
    fqdn: "{{ ump_fqdn }}"
    warn_days: 60
  delegate_to: localhost
  register: app_registration

- name: Stop when a check failed
  ansible.builtin.assert:
    that: app_registration.ump_checks | selectattr('status', 'eq', 'fail') | list | length == 0
    fail_msg: "{{ app_registration.ump_checks | selectattr('status', 'eq', 'fail') | map(attribute='fix') | list }}"
"""

RETURN = r"""
ump_checks:
  description: One entry per check, in the run report's convention (docs/report.md).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The check.
      type: str
      sample: app_registration_client_secret_expiry
    status:
      description: C(pass), C(warn), C(fail) or C(skip).
      type: str
      sample: warn
    observed:
      description: What the app registration shows.
      type: raw
      sample: secret 'UMP sync (24 months)' expires on 2027-01-10T09:00:00Z (in 48 days)
    expected:
      description: What the guide asks for.
      type: raw
      sample: a client secret valid more than 60 days
    fix:
      description: How to fix it, quoting the guide's steps; null when the check passed.
      type: str
      sample: Entra admin center > App registrations > ... > Certificates & secrets > New client secret ...
  sample:
    - name: app_registration_multitenant
      status: pass
      observed: AzureADMultipleOrgs
      expected: AzureADMultipleOrgs
      fix: null
app_registration:
  description: The fields of the application object the checks read.
  returned: always
  type: dict
  contains:
    appId:
      description: Application (client) id.
      type: str
    displayName:
      description: Name of the app registration.
      type: str
    signInAudience:
      description: Supported account types (C(AzureADMultipleOrgs) is multitenant).
      type: str
    web:
      description: Redirect URIs and implicit grant settings.
      type: dict
    requiredResourceAccess:
      description: Configured API permissions.
      type: list
      elements: dict
    passwordCredentials:
      description: Client secrets (id, name, hint, start and end; never the value).
      type: list
      elements: dict
  sample:
    appId: 5a6ad9c0-0d1c-4c36-8a39-7bda1c1bd1a8
    displayName: UMP-365 sync ump01
    signInAudience: AzureADMultipleOrgs
    web:
      redirectUris: [https://ump01.example.com/authenticate/OAuth2Callback]
      implicitGrantSettings: {enableAccessTokenIssuance: true, enableIdTokenIssuance: true}
    requiredResourceAccess: []
    passwordCredentials:
      - {keyId: 0b5d..., displayName: UMP sync (24 months), startDateTime: "2026-05-24T09:00:00Z",
         endDateTime: "2028-05-23T09:00:00Z", hint: Abc}
retries:
  description: Failed attempts that were retried (throttling, service unavailable), for the run report.
  returned: always
  type: list
  elements: dict
  sample: [{"attempt": 1, "error": "HTTP 503 serviceNotAvailable: ...", "delay": 1.0}]
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ump365.upgrade.plugins.module_utils import validation
from ansible_collections.ump365.upgrade.plugins.module_utils import app_registration as checks
from ansible_collections.ump365.upgrade.plugins.module_utils.errors import UmpError, ValidationError, fail_module
from ansible_collections.ump365.upgrade.plugins.module_utils.graph import (
    DEFAULT_AUTHORITY,
    DEFAULT_GRAPH_URL,
    GraphClient,
    validate_guid,
)

FQDN_RX = (
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
APP_FIELDS = ("id", "appId", "displayName", "signInAudience", "web", "requiredResourceAccess", "passwordCredentials")


def argument_spec():
    return dict(
        graph_url=dict(type="str", default=DEFAULT_GRAPH_URL),
        tenant=dict(type="str", required=True),
        client_id=dict(type="str", required=True),
        secret=dict(type="str", required=True, no_log=True),
        authority=dict(type="str", default=DEFAULT_AUTHORITY),
        ca_bundle=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
        app_id=dict(type="str", required=True),
        fqdn=dict(type="str"),
        warn_days=dict(type="int", default=60),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    validation.check_module(module)
    p = module.params
    try:
        validate_guid("app_id", p["app_id"])
        if p["fqdn"] is not None and not re.match(FQDN_RX, p["fqdn"]):
            raise ValidationError("fqdn must be a host name like ump01.example.com, got %r" % (p["fqdn"],))
        if p["warn_days"] < 0:
            raise ValidationError("warn_days must be 0 or more, got %r" % (p["warn_days"],))
        if p["ca_bundle"] and not module.params["validate_certs"]:
            module.warn("ca_bundle is ignored because validate_certs is false")
        client = GraphClient(
            tenant=p["tenant"],
            client_id=p["client_id"],
            secret=p["secret"],
            graph_url=p["graph_url"],
            authority=p["authority"],
            ca_bundle=p["ca_bundle"],
            validate_certs=p["validate_certs"],
            timeout=p["timeout"],
        )
        app = client.application_by_app_id(p["app_id"])
    except UmpError as err:
        if not err.resource:
            err.resource = "app registration %s" % p["app_id"]
        fail_module(module, err, ump_checks=[], retries=list(err.attempts))
    except Exception as err:  # never a traceback with the request in it
        fail_module(module, err)
    for cred in app.get("passwordCredentials") or []:
        cred.pop("secretText", None)
    module.exit_json(
        changed=False,
        ump_checks=checks.evaluate(app, fqdn=p["fqdn"], warn_days=p["warn_days"]),
        app_registration={k: app.get(k) for k in APP_FIELDS},
        retries=client.retries,
    )


if __name__ == "__main__":
    main()
