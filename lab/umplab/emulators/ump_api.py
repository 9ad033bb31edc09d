"""The UMP-365 SP Edition "tenantui" REST API, one HTTPS endpoint per UMP server.

Public shapes (facts/ump_sbc_ovoc.md): ``GET /api/v3/customer`` (``UmpCustomerGuid``,
``CustomerShortName``, ``LicenseType``, ``MsTenantId``, ``ActiveUserCount``, state), ``GET
/api/v3/customer/{guid}`` (``ApplicationClientId``, ``ClientSecretExpirationDate``,
``SiteLocation[]`` with ``sbcDeploymentState`` as a string), ``GET /api/v2/sitelocation/{id}``
(``sbcDeploymentState`` as an int, 3 = Deployed), dial plans, ``GET /api/v2/task/{id}`` (status
``In Progress`` | ``CompletedSuccess`` | ``Failed``), errors as ``application/problem+json`` with
``errorCode`` and ``traceId``. Auth: an Entra ID bearer token whose audience is
``api://<the host's ump_api_app_id>`` (401 without or expired, 403 for another audience).

Not public, the lab's assumption (docs/assumptions.md): the ``/api/v3/portal/...`` endpoints and
``/api/v2/license`` with the portal data the guide checks. Everything is read from the host's
SysAdminTenant database (``world.sql_host_for(host)``), so what the upgrade changes there shows here.

The API answers only while the host's VM runs (otherwise the connection is dropped, as a stopped VM
would) and its ``w3svc`` service is running (otherwise HTTP.sys answers 503, as IIS stopped does).
"""

from __future__ import annotations

import secrets
import socket
import time

from urllib.parse import urlsplit

from ..httpbase import HTTPError, LabHandler, Request, Response
from ..world import World
from .entra import check_token

ORDER = 30
PROBLEM = "application/problem+json"
BASE = "/tenantui"
PORTAL = "/api/v3/portal"  # the default portal prefix; a host's ump.site.portal_prefix replaces it
DEPLOYMENT_STATE_NAMES = {0: "Unknown", 1: "Ready", 2: "Failed", 3: "Deployed"}
OPEN_STATES_DONE = ("completed", "done", "succeeded", "failed", "cancelled")


def trace_id() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


def problem(status: int, title: str, detail: str, code: str, headers: dict | None = None) -> HTTPError:
    body = {
        "type": f"https://tools.ietf.org/html/rfc9110#status.{status}",
        "title": title,
        "status": status,
        "detail": detail,
        "errorCode": code,
        "traceId": trace_id(),
    }
    return HTTPError(status, body, headers=headers, content_type=PROBLEM)


