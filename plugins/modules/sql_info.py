#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sql_info
short_description: Facts about the SQL Server behind a UMP-365 server
version_added: "0.1.0"
description:
  - Reads the server version, edition and collation, the databases (SysAdminTenant and one
    C(SysAdmin<customer>) per customer), and the free space of the server's fixed drives where the server
    reports it (C(xp_fixeddrives); a login without permission gets C(free_space=null) and a warning).
  - Compares the server collation with the one the upgrade guide requires (C(SQL_Latin1_General_CP1_CI_AS)).
  - Read-only; runs on the controller (C(delegate_to=localhost)) and talks TDS to the SQL Server.
extends_documentation_fragment:
  - ump365.upgrade.sql
  - ump365.upgrade.attributes.info_module
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_sql
options:
  expected_collation:
    description: The server collation the UMP upgrade requires.
    type: str
    default: SQL_Latin1_General_CP1_CI_AS
  tenant_database:
    description: The UMP portal database.
    type: str
    default: SysAdminTenant
  customer_database_prefix:
    description: Per-customer databases are named this prefix followed by the customer's short name.
    type: str
    default: SysAdmin
  read_customers:
    description:
      - Also read the customers and their versions from O(tenant_database), the authoritative list of the
        server's customers (returned as RV(customers)).
      - The table and column names are not public (docs/assumptions.md); each is validated as a plain identifier.
    type: bool
    default: false
  customer_table:
    description: The customers table in O(tenant_database) (schema dbo).
    type: str
    default: Customer
  customer_name_column:
    description: Its column holding the customer's short name.
    type: str
    default: CustomerShortName
  customer_version_column:
    description: Its column holding the customer's version.
    type: str
    default: Version
  read_user_dids:
    description:
      - Also read each user's DID from every customer database (RV(customer_databases)); returned as
        RV(user_dids). The table and columns are not public (docs/assumptions.md); each is validated as a
        plain identifier. A customer database without them fails the module naming the database.
    type: bool
    default: false
  user_table:
    description: The users table in each customer database (schema dbo).
    type: str
    default: UserAccount
  user_name_column:
    description: Its column naming the user.
    type: str
    default: Upn
  user_did_column:
    description: Its column holding the user's DID (users without one are left out).
    type: str
    default: Did
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Read the SQL Server's facts
  ump365.upgrade.sql_info:
    server: "{{ ump_sql_server }}"
    port: "{{ ump_sql_port }}"
    username: "{{ ump_sql_username }}"
    password: "{{ ump_sql_password }}"
    ca_bundle: "{{ ump_sql_ca_bundle }}"
  delegate_to: localhost
  register: sql

- name: The guide requires SQL_Latin1_General_CP1_CI_AS
  ansible.builtin.assert:
    that: sql.collation_ok
    fail_msg: "server collation is {{ sql.server.collation }}"
"""

RETURN = r"""
server:
  description: Server properties.
  returned: always
  type: dict
  sample: {"collation": "SQL_Latin1_General_CP1_CI_AS", "product_version": "15.0.4375.4", "product_level": "RTM",
           "edition": "Standard Edition (64-bit)", "machine_name": "UMP01", "version_string": "Microsoft SQL Server 2019 ..."}
collation_ok:
  description: Whether the server collation is O(expected_collation).
  returned: always
  type: bool
  sample: true
databases:
  description: Every database with its id, collation, state and size in MB (data and log files).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "SysAdminTenant", "database_id": 5, "collation_name": "SQL_Latin1_General_CP1_CI_AS",
            "state_desc": "ONLINE", "size_mb": 16}]
tenant_database:
  description: Whether the UMP portal database exists.
  returned: always
  type: bool
  sample: true
customer_databases:
  description: The per-customer databases (name starts with O(customer_database_prefix), other than O(tenant_database)).
  returned: always
  type: list
  elements: str
  sample: [SysAdmincontoso01, SysAdminfabrikam02]
ump_databases:
  description: O(tenant_database) (when it exists) followed by the customer databases; what a backup must cover.
  returned: always
  type: list
  elements: str
  sample: [SysAdminTenant, SysAdmincontoso01]
customers:
  description: The customers in O(tenant_database) with their versions (name, version); only with O(read_customers).
  returned: when O(read_customers) is true
  type: list
  elements: dict
  sample: [{"name": "contoso01", "version": "8.0.400.64"}]
user_dids:
  description: Every user with a DID, per customer database (C(customer) is the database name without
    O(customer_database_prefix)); only with O(read_user_dids).
  returned: when O(read_user_dids) is true
  type: list
  elements: dict
  sample: [{"customer": "contoso01", "database": "SysAdmincontoso01", "user": "user0@contoso01.onmicrosoft.com",
            "did": "+4458799601"}]
database_files:
  description: The data and log files of every database, with the drive each is on (C(sys.master_files)).
  returned: always
  type: list
  elements: dict
  sample: [{"database": "SysAdminTenant", "type": "ROWS", "physical_name": "D:\\Data\\SysAdminTenant.mdf", "drive": "D"}]
free_space:
  description: Free megabytes per fixed drive, as C(xp_fixeddrives) reports them; null when not permitted.
  returned: always
  type: dict
  sample: {"C": 61000}
