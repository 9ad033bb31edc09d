#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ump_app_setting
short_description: Read or change a UMP-365 setting in SysAdminTenant dbo.ApplicationSetting
version_added: "0.1.0"
description:
  - Reads a setting of the UMP-365 portal database, sets its value, or edits a JSON-list setting such as
    C(ApiAllowedIps) (a JSON list of IP strings, for example C(["169.254.0.1","10.201.80.4"])).
  - A list edit (O(members) with O(state)) keeps the existing order, never adds a member twice, and is one
    database transaction (the row is read with an update lock and written back in the same transaction),
    so a failure leaves the setting as it was.
  - Values travel as query parameters only; the setting name is validated.
  - Values of settings whose name looks secret (C(Secret), C(Password), C(Token), C(Key)) are never
    returned or shown in a diff.
  - Runs on the controller (C(delegate_to=localhost)) and talks TDS to the SQL Server.
extends_documentation_fragment:
  - ump365.upgrade.sql
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_sql
options:
  database:
    description: The UMP portal database.
    type: str
    default: SysAdminTenant
  name:
    description: The setting's name (column C(Name)), for example C(ApiAllowedIps).
    type: str
    required: true
  value:
    description:
      - The whole new value. With O(state=absent) and no O(value) or O(members), the setting is deleted.
    type: str
  members:
    description:
      - List members to add (O(state=present)) or remove (O(state=absent)); the setting must hold a JSON
        list of strings.
    type: list
    elements: str
  member_type:
    description: How to validate and normalise O(members). C(ip) accepts IPv4 and IPv6 addresses only.
    type: str
    choices: [ip, string]
    default: ip
  state:
    description:
      - C(present) sets O(value) or adds O(members); C(absent) removes O(members) or deletes the setting.
      - Without O(value) and O(members), C(present) only reads the setting.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Reads the setting and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the value (one list member per line for a list edit) before and after.
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Allow the OVOC server to call the UMP API
  ump365.upgrade.ump_app_setting:
    server: "{{ ump_sql_server }}"
    port: "{{ ump_sql_port }}"
    username: "{{ ump_sql_username }}"
    password: "{{ ump_sql_password }}"
    ca_bundle: "{{ ump_sql_ca_bundle }}"
    name: ApiAllowedIps
    members: ["{{ ump_ovoc_ip }}"]
    state: present
  delegate_to: localhost

- name: Read the replication cycle delay
  ump365.upgrade.ump_app_setting:
    server: "{{ ump_sql_server }}"
    username: "{{ ump_sql_username }}"
    password: "{{ ump_sql_password }}"
    name: QuickReplicationCycleDelay
  delegate_to: localhost
  register: delay
"""

RETURN = r"""
name:
  description: The setting.
  returned: always
  type: str
  sample: ApiAllowedIps
exists:
  description: Whether the setting exists (after the change).
  returned: always
  type: bool
  sample: true
value:
  description: The value after the change (C(********) for a secret setting).
  returned: always
  type: str
  sample: '["169.254.0.1","10.201.80.4"]'
members:
  description: The list after the change, for a list edit.
  returned: when O(members) is given
  type: list
  elements: str
  sample: ["169.254.0.1", "10.201.80.4"]
added:
  description: Members added.
  returned: when O(members) is given
  type: list
  elements: str
  sample: ["10.201.80.4"]
removed:
  description: Members removed.
  returned: when O(members) is given
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.ump365.upgrade.plugins.module_utils import validation
from ansible_collections.ump365.upgrade.plugins.module_utils import app_setting as aps
from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.sql import (
    HAS_PYTDS,
    PYTDS_IMPORT_ERROR,
    SqlClient,
    sql_argument_spec,
    validate_db_name,
)

SELECT_LOCKED = "SELECT Value FROM dbo.ApplicationSetting WITH (UPDLOCK, ROWLOCK) WHERE Name = %s"
SELECT = "SELECT Value FROM dbo.ApplicationSetting WHERE Name = %s"
UPDATE = "UPDATE dbo.ApplicationSetting SET Value = %s WHERE Name = %s"
INSERT = "INSERT INTO dbo.ApplicationSetting (Name, Value) VALUES (%s, %s)"
DELETE = "DELETE FROM dbo.ApplicationSetting WHERE Name = %s"


def _read(client, name, locked):
    rows = client.query(SELECT_LOCKED if locked else SELECT, (name,), operation="read setting %s" % name)
    if not rows:
        return False, None
    return True, rows[0]["Value"]


