"""Microsoft Graph: the application objects of each UMP server's synchronization app registration.

What the automation reads (facts/ump_sbc_ovoc.md, "App registration for synchronization (seed 001)"):
``GET /v1.0/applications?$filter=appId eq '<id>'`` with an app-only token for
``https://graph.microsoft.com`` (client credentials, scope ``https://graph.microsoft.com/.default``).
Shapes follow the Graph v1.0 ``application`` resource: ``signInAudience``, ``web.redirectUris``,
``web.implicitGrantSettings.{enableAccessTokenIssuance, enableIdTokenIssuance}``,
``requiredResourceAccess``, ``passwordCredentials[].{keyId, displayName, startDateTime, endDateTime,
hint}`` (``secretText`` is only ever returned by ``addPassword``, so it is null here); collections
come as ``{"@odata.context": ..., "value": [...]}``; errors as ``{"error": {"code", "message",
"innerError"}}``; a missing or invalid token is 401 ``InvalidAuthenticationToken``; a principal without
``Application.Read.All`` gets 403 ``Authorization_RequestDenied``.

The sync app's client id is the SysAdminTenant setting ``AuthStatus.ClientId`` of each UMP server
(seed.py); the registrations are added to ``world.data["entra"]["app_registrations"]`` at start.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import datetime, timedelta, timezone

from ..httpbase import HTTPError, LabHandler, Request, Response
from .entra import check_token

ORDER = 20
AUDIENCE = "https://graph.microsoft.com"
MS_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Microsoft Graph permission ids (public, stable): User.Read.All, Directory.Read.All (application roles),
# User.Read (delegated scope). The exact list the guide's figures show is not in the text (docs/assumptions.md).
GRAPH_PERMISSIONS = [
    {"id": "df021288-bdef-4463-88db-98f22de89214", "type": "Role"},
    {"id": "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "type": "Role"},
    {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"},
]
# the guide's own example host: a classic copy-paste mistake for graph.wrong_redirect
WRONG_REDIRECT = "https://livecloud.finebak.com/authenticate/OAuth2Callback"
FILTER_RX = re.compile(r"^\s*appId\s+eq\s+'([^']*)'\s*$", re.I)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def graph_error(status: int, code: str, message: str, headers: dict | None = None) -> HTTPError:
    now = datetime.now(timezone.utc)
    return HTTPError(
        status,
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": _iso(now),
                    "request-id": str(uuid.uuid4()),
                    "client-request-id": str(uuid.uuid4()),
                },
            }
        },
        headers=headers,
    )


def build_app_registration(host: str, fqdn: str, app_id: str, secret_hint: str, now: datetime) -> dict:
    """The sync app registration as the guide sets it up, in the Graph v1.0 ``application`` shape."""
    created = now - timedelta(days=183)
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "graph-app/" + app_id)),
        "appId": app_id,
        "displayName": f"UMP-365 sync {host}",
        "description": None,
        "createdDateTime": _iso(created),
        "deletedDateTime": None,
        "publisherDomain": "ump.lab.test",
        "signInAudience": "AzureADMultipleOrgs",
        "identifierUris": [],
        "tags": [],
        "notes": None,
        "isFallbackPublicClient": None,
        "api": {"requestedAccessTokenVersion": None, "oauth2PermissionScopes": [], "preAuthorizedApplications": []},
        "web": {
            "homePageUrl": None,
            "logoutUrl": None,
            "redirectUris": [f"https://{fqdn}/authenticate/OAuth2Callback"],
            "redirectUriSettings": [{"uri": f"https://{fqdn}/authenticate/OAuth2Callback", "index": None}],
            "implicitGrantSettings": {"enableAccessTokenIssuance": True, "enableIdTokenIssuance": True},
        },
        "spa": {"redirectUris": []},
        "publicClient": {"redirectUris": []},
        "requiredResourceAccess": [{"resourceAppId": MS_GRAPH_APP_ID, "resourceAccess": list(GRAPH_PERMISSIONS)}],
        "keyCredentials": [],
        "passwordCredentials": [
            {
                "customKeyIdentifier": None,
                "displayName": "UMP sync (24 months)",
                # created six months ago with the guide's 24 months: 18 months left
                "startDateTime": _iso(created),
                "endDateTime": _iso(created + timedelta(days=730)),
                "hint": secret_hint[:3],
                "keyId": str(uuid.uuid5(uuid.NAMESPACE_URL, "graph-secret/" + app_id)),
                "secretText": None,
            }
        ],
    }


class GraphHandler(LabHandler):
    system = "graph"
    routes = [
        ("GET", r"/v1\.0/applications", "list_applications"),
        ("GET", r"/v1\.0/applications\(appId='(?P<app_id>[^']*)'\)", "get_by_app_id"),
        ("GET", r"/v1\.0/applications/(?P<object_id>[^/]+)", "get_by_object_id"),
    ]

    def error_body(self, status: int, code: str, message: str):
        return graph_error(status, code, message).body

    def before(self, req: Request) -> None:
        world = self.world
        down = world.take_fault("graph.down")
        if down is not None:
            raise graph_error(
                503,
                "serviceNotAvailable",
                "The service is currently unavailable (lab fault graph.down).",
                headers={"Retry-After": str(down.get("retry_after", 1))},
            )
        try:
            info = check_token(world, req.headers.get("Authorization"), AUDIENCE)
        except HTTPError as e:
            if e.status == 401 and not req.headers.get("Authorization"):
                raise graph_error(401, "InvalidAuthenticationToken", "Access token is empty.", e.headers) from None
            if e.status == 401:
                raise graph_error(
                    401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.", e.headers
                ) from None
            raise graph_error(
                401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
            ) from None
        app = world.data["entra"]["apps"].get(info["client_id"], {})
        if app.get("name") != "ump-upgrade-automation" or world.take_fault("graph.forbidden") is not None:
            raise graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")

    # ------------------------------------------------------------------ views
    def _view(self, app_id: str, app: dict) -> dict:
        """The application as Graph returns it now, with the faults for its UMP host applied."""
        world = self.world
        out = copy.deepcopy(app)
        host = world.data["entra"].get("app_registration_hosts", {}).get(app_id)
        expiring = world.take_fault("graph.secret_expiring", host=host)
        if expiring is not None:
            end = datetime.now(timezone.utc) + timedelta(days=float(expiring.get("days", 30)))
            for cred in out["passwordCredentials"]:
                cred["endDateTime"] = _iso(end)
        wrong = world.take_fault("graph.wrong_redirect", host=host)
        if wrong is not None:
            uri = wrong.get("uri") or WRONG_REDIRECT
            out["web"]["redirectUris"] = [uri]
            out["web"]["redirectUriSettings"] = [{"uri": uri, "index": None}]
        single = world.take_fault("graph.single_tenant", host=host)
        if single is not None:
            out["signInAudience"] = single.get("audience", "AzureADMyOrg")
        implicit = world.take_fault("graph.no_implicit_grant", host=host)
        if implicit is not None:
            which = str(implicit.get("which", "both")).lower()
            grant = out["web"]["implicitGrantSettings"]
            if which in ("both", "access"):
                grant["enableAccessTokenIssuance"] = False
            if which in ("both", "id"):
                grant["enableIdTokenIssuance"] = False
        if world.take_fault("graph.no_secret", host=host) is not None:
            out["passwordCredentials"] = []
        return out

    def _select(self, req: Request, obj: dict) -> dict:
        select = req.query.get("$select")
        if not select:
            return obj
        fields = [f.strip() for f in select.split(",") if f.strip()]
        unknown = [f for f in fields if f not in obj]
        if unknown:
            raise graph_error(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{unknown[0]}' on type 'microsoft.graph.application'.",
            )
        return {"id": obj["id"], **{f: obj[f] for f in fields}}

    def _registrations(self) -> dict:
        with self.world.lock:
            return copy.deepcopy(self.world.data["entra"].get("app_registrations", {}))

    def list_applications(self, req: Request):
        self.world.count("graph.applications_read")
        regs = self._registrations()
        flt = req.query.get("$filter")
        if flt:
            m = FILTER_RX.match(flt)
            if not m:
                raise graph_error(
                    400, "Request_UnsupportedQuery", f"Unsupported or invalid query filter clause specified: '{flt}'."
                )
            wanted = m.group(1).lower()
            items = [(k, v) for k, v in regs.items() if k.lower() == wanted]
        else:
            items = sorted(regs.items())
        value = [self._select(req, self._view(k, v)) for k, v in items]
        return Response(
            200,
            {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications", "value": value},
            headers={"request-id": str(uuid.uuid4())},
        )

    def get_by_app_id(self, req: Request):
        regs = self._registrations()
        for k, v in regs.items():
            if k.lower() == req.params["app_id"].lower():
                return self._select(req, self._view(k, v))
        raise graph_error(
            404,
            "Request_ResourceNotFound",
            f"Resource '{req.params['app_id']}' does not exist or one of its queried reference-property objects are not present.",
        )

    def get_by_object_id(self, req: Request):
        regs = self._registrations()
        for k, v in regs.items():
            if v["id"] == req.params["object_id"]:
                return self._select(req, self._view(k, v))
        raise graph_error(
            404,
            "Request_ResourceNotFound",
            f"Resource '{req.params['object_id']}' does not exist or one of its queried reference-property objects are not present.",
        )


def start(lab) -> dict:
    world = lab.world
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with world.lock:
        entra = world.data["entra"]
        regs = entra.setdefault("app_registrations", {})
        hosts_by_app = entra.setdefault("app_registration_hosts", {})
        for name, host in sorted(world.hosts.items()):
            if host.get("role") != "ump":
                continue
            app_id = world.app_setting(name, "AuthStatus.ClientId")
            if not app_id:
                continue
            hint = world.app_setting(name, "AuthStatus.ClientSecret") or "xxx"
            regs[app_id] = build_app_registration(name, host["fqdn"], app_id, hint, now)
            hosts_by_app[app_id] = name
    srv = lab.serve(GraphHandler)
    url = lab.url(srv)
    return {"tls": {"graph": url}, "graph": {"url": url}}
