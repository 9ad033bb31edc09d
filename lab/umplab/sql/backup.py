"""BACKUP DATABASE and RESTORE (VERIFYONLY | HEADERONLY | FILELISTONLY | DATABASE) for the lab's SQL Server.

A backup file is a file in the SQL host's Windows state (``host_state["files"]``), so it lives on that
host's OS disk and a snapshot or a disk swap carries it along. Its content is the lab's own format
(JSON, :data:`engine.LAB_BACKUP_FORMAT`): a list of backup sets, each with the database name, the server,
the options (COPY_ONLY, CHECKSUM), a SHA-256 of the data and the SQLite file gzipped in base64.
Like SQL Server's media: NOINIT (the default) appends a set, INIT/FORMAT overwrite, RESTORE takes
FILE = 1 (the first set) unless told otherwise. Messages and error numbers are SQL Server's (BACKUP
and RESTORE documentation; sys.messages 3013, 3014, 3021, 3101, 3102, 3154, 3189, 3201, 3202, 3241,
3262, 4035, 4038).
"""

from __future__ import annotations

import datetime as dt
import json
import ntpath
import sqlite3
import time
from typing import Any, Iterator

from ..world import win_key
from .engine import (
    LAB_BACKUP_FORMAT,
    Done,
    Event,
    Info,
    ResultSet,
    Session,
    SqlError,
    Tok,
    encode_backup,
    make_set,
    set_data,
    string_value,
)

SYSTEM_DBS = ("master", "tempdb", "model", "msdb")


def _value(t: Tok, params: dict[str, Any]) -> str:
    if t.kind == "var":
        for k, v in params.items():
            if k.lower() == t.text.lower():
                return "" if v is None else str(v)
        raise SqlError(137, f'Must declare the scalar variable "{t.text}".', 15)
    if t.kind == "str":
        return string_value(t)
    return t.ident()


def _parse(s: list[Tok], params: dict[str, Any], verb: str) -> tuple[str | None, str, dict[str, str | bool]]:
    """``<verb> [DATABASE name] (TO|FROM) DISK = path [WITH opt [= v], ...]`` -> (database, path, options)."""
    i = 1
    db = None
    if s[i].upper in ("DATABASE",):
        db = _value(s[i + 1], params)
        i += 2
    elif s[i].upper in ("VERIFYONLY", "HEADERONLY", "FILELISTONLY", "LABELONLY"):
        i += 1
    if i + 3 >= len(s) or s[i].upper not in ("TO", "FROM") or s[i + 1].upper != "DISK" or s[i + 2].text != "=":
        raise SqlError(102, f"Incorrect syntax near '{s[min(i, len(s) - 1)].text}'.", 15)
    path = _value(s[i + 3], params)
    i += 4
    opts: dict[str, str | bool] = {}
    if i < len(s):
        if s[i].upper != "WITH":
            raise SqlError(102, f"Incorrect syntax near '{s[i].text}'.", 15)
        i += 1
        while i < len(s):
            name = s[i].upper
            if i + 2 < len(s) and s[i + 1].text == "=":
                opts[name] = _value(s[i + 2], params)
                i += 3
            else:
                opts[name] = True
                i += 1
            if i < len(s) and s[i].text == ",":
                i += 1
    return db, path, opts


def _terminating(verb: str) -> SqlError:
    return SqlError(3013, f"{verb} is terminating abnormally.", 16)


def _device_error(path: str, code: int, text: str, verb: str) -> SqlError:
    return SqlError(
        3201,
        f"Cannot open backup device '{path}'. Operating system error {code}({text}).",
        16,
        then=_terminating(verb),
    )


