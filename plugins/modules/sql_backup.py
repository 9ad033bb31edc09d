#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sql_backup
short_description: Back up, verify or restore UMP-365 databases on their SQL Server
version_added: "0.1.0"
description:
  - O(operation=backup) runs C(BACKUP DATABASE ... TO DISK ... WITH COPY_ONLY, CHECKSUM, INIT) for each
    database into O(folder) on the SQL Server (copy-only, so the server's own backup chain is untouched),
    then C(RESTORE VERIFYONLY ... WITH CHECKSUM), and reports each file with its size.
  - O(operation=verify) only verifies existing backup files.
  - O(operation=restore) reads each file's header first and refuses a file that holds a backup of another
    database, then verifies it and runs C(RESTORE DATABASE ... WITH REPLACE, RECOVERY).
  - Before a backup the free space of the server's drives (C(xp_fixeddrives)) is compared with the size of
    the databases, so a full disk fails before anything is written.
  - Database names are validated and quoted (QUOTENAME); file paths travel as parameters.
  - With O(operation=backup) one query lists the databases with their sizes (and, without O(databases),
    picks O(tenant_database) and every O(customer_database_prefix) database), one reads the free space,
    then one batch per database does the backup, reads its header and verifies it.
  - Runs on the controller (C(delegate_to=localhost)) and talks TDS to the SQL Server.
extends_documentation_fragment:
  - ump365.upgrade.sql
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_sql
options:
  databases:
    description:
      - The databases, for example C(SysAdminTenant) and every C(SysAdmin<customer>).
      - Omitted, the module picks them from the server's list (in the same query that reads their
        sizes) as C(sql_info) does, that is O(tenant_database), which must exist, and every database whose name
        starts with O(customer_database_prefix). O(operation=restore) needs them.
    type: list
    elements: str
  tenant_database:
    description: The UMP portal database, backed up first when O(databases) is omitted.
    type: str
    default: SysAdminTenant
  customer_database_prefix:
    description: Prefix of the per-customer databases picked when O(databases) is omitted.
    type: str
    default: SysAdmin
  operation:
    description: What to do.
    type: str
    choices: [backup, verify, restore]
    default: backup
  folder:
    description:
      - Folder on the SQL Server for the backup files (the guide's C(c:/acs/dbbackup/) on a backend SQL
        server). It must exist; the module does not create folders on the server.
    type: str
    default: C:\acs\dbbackup
  backup_name:
    description:
      - Tag in the file names, C(<database>_<backup_name>.bak); empty gives C(<database>.bak).
    type: str
    default: ""
  files:
    description:
      - Explicit backup files per database (database name to full path on the SQL Server), for
        O(operation=verify) and O(operation=restore), for example the files a checkpoint recorded.
      - Databases not listed use O(folder) and O(backup_name).
    type: dict
    default: {}
  verify:
    description: Verify each backup (C(RESTORE VERIFYONLY WITH CHECKSUM)) after writing it and before restoring it.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Checks the databases, the files' headers and the free space, and reports what would be done; writes nothing.
  diff_mode:
    support: none
    description: Backups and restores are not shown as a diff; the result lists the files.
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Back up SysAdminTenant and the customer databases before the upgrade
  ump365.upgrade.sql_backup:
    server: "{{ ump_sql_server }}"
    port: "{{ ump_sql_port }}"
    username: "{{ ump_sql_username }}"
    password: "{{ ump_sql_password }}"
    ca_bundle: "{{ ump_sql_ca_bundle }}"
    databases: "{{ sql.ump_databases }}"
    backup_name: pre-8.0.515
  delegate_to: localhost
  register: backup

- name: Restore them (rollback)
  ump365.upgrade.sql_backup:
    server: "{{ ump_sql_server }}"
    username: "{{ ump_sql_username }}"
    password: "{{ ump_sql_password }}"
    databases: [SysAdminTenant]
    operation: restore
    backup_name: pre-8.0.515
  delegate_to: localhost
