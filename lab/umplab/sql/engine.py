"""T-SQL on SQLite: what the lab's SQL Server runs for one TDS session.

Statements are translated once (cached) from the T-SQL subset that UMP automation and SQL Server
drivers send to SQLite; what SQLite cannot express (USE, SET, transactions, BACKUP/RESTORE, system
procedures, SERVERPROPERTY) is executed here. Errors carry SQL Server's numbers, severities and
message texts (sys.messages of SQL Server 2019; cited per error below) so clients see what they
would see from a real server.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import gzip
import hashlib
import json
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..world import World, win_key

LAB_BACKUP_FORMAT = "umplab-mssql-backup/1"


class Cancelled(Exception):
    """The client sent an attention while the request ran: stop, and answer DONE with DONE_ATTN."""


class SqlError(Exception):
    """A SQL Server error message (number, severity, state), optionally followed by another (e.g. 3013)."""

    def __init__(self, number: int, message: str, severity: int = 16, state: int = 1, then: "SqlError | None" = None):
        super().__init__(message)
        self.number = number
        self.message = message
        self.severity = severity
        self.state = state
        self.then = then

    def chain(self) -> list["SqlError"]:
        out: list[SqlError] = [self]
        if self.then is not None:
            out += self.then.chain()
        return out


def invalid_object(name: str) -> SqlError:
    return SqlError(208, f"Invalid object name '{name}'.", 16)


# ------------------------------------------------------------------------------------------ events
@dataclass
class ResultSet:
    names: list[str]
    rows: list[tuple]
    curcmd: int = 0xC1  # SELECT


@dataclass
class RowCount:
    count: int
    curcmd: int


@dataclass
class Done:
    curcmd: int = 0


@dataclass
class Info:
    number: int
    text: str
    severity: int = 0


@dataclass
class EnvChange:
    kind: int  # wire.ENV_*
    new: Any
    old: Any = ""


Event = ResultSet | RowCount | Done | Info | EnvChange

# ------------------------------------------------------------------------------------------ lexing
_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<comment>--[^\n]*|/\*.*?\*/)|(?P<str>N?'(?:[^']|'')*')|(?P<dq>"(?:[^"]|"")*")"""
    r"""|(?P<br>\[(?:[^\]]|\]\])*\])|(?P<var>@@?\w+)|(?P<word>[A-Za-z_#][\w$#]*)|(?P<num>\d+(?:\.\d+)?)|(?P<op>.)""",
    re.S,
)


@dataclass
class Tok:
    kind: str
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper()

    def ident(self) -> str:
        """The identifier this token names (brackets and quotes removed)."""
        if self.kind == "br":
            return self.text[1:-1].replace("]]", "]")
        if self.kind == "dq":
            return self.text[1:-1].replace('""', '"')
        return self.text


def lex(sql: str) -> list[Tok]:
    return [Tok(m.lastgroup or "op", m.group()) for m in _TOKEN.finditer(sql)]


def split_statements(sql: str) -> list[list[Tok]]:
    stmts: list[list[Tok]] = []
    cur: list[Tok] = []
    for t in lex(sql):
        if t.kind == "comment":
            continue
        if t.kind == "op" and t.text == ";":
            if any(x.kind != "ws" for x in cur):
                stmts.append(cur)
            cur = []
        else:
            cur.append(t)
    if any(x.kind != "ws" for x in cur):
        stmts.append(cur)
    return stmts


def sig(tokens: list[Tok]) -> list[Tok]:
    return [t for t in tokens if t.kind != "ws"]


def string_value(t: Tok) -> str:
    s = t.text[1:] if t.text[:1] in "Nn" else t.text
    return s[1:-1].replace("''", "'")


_HINTS = {"NOLOCK", "UPDLOCK", "ROWLOCK", "HOLDLOCK", "READPAST", "XLOCK", "TABLOCK", "TABLOCKX", "SERIALIZABLE"}
_FUNC_RENAMES = {"ISNULL": "IFNULL", "LEN": "LENGTH"}


