"""AudioCodes Mediant SBC REST API v1, one HTTPS endpoint per SBC in ``world.data["sbcs"]``.

Modelled on AudioCodes' "REST API for Mediant Devices" (techdocs.audiocodes.com, SBC REST API 7.40,
"Active Alarms"): HTTP Basic auth; ``GET /api/v1/status``; ``GET /api/v1/alarms/active`` and
``/alarms/history`` with ``?limit=`` (default 20) and ``?after=``/``?before=`` cursors, an answer
``{"alarms": [{"id", "description", "url"}], "cursor": {"after", "before"}}`` where ``"-1"`` means no
more, and 204 No Content when there are none; ``GET /api/v1/alarms/active/{id}`` with ``severity``,
``description``, ``source``, ``date``; ``GET /api/v1/files/ini``; ``GET /api/v1/license``.
401 for bad credentials, 403 when the user's level is too low, 409 during HA synchronisation.

The INI is generated from the world's ``dial_plan_rules`` in the device's INI table format
(``[ Table ]``, a ``FORMAT Table_Index = Table_Col, ...;`` line, ``Table N = "v", ...;`` rows,
``[ \\Table ]``), so a change in the world shows in the INI.
"""

from __future__ import annotations

import base64
import hmac
import time

from ..httpbase import HTTPError, LabHandler, Request, Response

ORDER = 30
DEFAULT_LIMIT = 20


def _err(status: int, description: str, headers: dict | None = None) -> HTTPError:
    return HTTPError(status, {"description": description}, headers=headers)


