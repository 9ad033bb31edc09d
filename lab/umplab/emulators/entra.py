"""Entra ID (Azure AD) token endpoint, as MSAL / azure-identity's ClientSecretCredential use it.

Flow (facts/azure.md): GET /{tenant}/v2.0/.well-known/openid-configuration, then POST
/{tenant}/oauth2/v2.0/token with grant_type=client_credentials and scope=<resource>/.default.
Tokens are opaque strings recorded in the world with their audience and expiry; the ARM, UMP API
and Graph emulators check them with :func:`check_token`.
"""

from __future__ import annotations

import hmac
import secrets
import time
from urllib.parse import parse_qs

from ..httpbase import HTTPError, LabHandler, Request, Response
from ..world import World

ORDER = 5
TOKEN_LIFETIME = 3599


def check_token(world: World, authorization: str | None, audience: str, host: str = "", **match: str) -> dict:
    """Validate a ``Bearer`` header for ``audience``; raise HTTPError 401/403 the way each API does.

    ``host`` (the UMP server whose API checks the token; "" for ARM and Graph) and ``match`` (e.g. the host's
    installed ``version``) narrow fault ``entra.expired_token``: ``host=ump03 version=8.0.515`` makes only
    ump03's API refuse its token, once ump03 runs 8.0.515 (a token expiring mid-run, after the upgrade).
    """
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPError(
            401,
            {
                "error": {
                    "code": "AuthenticationFailed",
                    "message": "Authentication failed. The 'Authorization' header is missing.",
                }
            },
            headers={"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/"'},
        )
    token = authorization[len("Bearer ") :].strip()
    with world.lock:
        info = world.data["entra"]["tokens"].get(token)
        expired_fault = world.take_fault("entra.expired_token", audience=audience, host=host, **match)
        if expired_fault is not None and info is not None:
            # the token has expired for good (as a real one stays expired): only a new token is accepted
            info["exp"] = time.time() - 1
    if info is None or info["exp"] < time.time() or expired_fault is not None:
        raise HTTPError(
            401,
            {
                "error": {
                    "code": "ExpiredAuthenticationToken" if info else "InvalidAuthenticationToken",
                    "message": "The access token is invalid or has expired.",
                }
            },
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if info["aud"].rstrip("/").lower() != audience.rstrip("/").lower():
        raise HTTPError(
            403,
            {
                "error": {
                    "code": "InvalidAudience",
                    "message": f"The access token has audience {info['aud']!r}, this API expects {audience!r}.",
                }
            },
        )
    return info


def _scope_host(world: World, scope: str) -> str:
    """The UMP host whose API app registration ``scope`` asks a token for ("" for ARM, Graph, unknown)."""
    for s in scope.split():
        if s.lower().startswith("api://"):
            app_id = s[len("api://") :].split("/")[0]
            app = world.data["entra"].get("api_apps", {}).get(app_id)
            if app:
                return app["host"]
    return ""


class EntraHandler(LabHandler):
    system = "entra"
    routes = [
        ("GET", r"/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration", "openid"),
        ("GET", r"/(?P<tenant>[^/]+)/\.well-known/openid-configuration", "openid"),
        ("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", "token"),
        ("GET", r"/common/discovery/instance", "instance_discovery"),
    ]

    def _base(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    def openid(self, req: Request):
        tenant = req.params["tenant"]
        base = self._base()
        return {
            "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
            "issuer": f"{base}/{tenant}/v2.0",
            "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
        }

    def instance_discovery(self, req: Request):
        return {
            "tenant_discovery_endpoint": f"{self._base()}/common/v2.0/.well-known/openid-configuration",
            "metadata": [],
        }

    def token(self, req: Request):
        form = {k: v[-1] for k, v in parse_qs(req.body.decode()).items()}
        tenant = req.params["tenant"]
        world = self.world
        # ``entra.down host=H`` narrows the outage to token requests for H's own UMP API app registration
        # (scope api://<H's ump_api_app_id>/.default): Entra itself is shared by every host of the lab, the
        # app registration is the per-host equivalent (AADSTS90033 is Entra's "temporarily unavailable")
        scope_host = _scope_host(world, form.get("scope", ""))
        if world.take_fault("entra.down", host=scope_host):
            raise HTTPError(503, {"error": "temporarily_unavailable", "error_description": "AADSTS90033: lab fault"})
        if tenant.lower() not in (world.data["entra"]["tenant_id"].lower(), "organizations"):
            raise HTTPError(
                400, {"error": "invalid_request", "error_description": f"AADSTS90002: Tenant '{tenant}' not found."}
            )
        if form.get("grant_type") != "client_credentials":
            raise HTTPError(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "AADSTS70003: only client_credentials is served by the lab",
                },
            )
        client_id = form.get("client_id", "")
        secret = form.get("client_secret", "")
        app = world.data["entra"]["apps"].get(client_id)
        if app is None:
            raise HTTPError(
                400,
                {
                    "error": "unauthorized_client",
                    "error_description": f"AADSTS700016: Application with identifier '{client_id}' "
                    "was not found in the directory.",
                },
            )
        if not hmac.compare_digest(app["secret"], secret):
            raise HTTPError(
                401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}
            )
        scope = form.get("scope", "")
        resource = next((s[: -len("/.default")] for s in scope.split() if s.endswith("/.default")), None)
        if not resource:
            raise HTTPError(
                400,
                {
                    "error": "invalid_scope",
                    "error_description": f"AADSTS1002012: The provided value for scope {scope} is not valid.",
                },
            )
        token = secrets.token_urlsafe(32)
        with world.lock:
            tokens = world.data["entra"]["tokens"]
            now = time.time()
            for t in [t for t, i in tokens.items() if i["exp"] < now]:
                del tokens[t]
            tokens[token] = {"aud": resource, "client_id": client_id, "exp": now + TOKEN_LIFETIME}
        world.count("entra.tokens_issued")
        if scope_host:
            with world.lock:
                by_host = world.data["entra"].setdefault("tokens_issued_by_host", {})
                by_host[scope_host] = by_host.get(scope_host, 0) + 1
        return Response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "ext_expires_in": TOKEN_LIFETIME,
                "access_token": token,
            },
        )


def start(lab) -> dict:
    srv = lab.serve(EntraHandler)
    w = lab.world
    apps = w.data["entra"]["apps"]
    by_name = {a["name"]: cid for cid, a in apps.items()}
    return {
        "tls": {"entra": lab.url(srv)},
        "entra": {
            "authority": lab.url(srv),
            "tenant_id": w.data["entra"]["tenant_id"],
            "automation_client_id": by_name["ump-upgrade-automation"],
            "ump_api_client_id": by_name["ump-api-client"],
        },
    }