@dataclass
class Translated:
    sql: str
    write: bool
    locking: bool
    curcmd: int
    refs_sys: bool


@functools.lru_cache(maxsize=512)
def translate(stmt: str) -> Translated:
    """One T-SQL statement as SQLite SQL. Cached: drivers send the same text again and again."""
    toks = lex(stmt)
    out: list[str] = []
    s = sig(toks)
    first = s[0].upper if s else ""
    locking = False
    top: str | None = None
    i = 0
    while i < len(toks):
        t = toks[i]
        u = t.upper
        nxt = _next_sig(toks, i)
        if t.kind == "str":
            out.append("'" + string_value(t).replace("'", "''") + "'")
        elif t.kind == "var" and t.text.startswith("@@"):
            out.append(f"__atat('{t.text[2:].upper()}')")
        elif t.kind in ("word", "br") and t.ident().lower() == "dbo" and nxt and nxt[1].text == ".":
            # one database per SQLite file: the dbo schema is the file itself
            i = nxt[0] + 1
            continue
        elif t.kind == "word" and u in _FUNC_RENAMES and nxt and nxt[1].text == "(":
            out.append(_FUNC_RENAMES[u])
        elif t.kind == "word" and u == "TOP" and top is None and nxt:
            # SELECT TOP (n) / TOP n  ->  LIMIT n
            j, n = nxt
            if n.text == "(":
                close = _next_sig(toks, j)
                end = _next_sig(toks, close[0]) if close else None
                top = close[1].text if close else "1"
                i = (end[0] + 1) if end else len(toks)
            else:
                top = n.text
                i = j + 1
            continue
        elif t.kind == "word" and u == "WITH" and nxt and nxt[1].text == "(":
            inner = _next_sig(toks, nxt[0])
            if inner and inner[1].upper in _HINTS:
                # table hints: skip to the closing parenthesis; UPDLOCK/XLOCK ask for the write lock now
                j = nxt[0]
                while j < len(toks) and toks[j].text != ")":
                    if toks[j].upper in ("UPDLOCK", "XLOCK", "TABLOCKX", "HOLDLOCK", "SERIALIZABLE"):
                        locking = True
                    j += 1
                i = j + 1
                continue
            out.append(t.text)
        else:
            out.append(t.text)
        i += 1
    sql = "".join(out).strip()
    if top is not None:
        sql += f" LIMIT {top}"
    write = first in ("INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE")
    curcmd = {"SELECT": 0xC1, "INSERT": 0xC3, "DELETE": 0xC4, "UPDATE": 0xC5}.get(first, 0)
    if first == "TRUNCATE":
        sql = re.sub(r"(?i)^TRUNCATE\s+TABLE", "DELETE FROM", sql)
    refs_sys = bool(re.search(r"(?i)\b(sys|information_schema)\s*\.", sql))
    return Translated(sql, write, locking, curcmd, refs_sys)


def _next_sig(toks: list[Tok], i: int) -> tuple[int, Tok] | None:
    for j in range(i + 1, len(toks)):
        if toks[j].kind not in ("ws", "comment"):
            return j, toks[j]
    return None