class UmpApiHandler(LabHandler):
    system = "ump_api"
    routes = [
        ("GET", BASE + r"/api/v3/customer", "list_customers"),
        ("GET", BASE + r"/api/v3/customer/(?P<guid>[^/]+)", "get_customer"),
        ("GET", BASE + r"/api/v2/sitelocation/(?P<site>[^/]+)", "get_site"),
        (
            "GET",
            BASE + r"/api/v2/customer/(?P<guid>[^/]+)/sitelocation/(?P<site>[^/]+)/dialplan/(?P<dp>[^/]+)",
            "get_dial_plan",
        ),
        ("GET", BASE + r"/api/v2/task/(?P<task>[^/]+)", "get_task"),
        ("GET", BASE + r"/api/v2/license", "get_license"),
        ("GET", BASE + r"/api/v3/portal/versions", "portal_versions"),
        ("GET", BASE + r"/api/v3/portal/replicationqueue", "portal_queue"),
        ("GET", BASE + r"/api/v3/portal/authenticationstatus", "portal_auth"),
        ("GET", BASE + r"/api/v3/portal/invitations", "portal_invitations"),
        ("GET", BASE + r"/api/v3/portal/sbcs", "portal_sbcs"),
        ("GET", BASE + r"/api/v3/portal/invitationsettings", "portal_invitation_settings"),
        # [checks] the portal's "Switch to token" (sends an invitation), the scenario script templates, and the
        # customer's side of an invitation: the link https://<FQDN>/authenticate/<InvitationId> (no bearer token;
        # the real page runs a Microsoft device-code sign-in, which the lab takes as done). Not public: lab paths.
        ("POST", BASE + r"/api/v3/customer/(?P<guid>[^/]+)/switchtotoken", "switch_to_token"),
        ("GET", BASE + r"/api/v3/scripttemplates", "script_templates"),
        ("POST", r"/authenticate/(?P<inv>[0-9]+)", "accept_invitation"),
    ]

    server_header = "Microsoft-IIS/10.0"

    def version_string(self) -> str:
        return self.server_header

    @property
    def host(self) -> str:
        return self.server.host_name

    def fault_scope(self, req: Request) -> dict:
        return {"host": self.host}

    def error_body(self, status: int, code: str, message: str):
        return {"title": code, "status": status, "detail": message, "errorCode": code, "traceId": trace_id()}

    # ------------------------------------------------------------------ IIS and the host
    def _dispatch(self, method: str) -> None:
        w = self.world
        with w.lock:
            reachable = w.host_reachable(self.host)
            w3svc = w.host_state(self.host).get("services", {}).get("w3svc", {}).get("state") if reachable else None
        if not reachable:
            # a stopped VM: nothing answers; drop the connection without a response
            w.count("ump_api.dropped")
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if w3svc != "running":
            # HTTP.sys answers for a stopped W3SVC / app pool
            self.close_connection = True
            self.server_header = "Microsoft-HTTPAPI/2.0"
            self._send(
                Response(
                    503,
                    "<HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD><BODY><h2>Service Unavailable</h2>"
                    "<hr><p>HTTP Error 503. The service is unavailable.</p></BODY></HTML>",
                    headers={"Connection": "close"},
                    content_type="text/html; charset=us-ascii",
                )
            )
            return
        if not self._site_paths(w, method):
            return
        super()._dispatch(method)

    def _site_paths(self, w: World, method: str) -> bool:
        """The portal endpoints sit under the host's own prefix (ump.site.portal_prefix, lab flavour): the
        default prefix answers 404 there, as a route the server does not have. False when answered here."""
        with w.lock:
            prefix = (w.host_state(self.host).get("ump", {}).get("site") or {}).get("portal_prefix") or PORTAL
        if prefix.rstrip("/").lower() == PORTAL:
            return True
        parts = urlsplit(self.path)
        path = parts.path
        own = BASE + prefix.rstrip("/") + "/"
        if path.lower().startswith((BASE + PORTAL + "/").lower()):
            w.count(f"{self.system}.requests")
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self._send(
                Response(404, self.error_body(404, "NotFound", f"no route for {method} {path}"), content_type=PROBLEM)
            )
            return False
        if path.lower().startswith(own.lower()):
            path = BASE + PORTAL + "/" + path[len(own) :]
        self.path = path + ("?" + parts.query if parts.query else "")
        return True

    def before(self, req: Request) -> None:
        w = self.world
        slow = w.take_fault("ump_api.slow", host=self.host)
        if slow is not None:
            time.sleep(float(slow.get("seconds", 5)))  # real seconds: the client's timeout is what is tested
        if req.path.startswith("/authenticate/"):
            w.count("ump_api.calls")
            return
        app_id = w.hosts[self.host]["ump_api_app_id"]
        try:
            # the installed version narrows entra.expired_token (a token expiring mid-run); read only when set
            match = (
                {"version": self._setting("SysAdminKitVersion") or ""} if w.peek_fault("entra.expired_token") else {}
            )
            check_token(w, req.headers.get("Authorization"), f"api://{app_id}", host=self.host, **match)
        except HTTPError as e:
            code = (e.body or {}).get("error", {}).get("code", "Unauthorized")
            msg = (e.body or {}).get("error", {}).get("message", "")
            raise problem(e.status, "Unauthorized" if e.status == 401 else "Forbidden", msg, code, e.headers) from None
        fault = w.take_fault("ump_api.5xx", host=self.host)
        if fault is not None:
            status = int(fault.get("status", 500))
            headers = {"Retry-After": fault["retry_after"]} if "retry_after" in fault else None
            raise problem(
                status,
                "Internal Server Error" if status == 500 else "Service Unavailable",
                "lab fault ump_api.5xx",
                "InternalError" if status == 500 else "ServiceUnavailable",
                headers,
            )
        w.count("ump_api.calls")

    # ------------------------------------------------------------------ SQL
    def _sql_host(self) -> str:
        w = self.world
        sql_host = w.sql_host_for(self.host)
        with w.lock:
            ok = w.host_reachable(sql_host)
            svc = (
                w.host_state(sql_host).get("services", {}).get(w.sql_service(sql_host), {}).get("state") if ok else None
            )
        if svc != "running":
            raise problem(
                500,
                "Internal Server Error",
                "SqlException: A network-related or instance-specific error occurred while establishing a "
                f"connection to SQL Server ({sql_host}).",
                "DatabaseUnavailable",
            )
        return sql_host

    def _rows(self, query: str, params: tuple = ()) -> list[dict]:
        return self.world.sql_rows(self._sql_host(), "SysAdminTenant", query, params)

    def _exec(self, statement: str, params: tuple = ()) -> int:
        return self.world.sql_exec(self._sql_host(), "SysAdminTenant", statement, params)

    def _setting(self, name: str) -> str | None:
        rows = self._rows("SELECT Value FROM ApplicationSetting WHERE Name = ?", (name,))
        return rows[0]["Value"] if rows else None

    # ------------------------------------------------------------------ customers
    @staticmethod
    def _customer_summary(c: dict) -> dict:
        return {
            "UmpCustomerGuid": c["UmpCustomerGuid"],
            "CustomerShortName": c["CustomerShortName"],
            "CustomerName": c["CustomerName"],
            "LicenseType": c["LicenseType"],
            "MsTenantId": c["MsTenantId"],
            "ActiveUserCount": c["ActiveUserCount"],
            "DidCount": c["DidCount"],
            "State": c["State"],
            "Enabled": bool(c["Enabled"]),
        }

    def _customer_details(self, c: dict) -> dict:
        out = self._customer_summary(c)
        sites = self._rows("SELECT * FROM SiteLocation WHERE UmpCustomerGuid = ? ORDER BY Id", (c["UmpCustomerGuid"],))
        out.update(
            {
                "ApplicationClientId": c["ApplicationClientId"],
                "ClientSecretExpirationDate": c["ClientSecretExpirationDate"],
                "Version": c["Version"],
                "SiteLocation": [
                    {
                        "id": s["Id"],
                        "name": s["Name"],
                        "sbcName": s["SbcName"],
                        "sbcDeploymentState": DEPLOYMENT_STATE_NAMES.get(s["SbcDeploymentState"], "Unknown"),
                        "m365DeploymentState": DEPLOYMENT_STATE_NAMES.get(s["M365DeploymentState"], "Unknown"),
                    }
                    for s in sites
                ],
            }
        )
        return out

    def list_customers(self, req: Request):
        rows = self._rows("SELECT * FROM Customer ORDER BY CustomerShortName")
        if req.query.get("allDetails", "").lower() == "true":
            return [self._customer_details(c) for c in rows]
        return [self._customer_summary(c) for c in rows]

    def _customer(self, guid: str) -> dict:
        rows = self._rows("SELECT * FROM Customer WHERE lower(UmpCustomerGuid) = lower(?)", (guid,))
        if not rows:
            raise problem(404, "Not Found", f"customer {guid} does not exist", "CustomerNotFound")
        return rows[0]

    def get_customer(self, req: Request):
        return self._customer_details(self._customer(req.params["guid"]))

    def _site(self, site: str) -> dict:
        rows = self._rows("SELECT * FROM SiteLocation WHERE Id = ?", (_int(site),))
        if not rows:
            raise problem(404, "Not Found", f"site location {site} does not exist", "SiteLocationNotFound")
        return rows[0]

    def _dial_plans(self, site_id: int) -> list[dict]:
        names = self._rows(
            "SELECT DISTINCT DialPlanName FROM DialPlanRule WHERE SiteLocationId = ? ORDER BY DialPlanName", (site_id,)
        )
        return [{"id": n + 1, "name": r["DialPlanName"]} for n, r in enumerate(names)]

    def get_site(self, req: Request):
        s = self._site(req.params["site"])
        return {
            "id": s["Id"],
            "name": s["Name"],
            "customerId": s["UmpCustomerGuid"],
            "sbcName": s["SbcName"],
            "sbcDeploymentState": s["SbcDeploymentState"],
            "m365DeploymentState": s["M365DeploymentState"],
            "pendingTasks": s["PendingTasks"],
            "dialPlans": self._dial_plans(s["Id"]),
        }

    def get_dial_plan(self, req: Request):
        c = self._customer(req.params["guid"])
        s = self._site(req.params["site"])
        if s["UmpCustomerGuid"].lower() != c["UmpCustomerGuid"].lower():
            raise problem(404, "Not Found", "the site location belongs to another customer", "SiteLocationNotFound")
        plans = {str(p["id"]): p for p in self._dial_plans(s["Id"])}
        plan = plans.get(req.params["dp"])
        if plan is None:
            raise problem(404, "Not Found", f"dial plan {req.params['dp']} does not exist", "DialPlanNotFound")
        rules = self._rows(
            "SELECT RuleName, Prefix, Tag FROM DialPlanRule WHERE SiteLocationId = ? AND DialPlanName = ? ORDER BY Id",
            (s["Id"], plan["name"]),
        )
        return {
            "id": plan["id"],
            "name": plan["name"],
            "rules": [{"name": r["RuleName"], "prefix": r["Prefix"], "tag": r["Tag"]} for r in rules],
        }

    # ------------------------------------------------------------------ tasks
    def get_task(self, req: Request):
        tid = _int(req.params["task"])
        rows = self._rows("SELECT * FROM Task WHERE Id = ?", (tid,))
        if not rows:
            raise problem(404, "Not Found", f"task {req.params['task']} does not exist", "TaskNotFound")
        t = rows[0]
        if t["Status"] == "In Progress":
            w = self.world
            with w.lock:
                plan = w.data.setdefault("ump_api", {}).setdefault("tasks", {}).get(self.host, {}).get(str(tid))
                steps = None
                if plan is not None:
                    plan["steps"] = int(plan.get("steps", 0)) - 1
                    steps = plan["steps"]
            if plan is not None and steps < 0:
                failed = w.take_fault("ump_api.task_fails", host=self.host, task_id=tid)
                outcome = "Failed" if failed is not None else plan.get("outcome", "CompletedSuccess")
                message = plan.get("message") if outcome == "Failed" else "Completed"
                if failed is not None:
                    message = failed.get("message", "lab fault ump_api.task_fails")
                now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                self._exec(
                    "UPDATE Task SET Status = ?, Message = ?, CompletedAt = ? WHERE Id = ?",
                    (outcome, message, now, tid),
                )
                t = self._rows("SELECT * FROM Task WHERE Id = ?", (tid,))[0]
        return {
            "id": t["Id"],
            "kind": t["Kind"],
            "customerId": t["UmpCustomerGuid"],
            "status": t["Status"],
            "message": t["Message"],
            "createdAt": t["CreatedAt"],
            "completedAt": t["CompletedAt"],
        }

    # ------------------------------------------------------------------ licence and portal (not public)
    def get_license(self, req: Request):
        rows = self._rows("SELECT Kind, Users, Customers, ExpiresAt, Status FROM Licence ORDER BY Id")
        return {
            "Licenses": rows,
            "MultiTenantVersion": self._setting("MultiTenantVersion"),
            "AvailableUsers": _int(self._setting("AvailableUsers")),
            "AvailableCustomers": _int(self._setting("AvailableCustomers")),
        }

    def portal_versions(self, req: Request):
        # fault ump_api.customer_state customer=C state=S [version=V]: once the Multitenant version is V (after an
        # upgrade, with version=<target>), customer C's deployment ends in state S (written to SysAdminTenant)
        broken = self.world.take_fault(
            "ump_api.customer_state", host=self.host, version=self._setting("SysAdminKitVersion") or ""
        )
        if broken is not None:
            self._exec(
                "UPDATE Customer SET State = ? WHERE CustomerShortName = ?",
                (str(broken.get("state", "Failed")), str(broken.get("customer", ""))),
            )
        rows = self._rows("SELECT * FROM Customer ORDER BY CustomerShortName")
        return {
            "SysAdminKitVersion": self._setting("SysAdminKitVersion"),
            "MultiTenantVersion": self._setting("MultiTenantVersion"),
            "AvailableUsers": _int(self._setting("AvailableUsers")),
            "AvailableCustomers": _int(self._setting("AvailableCustomers")),
            "Customers": [
                {
                    "UmpCustomerGuid": c["UmpCustomerGuid"],
                    "CustomerShortName": c["CustomerShortName"],
                    "State": c["State"],
                    "Version": c["Version"],
                    "ReplicationTime": c["ReplicationTime"],
                }
                for c in rows
            ],
        }

    def _replication_backlog(self) -> None:
        """The ``ump_api.replication_backlog`` fault queues commands; they drain after ``reads`` queue reads."""
        w = self.world
        fault = w.take_fault("ump_api.replication_backlog", host=self.host)
        if fault is not None:
            executing = int(fault.get("executing", 1))
            queued = int(fault.get("queued", 0))
            customers = self._rows("SELECT UmpCustomerGuid FROM Customer ORDER BY CustomerShortName")
            ids = []
            for n in range(executing + queued):
                guid = customers[n % len(customers)]["UmpCustomerGuid"] if customers else None
                state = "Executing" if n < executing else "Queued"
                conn = w.sql_connect(self._sql_host(), "SysAdminTenant")
                try:
                    with conn:
                        cur = conn.execute(
                            "INSERT INTO ReplicationCommand (UmpCustomerGuid, CmdType, State, Retries, WhenExecuted, "
                            "ExecutionResult, NextExecutionMinutes) VALUES (?, 'Sync', ?, 0, NULL, NULL, 'Now')",
                            (guid, state),
                        )
                        ids.append(cur.lastrowid)
                finally:
                    conn.close()
            with w.lock:
                w.data.setdefault("ump_api", {}).setdefault("backlog", {})[self.host] = {
                    "ids": ids,
                    "reads": int(fault.get("reads", 2)),
                }
            return
        with w.lock:
            backlog = w.data.setdefault("ump_api", {}).setdefault("backlog", {}).get(self.host)
            if backlog is None:
                return
            backlog["reads"] -= 1
            done = backlog["reads"] <= 0
            if done:
                del w.data["ump_api"]["backlog"][self.host]
        if done:
            for cid in backlog["ids"]:
                self._exec(
                    "UPDATE ReplicationCommand SET State = 'Completed', ExecutionResult = 'Success', "
                    "WhenExecuted = ? WHERE Id = ?",
                    (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), cid),
                )

    def portal_queue(self, req: Request):
        self._replication_backlog()
        rows = self._rows(
            "SELECT r.*, c.CustomerShortName FROM ReplicationCommand r "
            "LEFT JOIN Customer c ON c.UmpCustomerGuid = r.UmpCustomerGuid ORDER BY r.Id"
        )
        open_rows = [r for r in rows if str(r["State"] or "").lower() not in OPEN_STATES_DONE]
        return {
            "OpenCommands": len(open_rows),
            "Executing": sum(1 for r in open_rows if str(r["State"]).lower() == "executing"),
            "Queued": sum(1 for r in open_rows if str(r["State"]).lower() == "queued"),
            "Commands": [
                {
                    "Id": r["Id"],
                    "Customer": r["CustomerShortName"] or r["UmpCustomerGuid"],
                    "CmdType": r["CmdType"],
                    "State": r["State"],
                    "Retries": r["Retries"],
                    "WhenExecuted": r["WhenExecuted"],
                    "ExecutionResult": r["ExecutionResult"],
                    "NextExecutionMinutes": r["NextExecutionMinutes"],
                }
                for r in open_rows
            ],
        }

    def portal_auth(self, req: Request):
        rows = self._rows("SELECT * FROM Customer ORDER BY CustomerShortName")

        def status(c: dict) -> str:
            if c["LastVerified"] is None:
                return "Never Performed"
            return "Successful" if c["LastVerificationOk"] else "Failed"

        return {
            "ClientId": self._setting("AuthStatus.ClientId"),
            # the portal shows the secret masked; the API only says whether one is set
            "ClientSecretConfigured": bool(self._setting("AuthStatus.ClientSecret")),
            "RedirectUri": self._setting("AuthStatus.RedirectUri"),
            "Customers": [
                {
                    "CustomerId": c["CustomerShortName"],
                    "M365Email": c["M365Email"],
                    "AuthenticationMethod": c["AuthMethod"],
                    "WhenLastVerified": c["LastVerified"],
                    "LastVerificationStatus": status(c),
                }
                for c in rows
            ],
        }

    def portal_invitations(self, req: Request):
        rows = self._rows(
            "SELECT i.*, c.CustomerShortName, c.CustomerName, c.M365Email FROM Invitation i "
            "LEFT JOIN Customer c ON c.UmpCustomerGuid = i.UmpCustomerGuid ORDER BY i.Id"
        )
        return {
            "Invitations": [
                {
                    "Id": r["Id"],
                    "Customer": r["CustomerShortName"],
                    "FullName": r["CustomerName"],
                    "InvitationEmail": r["Email"],
                    "M365AdminEmail": r["M365Email"] if r["AcceptedAt"] else None,
                    "EmailSent": r["SentAt"] is not None,
                    "CreatedAt": r["SentAt"],
                    "InvitationType": r["Kind"],
                    "State": r["State"],
                    "DeviceAuthenticated": r["AcceptedAt"] is not None,
                }
                for r in rows
            ]
        }

    def portal_sbcs(self, req: Request):
        rows = self._rows(
            "SELECT Name, MIN(Id) AS Id, MIN(Address) AS Address, MIN(Status) AS Status FROM Sbc GROUP BY Name"
        )
        out = []
        for r in rows:
            sites = self._rows("SELECT COUNT(*) AS n FROM SiteLocation WHERE SbcName = ?", (r["Name"],))[0]["n"]
            sbc = self.world.data.get("sbcs", {}).get(r["Name"], {})
            out.append(
                {
                    "Id": r["Id"],
                    "OvocSbcId": None,
                    "Name": r["Name"],
                    "IpAddress": sbc.get("status", {}).get("ipAddress"),
                    "DeviceFqdn": r["Address"],
                    "Https": True,
                    "GatewayUser": sbc.get("username"),
                    "Status": r["Status"],
                    "SipUsersCount": "-N/A-",
                    "SitesCount": sites,
                }
            )
        return {"Sbcs": out}

    def portal_invitation_settings(self, req: Request):
        return {"CustomerAuthenticationPortalUrl": self._setting("InvitationPortalUrl")}

    # ------------------------------------------------------------------ [checks] token migration, templates
    def switch_to_token(self, req: Request):
        """Security > Authentication Status > Switch to token: an invitation e-mail to the customer's admin."""
        c = self._customer(req.params["guid"])
        body = req.json() or {}
        email = body.get("InvitationEmail") or c["M365Email"]
        if not isinstance(email, str) or "@" not in email:
            raise problem(400, "Bad Request", f"InvitationEmail {email!r} is not an e-mail address", "InvalidEmail")
        if (c["AuthMethod"] or "").lower() == "token":
            raise problem(
                409, "Conflict", f"customer {c['CustomerShortName']} already uses token authentication", "AlreadyToken"
            )
        if self.world.take_fault("ump_api.invitation_fails", host=self.host, customer=c["CustomerShortName"]):
            raise problem(502, "Bad Gateway", "the invitation e-mail could not be sent (SMTP)", "EmailNotSent")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        conn = self.world.sql_connect(self._sql_host(), "SysAdminTenant")
        try:
            with conn:
                cur = conn.execute(
                    "INSERT INTO Invitation (UmpCustomerGuid, Email, Kind, State, SentAt, AcceptedAt) "
                    "VALUES (?, ?, 'Request', 'Sent', ?, NULL)",
                    (c["UmpCustomerGuid"], email, now),
                )
                inv_id = cur.lastrowid
        finally:
            conn.close()
        return Response(201, {"InvitationId": inv_id, "Customer": c["CustomerShortName"], "InvitationEmail": email})

    def accept_invitation(self, req: Request):
        inv = _int(req.params["inv"])
        rows = self._rows("SELECT * FROM Invitation WHERE Id = ?", (inv,))
        if not rows:
            raise problem(404, "Not Found", f"invitation {inv} does not exist", "InvitationNotFound")
        if rows[0]["State"] in ("Revoked", "Expired"):
            raise problem(410, "Gone", f"invitation {inv} is {rows[0]['State'].lower()}", "InvitationClosed")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._exec("UPDATE Invitation SET State = 'Accepted', AcceptedAt = ? WHERE Id = ?", (now, inv))
        self._exec(
            "UPDATE Customer SET AuthMethod = 'Token', LastVerified = ?, LastVerificationOk = 1 WHERE UmpCustomerGuid = ?",
            (now, rows[0]["UmpCustomerGuid"]),
        )
        return {"InvitationId": inv, "State": "Accepted"}

    def script_templates(self, req: Request):
        rows = self._rows("SELECT Id, Name, Kind, Body, Version FROM ScriptTemplate ORDER BY Id")
        return {"ScriptTemplates": rows}


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return -1


