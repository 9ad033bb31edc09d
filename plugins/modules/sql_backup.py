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
    database or that another SQL Server instance made (its C(ServerName) is not this instance's
    C(@@SERVERNAME)), then verifies it and runs C(RESTORE DATABASE ... WITH REPLACE, RECOVERY).
  - Without O(databases), a backup takes only this UMP server's databases, that is O(tenant_database) and the
    C(SysAdmin<customer>) databases of the customers that O(tenant_database) lists; a database with the
    customer prefix that it cannot attribute to this server fails the backup (nothing is written), so
    two UMP servers never back up or restore each other's databases.
  - With O(lock_dir), backups and restores on one SQL Server machine (C(SERVERPROPERTY('MachineName')),
    whatever the instance) run one at a time across the fleet, with a lock file per machine on the controller.
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
  customer_table:
    description:
      - The table in O(tenant_database) that lists this UMP server's customers (C(schema.table)); their
        databases are O(customer_database_prefix) plus the short name in O(customer_column).
      - Not public (docs/assumptions.md); the lab's SysAdminTenant schema is the default.
    type: str
    default: dbo.Customer
  customer_column:
    description: The column of O(customer_table) that holds the customer short name.
    type: str
    default: CustomerShortName
  lock_dir:
    description:
      - A folder on the controller for one lock file per SQL Server machine; backups and restores on the same
        machine wait for each other (up to O(lock_timeout) seconds). Omitted, no lock is taken.
    type: path
  lock_timeout:
    description: Seconds to wait for another host's backup or restore on the same SQL Server machine.
    type: int
    default: 3600
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
server_name:
  description: The instance's C(@@SERVERNAME) (C(MACHINE) or C(MACHINE\INSTANCE)); a restore refuses files another instance made.
  returned: always
  type: str
  sample: SQL01\UMP02
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

import os
import re
import time

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

TAG_RE = re.compile(r"^[A-Za-z0-9_.\-]{0,128}$")
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


def customer_query(table, column):
    """``SELECT [column] FROM [schema].[table]`` with every part validated and quoted (QUOTENAME rules)."""
    parts = str(table).split(".")
    if not 1 <= len(parts) <= 2:
        raise errors.ValidationError(
            "customer_table %r is not schema.table" % table, system="sql", operation="validate input", resource=table
        )
    for part in parts + [column]:
        validate_db_name(part)
    return "SELECT %s FROM %s" % (quote_name(column), ".".join(quote_name(x) for x in parts))


def attribute_databases(client, names, tenant, prefix, query):
    """This UMP server's databases: the tenant database and ``<prefix><short name>`` of every customer the
    tenant database lists. A prefixed database it does not list is an error naming it (it may be another
    UMP server's: never back it up or restore over it)."""
    lowered = {n.lower(): n for n in names}
    if tenant.lower() not in lowered:
        return None, []
    client.execute("USE %s" % quote_name(lowered[tenant.lower()]), operation="list this server's customers")
    try:
        listed = client.query(query, operation="list this server's customers")
    finally:
        client.execute("USE master", operation="list this server's customers")
    mine = []
    for r in listed:
        short = next(iter(r.values()), None) if isinstance(r, dict) else (r[0] if r else None)
        if not isinstance(short, str) or not short:
            raise errors.RemoteError(
                "the customer list of %s has a row without a short name: %r" % (tenant, r),
                system="sql",
                operation="list this server's customers",
                resource=tenant,
                remedy="check customer_table and customer_column (where SysAdminTenant lists the UMP server's "
                "customers)",
            )
        db = lowered.get((prefix + short).lower())
        if db is not None:
            mine.append(db)
    strangers = [
        n
        for n in names
        if n.lower().startswith(prefix.lower())
        and n.lower() != tenant.lower()
        and n.lower() not in SYSTEM_DATABASES
        and n not in mine
    ]
    return [lowered[tenant.lower()]] + mine, strangers