# ------------------------------------------------------------------------------------------ server state
class SqlServer:
    """One SQL Server instance (a lab host with ``host_state["sql"]``) shared by its TDS sessions."""

    def __init__(self, world: World, host: str):
        self.world = world
        self.host = host
        self.lock = threading.Lock()
        self.sessions: set[Session] = set()
        self._spid = 50
        self._tran = 0

    def next_spid(self) -> int:
        with self.lock:
            self._spid += 1
            return self._spid

    def next_tran(self) -> int:
        with self.lock:
            self._tran += 1
            return self._tran

    def state(self) -> dict:
        return self.world.sql_state(self.host)

    def config(self) -> dict:
        with self.world.lock:
            return dict(self.state())

    def collation(self) -> str:
        with self.world.lock:
            wrong = self.world.take_fault("sql.wrong_collation", host=self.host)
            if wrong is not None:
                return str(wrong.get("collation", "Latin1_General_CI_AS"))
            return self.state().get("collation", "SQL_Latin1_General_CP1_CI_AS")

    def databases(self) -> list[str]:
        return ["master", "tempdb", "model", "msdb"] + self.world.sql_databases(self.host)

    def find_database(self, name: str) -> str | None:
        for db in self.databases():
            if db.lower() == name.lower():
                return db
        return None

    def users_of(self, db: str, but: "Session") -> int:
        with self.lock:
            others = [s for s in self.sessions if s is not but and s.database.lower() == db.lower()]
        return sum(1 for s in others if s.is_open())

    def product(self) -> str:
        c = self.config()
        hs = self.world.host_state(self.host)
        return (
            f"{c.get('product', 'Microsoft SQL Server 2019')} \n\tJul 27 2024 15:39:12 \n\t"
            f"Copyright (C) 2019 Microsoft Corporation\n\t{c.get('edition', 'Standard Edition (64-bit)')} on "
            f"{hs.get('os', {}).get('product_name', 'Windows Server 2019 Datacenter')} 10.0 <X64> (Build 17763: ) "
            "(Hypervisor)\n"
        )

    def version_tuple(self) -> tuple[int, int, int]:
        parts = [int(p) for p in str(self.config().get("version", "15.0.4375.4")).split(".")[:3]]
        return (parts + [0, 0, 0])[0], (parts + [0, 0, 0])[1], (parts + [0, 0, 0])[2]

    def serverproperty(self, name: str) -> Any:
        c = self.config()
        n = (name or "").lower()
        product = str(c.get("product", ""))
        m = re.search(r"\((RTM|SP\d)(?:-(CU\d+))?\)", product)
        return {
            "collation": self.collation(),
            "productversion": c.get("version"),
            "edition": c.get("edition"),
            "editionid": 1872460670 if "Enterprise" in str(c.get("edition")) else -1534726760,
            "engineedition": 3 if "Enterprise" in str(c.get("edition")) else 2,
            "productlevel": m.group(1) if m else "RTM",
            "productupdatelevel": m.group(2) if m and m.group(2) else None,
            "productmajorversion": str(self.version_tuple()[0]),
            "machinename": self.world.sql_server_name(self.host).split("\\")[0],
            "servername": self.world.sql_server_name(self.host),
            "instancename": self.world.sql_instance(self.host),
            "isclustered": 0,
            "ishadrenabled": 0,
            "isintegratedsecurityonly": 0,
            "issingleuser": 0,
            "lcid": 1033,
            "sqlcharsetname": "iso_1",
            "sqlsortordername": "nocase_iso",
        }.get(n)

    def backup_dir(self) -> str:
        return str(self.config().get("backup_dir", "C:\\acs\\dbbackup"))

    def free_bytes(self) -> int:
        with self.world.lock:
            if self.world.peek_fault("sql.disk_full", host=self.host) is not None:
                return 0
            return int(self.state().get("free_mb", 61000)) * 1024 * 1024


