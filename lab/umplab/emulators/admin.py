"""The lab's own admin API: state, reset, faults, counters, scale. Used by the CLI and the tests.

Every call needs ``Authorization: Bearer <admin_token>`` (the token is in endpoints.json), so a test
process cannot change the world by accident through another emulator's port.
"""

from __future__ import annotations

import hmac
import secrets

from ..httpbase import HTTPError, LabHandler, Request, Response
from ..runtime import reset_world

ORDER = 0


class AdminHandler(LabHandler):
    system = "admin"
    routes = [
        ("GET", r"/state", "get_state"),
        ("POST", r"/reset", "post_reset"),
        ("GET", r"/faults", "get_faults"),
        ("POST", r"/faults", "post_fault"),
        ("DELETE", r"/faults(?:/(?P<name>[^/]+))?", "delete_faults"),
        ("GET", r"/counters", "get_counters"),
        ("DELETE", r"/counters", "delete_counters"),
        ("PATCH", r"/config", "patch_config"),
        ("GET", r"/health", "health"),
        ("GET", r"/hosts/(?P<host>[^/]+)/state", "get_host_state"),
        ("POST", r"/hosts/(?P<host>[^/]+)/state", "set_host_state"),
    ]

    def before(self, req: Request) -> None:
        if req.path == "/health":
            return
        auth = req.headers.get("Authorization", "")
        if not hmac.compare_digest(auth, f"Bearer {self.server.token}"):
            raise HTTPError(401, {"error": "admin token required"})

    def health(self, req: Request):
        return {"status": "ok"}

    def get_host_state(self, req: Request):
        """What is on the host's current OS disk (the Windows state a WinRM session sees)."""
        try:
            with self.world.lock:
                return self.world.host_state(req.params["host"])
        except KeyError as e:
            raise HTTPError(404, {"error": str(e)}) from None

    def set_host_state(self, req: Request):
        """Tests change a host directly: ``{"path": ["files", "c:\\acs\\x.txt"], "value": {...}}``;
        a ``null`` value deletes the key. Like editing the server by hand over RDP."""
        body = req.json() or {}
        path = body.get("path")
        if not isinstance(path, list) or not path or not all(isinstance(p, str) for p in path):
            raise HTTPError(400, {"error": "path must be a non-empty list of keys"})
        with self.world.lock:
            try:
                node = self.world.host_state(req.params["host"])
            except KeyError as e:
                raise HTTPError(404, {"error": str(e)}) from None
            for key in path[:-1]:
                node = node.setdefault(key, {})
            if body.get("value") is None:
                node.pop(path[-1], None)
            else:
                node[path[-1]] = body["value"]
        return {"ok": True}

    def get_state(self, req: Request):
        return self.world.snapshot()

    def post_reset(self, req: Request):
        reset_world(self.server.lab.state_dir, self.world)
        return {"reset": True}

    def get_faults(self, req: Request):
        with self.world.lock:
            return {"faults": list(self.world.data["faults"])}

    def post_fault(self, req: Request):
        body = req.json() or {}
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise HTTPError(400, {"error": "a fault needs a name"})
        params = body.get("params") or {}
        if not isinstance(params, dict):
            raise HTTPError(400, {"error": "params must be an object"})
        return Response(201, self.world.add_fault(name, **params))

    def delete_faults(self, req: Request):
        return {"cleared": self.world.clear_faults(req.params.get("name"))}

    def get_counters(self, req: Request):
        with self.world.lock:
            return dict(self.world.data.get("counters", {}))

    def delete_counters(self, req: Request):
        self.world.reset_counters()
        return {"reset": True}

    def patch_config(self, req: Request):
        body = req.json() or {}
        with self.world.lock:
            if "scale" in body:
                scale = float(body["scale"])
                if scale < 0:
                    raise HTTPError(400, {"error": f"scale must be >= 0, got {scale}"})
                self.world.config["scale"] = scale
            return dict(self.world.config)


def start(lab) -> dict:
    token = secrets.token_urlsafe(24)
    srv = lab.serve(AdminHandler, token=token)
    return {"admin": {"url": lab.url(srv), "token": token}, "tls": {"admin": lab.url(srv)}}