class MachineLock:
    """One lock file per SQL Server machine on the controller (flock), so that the hosts of a fleet whose
    instances share a machine back up and restore one at a time (one disk, one backup folder)."""

    def __init__(self, folder, machine, timeout, sleep=time.sleep, clock=time.monotonic):
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", str(machine or "unknown")).lower()
        self.path = os.path.join(folder, "sql-machine-%s.lock" % safe)
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.fd = None
        self.waited = 0.0

    def __enter__(self):
        import fcntl

        if not os.path.isdir(os.path.dirname(self.path)):
            os.makedirs(os.path.dirname(self.path), 0o700, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        start = self.clock()
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.waited = round(self.clock() - start, 3)
                return self
            except OSError:
                if self.clock() - start >= self.timeout:
                    os.close(self.fd)
                    self.fd = None
                    raise errors.OperationTimeoutError(
                        "another host's backup or restore on SQL Server machine %s still runs after %d s"
                        % (self.path.rsplit("sql-machine-", 1)[-1][:-5], self.timeout),
                        system="sql",
                        operation="wait for the SQL Server machine",
                        resource=self.path,
                        remedy="wait for the other run (or remove a stale lock only if no ansible process holds it), "
                        "then run again; raise lock_timeout for large databases",
                    )
                self.sleep(1.0)

    def __exit__(self, *exc):
        if self.fd is not None:
            import fcntl

            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        return False


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
            customer_table=dict(type="str", default="dbo.Customer"),
            customer_column=dict(type="str", default="CustomerShortName"),
            lock_dir=dict(type="path"),
            lock_timeout=dict(type="int", default=3600),
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
        customer_query(p["customer_table"], p["customer_column"])
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

    ident = {}

    def work(c):
        c.messages = []
        out = []
        who = c.query(
            "SELECT @@SERVERNAME AS server_name, SERVERPROPERTY('MachineName') AS machine",
            operation="read the instance's name",
        )
        ident["server_name"] = str((who[0] if who else {}).get("server_name") or "")
        ident["machine"] = str((who[0] if who else {}).get("machine") or ident["server_name"].split("\\")[0])
        if p["lock_dir"] and not check:
            with MachineLock(p["lock_dir"], ident["machine"], p["lock_timeout"]) as lock:
                ident["lock_waited"] = lock.waited
                return work_locked(c, out)
        return work_locked(c, out)

    def work_locked(c, out):
        listing = list_databases(c)
        existing = {d["name"].lower(): d["name"] for d in listing}
        if p["databases"] is None:
            picked, strangers = attribute_databases(
                c,
                [d["name"] for d in listing],
                p["tenant_database"],
                p["customer_database_prefix"],
                customer_query(p["customer_table"], p["customer_column"]),
            )
            if strangers:
                raise errors.ValidationError(
                    "SQL Server %s holds %s, which %s does not list as this UMP server's customers; refusing to back "
                    "up (or later restore) databases that may belong to another UMP server"
                    % (ident["server_name"] or c.target, ", ".join(strangers), p["tenant_database"]),
                    system="sql",
                    operation="attribute databases",
                    resource=ident["server_name"] or c.target,
                    remedy="give each UMP server its own SQL Server instance (the guide's database names are fixed), "
                    "or remove or rename the databases that belong to no customer of this server, then run again",
                )
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
            made_on = str(hdr.get("ServerName") or "")
            if op == "restore" and ident["server_name"] and made_on and made_on.lower() != ident["server_name"].lower():
                raise errors.ValidationError(
                    "backup file %s was made on SQL Server instance %s, not on %s; refusing to restore another "
                    "instance's (another UMP server's) database" % (path, made_on, ident["server_name"]),
                    system="sql",
                    operation=op,
                    resource=path,
                    remedy="restore the files this host's own backup recorded (the sql_backup phase of its checkpoint)",
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
    result = dict(
        changed=changed,
        databases=list(dbs),
        backups=backups,
        messages=client.messages,
        server_name=ident.get("server_name", ""),
    )
    if "lock_waited" in ident:
        result["lock_waited"] = ident["lock_waited"]
    if client.retries:
        result["retries"] = client.retries
    module.exit_json(**result)


if __name__ == "__main__":
    main()
