# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token migration check set ("Compiling List of Password Authenticated Customers", "Upgrading M365
Connection to Token Authentication"): which customers still use a password, and the migration's status."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

from ansible_collections.ump365.upgrade.plugins.plugin_utils.check_model import (
    FAIL,
    PASS,
    S_TOKEN,
    WARN,
    _lower,
    check,
)


def password_customers(auth_status):
    """The customers the Authentication Status page shows with method Password (the guide's list)."""
    out = []
    for c in (auth_status or {}).get("customers") or []:
        if _lower(c.get("method")) == "password":
            out.append(
                {
                    "customer": c.get("customer"),
                    "m365_email": c.get("m365_email"),
                    "method": c.get("method"),
                    "last_verified": c.get("last_verified"),
                    "last_status": c.get("last_status"),
                }
            )
    return sorted(out, key=lambda c: _lower(c["customer"]))


CSV_FIELDS = ("customer", "m365_email", "method", "last_verified", "last_status")


def customers_csv(rows, fields=CSV_FIELDS):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows or []:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})
    return buf.getvalue()


# --------------------------------------------------------------------------- token migration
def token_migration_status(auth_status, invitations, targets=None):
    """Per password customer (or ``targets``): method now, its latest invitation and where it stands."""
    custs = {_lower(c.get("customer")): c for c in (auth_status or {}).get("customers") or []}
    inv_by = {}
    for i in invitations or []:
        key = _lower(i.get("Customer") or i.get("customer"))
        if key not in inv_by or (i.get("Id") or 0) >= (inv_by[key].get("Id") or 0):
            inv_by[key] = i
    if targets is None:
        # the customers still on password, and those switched by an invitation of ours ("Request")
        names = [r["customer"] for r in password_customers(auth_status)]
        for i in invitations or []:
            n = i.get("Customer") or i.get("customer")
            if _lower(i.get("InvitationType")) == "request" and n and _lower(n) not in [_lower(x) for x in names]:
                names.append(n)
    else:
        names = targets
    out = []
    for n in names:
        c = custs.get(_lower(n), {})
        inv = inv_by.get(_lower(n))
        method = c.get("method")
        if _lower(method) == "token":
            state = "token"
        elif inv is None:
            state = "no_invitation"
        elif inv.get("DeviceAuthenticated") or _lower(inv.get("State")) == "accepted":
            state = "accepted"
        elif _lower(inv.get("State")) in ("expired", "revoked"):
            state = _lower(inv.get("State"))
        else:
            state = "invited"
        out.append(
            {
                "customer": n,
                "method": method,
                "state": state,
                "invitation_id": inv.get("Id") if inv else None,
                "invitation_email": inv.get("InvitationEmail") if inv else None,
                "sent": inv.get("CreatedAt") if inv else None,
            }
        )
    return out


GRANT_CONSENT_STEPS = (
    "Grant Consent path (guide, Upgrading M365 Connection to Token Authentication): the customer's admin signs in "
    "to the Customer portal, Configuration > M365 Configuration, and clicks Grant Consent (password-based and token "
    "authentication; Multi-factor authentication must be off for that account)"
)


def token_migration_checks(status, plan=None):
    """``plan`` (customer -> ``dry_run`` | ``switch_to_token`` | ``grant_consent``) says what this run did for a
    customer still on password: nothing yet (dry run), an invitation, or the Grant Consent path."""
    plan = {_lower(k): v for k, v in (plan or {}).items()}
    out = []
    for s in status or []:
        st = s["state"]
        action = plan.get(_lower(s["customer"]))
        if st == "token":
            res, fix = PASS, None
        elif st == "no_invitation" and action == "dry_run":
            res, fix = (
                WARN,
                "dry run, nothing sent: name the customer in token_migration_customers (or confirm the listed ones "
                "with token_migration_confirm=true) to send Switch to Token; or the " + GRANT_CONSENT_STEPS,
            )
            st = "not invited (dry run)"
        elif st == "no_invitation" and action == "grant_consent":
            res, fix = WARN, GRANT_CONSENT_STEPS
            st = "waiting for Grant Consent"
        elif st in ("invited", "accepted"):
            res, fix = WARN, "the customer's admin must open the invitation link and authenticate (device code)"
        else:
            res, fix = (
                FAIL,
                "send the invitation again (Security > Authentication Status > Switch to token, or Resend invitation)",
            )
        out.append(
            check(
                "token_auth_%s" % s["customer"],
                res,
                "%s%s"
                % (
                    st,
                    " (invitation %s to %s)" % (s["invitation_id"], s["invitation_email"])
                    if s["invitation_id"]
                    else "",
                ),
                "customer authenticated by token",
                fix,
                False,
                S_TOKEN,
            )
        )
    return out