# Tasks the lab keeps on every UMP server: one finished, one that completes after two status reads,
# one that fails (the guide's Queued Tasks page shows all three kinds).
SEEDED_TASKS = [
    (1001, "CustomerSync", "CompletedSuccess", "Completed", None),
    (1002, "DialPlanUpdate", "In Progress", None, {"steps": 2, "outcome": "CompletedSuccess"}),
    (
        1003,
        "SbcSiteDeploy",
        "In Progress",
        None,
        {"steps": 1, "outcome": "Failed", "message": "SBC site deployment failed: the SBC rejected the configuration"},
    ),
]


def _seed(world: World, host: str) -> None:
    sql_host = world.sql_host_for(host)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    customers = world.sql_rows(sql_host, "SysAdminTenant", "SELECT * FROM Customer ORDER BY CustomerShortName")
    first = customers[0]["UmpCustomerGuid"] if customers else None
    plans = world.data.setdefault("ump_api", {}).setdefault("tasks", {}).setdefault(host, {})
    for tid, kind, status, message, plan in SEEDED_TASKS:
        world.sql_exec(
            sql_host,
            "SysAdminTenant",
            "INSERT OR IGNORE INTO Task (Id, Kind, UmpCustomerGuid, Status, Message, CreatedAt, CompletedAt) "
            "VALUES (?,?,?,?,?,?,?)",
            (tid, kind, first, status, message, now, now if status != "In Progress" else None),
        )
        if plan:
            plans[str(tid)] = dict(plan)
    if not world.sql_rows(sql_host, "SysAdminTenant", "SELECT Id FROM Invitation LIMIT 1"):
        for c in customers:
            if c["AuthMethod"] == "Token":
                world.sql_exec(
                    sql_host,
                    "SysAdminTenant",
                    "INSERT INTO Invitation (UmpCustomerGuid, Email, Kind, State, SentAt, AcceptedAt) VALUES (?,?,?,?,?,?)",
                    (c["UmpCustomerGuid"], c["M365Email"], "Invite", "Accepted", c["LastVerified"], c["LastVerified"]),
                )


def start(lab) -> dict:
    world = lab.world
    hosts: dict = {}
    tls: dict = {}
    for name, h in sorted(world.hosts.items()):
        if h.get("role") != "ump":
            continue
        with world.lock:
            _seed(world, name)
        srv = lab.serve(UmpApiHandler, host_name=name)
        url = lab.url(srv)
        hosts[name] = {"ump_api_url": f"{url}{BASE}"}
        h["ump_api_url"] = f"{url}{BASE}"
        tls[f"ump_api_{name}"] = url
    return {"hosts": hosts, "tls": tls}