"""

RETURN = r"""
databases:
  description: The databases acted on (the ones picked from the server when O(databases) was omitted).
  returned: always
  type: list
  elements: str
  sample: ["SysAdminTenant", "SysAdminContoso"]
backups:
  description: One entry per database.
  returned: always
  type: list
  elements: dict
  contains:
    database:
      description: The database.
      type: str
      sample: SysAdminTenant
    file:
      description: The backup file on the SQL Server.
      type: str
      sample: C:\acs\dbbackup\SysAdminTenant_pre-8.0.515.bak
    size:
      description: Size of the backup set in bytes (C(BackupSize) of the header); null in check mode before a backup.
      type: int
      sample: 77824
    copy_only:
      description: Whether it is a copy-only backup.
      type: bool
      sample: true
    has_checksum:
      description: Whether the backup carries page checksums.
      type: bool
      sample: true
    verified:
      description: Whether C(RESTORE VERIFYONLY) found the backup set valid.
      type: bool
      sample: true
    action:
      description: What was done (C(backed_up), C(verified), C(restored), or C(would_...) in check mode).
      type: str
      sample: backed_up
  sample: [{"database": "SysAdminTenant", "file": "C:\\acs\\dbbackup\\SysAdminTenant.bak", "size": 77824,
            "copy_only": true, "has_checksum": true, "verified": true, "action": "backed_up"}]
messages:
  description: The server's informational messages (pages processed, backup set valid).
  returned: always
  type: list
  elements: str
  sample: ["BACKUP DATABASE successfully processed 10 pages in 0.010 seconds (7.8 MB/sec)."]
