"""WS-Management (WinRM) over HTTPS: the wire side of an emulated Windows host.

Modelled on what the clients send and parse (pywinrm 0.5 winrm/protocol.py and winrm/transport.py,
requests_ntlm 1.3, ansible-core 2.19 plugins/connection/winrm.py; facts/windows_wyupdate.md):

- SOAP 1.2 POST to ``/wsman``; actions Create (shell), Command, Send (stdin), Receive, Signal, Delete.
- Auth: ``Basic`` (HTTPS only) and ``NTLM``/``Negotiate`` with pyspnego as the acceptor, channel bindings
  checked against the server certificate (tls-server-end-point, RFC 5929). NTLM authenticates the TCP
  connection: one handshake, then every request on that keep-alive connection is that user's.
- Receive waits for output at most the request's ``w:OperationTimeout`` and then answers the
  ``w:TimedOut`` fault with WSManFault code 2150858793, which pywinrm turns into
  WinRMOperationTimeoutError and both pywinrm and Ansible retry silently.
- Envelopes larger than the advertised MaxEnvelopeSize are accepted (Ansible sends 170-400 KB).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import socket
import ssl
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler
from typing import Any, Iterator
from xml.sax.saxutils import escape

from ..httpbase import LabHTTPServer
from ..world import World
from .process import Process, ProcessTable

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
}
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
ACT_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACT_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ACT_COMMAND = SHELL_URI + "/Command"
ACT_SEND = SHELL_URI + "/Send"
ACT_RECEIVE = SHELL_URI + "/Receive"
ACT_SIGNAL = SHELL_URI + "/Signal"
WSMAN_TIMEOUT_CODE = 2150858793  # ERROR_WSMAN_OPERATION_TIMEDOUT (0x80338029)
SIGNAL_TERMINATE = SHELL_URI + "/signal/terminate"

# pyspnego's NTLM acceptor reads its credential store from the file named by $NTLM_USER_FILE; each
# host has its own accounts, so the file is written per handshake under this lock.
_NTLM_LOCK = threading.Lock()


def _parse_duration(text: str | None, default: float) -> float:
    """xs:duration as WS-Man uses it (``PT20S``, ``PT60.000S``)."""
    if not text:
        return default
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", text.strip())
    if not m:
        return default
    h, mi, s = m.groups()
    return int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


class WSManFault(Exception):
    def __init__(self, code: str, subcode: str, reason: str, wsman_code: int, status: int = 500):
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.wsman_code = wsman_code
        self.status = status


def _envelope(action: str, relates_to: str, body: str, extra_header: str = "") -> bytes:
    msg_id = f"uuid:{str(uuid.uuid4()).upper()}"
    return (
        '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" '
        'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
        'xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" '
        'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
        "<s:Header>"
        f"<a:Action>{action}</a:Action>"
        f"<a:MessageID>{msg_id}</a:MessageID>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        f"{extra_header}"
        "</s:Header>"
        f"<s:Body>{body}</s:Body>"
        "</s:Envelope>"
    ).encode()


def _fault_envelope(fault: WSManFault, relates_to: str, machine: str) -> bytes:
    body = (
        "<s:Fault>"
        f"<s:Code><s:Value>{fault.code}</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{escape(fault.reason)}</s:Text></s:Reason>'
        "<s:Detail>"
        f'<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="{fault.wsman_code}" '
        f'Machine="{escape(machine)}"><f:Message>{escape(fault.reason)}</f:Message></f:WSManFault>'
        "</s:Detail>"
        "</s:Fault>"
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


class Shell:
    def __init__(self, shell_id: str, user: str, codepage: int, env: dict[str, str], cwd: str | None):
        self.id = shell_id
        self.user = user
        self.codepage = codepage
        self.env = env
        self.cwd = cwd
        self.commands: dict[str, Process] = {}
        self.created = time.time()


class WinRMServer(LabHTTPServer):
    """One per Windows host: refuses connections the way a powered-off machine does."""

    host_name: str
    world: World

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.shells: dict[str, Shell] = {}
        self.shells_lock = threading.Lock()
        self.processes = ProcessTable(self.world, self.host_name, self.lab)
        self.cert_hash: bytes | None = None

    def finish_request(self, request, client_address):  # type: ignore[override]
        if not self.world.host_reachable(self.host_name) or self.world.take_fault(
            "winhost.unreachable",
            host=self.host_name,
            after_wyupdate_failed=self.world.wyupdate_failed(self.host_name),
        ):
            # a VM that is stopped or has no OS disk: the connection dies without an answer
            self.world.count("winrm.refused")
            try:
                request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
            return
        super().finish_request(request, client_address)


class WinRMHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: WinRMServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    # per TCP connection
    def setup(self) -> None:
        super().setup()
        self.ntlm_ctx: Any = None
        self.auth_user: str | None = None

    @property
    def world(self) -> World:
        return self.server.world

    @property
    def host(self) -> str:
        return self.server.host_name

    # ------------------------------------------------------------------ HTTP plumbing
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None, ctype: str = "") -> None:
        try:
            self.send_response(status)
            if body:
                self.send_header("Content-Type", ctype or "application/soap+xml;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Server", "Microsoft-HTTPAPI/2.0")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if body:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._read_body()
        self._reply(405)

    def do_POST(self) -> None:
        t0 = time.perf_counter()
        try:
            self._post()
        finally:
            # the server's own share of each request (benchmarks: winrm.server_seconds / winrm.requests)
            self.world.count("winrm.server_seconds", time.perf_counter() - t0)

    def _post(self) -> None:
        body = self._read_body()
        self.world.count("winrm.requests")
        if self.path.split("?")[0].rstrip("/").lower() != "/wsman":
            self._reply(404)
            return
        if not self.world.host_reachable(self.host):
            self.close_connection = True
            self.connection.close()
            return
        user = self._authenticate()
        if user is None:
            return
        if not body:
            # pywinrm's empty POST that sets up message encryption; nothing to do over HTTPS
            self._reply(200)
            return
        try:
            status, answer = self._soap(body, user)
        except _Drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._reply(status, answer)

    # ------------------------------------------------------------------ authentication
    def _accounts(self) -> dict:
        with self.world.lock:
            return dict(self.world.host_state(self.host).get("accounts", {}))

    def _check_password(self, user: str, password: str) -> str | None:
        name = user.split("\\")[-1].split("@")[0]
        acct = self._accounts().get(name) or next(
            (a for n, a in self._accounts().items() if n.lower() == name.lower()), None
        )
        if acct and acct.get("enabled", True) and acct.get("password") == password:
            return next(n for n in self._accounts() if n.lower() == name.lower())
        return None

    def _challenge(self, extra: dict | None = None) -> None:
        headers = {"WWW-Authenticate": "Negotiate", "Connection": "keep-alive"}
        headers.update(extra or {})
        # Windows lists each scheme in its own header; http.server allows repeats via send_header
        try:
            self.send_response(401)
            self.send_header("Server", "Microsoft-HTTPAPI/2.0")
            self.send_header("WWW-Authenticate", "Negotiate")
            self.send_header("WWW-Authenticate", "Basic realm=\"WSMAN\"")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    def _authenticate(self) -> str | None:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        scheme = scheme.lower()
        if not header:
            if self.auth_user:
                return self.auth_user
            self.world.count("winrm.auth_challenges")
            self._challenge()
            return None
        if scheme == "basic":
            try:
                user, _, password = base64.b64decode(token).decode("utf-8").partition(":")
            except ValueError:
                self._challenge()
                return None
            name = self._check_password(user, password)
            if name is None:
                self.world.count("winrm.auth_failures")
                self._challenge()
                return None
            return name
        if scheme in ("ntlm", "negotiate"):
            return self._ntlm_step(scheme, token)
        self._challenge()
        return None

    def _cbt(self) -> Any:
        """tls-server-end-point channel bindings of our certificate (RFC 5929), as requests_ntlm computes them."""
        import spnego.channel_bindings
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        der = getattr(self.server, "server_cert_der", None)
        if not der or not isinstance(self.connection, ssl.SSLSocket):
            return None
        cert = x509.load_der_x509_certificate(der)
        algo = cert.signature_hash_algorithm
        h = hashes.Hash(hashes.SHA256() if not algo or algo.name in ("md5", "sha1") else algo)
        h.update(der)
        return spnego.channel_bindings.GssChannelBindings(application_data=b"tls-server-end-point:" + h.finalize())

    def _ntlm_step(self, scheme: str, token: str) -> str | None:
        import spnego
        import spnego.exceptions

        try:
            data = base64.b64decode(token)
        except ValueError:
            self._challenge()
            return None
        header_scheme = "NTLM" if scheme == "ntlm" else "Negotiate"
        with _NTLM_LOCK, self._credential_store():
            try:
                # an NTLM NEGOTIATE message (type 1) starts a new handshake on this connection
                if data[:8] == b"NTLMSSP\x00" and data[8:12] == b"\x01\x00\x00\x00":
                    self.ntlm_ctx = spnego.server(protocol="ntlm", channel_bindings=self._cbt())
                if self.ntlm_ctx is None:
                    self._challenge()
                    return None
                out = self.ntlm_ctx.step(data)
                complete = self.ntlm_ctx.complete
                client = self.ntlm_ctx.client_principal if complete else None
            except spnego.exceptions.SpnegoError:
                self.ntlm_ctx = None
                self.world.count("winrm.auth_failures")
                self._challenge()
                return None
        if not complete:
            self._challenge_token(header_scheme, out or b"")
            return None
        self.ntlm_ctx = None
        name = (client or "").split("\\")[-1]
        acct = next((n for n in self._accounts() if n.lower() == name.lower()), None)
        if acct is None:
            self._challenge()
            return None
        self.auth_user = acct
        return acct

    @contextlib.contextmanager
    def _credential_store(self) -> Iterator[None]:
        """pyspnego's acceptor reads $NTLM_USER_FILE (DOMAIN:USER:PASSWORD lines): this host's accounts."""
        fd, path = tempfile.mkstemp(prefix="ntlm-", dir=str(self.world.state_dir))
        old = os.environ.get("NTLM_USER_FILE")
        try:
            with os.fdopen(fd, "w") as f:
                for name, acct in self._accounts().items():
                    if acct.get("enabled", True):
                        for domain in ("", ".", self.server.host_name.upper(), "WORKGROUP"):
                            f.write(f"{domain}:{name}:{acct['password']}\n")
            os.environ["NTLM_USER_FILE"] = path
            yield
        finally:
            if old is None:
                os.environ.pop("NTLM_USER_FILE", None)
            else:
                os.environ["NTLM_USER_FILE"] = old
            os.unlink(path)

    def _challenge_token(self, scheme: str, out: bytes) -> None:
        try:
            self.send_response(401)
            self.send_header("Server", "Microsoft-HTTPAPI/2.0")
            self.send_header("WWW-Authenticate", f"{scheme} {base64.b64encode(out).decode()}")
            self.send_header("Content-Length", "0")
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    # ------------------------------------------------------------------ SOAP
    def _soap(self, body: bytes, user: str) -> tuple[int, bytes]:
        try:
            root = ET.fromstring(body)  # noqa: S314 - loopback lab, the client is ours
        except ET.ParseError:
            return 400, b""
        header = root.find("s:Header", NS)
        sbody = root.find("s:Body", NS)
        action = (header.findtext("a:Action", "", NS) if header is not None else "").strip()
        msg_id = (header.findtext("a:MessageID", "", NS) if header is not None else "").strip()
        op_timeout = _parse_duration(
            header.findtext("w:OperationTimeout", None, NS) if header is not None else None, 60
        )
        shell_id = None
        if header is not None:
            for sel in header.findall("w:SelectorSet/w:Selector", NS):
                if sel.get("Name") == "ShellId":
                    shell_id = (sel.text or "").strip()
        options = {}
        if header is not None:
            for opt in header.findall("w:OptionSet/w:Option", NS):
                options[opt.get("Name", "")] = (opt.text or "").strip()
        self.world.count(f"winrm.{action.rsplit('/', 1)[-1].lower()}")
        try:
            if action == ACT_CREATE:
                return 200, self._create(sbody, options, user, msg_id)
            shell = self._shell(shell_id, user)
            if action == ACT_COMMAND:
                return 200, self._command(shell, sbody, options, msg_id)
            if action == ACT_SEND:
                return 200, self._send(shell, sbody, msg_id)
            if action == ACT_RECEIVE:
                return 200, self._receive(shell, sbody, op_timeout, msg_id)
            if action == ACT_SIGNAL:
                return 200, self._signal(shell, sbody, msg_id)
            if action == ACT_DELETE:
                return 200, self._delete(shell, msg_id)
            raise WSManFault(
                "s:Sender",
                "a:ActionNotSupported",
                f"The action {action} is not supported by the service.",
                2150858776,
            )
        except WSManFault as f:
            return f.status, _fault_envelope(f, msg_id, self.server.host_fqdn)

    def _shell(self, shell_id: str | None, user: str) -> Shell:
        with self.server.shells_lock:
            shell = self.server.shells.get(shell_id or "")
        if shell is None or shell.user.lower() != user.lower():
            raise WSManFault(
                "s:Sender",
                "w:InvalidSelectors",
                "The request for the Windows Remote Shell with ShellId "
                f"{shell_id} failed because the shell was not found on the server. Possible causes are: the "
                "specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct "
                "ShellId or create a new shell and retry the operation.",
                2150858843,
            )
        return shell

    def _create(self, body: ET.Element | None, options: dict, user: str, msg_id: str) -> bytes:
        shell_el = body.find("rsp:Shell", NS) if body is not None else None
        env: dict[str, str] = {}
        cwd = None
        if shell_el is not None:
            for var in shell_el.findall("rsp:Environment/rsp:Variable", NS):
                env[var.get("Name", "")] = var.text or ""
            cwd = shell_el.findtext("rsp:WorkingDirectory", None, NS)
        shell_id = str(uuid.uuid4()).upper()
        codepage = int(options.get("WINRS_CODEPAGE") or 437)
        with self.server.shells_lock:
            self.server.shells[shell_id] = Shell(shell_id, user, codepage, env, cwd)
        addr = f"https://{self.server.host_fqdn}:5986/wsman"
        body_xml = (
            "<x:ResourceCreated>"
            f"<a:Address>{addr}</a:Address>"
            "<a:ReferenceParameters>"
            "<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI>"
            f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
            "</a:ReferenceParameters>"
            "</x:ResourceCreated>"
            f'<rsp:Shell xmlns:rsp="{SHELL_URI}"><rsp:ShellId>{shell_id}</rsp:ShellId>'
            f"<rsp:Owner>{escape(self.server.host_name.upper())}\\{escape(user)}</rsp:Owner>"
            "<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>"
            "</rsp:Shell>"
        )
        return _envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", msg_id, body_xml)

    def _command(self, shell: Shell, body: ET.Element | None, options: dict, msg_id: str) -> bytes:
        cmd_el = body.find("rsp:CommandLine", NS) if body is not None else None
        command = (cmd_el.findtext("rsp:Command", "", NS) if cmd_el is not None else "").strip()
        arguments = cmd_el.findall("rsp:Arguments", NS) if cmd_el is not None else []
        args = " ".join((a.text or "") for a in arguments)
        command_id = str(uuid.uuid4()).upper()
        proc = self.server.processes.spawn(command, args, shell.user, shell.codepage, shell.env, shell.cwd)
        with self.server.shells_lock:
            shell.commands[command_id] = proc
        return _envelope(
            SHELL_URI + "/CommandResponse",
            msg_id,
            f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>",
        )

    def _proc(self, shell: Shell, command_id: str | None) -> Process:
        proc = shell.commands.get(command_id or "")
        if proc is None:
            raise WSManFault(
                "s:Sender",
                "w:InvalidParameter",
                f"The parameter is incorrect. The command {command_id} does not exist in the shell.",
                87,
            )
        return proc

    def _send(self, shell: Shell, body: ET.Element | None, msg_id: str) -> bytes:
        stream = body.find("rsp:Send/rsp:Stream", NS) if body is not None else None
        if stream is None:
            raise WSManFault("s:Sender", "w:InvalidParameter", "The parameter is incorrect.", 87)
        proc = self._proc(shell, stream.get("CommandId"))
        data = base64.b64decode(stream.text or "")
        end = (stream.get("End") or "").lower() == "true"
        proc.feed(data, end)
        return _envelope(SHELL_URI + "/SendResponse", msg_id, "<rsp:SendResponse/>")

    def _receive(self, shell: Shell, body: ET.Element | None, op_timeout: float, msg_id: str) -> bytes:
        desired = body.find("rsp:Receive/rsp:DesiredStream", NS) if body is not None else None
        command_id = desired.get("CommandId") if desired is not None else None
        proc = self._proc(shell, command_id)
        if self.world.take_fault("winhost.drop", host=self.host, module=proc.module_name()):
            # the connection dies mid-command; the command itself keeps running on the host
            proc.start_if_ready()
            raise _Drop()
        out, err, done, rc = proc.read(op_timeout)
        if not out and not err and not done:
            raise WSManFault(
                "s:Receiver",
                "w:TimedOut",
                "The WS-Management service cannot complete the operation within the time specified in "
                "OperationTimeout.",
                WSMAN_TIMEOUT_CODE,
            )
        parts = []
        if out:
            parts.append(
                f'<rsp:Stream Name="stdout" CommandId="{command_id}">{base64.b64encode(out).decode()}</rsp:Stream>'
            )
        if err:
            parts.append(
                f'<rsp:Stream Name="stderr" CommandId="{command_id}">{base64.b64encode(err).decode()}</rsp:Stream>'
            )
        if done:
            parts.append(f'<rsp:Stream Name="stdout" CommandId="{command_id}" End="true"></rsp:Stream>')
            parts.append(f'<rsp:Stream Name="stderr" CommandId="{command_id}" End="true"></rsp:Stream>')
            state = (
                f'<rsp:CommandState CommandId="{command_id}" State="{SHELL_URI}/CommandState/Done">'
                f"<rsp:ExitCode>{rc}</rsp:ExitCode></rsp:CommandState>"
            )
        else:
            state = f'<rsp:CommandState CommandId="{command_id}" State="{SHELL_URI}/CommandState/Running"/>'
        return _envelope(
            SHELL_URI + "/ReceiveResponse",
            msg_id,
            f"<rsp:ReceiveResponse>{''.join(parts)}{state}</rsp:ReceiveResponse>",
        )

    def _signal(self, shell: Shell, body: ET.Element | None, msg_id: str) -> bytes:
        sig = body.find("rsp:Signal", NS) if body is not None else None
        command_id = sig.get("CommandId") if sig is not None else None
        code = (sig.findtext("rsp:Code", "", NS) if sig is not None else "").strip()
        proc = self._proc(shell, command_id)
        if code == SIGNAL_TERMINATE:
            proc.terminate()
            with self.server.shells_lock:
                shell.commands.pop(command_id or "", None)
        return _envelope(SHELL_URI + "/SignalResponse", msg_id, "<rsp:SignalResponse/>")

    def _delete(self, shell: Shell, msg_id: str) -> bytes:
        with self.server.shells_lock:
            self.server.shells.pop(shell.id, None)
            procs = list(shell.commands.values())
        for p in procs:
            p.terminate()
        return _envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", msg_id, "")


class _Drop(Exception):
    """Close the TCP connection without an answer (fault winhost.drop)."""


def cert_der(tls: Any) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    pem = tls.cert.cert_chain_pems[0].bytes()
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
