"""SQL Server over TDS 7.4 for every lab host that runs SQL Server (``host_state["sql"]`` has databases).

One listener per SQL host on 127.0.0.1; the port goes to endpoints ``hosts.<name>.sql_port``. The
conversation follows [MS-TDS] as SQL Server 2019 holds it (and as python-tds 1.17 expects it, see
.venv/.../pytds/tds_session.py and tls.py):

1. PRELOGIN: the client's encryption choice decides: ENCRYPT_NOT_SUP -> no TLS at all (unless the host's
   ``sql.force_encryption`` is set: then ENCRYPT_REQ and the client gives up), ENCRYPT_OFF -> TLS for the
   LOGIN7 packet only, ENCRYPT_ON/REQ -> TLS for the whole connection. The TLS handshake travels inside
   PRELOGIN packets; afterwards TLS records flow directly on the socket. TLS is capped at 1.2 (TDS 7.x
   clients such as FreeTDS and mssql-python fail with 1.3; facts/ump_sbc_ovoc.md).
2. LOGIN7 (password de-obfuscated) checked against ``host_state["sql"]["logins"]``; failure is error 18456,
   an unknown initial database 4060 + 18456. Windows logins: NTLMv2 in SSPI tokens (umplab.sql.ntlm),
   a failed proof is 18452; Kerberos is not modelled (no domain controller) and also gets 18452.
3. LOGINACK with ENVCHANGE database, collation, language and packet size, as SQL Server sends them.
4. Requests: SQL batches, RPC (sp_executesql, sp_prepexec/sp_prepare/sp_execute/sp_unprepare, system
   procedures), transaction manager requests (begin/commit/rollback, with "begin after"), attention.
   Statements run on SQLite (umplab.sql.engine); results go back as COLMETADATA/ROW/DONE tokens, errors
   as ERROR tokens with SQL Server's numbers.

Faults: ``sql.down host=H`` (connections are reset), ``sql.wrong_collation host=H [collation=...]``,
``sql.backup_folder_missing host=H``, ``sql.disk_full host=H``, ``sql.open_connections host=H database=D``.
"""

from __future__ import annotations

import os
import queue
import re
import select
import socket
import ssl
import struct
import threading
from typing import Any, Iterable

from ..sql import wire
from ..sql.ntlm import NtlmExchange
from ..sql.engine import Cancelled, Done, EnvChange, Info, ResultSet, RowCount, Session, SqlError, SqlServer

ORDER = 40

PROG_NAME = "Microsoft SQL Server"


class Closed(Exception):
    pass


