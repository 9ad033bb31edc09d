# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one SQL Server client of the collection, on python-tds (pure Python TDS; docs/sql_driver.md).

- TLS with certificate verification by default. python-tds only encrypts when it is given a CA file
  (without one it connects with no encryption at all, silently), so this client always passes one: the
  ``ca_bundle`` option or the system's default bundle. Plain TDS only with an explicit ``encrypt=false``.
- SQL logins and Windows (NTLM) logins (python-tds ``SpnegoAuth`` over pyspnego).
- Parameters only: values travel as sp_executesql parameters. The only identifiers ever put into a
  statement are database names for BACKUP/RESTORE/USE, which are validated against :data:`DB_NAME_RE`
  and quoted with :func:`quote_name` (T-SQL QUOTENAME semantics).
- Errors become the collection's error classes (errors.py) naming the server, the login and the SQL
  Server error number; transient ones (network, deadlock victim, lock time-out) are retried with
  retry.call_with_retry.
- Every cursor is drained (``while cur.nextset()``): python-tds otherwise sends an attention before the
  next request (facts/ump_sbc_ovoc.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re
import socket
import ssl
import traceback
from contextlib import contextmanager

from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.retry import RetryPolicy, call_with_retry

try:
    import pytds
    from pytds import tds_base

    HAS_PYTDS = True
    PYTDS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    HAS_PYTDS = False
    PYTDS_IMPORT_ERROR = traceback.format_exc()

try:
    import OpenSSL.SSL

    HAS_OPENSSL = True
except ImportError:  # pragma: no cover
    HAS_OPENSSL = False

SYSTEM = "sql"

# Database names the automation handles: SysAdminTenant and SysAdmin<customer>, plus SQL Server's own.
# Stricter than SQL Server (which allows any 128 characters): letters, digits, underscore, dash and dot.
DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")

# SQL Server error numbers, by what the operator should do about them.
LOGIN_FAILED = (18456, 18452, 18486, 18487, 18488, 18470)
NOT_FOUND = {208: "object", 911: "database", 4060: "database", 2812: "stored procedure", 15151: "object", 3201: "file"}
TRANSIENT = (1205, 1222, 40613, 40197, 40501, 49918, 49919, 49920, 233, 10053, 10054, 10060, -2)
DISK_FULL = (3202, 1105, 1101, 3257, 9002)

BACKUP_CAUSES = (
    ("Cannot open backup device", 3201),
    ("not enough space on the disk", 3202),
    ("insufficient free space", 3257),
    ("Exclusive access could not be obtained", 3101),
    ("in use by this session", 3102),
    ("holds a backup of a database other than", 3154),
    ("within a transaction", 3021),
    ("Damage to the backup set", 3189),
    ("incorrectly formed", 3241),
    ("does not exist", 911),
)

SQL_ARGUMENT_SPEC = dict(
    server=dict(type="str", required=True),
    port=dict(type="int", default=1433),
    username=dict(type="str", required=True),
    password=dict(type="str", required=True, no_log=True),
    login_type=dict(type="str", default="sql", choices=["sql", "windows"]),
    database=dict(type="str", default="master"),
    ca_bundle=dict(type="path"),
    validate_certs=dict(type="bool", default=True),
    encrypt=dict(type="bool", default=True),
    timeout=dict(type="int", default=30),
    retries=dict(type="int", default=3),
)


def sql_argument_spec(**extra):
    spec = {k: dict(v) for k, v in SQL_ARGUMENT_SPEC.items()}
    spec.update(extra)
    return spec


def quote_name(name):
    """T-SQL QUOTENAME(): bracket an identifier, doubling any closing bracket."""
    if name is None or len(name) > 128:
        raise errors.ValidationError("identifier %r is empty or longer than 128 characters" % (name,), system=SYSTEM)
    return "[" + name.replace("]", "]]") + "]"


def validate_db_name(name, what="database"):
    """Reject anything but a plain database name before it is quoted into BACKUP/RESTORE/USE."""
    if not isinstance(name, str) or not DB_NAME_RE.match(name):
        raise errors.ValidationError(
            "%s name %r is not valid: use letters, digits, '_', '-' or '.', starting with a letter or '_', "
            "at most 128 characters" % (what, name),
            system=SYSTEM,
            operation="validate input",
            resource=str(name),
        )
    return name


def _is_ip(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def default_ca_bundle():
    paths = ssl.get_default_verify_paths()
    for p in (paths.cafile, paths.openssl_cafile):
        if p and os.path.isfile(p):
            return p
    return None


class PeerClosedDuringLogin(Exception):
    """The server closed or reset the connection before the login completed.

    Deliberately not a ConnectionError: python-tds treats a ConnectionError during connect() as retriable and
    waits out the whole login_timeout inside connect() even with disable_connect_retry (pytds/__init__.py
    connect -> utils.exponential_backoff), so a server that refuses logins (service stopping or starting, a
    proxy without a backend) would cost the full timeout per attempt. We retry with our own policy instead.
    """


class _LoginSocket(socket.socket):
    """A socket whose connection errors, while ``login_phase`` is set, surface as PeerClosedDuringLogin."""

    login_phase = True

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except ConnectionError as e:
            if self.login_phase:
                raise PeerClosedDuringLogin(str(e) or type(e).__name__)
            raise

    def recv(self, *args):
        return self._guard(super().recv, *args)

    def recv_into(self, *args):
        return self._guard(super().recv_into, *args)

    def send(self, *args):
        return self._guard(super().send, *args)

    def sendall(self, *args):
        return self._guard(super().sendall, *args)


def _login_socket(raw):
    """Move the connected socket ``raw`` into a _LoginSocket (same file descriptor, same options)."""
    timeout = raw.gettimeout()
    sock = _LoginSocket(raw.family, raw.type, raw.proto, fileno=raw.detach())
    sock.settimeout(timeout)
    return sock


class SqlClient:
    """One connection to one SQL Server instance (connect lazily, close with :meth:`close`)."""

    def __init__(
        self,
        server,
        username,
        password,
        port=1433,
        database="master",
        login_type="sql",
        ca_bundle=None,
        validate_certs=True,
        encrypt=True,
        timeout=30,
        retries=3,
        retry_policy=None,
        appname="ump365.upgrade",
    ):
        self.server = server
        self.port = int(port)
        self.username = username
        self._password = password
        self.database = database or "master"
        self.login_type = login_type
        self.ca_bundle = ca_bundle
        self.validate_certs = validate_certs
        self.encrypt = encrypt
        self.timeout = timeout
        self.appname = appname
        self.policy = retry_policy or RetryPolicy(max_attempts=max(1, int(retries) + 1), base_delay=1.0, max_delay=10)
        self.retries = []
        self.messages = []
        self._conn = None

    @classmethod
    def from_module(cls, module, **override):
        p = module.params
        kw = dict(
            server=p["server"],
            port=p["port"],
            username=p["username"],
            password=p["password"],
            login_type=p["login_type"],
            database=p["database"],
            ca_bundle=p["ca_bundle"],
            validate_certs=p["validate_certs"],
            encrypt=p["encrypt"],
            timeout=p["timeout"],
            retries=p["retries"],
        )
        kw.update(override)
        return cls(**kw)

    # ------------------------------------------------------------------ connection
    @property
    def target(self):
        return "%s:%s" % (self.server, self.port)

    def _err(self, cls, message, operation, resource=None, **kw):
        return cls(message, system=SYSTEM, operation=operation, resource=resource or self.target, **kw)

    def _tls_args(self):
        if not self.encrypt:
            return {"cafile": None}
        if not HAS_OPENSSL:
            raise self._err(
                errors.ConfigurationError,
                "TLS needs pyOpenSSL, which is not installed",
                "connect",
                remedy="install pyOpenSSL (requirements/runtime.txt pins the version python-tds works with)",
            )
        if self.ca_bundle is not None and not str(self.ca_bundle).strip():
            # an empty path must never mean "the system bundle" silently, let alone "no verification"
            raise self._err(
                errors.ValidationError,
                "ca_bundle is empty",
                "connect",
                resource="ca_bundle",
                remedy="give the PEM file of the CA that issued the SQL Server certificate (inventory "
                "ump_sql_ca_bundle), or leave the option out to use the controller's default bundle",
            )
        cafile = self.ca_bundle or default_ca_bundle()
        if not cafile:
            raise self._err(
                errors.ConfigurationError,
                "no CA bundle to verify the server certificate with (and none found on the controller)",
                "connect",
                remedy="set ca_bundle to the PEM file of the CA that issued the SQL Server certificate",
            )
        if not os.path.isfile(cafile):
            raise self._err(errors.ConfigurationError, "ca_bundle %s does not exist" % cafile, "connect")
        if self.validate_certs and _is_ip(self.server):
            raise self._err(
                errors.ConfigurationError,
                "server %s is an IP address; python-tds checks the certificate's DNS names only" % self.server,
                "connect",
                remedy="connect by the DNS name in the SQL Server certificate (or set validate_certs=false "
                "to skip the host-name check; the certificate chain is still verified)",
            )
        return {"cafile": cafile, "validate_host": bool(self.validate_certs)}

    def _auth_args(self):
        if self.login_type == "windows":
            try:
                from pytds.login import SpnegoAuth
            except ImportError:  # pragma: no cover
                raise self._err(errors.ConfigurationError, "Windows logins need pyspnego", "connect")
            return {
                "auth": SpnegoAuth(
                    username=self.username,
                    password=self._password,
                    hostname=self.server,
                    service="MSSQLSvc",
                    protocol="ntlm",
                )
            }
        return {"user": self.username, "password": self._password}

    def _connect_once(self):
        kwargs = dict(
            dsn=self.server,
            port=self.port,
            database=self.database,
            autocommit=True,
            login_timeout=self.timeout,
            timeout=self.timeout,
            appname=self.appname,
            disable_connect_retry=True,
            as_dict=True,
        )
        kwargs.update(self._tls_args())
        kwargs.update(self._auth_args())
        # Our own socket: python-tds retries refused or reset connections inside connect() until
        # login_timeout has passed (pytds/utils.py exponential_backoff); we retry with our policy instead.
        try:
            sock = _login_socket(socket.create_connection((self.server, self.port), self.timeout))
        except (ConnectionResetError, ConnectionAbortedError) as e:
            # accepted, then reset before connect() returned (a timeout makes it non-blocking: SO_ERROR says so)
            raise self.map_error(PeerClosedDuringLogin(str(e)), "connect")
        except Exception as e:
            raise self.map_error(e, "connect")
        try:
            conn = pytds.connect(sock=sock, **kwargs)
            sock.login_phase = False
            return conn
        except Exception as e:
            try:
                sock.close()
            except OSError:
                pass
            raise self.map_error(e, "connect")

    def connect(self):
        if self._conn is None:
            if not HAS_PYTDS:
                raise self._err(errors.ConfigurationError, "python-tds is not installed", "connect")
            self._conn, attempts = call_with_retry(self._connect_once, self.policy)
            self.retries.extend(attempts)
        return self._conn

    def close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ errors
    def map_error(self, e, operation, resource=None):
        if isinstance(e, errors.UmpError):
            return e
        resource = "%s/%s" % (self.target, resource) if resource else self.target
        number = getattr(e, "msg_no", None) or getattr(e, "number", None)
        text = getattr(e, "text", None) or str(e)
        details = {"code": number} if number is not None else {}
        where = operation
        full = str(e.args[0]) if getattr(e, "args", None) else text
        if number == 3013:
            # BACKUP/RESTORE send the cause first, then 3013 "... is terminating abnormally"; python-tds
            # raises the last message number with every message's text, so take the cause from the text
            for pattern, cause in BACKUP_CAUSES:
                if pattern in full:
                    number, text = cause, full
                    details = {"code": cause}
                    break
        if number in LOGIN_FAILED and "Cannot open database" in full:
            # SQL Server sends 4060 then 18456; python-tds raises the last one with both texts
            return errors.NotFoundError(
                "%s (error 4060)" % full.split(" Login failed")[0],
                system=SYSTEM,
                operation="login",
                resource="%s/%s" % (self.target, self.database),
                details={"code": 4060},
                remedy="check the database name, and that login '%s' may open it" % self.username,
            )
        if number in LOGIN_FAILED:
            return errors.AuthenticationError(
                "login failed for user '%s' on %s (error %s: %s)" % (self.username, self.target, number, text),
                system=SYSTEM,
                operation="login",
                resource=self.target,
                details=details,
                remedy="check ump_sql_username/ump_sql_password (the service account's SQL login) and that the "
                "login is enabled on the server",
            )
        if number in NOT_FOUND:
            return errors.NotFoundError(
                "%s (error %s)" % (text, number), system=SYSTEM, operation=where, resource=resource, details=details
            )
        if number in TRANSIENT:
            return errors.ConflictError(
                "%s (error %s)" % (text, number), system=SYSTEM, operation=where, resource=resource, details=details
            )
        if number in DISK_FULL:
            return errors.RemoteError(
                "%s (error %s)" % (text, number),
                system=SYSTEM,
                operation=where,
                resource=resource,
                details=details,
                remedy="free disk space on the SQL Server's backup volume, then run again",
            )
        if number is not None:
            return errors.RemoteError(
                "%s (error %s)" % (text, number), system=SYSTEM, operation=where, resource=resource, details=details
            )
        if (HAS_OPENSSL and isinstance(e, OpenSSL.SSL.Error)) or "Certificate does not match" in str(e):
            return errors.ConfigurationError(
                "TLS handshake with %s failed: %s" % (self.target, text),
                system=SYSTEM,
                operation=where,
                resource=self.target,
                remedy="give ca_bundle the CA that issued the SQL Server certificate and connect by a name the "
                "certificate carries",
            )
        if isinstance(e, (socket.timeout, TimeoutError)) or (HAS_PYTDS and isinstance(e, tds_base.TimeoutError)):
            return errors.UnreachableError(
                "%s timed out after %ss" % (self.target, self.timeout),
                system=SYSTEM,
                operation=where,
                resource=resource,
            )
        if isinstance(e, PeerClosedDuringLogin) or (
            where == "connect" and HAS_PYTDS and isinstance(e, tds_base.ClosedConnectionError)
        ):
            return errors.UnreachableError(
                "SQL Server %s closed the connection before the login (%s): the service is stopped, starting or "
                "refusing connections" % (self.target, text),
                system=SYSTEM,
                operation=where,
                resource=resource,
                remedy="check that the SQL Server service (MSSQLSERVER) is running on %s and accepts connections"
                % self.server,
            )
        if isinstance(e, (ConnectionError, OSError)) or (
            HAS_PYTDS and isinstance(e, (tds_base.ClosedConnectionError, tds_base.InterfaceError))
        ):
            return errors.UnreachableError(
                "cannot reach SQL Server %s: %s" % (self.target, text or type(e).__name__),
                system=SYSTEM,
                operation=where,
                resource=resource,
            )
        return errors.RemoteError(
            "%s: %s" % (type(e).__name__, text), system=SYSTEM, operation=where, resource=resource
        )

    # ------------------------------------------------------------------ statements
    def _run(self, sql, params, fetch, operation):
        conn = self.connect()
        cur = conn.cursor()
        try:
            cur.execute(sql, params)
            rows = []
            rowcount = cur.rowcount
            if fetch and cur.description is not None:
                rows = [dict(r) for r in cur.fetchall()]
            while cur.nextset():
                if fetch and cur.description is not None:
                    rows.extend(dict(r) for r in cur.fetchall())
            for _cls, msg in getattr(cur, "messages", None) or []:
                self.messages.append(str(msg.args[0]) if getattr(msg, "args", None) else str(msg))
            return rows, rowcount
        except errors.UmpError:
            raise
        except Exception as e:
            raise self.map_error(e, operation, self.database)
        finally:
            cur.close()

    def query(self, sql, params=None, operation="query"):
        """Rows (dicts) of a SELECT; ``params`` is a tuple for ``%s`` placeholders (sent as parameters)."""
        return self._run(sql, params, True, operation)[0]

    def scalar(self, sql, params=None, operation="query"):
        rows = self.query(sql, params, operation)
        if not rows:
            return None
        return next(iter(rows[0].values()))

    def execute(self, sql, params=None, operation="execute"):
        """Run a statement; returns the affected row count (-1 when the server does not say)."""
        return self._run(sql, params, False, operation)[1]

    @contextmanager
    def transaction(self):
        """One server-side transaction (TDS transaction manager requests): commit on success, else roll back."""
        conn = self.connect()
        try:
            conn.autocommit = False
        except Exception as e:
            raise self.map_error(e, "begin transaction")
        try:
            yield self
        except BaseException:
            try:
                conn.rollback()
            except Exception:
                pass
            self._end_tx(conn)
            raise
        try:
            conn.commit()
        except Exception as e:
            raise self.map_error(e, "commit transaction")
        self._end_tx(conn)

    def _end_tx(self, conn):
        try:
            conn.autocommit = True
        except Exception:
            self.close()

    def run(self, work):
        """``work(self)`` with retries on transient errors; a failed attempt reconnects."""

        def attempt():
            try:
                return work(self)
            except errors.UmpError as e:
                if e.retriable:
                    self.close()
                raise

        result, attempts = call_with_retry(attempt, self.policy)
        self.retries.extend(attempts)
        return result

    # ------------------------------------------------------------------ server facts
    def server_info(self):
        row = self.query(
            "SELECT CAST(SERVERPROPERTY('Collation') AS NVARCHAR(128)) AS collation, "
            "CAST(SERVERPROPERTY('ProductVersion') AS NVARCHAR(128)) AS product_version, "
            "CAST(SERVERPROPERTY('ProductLevel') AS NVARCHAR(128)) AS product_level, "
            "CAST(SERVERPROPERTY('Edition') AS NVARCHAR(128)) AS edition, "
            "CAST(SERVERPROPERTY('MachineName') AS NVARCHAR(128)) AS machine_name, "
            "@@VERSION AS version_string",
            operation="read server properties",
        )
        return row[0] if row else {}

    def databases(self):
        return self.query(
            "SELECT d.name, d.database_id, d.collation_name, d.state_desc, "
            "(SELECT SUM(CAST(f.size AS BIGINT)) * 8 / 1024 FROM sys.master_files f "
            "WHERE f.database_id = d.database_id) AS size_mb "
            "FROM sys.databases d ORDER BY d.database_id",
            operation="list databases",
        )
