# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""UMP ``dbo.ApplicationSetting`` values: names, JSON-list settings (``ApiAllowedIps``) and their edits.

Pure functions (no SQL) so the rules are unit-tested on their own; ump_app_setting runs them inside one
transaction. ApiAllowedIps is a JSON list of IP strings such as ``["169.254.0.1","10.201.80.4"]``
(facts/ump_sbc_ovoc.md, "UMP SQL").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re

from ansible_collections.ump365.upgrade.plugins.module_utils.errors import ValidationError

# Setting names seen in UMP (QuickReplicationCycleDelay, CmdTaskRunnerSvc.MaxDegreeOfParallelism,
# ApiAllowedIps, AuthStatus.ClientId): letters, digits, '.', '_' and '-'.
SETTING_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,127}$")
# Values of these settings are secrets: never returned or shown in a diff.
SECRET_NAME_RE = re.compile(r"(secret|password|passwd|pwd|token|key)", re.I)
MASK = "********"


def validate_name(name):
    if not isinstance(name, str) or not SETTING_NAME_RE.match(name):
        raise ValidationError(
            "setting name %r is not valid: use letters, digits, '.', '_' or '-', starting with a letter, "
            "at most 128 characters" % (name,),
            system="sql",
            operation="validate input",
            resource=str(name),
        )
    return name


def is_secret(name):
    return bool(SECRET_NAME_RE.search(name or ""))


def normalize_member(member, member_type):
    """One list member in its canonical form; IPs are checked and written the way ipaddress prints them."""
    if not isinstance(member, str) or not member.strip():
        raise ValidationError(
            "list member %r is empty or not a string" % (member,), system="sql", operation="validate input"
        )
    member = member.strip()
    if member_type == "ip":
        try:
            return str(ipaddress.ip_address(member))
        except ValueError:
            raise ValidationError(
                "%r is not a valid IPv4 or IPv6 address" % (member,),
                system="sql",
                operation="validate input",
                resource=member,
                remedy="give members as plain IP addresses such as 10.201.80.4 (no ports, masks or host names)",
            )
    return member


def normalize_members(members, member_type):
    out = []
    for m in members or []:
        n = normalize_member(m, member_type)
        if n not in out:
            out.append(n)
    return out


def parse_list(name, value):
    """The JSON list a setting holds; ``None`` (no row or NULL) is an empty list."""
    if value is None or value.strip() == "":
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
        raise ValidationError(
            "setting %s does not hold a JSON list of strings (its value is %d characters of %s), so it cannot be "
            "edited as a list"
            % (name, len(value), "JSON %s" % type(parsed).__name__ if parsed is not None else "non-JSON"),
            system="sql",
            operation="edit list setting",
            resource=name,
            remedy="use value= to replace the whole setting, or fix the value in the UMP portal first",
        )
    return parsed


def edit_list(current, members, state):
    """``(new_list, added, removed)``: present appends missing members in order, absent removes them.

    Existing entries keep their order; nothing is added twice.
    """
    new = list(current)
    added, removed = [], []
    if state == "present":
        for m in members:
            if m not in new:
                new.append(m)
                added.append(m)
    else:
        for m in members:
            if m in new:
                removed.append(m)
        new = [x for x in new if x not in members]
    return new, added, removed


def dump_list(items):
    """The JSON text UMP itself writes: compact, no spaces."""
    return json.dumps(items, separators=(",", ":"))
