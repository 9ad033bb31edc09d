"""A small HTTPS server base every REST-ish emulator shares (routing, JSON, counters, faults).

Python's http.server writes headers and body separately; without TCP_NODELAY each request costs
~40 ms of Nagle delay (facts/azure.md), so it is set on every accepted socket.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from .world import World

Route = tuple[str, "re.Pattern[str]", Callable[..., Any]]


class HTTPError(Exception):
    """Raise from a route to answer with ``status`` and a JSON ``body`` (and optional headers)."""

    def __init__(
        self, status: int, body: Any = None, headers: dict | None = None, content_type: str = "application/json"
    ):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type


class Request:
    def __init__(self, handler: "LabHandler", method: str, match: re.Match):
        self.handler = handler
        self.method = method
        split = urlsplit(handler.path)
        self.path = split.path
        self.query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        self.params = match.groupdict()
        self.headers = handler.headers
        length = int(handler.headers.get("Content-Length") or 0)
        self.body = handler.rfile.read(length) if length else b""

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise HTTPError(400, {"error": "body is not JSON"}) from None


class Response:
    def __init__(
        self, status: int = 200, body: Any = None, headers: dict | None = None, content_type: str = "application/json"
    ):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type


class LabHandler(BaseHTTPRequestHandler):
    """Subclass and set ``routes`` = [(METHOD, regex, method_name)] ; a route returns Response, a dict/list, or None."""

    protocol_version = "HTTP/1.1"
    routes: list[tuple[str, str, str]] = []
    system = "http"  # counter prefix, e.g. "arm", "ump_api"
    server: "LabHTTPServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep the lab quiet
        pass

    @property
    def world(self) -> World:
        return self.server.world

    def _compiled(self) -> list[Route]:
        cls = type(self)
        if "_compiled_routes" not in cls.__dict__:
            cls._compiled_routes = [(m, re.compile("^" + rx + "$", re.I), name) for m, rx, name in cls.routes]
        return cls._compiled_routes

    def _dispatch(self, method: str) -> None:
        path = urlsplit(self.path).path
        self.world.count(f"{self.system}.requests")
        try:
            allowed = []
            for m, rx, name in self._compiled():
                match = rx.match(path)
                if not match:
                    continue
                if m != method:
                    allowed.append(m)
                    continue
                req = Request(self, method, match)
                self.before(req)
                result = getattr(self, name)(req)
                if not isinstance(result, Response):
                    result = Response(200 if result is not None else 204, result)
                self._send(self._malformed(req, result))
                return
            # drain the body so keep-alive stays in step
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if allowed:
                raise HTTPError(405, self.error_body(405, "MethodNotAllowed", f"{method} not allowed on {path}"))
            raise HTTPError(404, self.error_body(404, "NotFound", f"no route for {method} {path}"))
        except HTTPError as e:
            self._send(Response(e.status, e.body, e.headers, e.content_type))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # the lab must answer, never hang a client
            self._send(Response(500, self.error_body(500, "LabInternalError", f"{type(e).__name__}: {e}")))

    def before(self, req: Request) -> None:
        """Hook: authentication and fault checks common to every route of an emulator."""

    def fault_scope(self, req: Request) -> dict:
        """Hook: what narrows a fault to this request (``host``, ``sbc``); a fault param not given matches all."""
        return {}

    def _malformed(self, req: Request, result: Response) -> Response:
        """Fault ``<system>.malformed path=P [method=GET] [kind=html|shape] [host=H] [times=N]``: a successful
        answer of a route whose path ends with P is replaced, after the route has run (so a write still
        happens), by what a misconfigured front end or another API version sends back with status 200:

        - ``html``: an HTML page (``text/html``), as a reverse proxy's or identity provider's sign-in page,
          or IIS's default page when the URL misses the application;
        - ``shape``: JSON of another shape: the real answer wrapped in ``{"data": ...}`` (list keys and
          required fields are no longer where the documented API has them).
        """
        if not 200 <= result.status < 300:
            return result
        w = self.world
        name = f"{self.system}.malformed"
        scope = self.fault_scope(req)
        with w.lock:
            for f in w.data.get("faults", []):
                if f["name"] != name:
                    continue
                p = f["params"]
                times = p.get("times")
                if times is not None and f["fired"] >= int(times):
                    continue
                if not req.path.lower().rstrip("/").endswith(str(p.get("path", "")).lower().rstrip("/")):
                    continue
                if str(p.get("method", req.method)).upper() != req.method:
                    continue
                if not all(str(p[k]).lower() == str(v).lower() for k, v in scope.items() if k in p):
                    continue
                f["fired"] += 1
                w.count(f"fault.{name}")
                kind = str(p.get("kind", "html"))
                break
            else:
                return result
        if kind == "shape":
            return Response(200, {"data": result.body}, result.headers, "application/json")
        page = (
            "<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Sign in to continue</h1>"
            "<form method=post action=/login><input name=user><input name=password type=password></form></body></html>"
        )
        return Response(200, page, {}, "text/html; charset=utf-8")

    def error_body(self, status: int, code: str, message: str) -> Any:
        return {"error": {"code": code, "message": message}}

    def _send(self, resp: Response) -> None:
        if isinstance(resp.body, (bytes, bytearray)):
            payload = bytes(resp.body)
        elif isinstance(resp.body, str):
            payload = resp.body.encode()
        elif resp.body is None:
            payload = b""
        else:
            payload = json.dumps(resp.body).encode()
        try:
            self.send_response(resp.status)
            if payload or resp.status not in (204, 304):
                self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for k, v in resp.headers.items():
                self.send_header(k, str(v))
            self.end_headers()
            if payload and self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


class LabHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 64

    def __init__(
        self,
        world: World,
        handler: type[BaseHTTPRequestHandler],
        ssl_context: ssl.SSLContext | None,
        host: str = "127.0.0.1",
        port: int = 0,
        **attrs: Any,
    ):
        self.world = world
        self.ssl_context = ssl_context
        for k, v in attrs.items():
            setattr(self, k, v)
        super().__init__((host, port), handler)
        self._thread: threading.Thread | None = None

    def get_request(self):  # type: ignore[override]
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request, client_address):  # type: ignore[override]
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(30)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return  # a client that does not trust the lab CA: drop it, as a real server would
            request.settimeout(None)
        super().finish_request(request, client_address)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"lab-{type(self).__name__}-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