class Channel:
    """A TDS connection's byte stream: plain, or TLS records over the socket once the handshake is done."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()
        self.tls: tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO] | None = None
        self.packet_size = 4096

    def _fill(self) -> None:
        if self.tls is None:
            raw = self.sock.recv(65536)
            if not raw:
                raise Closed()
            self.buf += raw
            return
        obj, inc, _out = self.tls
        while True:
            try:
                data = obj.read(65536)
            except ssl.SSLWantReadError:
                raw = self.sock.recv(65536)
                if not raw:
                    raise Closed() from None
                inc.write(raw)
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                raise Closed() from None
            if not data:
                raise Closed()
            self.buf += data
            return

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_message(self) -> tuple[int, bytes]:
        """One request: packets up to the one with EOM; the type of the first packet."""
        payload = bytearray()
        first_type = None
        while True:
            ptype, status, length, _spid, _pid, _win = wire.HEADER.unpack(self.read_exact(wire.HEADER.size))
            if length < wire.HEADER.size:
                raise wire.ProtocolError("bad packet length")
            payload += self.read_exact(length - wire.HEADER.size)
            if first_type is None:
                first_type = ptype
            if status & wire.STATUS_EOM:
                return first_type, bytes(payload)

    def pending(self, wakeup: int) -> bool:
        """Block until the client sent something (True) or ``wakeup`` became readable (False)."""
        if self.buf or (self.tls is not None and self.tls[0].pending()):
            return True
        ready, _, _ = select.select([self.sock, wakeup], [], [])
        return self.sock in ready

    def send(self, data: bytes) -> None:
        if self.tls is None:
            self.sock.sendall(data)
            return
        obj, _inc, out = self.tls
        obj.write(data)
        self.sock.sendall(out.read())

    def send_message(self, ptype: int, payload: bytes, spid: int = 0) -> None:
        self.send(wire.packets(ptype, payload, self.packet_size, spid))


class TdsServer:
    def __init__(self, lab: Any, host: str):
        self.lab = lab
        self.world = lab.world
        self.host = host
        self.sql = SqlServer(self.world, host)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", lab.port()))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.tls_context = lab.tls.server_context(max_tls12=True)
        self._stopping = False
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self._accept_loop, name=f"tds-{self.host}", daemon=True).start()

    def stop(self) -> None:
        self._stopping = True
        try:
            self.listener.close()
        except OSError:
            pass
        with self._lock:
            for s in list(self._conns):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                sock, _addr = self.listener.accept()
            except OSError:
                return
            if not self._accepting():
                # a stopped service: the connection is closed before any TDS is spoken
                sock.close()
                continue
            with self._lock:
                self._conns.add(sock)
            threading.Thread(target=self._serve, args=(sock,), name=f"tds-{self.host}-conn", daemon=True).start()

    def _accepting(self) -> bool:
        w = self.world
        with w.lock:
            if w.take_fault("sql.down", host=self.host, after_backup=w.sql_backup_taken(self.host)) is not None:
                return False
            try:
                if not w.host_reachable(self.host):
                    return False
                svc = w.host_state(self.host).get("services", {}).get(w.sql_service(self.host))
            except KeyError:
                return False
            return svc is None or svc.get("state") == "running"

    # ------------------------------------------------------------------ one connection
    def _serve(self, sock: socket.socket) -> None:
        ch = Channel(sock)
        sess: Session | None = None
        self.world.count("sql.connections")
        try:
            sess = self._handshake_and_login(ch)
            if sess is None:
                return
            sess.is_open = lambda: _peer_open(sock)
            with self.sql.lock:
                self.sql.sessions.add(sess)
            while True:
                ptype, payload = ch.read_message()
                self.world.count("sql.requests")
                self._request(ch, sess, ptype, payload)
        except (Closed, OSError, wire.ProtocolError, ssl.SSLError):
            pass
        except Exception as e:  # a lab bug: drop the connection, keep serving others, leave a trace
            self.world.count("sql.internal_errors")
            print(f"umplab tds {self.host}: {type(e).__name__}: {e}", flush=True)
        finally:
            if sess is not None:
                with self.sql.lock:
                    self.sql.sessions.discard(sess)
                if getattr(sess, "_runner", None) is not None:
                    sess._runner.close()  # type: ignore[attr-defined]
                sess.close()
            with self._lock:
                self._conns.discard(sock)
            try:
                sock.close()
            except OSError:
                pass

    def _handshake_and_login(self, ch: Channel) -> Session | None:
        ptype, payload = ch.read_message()
        if ptype != wire.PKT_PRELOGIN:
            raise wire.ProtocolError("expected PRELOGIN")
        opts = wire.parse_prelogin(payload)
        client_enc = (opts.get(wire.PL_ENCRYPTION) or bytes([wire.ENCRYPT_NOT_SUP]))[0]
        cfg = self.sql.config()
        force = bool(cfg.get("force_encryption"))
        if client_enc == wire.ENCRYPT_NOT_SUP:
            answer = wire.ENCRYPT_REQ if force else wire.ENCRYPT_NOT_SUP
        elif client_enc == wire.ENCRYPT_OFF:
            answer = wire.ENCRYPT_REQ if force else wire.ENCRYPT_OFF
        else:
            answer = wire.ENCRYPT_ON
        ch.send_message(wire.PKT_REPLY, wire.build_prelogin(self.sql.version_tuple(), answer))
        if answer == wire.ENCRYPT_REQ and client_enc == wire.ENCRYPT_NOT_SUP:
            return None  # the client must give up (it cannot encrypt)
        login_only = answer == wire.ENCRYPT_OFF
        if answer != wire.ENCRYPT_NOT_SUP:
            self._tls_handshake(ch)
        ptype, payload = ch.read_message()
        if ptype != wire.PKT_LOGIN7:
            raise wire.ProtocolError("expected LOGIN7")
        if login_only:
            ch.tls = None  # ENCRYPT_OFF: only the login packet was encrypted
        login = wire.parse_login7(payload)
        ch.packet_size = max(512, min(32767, login.packet_size or 4096))
        return self._login(ch, login)

    def _tls_handshake(self, ch: Channel) -> None:
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = self.tls_context.wrap_bio(inc, out, server_side=True)
        while True:
            ptype, payload = ch.read_message()
            if ptype != wire.PKT_PRELOGIN:
                raise wire.ProtocolError("expected the TLS handshake in PRELOGIN packets")
            inc.write(payload)
            try:
                obj.do_handshake()
                finished = True
            except ssl.SSLWantReadError:
                finished = False
            data = out.read()
            if data:
                ch.send_message(wire.PKT_PRELOGIN, data)
            if finished:
                ch.tls = (obj, inc, out)
                return

    def _login(self, ch: Channel, login: wire.Login7) -> Session | None:
        srv = self.sql
        server_name = self.host.upper()
        with self.world.lock:
            logins = dict(srv.state().get("logins", {}))
        if login.integrated:
            user = self._windows_login(ch, login, logins)
            if user is None:
                return None
            login.username = user
        else:
            expected = None
            for name, pw in logins.items():
                if name.lower() == login.username.lower():
                    expected = pw
            if expected is None or expected != login.password:
                body = wire.message(18456, f"Login failed for user '{login.username}'.", 14, 1, server_name)
                ch.send_message(wire.PKT_REPLY, body + wire.done(wire.DONE_ERROR))
                self.world.count("sql.login_failures")
                return None
        database = "master"
        if login.database:
            found = srv.find_database(login.database)
            if found is None:
                body = wire.message(
                    4060,
                    f'Cannot open database "{login.database}" requested by the login. The login failed.',
                    11,
                    1,
                    server_name,
                ) + wire.message(18456, f"Login failed for user '{login.username}'.", 14, 1, server_name)
                ch.send_message(wire.PKT_REPLY, body + wire.done(wire.DONE_ERROR))
                return None
            database = found
        sess = Session(srv, login.username, database=database, spid=srv.next_spid())
        tokens = [
            wire.envchange(wire.ENV_DATABASE, database, "master"),
            wire.message(5701, f"Changed database context to '{database}'.", 0, 2, server_name),
            wire.envchange(wire.ENV_COLLATION, wire.COLLATION_SQL_LATIN1_CP1_CI_AS, b""),
            wire.envchange(wire.ENV_LANGUAGE, "us_english", ""),
            wire.message(5703, "Changed language setting to us_english.", 0, 1, server_name),
            wire.loginack(PROG_NAME, srv.version_tuple()),
            wire.envchange(wire.ENV_PACKETSIZE, str(ch.packet_size), str(ch.packet_size)),
            wire.done(wire.DONE_FINAL),
        ]
        ch.send_message(wire.PKT_REPLY, b"".join(tokens), sess.spid)
        return sess

    def _windows_login(self, ch: Channel, login: wire.Login7, logins: dict) -> str | None:
        """NTLM inside TDS: SSPI token with the CHALLENGE, then the client's AUTHENTICATE (packet type 17;
        python-tds sends it with the LOGIN7 type, which SQL Server also accepts)."""
        server_name = self.host.upper()
        failed = wire.message(
            18452,
            "Login failed. The login is from an untrusted domain and cannot be used with Integrated authentication.",
            14,
            1,
            server_name,
        )
        with self.world.lock:
            accounts = dict(self.world.host_state(self.host).get("accounts", {}))
        ex = NtlmExchange(self.host)
        try:
            challenge = ex.challenge(login.sspi)
        except Exception:
            ch.send_message(wire.PKT_REPLY, failed + wire.done(wire.DONE_ERROR))
            self.world.count("sql.login_failures")
            return None
        ch.send_message(wire.PKT_REPLY, bytes([wire.TOK_SSPI]) + struct.pack("<H", len(challenge)) + challenge)
        ptype, payload = ch.read_message()
        if ptype not in (wire.PKT_SSPI, wire.PKT_LOGIN7):
            raise wire.ProtocolError("expected the NTLM AUTHENTICATE in an SSPI packet")
        user = ex.authenticate(payload, accounts)
        if user is None:
            # the NTLM proof failed: Windows rejects the credential before SQL Server sees a login
            ch.send_message(wire.PKT_REPLY, failed + wire.done(wire.DONE_ERROR))
            self.world.count("sql.login_failures")
            return None
        # a Windows account needs a login on the server: the SQL login of the same name stands for it here
        if not any(n.lower() == user.lower() for n in logins):
            body = wire.message(18456, f"Login failed for user '{server_name}\\{user}'.", 14, 5, server_name)
            ch.send_message(wire.PKT_REPLY, body + wire.done(wire.DONE_ERROR))
            self.world.count("sql.login_failures")
            return None
        self.world.count("sql.windows_logins")
        return f"{server_name}\\{user}"

    # ------------------------------------------------------------------ requests
    def _request(self, ch: Channel, sess: Session, ptype: int, payload: bytes) -> None:
        if ptype == wire.PKT_ATTENTION:
            # the request it cancels has already been answered in full: acknowledge with DONE(ATTN)
            self.world.count("sql.attentions")
            ch.send_message(wire.PKT_REPLY, wire.done(wire.DONE_ATTN), sess.spid)
            return
        if ptype == wire.PKT_SQL_BATCH:
            text = wire.batch_text(payload)
            self._answer(ch, sess, lambda: self._tokens(sess, lambda: sess.run(text), rpc=False))
            return
        if ptype == wire.PKT_RPC:
            calls = wire.parse_rpc(payload)
            self._answer(ch, sess, lambda: b"".join(self._rpc(sess, call) for call in calls))
            return
        if ptype == wire.PKT_TRANSACTION:
            tm = wire.parse_tm(payload)

            def run() -> Iterable[Any]:
                if tm.kind == 5:
                    yield from sess.begin()
                else:
                    if not sess.tran_id:
                        n = 3902 if tm.kind == 7 else 3903
                        verb = "COMMIT TRANSACTION" if tm.kind == 7 else "ROLLBACK TRANSACTION"
                        raise SqlError(n, f"The {verb} request has no corresponding BEGIN TRANSACTION.")
                    yield from (sess.commit() if tm.kind == 7 else sess.rollback())
                    if tm.begin_after:
                        yield from sess.begin()
                yield Done()

            ch.send_message(wire.PKT_REPLY, self._tokens(sess, run, rpc=False), sess.spid)
            return
        raise wire.ProtocolError(f"packet type {ptype} is not supported")

    def _answer(self, ch: Channel, sess: Session, build: Any) -> None:
        """Run a request in the connection's worker while listening for an attention ([MS-TDS] 2.2.1.7):
        if one comes before the answer is ready, the request stops at its next check (between statements,
        or in a slow operation's wait), its results are dropped and the answer is DONE with DONE_ATTN."""
        runner = _runner(sess)
        sess.cancel.clear()
        runner.submit(build)
        attention = False
        try:
            if ch.pending(runner.rfd):
                ptype, _payload = ch.read_message()
                if ptype != wire.PKT_ATTENTION:
                    raise wire.ProtocolError("a request arrived while another one was running")
                attention = True
                sess.cancel.set()
        except BaseException:
            sess.cancel.set()  # the client went away: stop the request before the connection closes
            raise
        finally:
            result = runner.wait()
        if "error" in result:
            raise result["error"]
        if attention or result.get("cancelled"):
            self.world.count("sql.attentions")
            self.world.count("sql.cancelled_requests")
            ch.send_message(wire.PKT_REPLY, wire.done(wire.DONE_ATTN), sess.spid)
            return
        ch.send_message(wire.PKT_REPLY, result["out"], sess.spid)

    def _rpc(self, sess: Session, call: wire.RpcRequest) -> bytes:
        proc = call.proc.lower().split(".")[-1].strip("[]")
        values = [p.value for p in call.params]
        prefix = b""
        if proc == "sp_executesql":
            if not values or not isinstance(values[0], str):
                return self._error_proc(
                    SqlError(214, "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.")
                )
            stmt = values[0]
            named = _bind(values[1] if len(values) > 1 else "", call.params[2:])
            return self._tokens(sess, lambda: sess.run(stmt, named), rpc=True)
        if proc in ("sp_prepexec", "sp_prepare"):
            if len(values) < 3:
                return self._error_proc(
                    SqlError(201, f"Procedure or function '{proc}' expects parameter '@stmt', which was not supplied.")
                )
            stmt = str(values[2])
            handle = len(sess_prepared(sess)) + 1
            sess_prepared(sess)[handle] = (stmt, str(values[1] or ""))
            prefix = wire.returnvalue(0, call.params[0].name, handle)
            if proc == "sp_prepare":
                return prefix + wire.returnstatus(0) + wire.done(wire.DONE_FINAL, token=wire.TOK_DONEPROC)
            named = _bind(str(values[1] or ""), call.params[3:])
            return prefix + self._tokens(sess, lambda: sess.run(stmt, named), rpc=True)
        if proc == "sp_execute":
            prepared = sess_prepared(sess).get(int(values[0] or 0)) if values else None
            if prepared is None:
                return self._error_proc(
                    SqlError(8179, f"Could not find prepared statement with handle {values[0] if values else 0}.")
                )
            stmt, definition = prepared
            named = _bind(definition, call.params[1:])
            return self._tokens(sess, lambda: sess.run(stmt, named), rpc=True)
        if proc == "sp_unprepare":
            sess_prepared(sess).pop(int(values[0] or 0), None)
            return wire.returnstatus(0) + wire.done(wire.DONE_FINAL, token=wire.TOK_DONEPROC)
        if proc == "sp_reset_connection":
            sess.rollback()
            return wire.returnstatus(0) + wire.done(wire.DONE_FINAL, token=wire.TOK_DONEPROC)
        # any other procedure: as EXEC <name> (system procedures the lab knows, else 2812)
        from ..sql.engine import lex, sig

        return self._tokens(sess, lambda: sess.exec_proc(sig(lex(call.proc)), {}), rpc=True)

    def _error_proc(self, err: SqlError) -> bytes:
        return (
            b"".join(wire.message(e.number, e.message, e.severity, e.state, self.host.upper()) for e in err.chain())
            + wire.returnstatus(-6)
            + wire.done(wire.DONE_ERROR, token=wire.TOK_DONEPROC)
        )

    def _tokens(self, sess: Session, run: Any, rpc: bool) -> bytes:
        """The token stream for a batch or one RPC call: each statement ends in DONE (DONEINPROC inside an
        RPC), all but the last with DONE_MORE; an RPC ends with RETURNSTATUS and DONEPROC."""
        server_name = self.host.upper()
        collation = wire.COLLATION_SQL_LATIN1_CP1_CI_AS
        parts: list[bytes | tuple[int, int, int]] = []
        error: SqlError | None = None
        try:
            for ev in run():
                if isinstance(ev, ResultSet):
                    cols = wire.columns_for(ev.names, ev.rows)
                    parts.append(wire.colmetadata(cols, collation))
                    parts.extend(wire.row(cols, r) for r in ev.rows)
                    parts.append((wire.DONE_COUNT, len(ev.rows), ev.curcmd))
                elif isinstance(ev, RowCount):
                    parts.append((0 if sess.nocount else wire.DONE_COUNT, ev.count, ev.curcmd))
                elif isinstance(ev, Done):
                    parts.append((0, 0, ev.curcmd))
                elif isinstance(ev, Info):
                    parts.append(wire.message(ev.number, ev.text, ev.severity, 1, server_name))
                elif isinstance(ev, EnvChange):
                    parts.append(wire.envchange(ev.kind, ev.new, ev.old))
        except Cancelled:
            raise
        except SqlError as e:
            error = e
        except Exception as e:  # a lab bug must not hang the client: report it as a server error
            error = SqlError(50000, f"lab SQL server internal error: {type(e).__name__}: {e}", 16)
        if error is not None:
            for e in error.chain():
                self.world.count(f"sql.error.{e.number}")
                parts.append(wire.message(e.number, e.message, e.severity, e.state, server_name))
        dones = [i for i, p in enumerate(parts) if isinstance(p, tuple)]
        out = bytearray()
        inner = wire.TOK_DONEINPROC if rpc else wire.TOK_DONE
        for i, p in enumerate(parts):
            if isinstance(p, tuple):
                status, count, curcmd = p
                final = not rpc and error is None and i == dones[-1]
                out += wire.done(status if final else status | wire.DONE_MORE, count, curcmd, token=inner)
            else:
                out += p
        if rpc:
            out += wire.returnstatus(0 if error is None else -6)
            out += wire.done(wire.DONE_ERROR if error is not None else wire.DONE_FINAL, token=wire.TOK_DONEPROC)
        elif error is not None or not dones:
            out += wire.done(wire.DONE_ERROR if error is not None else wire.DONE_FINAL)
        return bytes(out)


def _peer_open(sock: socket.socket) -> bool:
    """Whether the client still holds the connection (a closed one shows EOF to a non-blocking peek)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


class _Runner:
    """One worker thread per connection that runs its requests; a pipe says when one is done."""

    def __init__(self) -> None:
        self.rfd, self.wfd = os.pipe()
        self.jobs: queue.Queue = queue.Queue()
        self.done = threading.Event()
        self.result: dict[str, Any] = {}
        threading.Thread(target=self._loop, name="tds-request", daemon=True).start()

    def _loop(self) -> None:
        while True:
            build = self.jobs.get()
            if build is None:
                return
            result: dict[str, Any] = {}
            try:
                result["out"] = build()
            except Cancelled:
                result["cancelled"] = True
            except BaseException as e:  # re-raised in the connection thread
                result["error"] = e
            self.result = result
            self.done.set()
            os.write(self.wfd, b"x")

    def submit(self, build: Any) -> None:
        self.done.clear()
        self.jobs.put(build)

    def wait(self) -> dict[str, Any]:
        self.done.wait()
        os.read(self.rfd, 1)
        return self.result

    def close(self) -> None:
        self.jobs.put(None)
        os.close(self.rfd)
        os.close(self.wfd)


def _runner(sess: Session) -> _Runner:
    r = getattr(sess, "_runner", None)
    if r is None:
        r = _Runner()
        sess._runner = r  # type: ignore[attr-defined]
    return r


def _bind(definition: str, params: list[wire.RpcParam]) -> dict[str, Any]:
    """Parameter values by name: named ones as sent, unnamed ones by position in the definition
    (``@P1 nvarchar(4000),@P2 int``), as sp_executesql and sp_execute bind them."""
    names = re.findall(r"@\w+", definition or "")
    out: dict[str, Any] = {}
    for i, p in enumerate(params):
        name = p.name or (names[i] if i < len(names) else f"@P{i + 1}")
        out[name] = p.value
    return out


def sess_prepared(sess: Session) -> dict[int, tuple[str, str]]:
    d = getattr(sess, "_prepared", None)
    if d is None:
        d = {}
        sess._prepared = d  # type: ignore[attr-defined]
    return d


def sql_hosts(world: Any) -> list[str]:
    out = []
    with world.lock:
        for name in sorted(world.hosts):
            try:
                if world.sql_state(name).get("databases"):
                    out.append(name)
            except KeyError:
                continue
    return out


def start(lab: Any) -> dict:
    hosts: dict[str, dict] = {}
    for name in sql_hosts(lab.world):
        srv = TdsServer(lab, name)
        srv.start()
        lab.on_stop(srv.stop)
        hosts[name] = {"sql_port": srv.port}
    return {"hosts": hosts}