"""

import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.ump365.upgrade.plugins.module_utils import validation
from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.sql import (
    HAS_PYTDS,
    PYTDS_IMPORT_ERROR,
    SqlClient,
    quote_name,
    sql_argument_spec,
    validate_db_name,
)

TAG_RE = re.compile(r"^[A-Za-z0-9_.\-]{0,64}$")
# A Windows folder: drive letter or UNC share, no quotes or wildcards.
FOLDER_RE = re.compile(r"^(?:[A-Za-z]:|\\\\[^\\/:*?\"<>|]+\\[^\\/:*?\"<>|]+)(?:[\\/][^\\/:*?\"<>|]+)*[\\/]?$")


def backup_file(folder, db, tag):
    folder = folder.replace("/", "\\").rstrip("\\")
    return "%s\\%s%s.bak" % (folder, db, ("_" + tag) if tag else "")


def header(client, path, db):
    rows = client.query("RESTORE HEADERONLY FROM DISK = %s", (path,), operation="read backup header of %s" % db)
    if not rows:
        raise errors.NotFoundError(
            "backup file %s holds no backup set" % path, system="sql", operation="read backup header", resource=path
        )
    return rows[0]


SYSTEM_DATABASES = ("master", "tempdb", "model", "msdb")


def list_databases(client):
    """Every database with the size of its data files in MB (one round trip)."""
    return client.query(
        "SELECT d.name, (SELECT SUM(CAST(f.size AS BIGINT)) * 8 / 1024 FROM sys.master_files f "
        "WHERE f.database_id = d.database_id AND f.type_desc = 'ROWS') AS rows_mb "
        "FROM sys.databases d ORDER BY d.database_id",
        operation="list databases",
    )


def pick_databases(names, tenant, prefix):
    """The tenant database first, then every database with the customer prefix (as sql_info's ump_databases)."""
    lowered = {n.lower(): n for n in names}
    if tenant.lower() not in lowered:
        return None
    customers = [
        n
        for n in names
        if n.lower().startswith(prefix.lower()) and n.lower() != tenant.lower() and n.lower() not in SYSTEM_DATABASES
    ]
    return [lowered[tenant.lower()]] + customers


def check_free_space(client, needed):
    """Fail before writing when the databases (``needed`` MB of data files) will not fit on the server's drives."""
    try:
        drives = client.query("EXEC master.dbo.xp_fixeddrives", operation="read free space")
    except errors.RemoteError:
        return None  # not permitted: the BACKUP itself reports a full disk (error 3202)
    free = max([int(r.get("MB free") or 0) for r in drives] or [0])
    if needed >= free:
        raise errors.RemoteError(
            "the databases need about %d MB for their backups but the SQL Server's drives have %d MB free"
            % (needed, free),
            system="sql",
            operation="check free space",
            resource=client.target,
            remedy="free disk space on the SQL Server's backup volume, then run again",
        )
    return {"needed_mb": needed, "free_mb": free}


def main():
    module = AnsibleModule(
        argument_spec=sql_argument_spec(
            databases=dict(type="list", elements="str"),
            tenant_database=dict(type="str", default="SysAdminTenant"),
            customer_database_prefix=dict(type="str", default="SysAdmin"),
            operation=dict(type="str", default="backup", choices=["backup", "verify", "restore"]),
            folder=dict(type="str", default="C:\\acs\\dbbackup"),
            backup_name=dict(type="str", default=""),
            files=dict(type="dict", default={}),
            verify=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    validation.check_module(module, {"folder": "any"})
    if not HAS_PYTDS:
        module.fail_json(msg=missing_required_lib("python-tds"), exception=PYTDS_IMPORT_ERROR)
    p = module.params
    try:
        dbs = []
        for db in p["databases"] or []:
            validate_db_name(db)
            if db.lower() not in [d.lower() for d in dbs]:
                dbs.append(db)
        if p["databases"] is None and p["operation"] == "restore":
            raise errors.ValidationError(
                "operation=restore needs databases (the ones the backup recorded)",
                system="sql",
                operation="validate input",
            )
        if p["databases"] is not None and not dbs:
            raise errors.ValidationError("databases is empty", system="sql", operation="validate input")
        validate_db_name(p["tenant_database"])
        if not FOLDER_RE.match(p["folder"] or ""):
            raise errors.ValidationError(
                "folder %r is not a Windows folder path such as C:\\acs\\dbbackup" % p["folder"],
                system="sql",
                operation="validate input",
                resource=p["folder"],
            )
        if not TAG_RE.match(p["backup_name"] or ""):
            raise errors.ValidationError(
                "backup_name %r may only hold letters, digits, '.', '_' and '-' (at most 64)" % p["backup_name"],
                system="sql",
                operation="validate input",
                resource=p["backup_name"],
            )
    except errors.UmpError as e:
        errors.fail_module(module, e)

    def file_for(db):
        given = {k.lower(): v for k, v in (p["files"] or {}).items()}.get(db.lower())
        if given is not None and not FOLDER_RE.match(str(given)):
            raise errors.ValidationError(
                "backup file %r for %s is not a Windows path" % (given, db),
                system="sql",
                operation="validate input",
                resource=str(given),
            )
        return given or backup_file(p["folder"], db, p["backup_name"])

    files = {}
    try:
        for db in dbs:
            files[db] = file_for(db)
    except errors.UmpError as e:
        errors.fail_module(module, e)

    client = SqlClient.from_module(module, database="master")
    op = p["operation"]
    check = module.check_mode

    def work(c):
        c.messages = []
        out = []
        listing = list_databases(c)
        existing = {d["name"].lower(): d["name"] for d in listing}
        if p["databases"] is None:
            picked = pick_databases([d["name"] for d in listing], p["tenant_database"], p["customer_database_prefix"])
            if picked is None:
                raise errors.NotFoundError(
                    "database %s is not on SQL Server %s" % (p["tenant_database"], c.target),
                    system="sql",
                    operation="list databases",
                    resource=p["tenant_database"],
                    remedy="check ump_sql_server/ump_sql_port and ump_sql_backend (the server that holds the UMP databases)",
                )
            del dbs[:]
            for db in picked:
                validate_db_name(db)
                dbs.append(db)
                files[db] = file_for(db)
        for db in dbs:
            if op != "restore" and db.lower() not in existing:
                raise errors.NotFoundError(
                    "database %s does not exist on %s" % (db, c.target),
                    system="sql",
                    operation=op,
                    resource=db,
                    remedy="list the databases with ump365.upgrade.sql_info and pass existing names",
                )
        if op == "backup":
            wanted = {d.lower() for d in dbs}
            check_free_space(c, sum(int(d.get("rows_mb") or 0) for d in listing if d["name"].lower() in wanted))
        for db in dbs:
            path = files[db]
            entry = {
                "database": db,
                "file": path,
                "size": None,
                "copy_only": None,
                "has_checksum": None,
                "verified": False,
            }
            if op == "backup":
                if check:
                    entry["action"] = "would_back_up"
                    out.append(entry)
                    continue
                # one batch: the backup, its header and (verify) RESTORE VERIFYONLY; an error stops the
                # module at the statement that raised it (the following statements only read the file)
                batch = (
                    "BACKUP DATABASE %s TO DISK = %%s WITH COPY_ONLY, CHECKSUM, INIT; RESTORE HEADERONLY FROM DISK = %%s"
                    % (quote_name(existing[db.lower()]))
                )
                params = (path, path)
                if p["verify"]:
                    batch += "; RESTORE VERIFYONLY FROM DISK = %s WITH CHECKSUM"
                    params += (path,)
                rows = c.query(batch, params, operation="back up %s" % db)
                if not rows:
                    raise errors.NotFoundError(
                        "backup file %s holds no backup set" % path,
                        system="sql",
                        operation="read backup header",
                        resource=path,
                    )
                entry["action"] = "backed_up"
                entry["verified"] = bool(p["verify"])
                hdr = rows[0]
            else:
                hdr = header(c, path, db)
            entry.update(
                size=int(hdr.get("BackupSize") or 0),
                copy_only=bool(hdr.get("IsCopyOnly")),
                has_checksum=bool(hdr.get("HasBackupChecksums")),
            )
            in_file = str(hdr.get("DatabaseName") or "")
            if in_file.lower() != db.lower():
                raise errors.ValidationError(
                    "backup file %s holds a backup of database %s, not %s; refusing to use it" % (path, in_file, db),
                    system="sql",
                    operation=op,
                    resource=path,
                    remedy="pass the file that was made from %s (see the sql_backup phase of the checkpoint)" % db,
                )
            if (p["verify"] or op == "verify") and not entry["verified"]:
                c.execute(
                    "RESTORE VERIFYONLY FROM DISK = %s" + (" WITH CHECKSUM" if entry["has_checksum"] else ""),
                    (path,),
                    operation="verify backup of %s" % db,
                )
                entry["verified"] = True
            if op == "verify":
                entry["action"] = "verified"
            elif op == "restore":
                if check:
                    entry["action"] = "would_restore"
                else:
                    c.execute(
                        "RESTORE DATABASE %s FROM DISK = %%s WITH REPLACE, RECOVERY%s"
                        % (quote_name(db), ", CHECKSUM" if entry["has_checksum"] else ""),
                        (path,),
                        operation="restore %s" % db,
                    )
                    entry["action"] = "restored"
            out.append(entry)
        return out

    try:
        backups = client.run(work)
    except errors.UmpError as e:
        number = e.details.get("code")
        if number == 3201:
            e.remedy = (
                "create the backup folder %s on the SQL Server (the guide requires c:/acs/dbbackup/)" % p["folder"]
            )
        elif number == 3101:
            e.retriable = False
            e.remedy = "stop what holds the database open (the UMP services sysadmin* and w3svc), then run again"
        client.close()
        errors.fail_module(module, e, messages=client.messages)
    finally:
        client.close()
    changed = op in ("backup", "restore")
    result = dict(changed=changed, databases=list(dbs), backups=backups, messages=client.messages)
    if client.retries:
        result["retries"] = client.retries
    module.exit_json(**result)


if __name__ == "__main__":
    main()