def plan(p, exists, current):
    """What to write: ``(action, new_value, extra)`` with action None, 'update', 'insert' or 'delete'."""
    name = p["name"]
    extra = {}
    if p["members"] is not None:
        members = aps.normalize_members(p["members"], p["member_type"])
        cur_list = aps.parse_list(name, current)
        new_list, added, removed = aps.edit_list(cur_list, members, p["state"])
        extra = {"members": new_list, "added": added, "removed": removed, "before_list": cur_list}
        if not added and not removed:
            return None, current, extra
        new_value = aps.dump_list(new_list)
        return ("update" if exists else "insert"), new_value, extra
    if p["value"] is not None:
        if p["state"] == "absent":
            if exists and current == p["value"]:
                return "delete", None, extra
            return None, current, extra
        if exists and current == p["value"]:
            return None, current, extra
        return ("update" if exists else "insert"), p["value"], extra
    if p["state"] == "absent":
        return ("delete" if exists else None), None, extra
    return None, current, extra


def main():
    module = AnsibleModule(
        argument_spec=sql_argument_spec(
            database=dict(type="str", default="SysAdminTenant"),
            name=dict(type="str", required=True),
            value=dict(type="str"),
            members=dict(type="list", elements="str"),
            member_type=dict(type="str", default="ip", choices=["ip", "string"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        mutually_exclusive=[("value", "members")],
        supports_check_mode=True,
    )
    validation.check_module(module, {"name": "setting", "value": "any", "members": "any"})
    if not HAS_PYTDS:
        module.fail_json(msg=missing_required_lib("python-tds"), exception=PYTDS_IMPORT_ERROR)
    p = module.params
    try:
        name = aps.validate_name(p["name"])
        validate_db_name(p["database"])
        if p["members"] is not None:
            aps.normalize_members(p["members"], p["member_type"])  # fail on bad input before connecting
    except errors.UmpError as e:
        errors.fail_module(module, e)

    secret = aps.is_secret(name)
    client = SqlClient.from_module(module)
    outcome = {}

    def work(c):
        if module.check_mode:
            exists, current = _read(c, name, locked=False)
            action, new_value, extra = plan(p, exists, current)
            return exists, current, action, new_value, extra
        with c.transaction():
            exists, current = _read(c, name, locked=True)
            action, new_value, extra = plan(p, exists, current)
            if action == "update":
                n = c.execute(UPDATE, (new_value, name), operation="update setting %s" % name)
                if n != 1:
                    raise errors.ConflictError(
                        "setting %s changed while it was being edited (%s rows updated)" % (name, n),
                        system="sql",
                        operation="update setting",
                        resource=name,
                    )
            elif action == "insert":
                c.execute(INSERT, (name, new_value), operation="insert setting %s" % name)
            elif action == "delete":
                c.execute(DELETE, (name,), operation="delete setting %s" % name)
        return exists, current, action, new_value, extra

    try:
        exists, current, action, new_value, extra = client.run(work)
    except errors.UmpError as e:
        client.close()
        errors.fail_module(module, e)
    finally:
        client.close()

    changed = action is not None
    after_exists = exists if action is None else action != "delete"
    shown_before = aps.MASK if secret and current is not None else current
    shown_after = aps.MASK if secret and new_value is not None else new_value
    outcome.update(name=name, exists=after_exists, value=shown_after, changed=changed)
    if p["members"] is not None and not secret:
        outcome.update(members=extra["members"], added=extra["added"], removed=extra["removed"])
    elif p["members"] is not None:
        outcome.update(
            members=[aps.MASK], added=[aps.MASK] * len(extra["added"]), removed=[aps.MASK] * len(extra["removed"])
        )
    if changed and module._diff:
        if p["members"] is not None and not secret:
            before = "".join(m + "\n" for m in extra["before_list"])
            after = "".join(m + "\n" for m in extra["members"])
        else:
            before = "" if shown_before is None else shown_before + "\n"
            after = "" if shown_after is None else shown_after + "\n"
        outcome["diff"] = {
            "before": before,
            "after": after,
            "before_header": "%s dbo.ApplicationSetting %s" % (p["database"], name),
            "after_header": "%s dbo.ApplicationSetting %s" % (p["database"], name),
        }
    if client.retries:
        outcome["retries"] = client.retries
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
