"""A small in-memory stand-in for the AWX REST API (api/v2), enough for the awx.awx modules to configure it.

Modelled on AWX's documented API conventions, not on what roles/awx_configure sends:
- list views answer ``{"count", "next", "previous", "results"}`` and filter on exact field values, with
  ``or__<field>`` terms OR-ed together (AWX API guide, "Filtering");
- creating answers 201 with the object, which carries ``id``, ``type``, ``url``, ``related`` and
  ``summary_fields``; associating or disassociating (``{"id": N}`` / ``{"id": N, "disassociate": true}``
  POSTed to a sub-list) answers 204;
- ``POST /api/v2/tokens/`` with Basic auth returns an OAuth2 token; every other call needs
  ``Authorization: Bearer <token>``; answers carry ``X-API-Product-Name`` / ``X-API-Product-Version``;
- secret credential inputs (``secret: true`` in the credential type) read back as ``$encrypted$``;
- a project with an SCM type starts a project update when created (``summary_fields.current_update``)
  and ``POST related.update`` answers 202; ``/survey_spec/`` stores the spec (POST 200);
- ``POST workflow_job_template_nodes/N/create_approval_template/`` creates the approval template and
  makes it the node's unified job template; ``unified_job_templates`` lists every launchable kind with
  its ``type``.
It serves HTTPS with a CA made by trustme, so clients verify TLS as they would against AWX.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import trustme

API = "/api/v2/"
TYPE_OF = {
    "organizations": "organization",
    "execution_environments": "execution_environment",
    "credential_types": "credential_type",
    "credentials": "credential",
    "projects": "project",
    "project_updates": "project_update",
    "inventories": "inventory",
    "inventory_sources": "inventory_source",
    "job_templates": "job_template",
    "workflow_job_templates": "workflow_job_template",
    "workflow_job_template_nodes": "workflow_job_template_node",
    "workflow_approval_templates": "workflow_approval_template",
    "instance_groups": "instance_group",
    "labels": "label",
    "notification_templates": "notification_template",
    "teams": "team",
    "roles": "role",
    "tokens": "o_auth2_access_token",
}
# Object roles AWX gives each kind (summary_fields.object_roles; awx/main/models/jobs.py JobTemplate
# admin/execute/read roles, workflow.py WorkflowJobTemplate adds approval_role); a team or user gets one
# by POSTing {"id": N} to /api/v2/roles/<role id>/teams/ (or users/).
OBJECT_ROLES = {
    "job_templates": ("admin_role", "execute_role", "read_role"),
    "workflow_job_templates": ("admin_role", "execute_role", "read_role", "approval_role"),
}
UNIFIED = ("job_templates", "projects", "inventory_sources", "workflow_job_templates", "workflow_approval_templates")
SUBLISTS = {
    "credentials",
    "instance_groups",
    "labels",
    "success_nodes",
    "failure_nodes",
    "always_nodes",
    "galaxy_credentials",
    "notification_templates_started",
    "notification_templates_success",
    "notification_templates_error",
    "notification_templates_approvals",
    "teams",
    "users",
}
# AWX's managed credential types that awx/ refers to (input ids from AWX's managed type definitions)
MANAGED_TYPES = [
    {
        "name": "Microsoft Azure Resource Manager",
        "kind": "cloud",
        "managed": True,
        "inputs": {
            "fields": [
                {"id": "subscription", "label": "Subscription ID", "type": "string"},
                {"id": "username", "label": "Username", "type": "string"},
                {"id": "password", "label": "Password", "type": "string", "secret": True},
                {"id": "client", "label": "Client ID", "type": "string"},
                {"id": "secret", "label": "Client Secret", "type": "string", "secret": True},
                {"id": "tenant", "label": "Tenant ID", "type": "string"},
                {"id": "cloud_environment", "label": "Azure Cloud Environment", "type": "string"},
            ],
            "required": ["subscription"],
        },
        "injectors": {},
    },
    {"name": "Source Control", "kind": "scm", "managed": True, "inputs": {"fields": []}, "injectors": {}},
    {
        # AWX's managed "Machine" type (kind ssh; awx_plugins credential_plugins / managed types): AWX
        # passes these as ansible-playbook options and password prompts, never as variables.
        "name": "Machine",
        "kind": "ssh",
        "managed": True,
        "inputs": {
            "fields": [
                {"id": "username", "label": "Username", "type": "string"},
                {"id": "password", "label": "Password", "type": "string", "secret": True, "ask_at_runtime": True},
                {"id": "ssh_key_data", "label": "SSH Private Key", "type": "string", "secret": True, "multiline": True},
                {"id": "ssh_public_key_data", "label": "Signed SSH Certificate", "type": "string", "multiline": True},
                {"id": "ssh_key_unlock", "label": "Private Key Passphrase", "type": "string", "secret": True},
                {"id": "become_method", "label": "Privilege Escalation Method", "type": "string"},
                {"id": "become_username", "label": "Privilege Escalation Username", "type": "string"},
                {
                    "id": "become_password",
                    "label": "Privilege Escalation Password",
                    "type": "string",
                    "secret": True,
                    "ask_at_runtime": True,
                },
            ]
        },
        "injectors": {},
    },
]


class FakeAWX:
    def __init__(self, username: str, password: str):
        self.username, self.password = username, password
        self.lock = threading.Lock()
        self.store: dict[str, dict[int, dict]] = {name: {} for name in TYPE_OF}
        self.assoc: dict[tuple[str, int, str], list[int]] = {}
        self.surveys: dict[tuple[str, int], dict] = {}
        self.secrets: dict[int, dict] = {}  # credential id -> inputs as posted (secrets included)
        self.requests: list[tuple[str, str, dict | None]] = []
        self.next_id = 1
        self.tokens: set[str] = set()
        for ctype in MANAGED_TYPES:
            self._create("credential_types", dict(ctype))
        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert("127.0.0.1", "localhost")

    # --- the model ------------------------------------------------------------------------------

    def url(self, coll: str, oid: int) -> str:
        return f"{API}{coll}/{oid}/"

    def _create(self, coll: str, data: dict) -> dict:
        oid = self.next_id
        self.next_id += 1
        obj = {**data, "id": oid, "type": TYPE_OF[coll], "url": self.url(coll, oid), "summary_fields": {}}
        obj["related"] = {sub: f"{obj['url']}{sub}/" for sub in SUBLISTS}
        if coll in ("job_templates", "workflow_job_templates"):
            obj["related"]["survey_spec"] = f"{obj['url']}survey_spec/"
        if coll == "projects":
            obj["related"]["update"] = f"{obj['url']}update/"
            obj.setdefault("scm_revision", "")
            if obj.get("scm_type"):
                update = self._create("project_updates", self._finished_update(oid))
                obj["summary_fields"]["current_update"] = {"id": update["id"], "status": update["status"]}
        if coll == "workflow_job_template_nodes":
            obj.setdefault("unified_job_template", None)
            self._link_ujt(obj)
        if coll in OBJECT_ROLES:
            obj["summary_fields"]["object_roles"] = {}
            for field in OBJECT_ROLES[coll]:
                role = self._create("roles", {"name": field[:-5].capitalize(), "resource": obj["url"]})
                obj["summary_fields"]["object_roles"][field] = {"id": role["id"], "name": role["name"]}
        self.store[coll][oid] = obj
        return obj

    def _finished_update(self, project_id: int) -> dict:
        return {
            "name": f"project {project_id} update",
            "project": project_id,
            "status": "successful",
            "failed": False,
            "finished": "2026-01-01T00:00:00Z",
            "event_processing_finished": True,
            "scm_revision": "0123456789abcdef",
        }

    def _link_ujt(self, node: dict) -> None:
        ujt = node.get("unified_job_template")
        for coll in UNIFIED:
            if ujt in self.store[coll]:
                node["related"]["unified_job_template"] = self.url(coll, ujt)

    def _secret_ids(self, credential_type_id: int) -> set[str]:
        ctype = self.store["credential_types"][credential_type_id]
        return {f["id"] for f in ctype.get("inputs", {}).get("fields", []) if f.get("secret")}

    def _render(self, coll: str, obj: dict) -> dict:
        out = json.loads(json.dumps(obj))
        if coll == "credentials":
            hidden = self._secret_ids(obj["credential_type"])
            out["inputs"] = {k: ("$encrypted$" if k in hidden and v else v) for k, v in obj.get("inputs", {}).items()}
        return out

    def _unified(self) -> list[tuple[str, dict]]:
        return [(c, o) for c in UNIFIED for o in self.store[c].values()]

    def find(self, coll: str, **fields) -> list[dict]:
        return [o for o in self.store[coll].values() if all(o.get(k) == v for k, v in fields.items())]

    @staticmethod
    def _matches(obj: dict, query: list[tuple[str, str]]) -> bool:
        plain = [(k, v) for k, v in query if not k.startswith("or__") and k not in ("page", "page_size", "order_by")]
        ors = [(k[4:], v) for k, v in query if k.startswith("or__")]
        if any(str(obj.get(k)) != v for k, v in plain):
            return False
        return not ors or any(str(obj.get(k)) == v for k, v in ors)

    # --- HTTP -------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: list[tuple[str, str]], body: dict | None, auth: str):
        with self.lock:
            self.requests.append((method, path, body))
            if path == f"{API}tokens/" and method == "POST":
                want = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
                if auth != want:
                    return 401, {"detail": "Invalid username/password."}
                token = secrets.token_hex(16)
                self.tokens.add(token)
                tok = self._create("tokens", {"token": token, "scope": "write"})
                return 201, tok
            if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                return 401, {"detail": "Authentication credentials were not provided."}
            parts = path[len(API) :].strip("/").split("/") if path.startswith(API) else []
            if not parts or not parts[0]:
                return 404, {"detail": "Not found."}
            coll = parts[0]
            if coll == "unified_job_templates" and method == "GET":
                rows = [self._render(c, o) for c, o in self._unified() if self._matches(o, query)]
                return 200, {"count": len(rows), "next": None, "previous": None, "results": rows}
            if coll not in self.store:
                return 404, {"detail": "Not found."}
            if len(parts) == 1:
                if method == "GET":
                    rows = [self._render(coll, o) for o in self.store[coll].values() if self._matches(o, query)]
                    return 200, {"count": len(rows), "next": None, "previous": None, "results": rows}
                if method == "POST":
                    return self._post_create(coll, body or {})
                return 405, {"detail": f'Method "{method}" not allowed.'}
            oid = int(parts[1])
            obj = self.store[coll].get(oid)
            if obj is None:
                return 404, {"detail": "Not found."}
            if len(parts) == 2:
                if method == "GET":
                    return 200, self._render(coll, obj)
                if method == "PATCH":
                    return self._patch(coll, obj, body or {})
                if method == "DELETE":
                    del self.store[coll][oid]
                    return 204, None
                return 405, {"detail": f'Method "{method}" not allowed.'}
            return self._sub(coll, obj, parts[2], method, body or {})

    def _check_refs(self, coll: str, data: dict) -> dict | None:
        refs = {
            "organization": "organizations",
            "credential_type": "credential_types",
            "project": "projects",
            "source_project": "projects",
            "inventory": "inventories",
            "execution_environment": "execution_environments",
            "default_environment": "execution_environments",
            "credential": "credentials",
            "workflow_job_template": "workflow_job_templates",
        }
        for field, target in refs.items():
            if data.get(field) is not None and data[field] not in self.store[target]:
                return {field: [f'Invalid pk "{data[field]}" - object does not exist.']}
        if coll == "credentials":
            allowed = {
                f["id"] for f in self.store["credential_types"][data["credential_type"]]["inputs"].get("fields", [])
            }
            if unknown := set(data.get("inputs", {})) - allowed:
                return {"inputs": {k: ["Additional properties are not allowed"] for k in unknown}}
        return None

    def _post_create(self, coll: str, data: dict):
        if err := self._check_refs(coll, data):
            return 400, err
        if "name" in data and coll != "workflow_job_template_nodes":
            org = data.get("organization")
            if any(o.get("name") == data["name"] and o.get("organization") == org for o in self.store[coll].values()):
                return 400, {"__all__": [f"{TYPE_OF[coll]} with this Name and Organization already exists."]}
        if coll == "credentials":
            self_inputs = dict(data.get("inputs", {}))
            obj = self._create(coll, data)
            self.secrets[obj["id"]] = self_inputs
            return 201, self._render(coll, obj)
        return 201, self._render(coll, self._create(coll, data))

    def _patch(self, coll: str, obj: dict, data: dict):
        if err := self._check_refs(coll, {**obj, **data}):
            return 400, err
        if coll == "credentials" and "inputs" in data:
            hidden = self._secret_ids(obj["credential_type"])
            merged = dict(obj.get("inputs", {}))
            for k, v in data["inputs"].items():
                if not (k in hidden and v == "$encrypted$"):
                    merged[k] = v
            data = {**data, "inputs": merged}
            self.secrets[obj["id"]] = merged
        obj.update(data)
        if coll == "workflow_job_template_nodes":
            self._link_ujt(obj)
        return 200, self._render(coll, obj)

    def _sub(self, coll: str, obj: dict, sub: str, method: str, body: dict):
        key = (coll, obj["id"], sub)
        if sub == "survey_spec":
            if method == "GET":
                return 200, self.surveys.get((coll, obj["id"]), {})
            if method == "POST":
                self.surveys[(coll, obj["id"])] = body
                return 200, None
            if method == "DELETE":
                self.surveys.pop((coll, obj["id"]), None)
                return 200, None
        if sub == "update" and coll == "projects" and method == "POST":
            update = self._create("project_updates", self._finished_update(obj["id"]))
            obj["scm_revision"] = update["scm_revision"]
            return 202, {"id": update["id"], "project_update": update["id"], "url": update["url"]}
        if sub == "create_approval_template" and coll == "workflow_job_template_nodes" and method == "POST":
            tmpl = self._create("workflow_approval_templates", body)
            obj["unified_job_template"] = tmpl["id"]
            self._link_ujt(obj)
            return 201, self._render("workflow_approval_templates", tmpl)
        if sub in SUBLISTS:
            ids = self.assoc.setdefault(key, [])
            target = "workflow_job_template_nodes" if sub.endswith("_nodes") else sub.replace("galaxy_", "")
            target = "notification_templates" if target.startswith("notification_templates") else target
            if method == "GET":
                rows = [self._render(target, self.store[target][i]) for i in ids if i in self.store[target]]
                return 200, {"count": len(rows), "next": None, "previous": None, "results": rows}
            if method == "POST":
                if body.get("id") not in self.store[target]:
                    return 400, {"msg": f"no {target} {body.get('id')}"}
                if body.get("disassociate"):
                    if body["id"] in ids:
                        ids.remove(body["id"])
                elif body["id"] not in ids:
                    ids.append(body["id"])
                return 204, None
        return 404, {"detail": "Not found."}

    # --- server ---------------------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # else every answer waits ~40 ms for the client's ACK

            def _do(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                status, payload = fake.handle(
                    self.command, parts.path, parse_qsl(parts.query), body, self.headers.get("Authorization", "")
                )
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("X-API-Product-Name", "AWX")
                self.send_header("X-API-Product-Version", "24.6.1")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _do  # noqa: N815 (http.server names)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.cert.configure_cert(ctx)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