def _pages(n: int) -> int:
    return max(1, -(-n // 8192))


def backup(sess: Session, s: list[Tok], params: dict[str, Any]) -> Iterator[Event]:
    verb = "BACKUP DATABASE"
    if len(s) < 2 or s[1].upper not in ("DATABASE", "LOG"):
        raise SqlError(102, f"Incorrect syntax near '{s[1].text if len(s) > 1 else 'BACKUP'}'.", 15)
    if s[1].upper == "LOG":
        raise SqlError(
            4208,
            "The statement BACKUP LOG is not allowed while the recovery model is SIMPLE. Use BACKUP DATABASE or "
            "change the recovery model using ALTER DATABASE.",
            then=_terminating("BACKUP LOG"),
        )
    name, path, opts = _parse(s, params, verb)
    srv = sess.server
    world = srv.world
    if sess.tran_id:
        raise SqlError(
            3021, "Cannot perform a backup or restore operation within a transaction.", then=_terminating(verb)
        )
    db = srv.find_database(name or "")
    if db is None:
        raise SqlError(
            911,
            f"Database '{name}' does not exist. Make sure that the name is entered correctly.",
            then=_terminating(verb),
        )
    folder = ntpath.dirname(path.replace("/", "\\"))
    with world.lock:
        missing_fault = world.take_fault("sql.backup_folder_missing", host=srv.host)
        entry = world.host_state(srv.host).get("files", {}).get(win_key(folder))
    if missing_fault is not None or entry is None or entry.get("type") != "directory":
        raise _device_error(path, 3, "The system cannot find the path specified.", verb)
    data = b"" if db.lower() in SYSTEM_DBS else _read_db(sess, db)
    with world.lock:
        full = world.take_fault("sql.disk_full", host=srv.host)
    if full is not None or len(data) * 2 > srv.free_bytes():
        raise SqlError(
            3202, f'Write on "{path}" failed: 112(There is not enough space on the disk.)', then=_terminating(verb)
        )
    started = time.monotonic()
    sess.sleep(float(world.config.get("durations", {}).get("sql_backup", 60)))
    with world.lock:
        files = world.host_state(srv.host).setdefault("files", {})
        old = files.get(win_key(path))
        sets: list[dict] = []
        if old is not None and not (opts.get("INIT") or opts.get("FORMAT")):
            try:
                sets = json.loads(old.get("content") or "")["sets"]
            except (ValueError, KeyError, TypeError):
                raise SqlError(
                    3241,
                    f"The media family on device '{path}' is incorrectly formed. SQL Server cannot process this media "
                    "family.",
                    then=_terminating(verb),
                ) from None
        bset = make_set(srv, db, data, bool(opts.get("COPY_ONLY")), bool(opts.get("CHECKSUM")), len(sets) + 1)
        bset["name"] = opts.get("NAME") if isinstance(opts.get("NAME"), str) else None
        sets.append(bset)
        content = encode_backup(sets)
        files[win_key(path)] = {
            "type": "file",
            "path": path,
            "content": content,
            "size": len(content),
            "mtime": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    world.record_sql_backup(srv.host)
    world.count("sql.backups")
    pages = _pages(len(data))
    secs = max(time.monotonic() - started, 0.001)
    yield Info(4035, f"Processed {pages} pages for database '{db}', file '{db}' on file {bset['position']}.")
    yield Info(4035, f"Processed 2 pages for database '{db}', file '{db}_log' on file {bset['position']}.")
    yield Info(
        3014,
        f"BACKUP DATABASE successfully processed {pages + 2} pages in {secs:.3f} seconds "
        f"({(pages + 2) * 8192 / 1048576 / secs:.3f} MB/sec).",
    )
    yield Done()


def _read_db(sess: Session, db: str) -> bytes:
    c = sess.server.world.sql_connect(sess.server.host, db)
    try:
        return c.serialize()
    finally:
        c.close()


def _load_sets(sess: Session, path: str, verb: str) -> list[dict]:
    world = sess.server.world
    with world.lock:
        entry = world.host_state(sess.server.host).get("files", {}).get(win_key(path))
        content = None if entry is None else entry.get("content")
    if entry is None or entry.get("type") != "file":
        raise _device_error(path, 2, "The system cannot find the file specified.", verb)
    try:
        doc = json.loads(content or "")
        if doc.get("format") != LAB_BACKUP_FORMAT:
            raise ValueError
        return list(doc["sets"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SqlError(
            3241,
            f"The media family on device '{path}' is incorrectly formed. SQL Server cannot process this media family.",
            then=_terminating(verb),
        ) from None


def _pick(sets: list[dict], opts: dict, path: str, verb: str) -> dict:
    try:
        pos = int(opts.get("FILE", 1))
    except (TypeError, ValueError):
        raise SqlError(102, f"Incorrect syntax near '{opts.get('FILE')}'.", 15) from None
    for bset in sets:
        if int(bset.get("position", 0)) == pos:
            return bset
    raise SqlError(4038, f"Cannot find file ID {pos} on device '{path}'.", then=_terminating(verb))


def _verify(bset: dict, verb: str) -> bytes:
    import hashlib

    try:
        data = set_data(bset)
    except (ValueError, OSError, KeyError):
        raise SqlError(3189, "Damage to the backup set was detected.", then=_terminating(verb)) from None
    if hashlib.sha256(data).hexdigest() != bset.get("checksum"):
        raise SqlError(3189, "Damage to the backup set was detected.", then=_terminating(verb))
    return data


HEADER_COLUMNS = [
    "BackupName",
    "BackupDescription",
    "BackupType",
    "ExpirationDate",
    "Compressed",
    "Position",
    "DeviceType",
    "UserName",
    "ServerName",
    "DatabaseName",
    "DatabaseVersion",
    "DatabaseCreationDate",
    "BackupSize",
    "BackupStartDate",
    "BackupFinishDate",
    "SoftwareVersionMajor",
    "SoftwareVersionMinor",
    "SoftwareVersionBuild",
    "MachineName",
    "Collation",
    "HasBackupChecksums",
    "IsDamaged",
    "IsCopyOnly",
]


def restore(sess: Session, s: list[Tok], params: dict[str, Any]) -> Iterator[Event]:
    if len(s) < 2:
        raise SqlError(102, "Incorrect syntax near 'RESTORE'.", 15)
    kind = s[1].upper
    verb = {
        "VERIFYONLY": "VERIFY DATABASE",
        "HEADERONLY": "RESTORE HEADERONLY",
        "FILELISTONLY": "RESTORE FILELIST",
        "DATABASE": "RESTORE DATABASE",
    }.get(kind)
    if verb is None:
        raise SqlError(102, f"Incorrect syntax near '{s[1].text}'.", 15)
    name, path, opts = _parse(s, params, verb)
    srv = sess.server
    world = srv.world
    if kind == "DATABASE" and sess.tran_id:
        raise SqlError(
            3021, "Cannot perform a backup or restore operation within a transaction.", then=_terminating(verb)
        )
    sets = _load_sets(sess, path, verb)
    if kind == "HEADERONLY":
        rows = []
        for b in sets:
            major, minor, build = (str(b.get("version") or "15.0.0").split(".") + ["0", "0"])[:3]
            rows.append(
                (
                    b.get("name"),
                    None,
                    b.get("backup_type", 1),
                    None,
                    0,
                    b.get("position"),
                    2,
                    "NT SERVICE\\MSSQLSERVER",
                    b.get("server"),
                    b.get("database"),
                    904,
                    "2024-01-10 09:12:44",
                    int(b.get("size", 0)) + 2 * 8192,
                    b.get("start"),
                    b.get("finish"),
                    int(major),
                    int(minor),
                    int(build),
                    b.get("server"),
                    b.get("collation"),
                    1 if b.get("has_checksum") else 0,
                    0,
                    1 if b.get("copy_only") else 0,
                )
            )
        yield ResultSet(HEADER_COLUMNS, rows)
        yield Done()
        return
    bset = _pick(sets, opts, path, verb)
    if kind == "FILELISTONLY":
        dbn = bset.get("database")
        yield ResultSet(
            ["LogicalName", "PhysicalName", "Type", "FileGroupName", "Size"],
            [
                (
                    dbn,
                    f"C:\\Program Files\\Microsoft SQL Server\\MSSQL15.MSSQLSERVER\\MSSQL\\DATA\\{dbn}.mdf",
                    "D",
                    "PRIMARY",
                    int(bset.get("size", 0)),
                ),
                (
                    f"{dbn}_log",
                    f"C:\\Program Files\\Microsoft SQL Server\\MSSQL15.MSSQLSERVER\\MSSQL\\DATA\\{dbn}_log.ldf",
                    "L",
                    None,
                    8 * 1024 * 1024,
                ),
            ],
        )
        yield Done()
        return
    if kind == "VERIFYONLY":
        if opts.get("CHECKSUM") and not bset.get("has_checksum"):
            raise SqlError(
                3187,
                "RESTORE WITH CHECKSUM cannot be specified because the backup set does not contain checksum "
                "information.",
                then=_terminating(verb),
            )
        _verify(bset, verb)
        yield Info(3262, f"The backup set on file {bset['position']} is valid.")
        yield Done()
        return
    # RESTORE DATABASE
    target = name or ""
    if target.lower() in SYSTEM_DBS:
        raise SqlError(
            3108,
            "To restore the master database, the server must be running in single-user mode.",
            then=_terminating(verb),
        )
    existing = srv.find_database(target)
    if existing is not None and not opts.get("REPLACE") and str(bset.get("database")).lower() != target.lower():
        raise SqlError(
            3154,
            f"The backup set holds a backup of a database other than the existing '{existing}' database.",
            then=_terminating(verb),
        )
    if existing is not None:
        if sess.database.lower() == existing.lower():
            raise SqlError(
                3102,
                f"RESTORE cannot process database '{existing}' because it is in use by this session. It is "
                "recommended that the master database be used when performing this operation.",
                then=_terminating(verb),
            )
        with world.lock:
            busy = world.take_fault("sql.open_connections", host=srv.host, database=existing)
        if busy is not None or srv.users_of(existing, sess):
            raise SqlError(
                3101, "Exclusive access could not be obtained because the database is in use.", then=_terminating(verb)
            )
    data = _verify(bset, verb)
    if len(data) > srv.free_bytes():
        raise SqlError(
            3257,
            f"There is insufficient free space on disk volume 'C:\\' to create the database. The database requires "
            f"{len(data)} additional free bytes, while {srv.free_bytes()} bytes are available.",
            then=SqlError(
                3119,
                "Problems were identified while planning for the RESTORE statement. Previous messages provide details.",
                then=_terminating(verb),
            ),
        )
    started = time.monotonic()
    sess.sleep(float(world.config.get("durations", {}).get("sql_restore", 90)))
    dbname = existing or target
    if existing is None:
        with world.lock:
            world.sql_state(srv.host)["databases"].append(dbname)
    src = sqlite3.connect(":memory:")
    try:
        src.deserialize(data)
        dst = sqlite3.connect(world.sql_path(srv.host, dbname), timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    world.count("sql.restores")
    pages = _pages(len(data))
    secs = max(time.monotonic() - started, 0.001)
    yield Info(4035, f"Processed {pages} pages for database '{dbname}', file '{dbname}' on file {bset['position']}.")
    yield Info(
        3014,
        f"RESTORE DATABASE successfully processed {pages} pages in {secs:.3f} seconds "
        f"({pages * 8192 / 1048576 / secs:.3f} MB/sec).",
    )
    yield Done()