# ------------------------------------------------------------------------------------------ session
@dataclass
class Session:
    server: SqlServer
    user: str
    database: str = "master"
    spid: int = 0
    nocount: bool = False
    tran_id: int = 0
    rowcount: int = 0
    conns: dict[str, sqlite3.Connection] = field(default_factory=dict)
    in_tx: set[str] = field(default_factory=set)
    is_open: Any = lambda: True  # the TDS server replaces it with a check of the client's socket
    cancel: threading.Event = field(default_factory=threading.Event)  # set when an attention arrives

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    @property
    def world(self) -> World:
        return self.server.world

    def close(self) -> None:
        for c in self.conns.values():
            try:
                c.rollback()
                c.close()
            except sqlite3.Error:
                pass
        self.conns.clear()
        self.in_tx.clear()
        self.tran_id = 0

    # -------------------------------------------------------------- connections
    def conn(self, db: str) -> sqlite3.Connection:
        key = db.lower()
        c = self.conns.get(key)
        if c is None:
            if key in ("master", "tempdb", "model", "msdb"):
                c = sqlite3.connect(":memory:", check_same_thread=False)
            else:
                try:
                    c = self.world.sql_connect(self.server.host, db)
                except KeyError:
                    raise SqlError(
                        911, f"Database '{db}' does not exist. Make sure that the name is entered correctly."
                    ) from None
                c.row_factory = None
            c.isolation_level = None  # we issue BEGIN/COMMIT ourselves
            c.execute("ATTACH DATABASE ':memory:' AS sys")
            c.execute("ATTACH DATABASE ':memory:' AS information_schema")
            self._functions(c, db)
            self.conns[key] = c
        return c

    def _functions(self, c: sqlite3.Connection, db: str) -> None:
        srv = self.server
        now = lambda: dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]  # noqa: E731
        c.create_function("SERVERPROPERTY", 1, srv.serverproperty)
        c.create_function("DB_NAME", 0, lambda: self.database)
        c.create_function("DB_ID", 1, lambda n: self._db_id(n))
        c.create_function("DB_ID", 0, lambda: self._db_id(self.database))
        c.create_function("__atat", 1, self._atat)
        c.create_function("GETDATE", 0, now)
        c.create_function("GETUTCDATE", 0, now)
        c.create_function("SYSUTCDATETIME", 0, now)
        c.create_function("SYSDATETIME", 0, now)
        c.create_function("NEWID", 0, lambda: str(uuid.uuid4()).upper())
        c.create_function("SUSER_SNAME", 0, lambda: self.user)
        c.create_function("HOST_NAME", 0, lambda: "")
        c.create_function("QUOTENAME", 1, lambda s: None if s is None else "[" + str(s).replace("]", "]]") + "]")
        c.create_function("ISJSON", 1, _isjson)
        c.create_function("DATABASEPROPERTYEX", 2, self._dbprop)
        c.create_function("OBJECT_ID", 1, lambda n: self._object_id(c, n))

    def _db_id(self, name: str | None) -> int | None:
        dbs = self.server.databases()
        for n, db in enumerate(dbs):
            if name is not None and db.lower() == str(name).lower():
                return n + 1
        return None

    def _dbprop(self, name: str, prop: str) -> Any:
        if self.server.find_database(str(name)) is None:
            return None
        p = str(prop).lower()
        return {"collation": self.server.collation(), "status": "ONLINE", "recovery": "SIMPLE"}.get(p)

    def _object_id(self, c: sqlite3.Connection, name: str | None) -> int | None:
        if not name:
            return None
        table = re.sub(r"^(\[?dbo\]?\.)", "", str(name), flags=re.I).strip("[]")
        row = c.execute("SELECT rowid FROM sqlite_master WHERE type='table' AND name=? COLLATE NOCASE", (table,))
        r = row.fetchone()
        return None if r is None else 1000 + r[0]

    def _atat(self, name: str) -> Any:
        n = name.upper()
        return {
            "VERSION": self.server.product(),
            "SERVERNAME": self.server.world.sql_server_name(self.server.host),
            "SPID": self.spid,
            "TRANCOUNT": 1 if self.tran_id else 0,
            "ROWCOUNT": self.rowcount,
            "LANGUAGE": "us_english",
            "MAX_PRECISION": 38,
        }.get(n)

    def _refresh_sys(self, c: sqlite3.Connection) -> None:
        srv = self.server
        dbs = srv.databases()
        collation = srv.collation()
        c.executescript(
            "DROP TABLE IF EXISTS sys.databases; DROP TABLE IF EXISTS sys.master_files;"
            "DROP TABLE IF EXISTS information_schema.tables;"
            "CREATE TABLE sys.databases (name TEXT, database_id INTEGER, collation_name TEXT, state_desc TEXT,"
            " recovery_model_desc TEXT, user_access_desc TEXT, compatibility_level INTEGER, create_date TEXT,"
            " is_read_only INTEGER);"
            "CREATE TABLE sys.master_files (database_id INTEGER, file_id INTEGER, type_desc TEXT, name TEXT,"
            " physical_name TEXT, size INTEGER, max_size INTEGER, growth INTEGER);"
            "CREATE TABLE information_schema.tables (TABLE_CATALOG TEXT, TABLE_SCHEMA TEXT, TABLE_NAME TEXT,"
            " TABLE_TYPE TEXT);"
        )
        data = "C:\\Program Files\\Microsoft SQL Server\\MSSQL15.MSSQLSERVER\\MSSQL\\DATA\\"
        for n, db in enumerate(dbs):
            c.execute(
                "INSERT INTO sys.databases VALUES (?,?,?,?,?,?,?,?,?)",
                (db, n + 1, collation, "ONLINE", "SIMPLE", "MULTI_USER", 150, "2024-01-10 09:12:44.000", 0),
            )
            pages = 1024
            if n >= 4:
                try:
                    pages = max(1024, -(-srv.world.sql_path(srv.host, db).stat().st_size // 8192))
                except OSError:
                    pass
            c.execute(
                "INSERT INTO sys.master_files VALUES (?,?,?,?,?,?,?,?)",
                (n + 1, 1, "ROWS", db, f"{data}{db}.mdf", pages, -1, 8192),
            )
            c.execute(
                "INSERT INTO sys.master_files VALUES (?,?,?,?,?,?,?,?)",
                (n + 1, 2, "LOG", f"{db}_log", f"{data}{db}_log.ldf", 1024, 268435456, 8192),
            )
        if self.database.lower() not in ("master", "tempdb", "model", "msdb"):
            main = self.conn(self.database)
            for (name,) in main.execute("SELECT name FROM main.sqlite_master WHERE type='table' ORDER BY name"):
                c.execute(
                    "INSERT INTO information_schema.tables VALUES (?,?,?,?)",
                    (self.database, "dbo", name, "BASE TABLE"),
                )

    # -------------------------------------------------------------- transactions
    def begin(self) -> list[Event]:
        if self.tran_id:
            return []
        self.tran_id = self.server.next_tran()
        return [EnvChange(8, self.tran_id.to_bytes(8, "little"), b"")]

    def _end(self, commit: bool) -> list[Event]:
        if not self.tran_id:
            return []
        for key in list(self.in_tx):
            c = self.conns.get(key)
            if c is not None and c.in_transaction:
                if commit:
                    try:
                        c.execute("COMMIT")
                    except sqlite3.OperationalError as e:
                        raise self._map(e, "") from None
                else:
                    c.execute("ROLLBACK")
        self.in_tx.clear()
        old = self.tran_id
        self.tran_id = 0
        return [EnvChange(9 if commit else 10, b"", old.to_bytes(8, "little"))]

    def commit(self) -> list[Event]:
        return self._end(True)

    def rollback(self) -> list[Event]:
        return self._end(False)

    # -------------------------------------------------------------- execution
    def run(self, sql: str, params: dict[str, Any] | None = None) -> Iterator[Event]:
        """Execute a batch (or the statement of an sp_executesql) statement by statement."""
        self.server.world.count("sql.statements")
        for stmt in split_statements(sql):
            if self.cancel.is_set():
                raise Cancelled()
            yield from self._statement(stmt, params or {})

    def sleep(self, real_seconds: float) -> None:
        """A slow operation's scaled duration (world.lab_sleep), cut short by an attention."""
        d = self.world.duration(real_seconds)
        self.world.count("lab.critical_path_seconds", d)
        if d > 0 and self.cancel.wait(d):
            raise Cancelled()

    def _statement(self, toks: list[Tok], params: dict[str, Any]) -> Iterator[Event]:
        s = sig(toks)
        head = [t.upper for t in s[:3]]
        text = "".join(t.text for t in toks).strip()
        if head[0] == "USE":
            yield from self.use(s[1].ident() if len(s) > 1 else "")
        elif head[0] == "SET":
            if len(s) >= 3 and head[1] == "NOCOUNT":
                self.nocount = head[2] == "ON"
            yield Done()
        elif head[0] == "BEGIN" and len(head) > 1 and head[1] in ("TRAN", "TRANSACTION"):
            yield from self.begin()
            yield Done()
        elif head[0] in ("COMMIT", "ROLLBACK"):
            if not self.tran_id:
                n = 3902 if head[0] == "COMMIT" else 3903
                verb = "COMMIT TRANSACTION" if n == 3902 else "ROLLBACK TRANSACTION"
                raise SqlError(n, f"The {verb} request has no corresponding BEGIN TRANSACTION.")
            yield from (self.commit() if head[0] == "COMMIT" else self.rollback())
            yield Done()
        elif head[0] == "PRINT":
            yield Info(0, string_value(s[1]) if len(s) > 1 and s[1].kind == "str" else "", 0)
            yield Done()
        elif head[0] in ("EXEC", "EXECUTE"):
            yield from self.exec_proc(s[1:], params)
        elif head[0] == "BACKUP":
            from .backup import backup

            yield from backup(self, s, params)
        elif head[0] == "RESTORE":
            from .backup import restore

            yield from restore(self, s, params)
        else:
            yield from self.sqlite(text, params)

    def use(self, name: str) -> Iterator[Event]:
        db = self.server.find_database(name)
        if db is None:
            raise SqlError(911, f"Database '{name}' does not exist. Make sure that the name is entered correctly.")
        old, self.database = self.database, db
        yield EnvChange(1, db, old)
        yield Info(5701, f"Changed database context to '{db}'.")
        yield Done()

    def exec_proc(self, s: list[Tok], params: dict[str, Any]) -> Iterator[Event]:
        name = "".join(t.text for t in s[:5] if t.kind in ("word", "br", "op") and t.text != ",").lower()
        name = re.split(r"[ @]", name)[0]
        proc = name.replace("[", "").replace("]", "").split(".")[-1]
        if proc == "xp_fixeddrives":
            # documented result: one row per fixed drive, columns "drive" and "MB free"
            free_mb = self.server.free_bytes() // (1024 * 1024)
            yield ResultSet(["drive", "MB free"], [("C", int(free_mb))])
            yield Done()
            return
        if proc == "sp_databases":
            rows = []
            for db in self.server.databases():
                rows.append((db, 8192, None))
            yield ResultSet(["DATABASE_NAME", "DATABASE_SIZE", "REMARKS"], rows)
            yield Done()
            return
        raise SqlError(2812, f"Could not find stored procedure '{proc}'.")

    def sqlite(self, text: str, params: dict[str, Any]) -> Iterator[Event]:
        tr = translate(text)
        c = self.conn(self.database)
        if tr.refs_sys:
            self._refresh_sys(c)
        key = self.database.lower()
        if self.tran_id and key not in self.in_tx and not c.in_transaction:
            c.execute("BEGIN IMMEDIATE" if (tr.write or tr.locking) else "BEGIN")
            self.in_tx.add(key)
        if tr.write and key not in ("master", "tempdb", "model", "msdb"):
            with self.world.lock:
                full = self.world.peek_fault("sql.disk_full", host=self.server.host)
            if full is not None:
                raise SqlError(
                    1105,
                    f"Could not allocate space for object 'dbo.{_first_table(text)}' in database '{self.database}' "
                    "because the 'PRIMARY' filegroup is full. Create disk space by deleting unneeded files, dropping "
                    "objects in the filegroup, adding additional files to the filegroup, or setting autogrowth on "
                    "for existing files in the filegroup.",
                    17,
                    2,
                )
        bind = {k.lstrip("@"): v for k, v in params.items()}
        try:
            cur = c.execute(tr.sql, bind)
        except (sqlite3.Error, OverflowError) as e:
            raise self._map(e, text) from None
        if cur.description is not None:
            names = [d[0] for d in cur.description]
            rows = [tuple(r) for r in cur.fetchall()]
            self.rowcount = len(rows)
            yield ResultSet(names, rows, tr.curcmd)
        else:
            self.rowcount = max(cur.rowcount, 0)
            if tr.curcmd in (0xC3, 0xC4, 0xC5):
                yield RowCount(self.rowcount, tr.curcmd)
            else:
                yield Done(tr.curcmd)

    def _map(self, e: Exception, text: str) -> SqlError:
        msg = str(e)
        m = re.match(r"no such table: (?:\w+\.)?(.+)", msg)
        if m:
            return invalid_object(m.group(1))
        m = re.match(r"no such column: (.+)", msg)
        if m:
            return SqlError(207, f"Invalid column name '{m.group(1).split('.')[-1]}'.")
        m = re.match(r'near "(.*)": syntax error', msg)
        if m:
            return SqlError(102, f"Incorrect syntax near '{m.group(1)}'.", 15)
        if "incomplete input" in msg:
            return SqlError(102, "Incorrect syntax near the end of the batch.", 15)
        m = re.match(r"no such function: (.+)", msg)
        if m:
            return SqlError(195, f"'{m.group(1)}' is not a recognized built-in function name.", 15)
        m = re.match(r"UNIQUE constraint failed: (\w+)\.(\w+)", msg)
        if m:
            return SqlError(
                2627,
                f"Violation of PRIMARY KEY constraint 'PK_{m.group(1)}'. Cannot insert duplicate key in object "
                f"'dbo.{m.group(1)}'.",
                14,
            )
        m = re.match(r"NOT NULL constraint failed: (\w+)\.(\w+)", msg)
        if m:
            return SqlError(
                515,
                f"Cannot insert the value NULL into column '{m.group(2)}', table '{self.database}.dbo.{m.group(1)}'; "
                "column does not allow nulls. INSERT fails.",
            )
        if "database is locked" in msg or "database table is locked" in msg:
            return SqlError(
                1205,
                f"Transaction (Process ID {self.spid}) was deadlocked on lock resources with another process and has "
                "been chosen as the deadlock victim. Rerun the transaction.",
                13,
            )
        if "Incorrect number of bindings" in msg or "You did not supply a value for binding" in msg:
            return SqlError(137, 'Must declare the scalar variable "@P1".', 15)
        return SqlError(50000, f"lab SQL engine: {msg}", 16)


def _first_table(text: str) -> str:
    m = re.search(r"(?i)\b(?:INTO|UPDATE|FROM)\s+(?:\[?dbo\]?\.)?\[?(\w+)", text)
    return m.group(1) if m else "?"


def _isjson(s: Any) -> int | None:
    if s is None:
        return None
    try:
        v = json.loads(s)
    except (TypeError, ValueError):
        return 0
    return 1 if isinstance(v, (dict, list)) else 0


# ------------------------------------------------------------------------------------------ backup files
def encode_backup(sets: list[dict]) -> str:
    return json.dumps({"format": LAB_BACKUP_FORMAT, "sets": sets}, sort_keys=True)


def make_set(server: SqlServer, db: str, data: bytes, copy_only: bool, checksum: bool, position: int) -> dict:
    started = time.time()
    return {
        "position": position,
        "database": db,
        "server": server.world.sql_server_name(server.host),
        "backup_type": 1,
        "copy_only": copy_only,
        "has_checksum": checksum,
        "checksum": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "collation": server.collation(),
        "version": server.config().get("version"),
        "start": dt.datetime.fromtimestamp(started, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        "finish": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        "data": base64.b64encode(gzip.compress(data, mtime=0)).decode(),
    }


def set_data(bset: dict) -> bytes:
    return gzip.decompress(base64.b64decode(bset["data"]))


def file_entry(world: World, host: str, path: str) -> dict | None:
    return world.host_state(host).get("files", {}).get(win_key(path))