"""

import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.ump365.upgrade.plugins.module_utils import validation
from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.sql import (
    HAS_PYTDS,
    PYTDS_IMPORT_ERROR,
    SqlClient,
    sql_argument_spec,
    validate_db_name,
)

SYSTEM_DATABASES = ("master", "tempdb", "model", "msdb")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def _ident(module, name, what):
    if not isinstance(name, str) or not IDENT_RE.match(name):
        module.fail_json(msg="%s %r is not a plain SQL identifier (letters, digits, '_')" % (what, name))
    return name


def read_customers(module, p):
    """``SELECT <name>, <version> FROM dbo.<table>`` in the tenant database (identifiers validated, bracketed)."""
    validate_db_name(p["tenant_database"])
    table = _ident(module, p["customer_table"], "customer_table")
    ncol = _ident(module, p["customer_name_column"], "customer_name_column")
    vcol = _ident(module, p["customer_version_column"], "customer_version_column")
    client = SqlClient.from_module(module, database=p["tenant_database"])
    sql = "SELECT [%s] AS name, [%s] AS version FROM dbo.[%s]" % (ncol, vcol, table)
    try:
        rows = client.run(lambda c: c.query(sql, operation="read the customers of %s" % p["tenant_database"]))
    except errors.UmpError as e:
        client.close()
        errors.fail_module(module, e)
    finally:
        client.close()
    out = []
    for r in rows or []:
        if not isinstance(r, dict) or r.get("name") in (None, ""):
            module.fail_json(msg="unexpected row from dbo.%s: %r (expected name and version)" % (table, r))
        out.append({"name": str(r["name"]), "version": None if r.get("version") is None else str(r["version"])})
    return out


def read_user_dids(module, p, databases):
    """``SELECT <user>, <did> FROM dbo.<table>`` in each customer database (identifiers validated, bracketed)."""
    table = _ident(module, p["user_table"], "user_table")
    ucol = _ident(module, p["user_name_column"], "user_name_column")
    dcol = _ident(module, p["user_did_column"], "user_did_column")
    sql = "SELECT [%s] AS usr, [%s] AS did FROM dbo.[%s]" % (ucol, dcol, table)
    out = []
    plen = len(p["customer_database_prefix"])
    for db in databases:
        validate_db_name(db)
        client = SqlClient.from_module(module, database=db)
        try:
            rows = client.run(lambda c, db=db: c.query(sql, operation="read the users' DIDs of %s" % db))
        except errors.UmpError as e:
            client.close()
            errors.fail_module(module, e)
        finally:
            client.close()
        for r in rows or []:
            if not isinstance(r, dict) or "did" not in r:
                module.fail_json(msg="unexpected row from %s.dbo.%s: %r (expected user and DID)" % (db, table, r))
            if r.get("did") in (None, ""):
                continue
            out.append({"customer": db[plen:], "database": db, "user": str(r.get("usr")), "did": str(r["did"]).strip()})
    return out


def free_space(client, module):
    try:
        rows = client.query("EXEC master.dbo.xp_fixeddrives", operation="read free space")
    except errors.RemoteError as e:
        module.warn("free space not reported by %s: %s" % (client.target, e.message))
        return None
    return {str(r.get("drive")): int(r.get("MB free") or 0) for r in rows}


def database_files(client):
    rows = client.query(
        "SELECT d.name AS database_name, f.type_desc, f.physical_name FROM sys.master_files f "
        "JOIN sys.databases d ON d.database_id = f.database_id ORDER BY d.database_id, f.file_id",
        operation="list database files",
    )
    out = []
    for r in rows:
        path = str(r.get("physical_name") or "")
        out.append(
            {
                "database": r.get("database_name"),
                "type": r.get("type_desc"),
                "physical_name": path,
                "drive": path[0].upper() if len(path) > 1 and path[1] == ":" else None,
            }
        )
    return out


def main():
    module = AnsibleModule(
        argument_spec=sql_argument_spec(
            expected_collation=dict(type="str", default="SQL_Latin1_General_CP1_CI_AS"),
            tenant_database=dict(type="str", default="SysAdminTenant"),
            customer_database_prefix=dict(type="str", default="SysAdmin"),
            read_customers=dict(type="bool", default=False),
            customer_table=dict(type="str", default="Customer"),
            customer_name_column=dict(type="str", default="CustomerShortName"),
            customer_version_column=dict(type="str", default="Version"),
            read_user_dids=dict(type="bool", default=False),
            user_table=dict(type="str", default="UserAccount"),
            user_name_column=dict(type="str", default="Upn"),
            user_did_column=dict(type="str", default="Did"),
        ),
        supports_check_mode=True,
    )
    validation.check_module(module)
    if not HAS_PYTDS:
        module.fail_json(msg=missing_required_lib("python-tds"), exception=PYTDS_IMPORT_ERROR)
    p = module.params
    for opt in ("user_table", "user_name_column", "user_did_column"):
        _ident(module, p[opt], opt)
    client = SqlClient.from_module(module)

    def work(c):
        return c.server_info(), c.databases(), free_space(c, module), database_files(c)

    try:
        server, dbs, free, files = client.run(work)
    except errors.UmpError as e:
        client.close()
        errors.fail_module(module, e)
    finally:
        client.close()
    names = [d["name"] for d in dbs]
    tenant = p["tenant_database"]
    prefix = p["customer_database_prefix"].lower()
    customers = [
        n
        for n in names
        if n.lower().startswith(prefix) and n.lower() != tenant.lower() and n.lower() not in SYSTEM_DATABASES
    ]
    has_tenant = any(n.lower() == tenant.lower() for n in names)
    result = dict(
        changed=False,
        server=server,
        collation_ok=(server.get("collation") or "").lower() == p["expected_collation"].lower(),
        databases=dbs,
        tenant_database=has_tenant,
        customer_databases=customers,
        ump_databases=([tenant] if has_tenant else []) + customers,
        free_space=free,
        database_files=files,
    )
    if p["read_customers"]:
        result["customers"] = read_customers(module, p)
    if p["read_user_dids"]:
        result["user_dids"] = read_user_dids(module, p, customers)
    if client.retries:
        result["retries"] = client.retries
    module.exit_json(**result)


if __name__ == "__main__":
    main()