class SbcHandler(LabHandler):
    system = "sbc"
    routes = [
        ("GET", r"/api/v1/status", "get_status"),
        ("GET", r"/api/v1/alarms/active", "get_active"),
        ("GET", r"/api/v1/alarms/history", "get_history"),
        ("GET", r"/api/v1/alarms/active/(?P<id>[^/]+)", "get_alarm"),
        ("GET", r"/api/v1/files/ini", "get_ini"),
        ("GET", r"/api/v1/license", "get_license"),
    ]

    @property
    def sbc(self) -> dict:
        return self.world.data["sbcs"][self.server.sbc_name]

    def error_body(self, status: int, code: str, message: str):
        return {"description": message}

    def fault_scope(self, req: Request) -> dict:
        return {"sbc": self.server.sbc_name, "host": self.sbc.get("ump_host", "")}

    def before(self, req: Request) -> None:
        w = self.world
        name = self.server.sbc_name
        slow = w.take_fault("sbc.slow", sbc=name, host=self.sbc.get("ump_host", ""))
        if slow is not None:
            time.sleep(float(slow.get("seconds", 5)))
        auth = req.headers.get("Authorization") or ""
        user, password = "", ""
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                pass
        with w.lock:
            good_user = self.sbc["username"]
            good_password = self.sbc["password"]
        if not (hmac.compare_digest(user, good_user) and hmac.compare_digest(password, good_password)):
            raise _err(401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="Mediant"'})
        if w.take_fault("sbc.forbidden", sbc=name, host=self.sbc.get("ump_host", "")) is not None:
            raise _err(403, "Forbidden: the user's privilege level does not allow this request")
        if w.take_fault("sbc.ha_sync", sbc=name, host=self.sbc.get("ump_host", "")) is not None:
            raise _err(409, "Conflict: HA synchronization is in progress")
        fault = w.take_fault("sbc.5xx", sbc=name, host=self.sbc.get("ump_host", ""))
        if fault is not None:
            headers = {"Retry-After": fault["retry_after"]} if "retry_after" in fault else None
            raise _err(int(fault.get("status", 500)), "Internal error (lab fault sbc.5xx)", headers)
        raise_alarms = w.take_fault("sbc.raise_alarms", sbc=name, host=self.sbc.get("ump_host", ""))
        if raise_alarms is not None:
            self._raise(int(raise_alarms.get("count", 1)), str(raise_alarms.get("severity", "major")))
        w.count("sbc.calls")

    def _raise(self, count: int, severity: str) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self.world.lock:
            alarms = self.sbc.setdefault("alarms", {"active": [], "history": []})
            next_id = max([int(a["id"]) for a in alarms["active"] + alarms["history"]] + [0]) + 1
            for n in range(count):
                a = {
                    "id": str(next_id + n),
                    "description": f"Proxy Set Alarm Proxy Set {n}: Proxy lost. looking for another proxy",
                    "severity": severity,
                    "source": f"Board#1/ProxyConnection#{n}",
                    "date": now,
                }
                alarms["active"].append(a)
                alarms["history"].append(dict(a))

    def get_status(self, req: Request):
        with self.world.lock:
            return dict(self.sbc["status"])

    def _page(self, req: Request, which: str):
        try:
            limit = int(req.query.get("limit", DEFAULT_LIMIT))
        except ValueError:
            raise _err(400, "limit must be a number") from None
        limit = max(1, min(limit, 100))
        with self.world.lock:
            items = sorted(self.sbc.get("alarms", {}).get(which, []), key=lambda a: int(a["id"]))
        if "after" in req.query:
            items = [a for a in items if int(a["id"]) > int(req.query["after"])]
        elif "before" in req.query:
            items = [a for a in items if int(a["id"]) < int(req.query["before"])][-limit:]
        if not items:
            return Response(204, None)
        page = items[:limit]
        more_after = len(items) > limit
        with self.world.lock:
            everything = sorted(self.sbc.get("alarms", {}).get(which, []), key=lambda a: int(a["id"]))
        more_before = bool(everything) and int(everything[0]["id"]) < int(page[0]["id"])
        return {
            "alarms": [
                {"id": a["id"], "description": a["description"], "url": f"/api/v1/alarms/{which}/{a['id']}"}
                for a in page
            ],
            "cursor": {
                "after": page[-1]["id"] if more_after else "-1",
                "before": page[0]["id"] if more_before else "-1",
            },
        }

    def get_active(self, req: Request):
        return self._page(req, "active")

    def get_history(self, req: Request):
        return self._page(req, "history")

    def get_alarm(self, req: Request):
        with self.world.lock:
            for a in self.sbc.get("alarms", {}).get("active", []):
                if a["id"] == req.params["id"]:
                    return dict(a)
        raise _err(404, f"alarm {req.params['id']} is not active")

    def get_ini(self, req: Request):
        with self.world.lock:
            text = render_ini(self.sbc)
        return Response(200, text, content_type="text/plain")

    def get_license(self, req: Request):
        with self.world.lock:
            return dict(self.sbc.get("license", {}))


def _q(v) -> str:
    s = "" if v is None else str(v)
    return '"' + s.replace('"', "") + '"'


def render_ini(sbc: dict) -> str:
    st = sbc["status"]
    rules = sbc.get("dial_plan_rules", [])
    plans = sorted({r["DialPlanName"] for r in rules})
    lines = [
        ";**************",
        ";** Ini File **",
        ";**************",
        "",
        f";Board: {st.get('productType')}",
        f";Serial Number: {st.get('serialNumber')}",
        f";Software Version: {st.get('versionID')}",
        "",
        "[SYSTEM Params]",
        "",
        "SyslogServerIP = 10.201.90.1",
        "",
        "[SIP Params]",
        "",
        "GWDEBUGLEVEL = 5",
        "",
        "[ DialPlan ]",
        "",
        "FORMAT DialPlan_Index = DialPlan_Name, DialPlan_PrefixCaseSensitive;",
    ]
    lines += [f"DialPlan {i} = {_q(p)}, 0;" for i, p in enumerate(plans)]
    lines += [
        "",
        "[ \\DialPlan ]",
        "",
        "",
        "[ DialPlanRule ]",
        "",
        "FORMAT DialPlanRule_Index = DialPlanRule_DialPlanName, DialPlanRule_Name, DialPlanRule_Prefix, DialPlanRule_Tag;",
    ]
    lines += [
        f"DialPlanRule {i} = {_q(r['DialPlanName'])}, {_q(r['Name'])}, {_q(r['Prefix'])}, {_q(r.get('Tag'))};"
        for i, r in enumerate(rules)
    ]
    lines += ["", "[ \\DialPlanRule ]", ""]
    users = sbc.get("user_info") or []
    if users:  # lab flavour site-b: each user's number in the SBC's user information table
        lines += [
            "",
            "[ SBCUserInfoTable ]",
            "",
            "FORMAT SBCUserInfoTable_Index = SBCUserInfoTable_LocalUser, SBCUserInfoTable_Username, "
            "SBCUserInfoTable_IPGroupName, SBCUserInfoTable_Status;",
        ]
        lines += [
            f"SBCUserInfoTable {i} = {_q(u['LocalUser'])}, {_q(u['Username'])}, {_q(u['IPGroupName'])}, 0;"
            for i, u in enumerate(users)
        ]
        lines += ["", "[ \\SBCUserInfoTable ]", ""]
    return "\r\n".join(lines)


def start(lab) -> dict:
    world = lab.world
    sbcs: dict = {}
    tls: dict = {}
    for name in sorted(world.data.get("sbcs", {})):
        srv = lab.serve(SbcHandler, sbc_name=name)
        url = lab.url(srv)
        sbcs[name] = {"url": url}
        tls[f"sbc_{name}"] = url
    return {"sbcs": sbcs, "tls": tls}
