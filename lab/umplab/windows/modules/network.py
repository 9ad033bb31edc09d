"""win_uri (answered from the host's egress policy), win_certificate_info, community.windows.win_firewall_rule.

Nothing leaves the machine: win_uri decides reachability from ``host_state["egress"]``
(``{"allow": [patterns], "deny": [patterns]}``, ``*`` wildcards or URL prefixes, deny wins).
"""

from __future__ import annotations

import fnmatch
import hashlib
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from . import ModuleContext, module


def egress_allowed(state: dict, url: str) -> bool:
    eg = state.get("egress") or {"allow": ["*"], "deny": []}
    u = url.lower()
    host = (urlsplit(url).hostname or "").lower()

    def hit(patterns: list[str]) -> bool:
        for pat in patterns or []:
            pl = pat.lower()
            if pl == "*" or fnmatch.fnmatchcase(u, pl) or fnmatch.fnmatchcase(host, pl) or u.startswith(pl):
                return True
        return False

    if hit(eg.get("deny", [])):
        return False
    return hit(eg.get("allow", []))


@module("ansible.windows.win_uri")
def win_uri(ctx: ModuleContext) -> dict:
    p = ctx.params
    url = p["url"]
    start = time.time()
    with ctx.lock:
        ok = egress_allowed(ctx.state(), url)
    ctx.world.count("winhost.egress_checks")
    elapsed = round(time.time() - start, 4)
    res: dict = {"changed": False, "elapsed": elapsed, "url": url}
    if not ok:
        host = urlsplit(url).hostname
        ctx.fail(
            "Unhandled exception occurred when sending web request. Exception: Unable to connect to the remote "
            f"server ({host}): A connection attempt failed because the connected party did not properly respond "
            "after a period of time",
            elapsed=elapsed,
            url=url,
        )
    status = 200
    res.update(status_code=status, status_description="OK", content_length=0)
    if p.get("return_content"):
        res["content"] = ""
    if status not in (p.get("status_code") or [200]):
        ctx.fail(
            f"Status code of request '{status}' is not in list of valid status codes {p.get('status_code')} : OK'.",
            **res,
        )
    return res


def _ts(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


@module("ansible.windows.win_certificate_info")
def win_certificate_info(ctx: ModuleContext) -> dict:
    p = ctx.params
    store = f"{p.get('store_location') or 'LocalMachine'}\\{p.get('store_name') or 'My'}"
    thumb = (p.get("thumbprint") or "").upper()
    with ctx.lock:
        certs = [dict(c) for c in ctx.state().get("certificates", [])]
    found = [c for c in certs if c.get("store", "LocalMachine\\My").lower() == store.lower()]
    if thumb:
        found = [c for c in found if c["thumbprint"].upper() == thumb]
    out = []
    for c in found:
        subject_cn = c["subject"].split("CN=", 1)[-1].split(",")[0]
        out.append(
            {
                "archived": False,
                "dns_names": list(c.get("dns_names") or [subject_cn]),
                "extensions": [],
                "friendly_name": c.get("friendly_name", ""),
                "has_private_key": bool(c.get("has_private_key")),
                "intended_purposes": ["Server Authentication"],
                "is_ca": False,
                "path_length_constraint": 0,
                "ski": hashlib.sha1(c["thumbprint"].encode()).hexdigest().upper(),
                "issued_by": c["issuer"].split("CN=", 1)[-1],
                "issued_to": subject_cn,
                "issuer": c["issuer"],
                "key_usages": ["DigitalSignature", "KeyEncipherment"],
                "public_key": c.get("public_key", ""),
                "raw": c.get("raw", ""),
                "serial_number": c.get("serial_number", ""),
                "signature_algorithm": "sha256RSA",
                "subject": c["subject"],
                "thumbprint": c["thumbprint"],
                "valid_from": _ts(c["not_before"]),
                "valid_from_iso8601": c["not_before"],
                "valid_to": _ts(c["not_after"]),
                "valid_to_iso8601": c["not_after"],
                "version": 3,
            }
        )
    out.sort(key=lambda x: x["thumbprint"])
    return {"changed": False, "exists": bool(out), "certificates": out}


RULE_PROPS = (
    "enabled",
    "direction",
    "action",
    "description",
    "localip",
    "remoteip",
    "localport",
    "remoteport",
    "program",
    "service",
    "protocol",
    "profiles",
    "group",
)


@module("community.windows.win_firewall_rule")
def win_firewall_rule(ctx: ModuleContext) -> dict:
    p = ctx.params
    name = p.get("name")
    if not name and not p.get("group"):
        ctx.fail("Either name or group must be specified")
    state = p.get("state") or "present"
    res: dict = {"changed": False}
    with ctx.lock:
        fw = ctx.state().setdefault("firewall", {}).setdefault("rules", {})
        existing = fw.get(name)
        if state == "absent":
            if existing is None:
                res["msg"] = f"Firewall rule '{name}' does not exist."
                return res
            if not ctx.check_mode:
                fw.pop(name)
            res.update(changed=True, msg=f"Firewall rule(s) '{name}' removed.")
            return res
        wanted = {k: p.get(k) for k in RULE_PROPS if p.get(k) is not None}
        if "enabled" in wanted:
            wanted["enabled"] = bool(wanted["enabled"])
        if existing is None:
            rule = {"name": name, "enabled": True, "direction": "in", "action": "allow", "protocol": "any"}
            rule.update(wanted)
            if not ctx.check_mode:
                fw[name] = rule
            res.update(changed=True, msg=f"Firewall rule '{name}' created.")
            if ctx.diff:
                res["diff"] = {"prepared": f"+[{name}]\n" + "".join(f"+{k}='{v}'\n" for k, v in rule.items())}
            return res
        changes = {k: v for k, v in wanted.items() if existing.get(k) != v}
        if changes:
            if not ctx.check_mode:
                existing.update(changes)
            res["changed"] = True
            res["msg"] = f"Firewall rule(s) changed '{name}' - unchanged ''"
        else:
            res["msg"] = f"Firewall rule(s) changed '' - unchanged '{name}'"
    return res
