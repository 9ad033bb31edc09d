#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ump_token_invitation
short_description: Switch a UMP-365 customer to token authentication by sending it an invitation
version_added: "0.1.0"
description:
  - The Multitenant portal's B(Switch to token) (Security > Authentication Status, or the customer's Microsoft 365
    Settings, "Switch to auth token") for one customer, as the upgrade guide's "Switching to Token Authentication"
    describes; it sends an invitation e-mail to the customer's administrator, who authenticates with the link.
  - Idempotent - nothing is sent when the customer already uses token authentication or already has an open
    invitation (sent, not accepted, revoked or expired), unless O(resend=true).
  - The endpoint is not public; O(switch_path) names it (default the lab's, docs/assumptions.md). The customer's
    method and invitations are read with the portal sections of M(ump365.upgrade.ump_portal_info).
options:
  customer:
    description: The customer, by C(CustomerShortName) (case-insensitive) or C(UmpCustomerGuid).
    type: str
    required: true
  invitation_email:
    description:
      - Where the invitation goes (the guide - "the email address of the customer administrator").
      - Default - the customer's M365 e-mail from the Authentication Status page.
    type: str
  resend:
    description: Send a new invitation even when an open one exists.
    type: bool
    default: false
  switch_path:
    description:
      - The "switch to token" endpoint relative to O(api_url); C({guid}) is replaced by the customer's guid.
        It is sent C({"InvitationEmail" - "<e-mail>"}) and answers the new invitation's C(InvitationId).
    type: str
    default: /api/v3/customer/{guid}/switchtotoken
extends_documentation_fragment:
  - ump365.upgrade.ump_api
  - ump365.upgrade.rest
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_ump_api
attributes:
  check_mode:
    support: full
    description: Reads the customer's state and reports whether an invitation would be sent; sends nothing.
  diff_mode:
    support: full
    description: Shows the customer's authentication state before and after.
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Invite every customer still on password authentication
  ump365.upgrade.ump_token_invitation:
    api_url: "{{ ump_api_url }}"
    tenant_id: "{{ ump_api_tenant_id }}"
    client_id: "{{ ump_api_client_id }}"
    client_secret: "{{ ump_api_client_secret }}"
    scope: "{{ ump_api_scope }}"
    customer: "{{ item.customer }}"
  loop: "{{ password_customers }}"
  delegate_to: localhost
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
customer:
  description: The customer's short name.
  returned: always
  type: str
  sample: fabrikam01
state:
  description:
    - Where the customer stands after the task - C(token) (already on token authentication), C(invited) (an open
      invitation exists or was just sent), C(accepted) (the invitation was accepted, the method not yet switched).
  returned: always
  type: str
  sample: invited
sent:
  description: Whether an invitation was sent by this task (in check mode - would be sent).
  returned: always
  type: bool
  sample: true
invitation:
  description: The invitation - C(id), C(email), C(state), C(sent_at) - or null.
  returned: always
  type: dict
  sample: {id: 7, email: admin@fabrikam01.onmicrosoft.com, state: Sent, sent_at: "2026-11-23T17:00:00Z"}
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
from ansible_collections.ump365.upgrade.plugins.module_utils.ump_api import client_from_params, ump_api_argument_spec

OPEN_STATES = ("sent", "pending", "open", "invited", "")


def _find_customer(client, name):
    for c in client.customers():
        if name.lower() in (str(c.get("CustomerShortName") or "").lower(), str(c.get("UmpCustomerGuid") or "").lower()):
            return c
    raise errors.ValidationError(
        "customer %r does not exist on this UMP server" % name,
        system="ump_api",
        operation="switch to token",
        remedy="use a CustomerShortName or UmpCustomerGuid from the Tenants page",
    )


def main():
    spec = ump_api_argument_spec()
    spec.update(
        customer=dict(type="str", required=True),
        invitation_email=dict(type="str"),
        resend=dict(type="bool", default=False),
        switch_path=dict(type="str", default="/api/v3/customer/{guid}/switchtotoken"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    validation.check_module(module)
    require_requests(module)
    p = module.params
    if not p["switch_path"].startswith("/") or "{guid}" not in p["switch_path"]:
        errors.fail_module(
            module,
            errors.ValidationError(
                "switch_path=%r must start with '/' and contain {guid}" % p["switch_path"],
                system="ump_api",
                operation="configure",
            ),
        )
    email = p["invitation_email"]
    if email is not None and "@" not in email:
        errors.fail_module(
            module,
            errors.ValidationError(
                "invitation_email=%r is not an e-mail address" % email, system="ump_api", operation="configure"
            ),
        )
    client = None
    try:
        client = client_from_params(p)
        cust = _find_customer(client, p["customer"])
        short = cust.get("CustomerShortName")
        auth = client.portal("authentication_status")
        row = next((c for c in auth.get("customers") or [] if str(c.get("customer")).lower() == short.lower()), {})
        invitations = [i for i in client.portal("invitations") or [] if str(i.get("Customer")).lower() == short.lower()]
        latest = max(invitations, key=lambda i: i.get("Id") or 0) if invitations else None
        method = str(row.get("method") or "").lower()
        inv_state = str((latest or {}).get("State") or "").lower()
        invitation = None
        if latest:
            invitation = {
                "id": latest.get("Id"),
                "email": latest.get("InvitationEmail"),
                "state": latest.get("State"),
                "sent_at": latest.get("CreatedAt"),
            }
        before = {"customer": short, "method": row.get("method"), "invitation": invitation}
        if method == "token":
            module.exit_json(
                changed=False,
                customer=short,
                state="token",
                sent=False,
                invitation=invitation,
                retries=client.retries_seen,
                **insecure_result(client),
            )
        state = "accepted" if latest and latest.get("DeviceAuthenticated") else "invited"
        has_open = latest is not None and (inv_state in OPEN_STATES or state == "accepted")
        if has_open and not p["resend"]:
            module.exit_json(
                changed=False,
                customer=short,
                state=state,
                sent=False,
                invitation=invitation,
                retries=client.retries_seen,
                **insecure_result(client),
            )
        to = email or row.get("m365_email")
        if not to:
            raise errors.ValidationError(
                "customer %s has no M365 e-mail on the Authentication Status page" % short,
                system="ump_api",
                operation="switch to token",
                remedy="give invitation_email, the customer administrator's address",
            )
        after_inv = {"id": None, "email": to, "state": "Sent", "sent_at": None}
        if not module.check_mode:
            path = p["switch_path"].replace("{guid}", str(cust.get("UmpCustomerGuid")))
            resp = client.call(
                "POST",
                path,
                operation="switch to token",
                resource=short,
                json_body={"InvitationEmail": to},
                expect=(200, 201, 202),
            )
            body = resp.body if isinstance(resp.body, dict) else {}
            after_inv["id"] = body.get("InvitationId") or body.get("Id")
        result = dict(
            changed=True,
            customer=short,
            state="invited",
            sent=True,
            invitation=after_inv,
            retries=client.retries_seen,
            **insecure_result(client),
        )
        if module._diff:
            result["diff"] = {
                "before": before,
                "after": {"customer": short, "method": row.get("method"), "invitation": after_inv},
            }
        module.exit_json(**result)
    except errors.UmpError as e:
        errors.fail_module(module, e, retries=client.retries_seen if client else [])


if __name__ == "__main__":
    main()
