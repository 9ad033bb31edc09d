# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site profile of playbooks/discover.yml: what each host showed, against what the roles assume.

Controller-only. The raw observations of the discover role (win_find, slurp, win_command results,
sql_info, ump_portal_info) are turned into one host's discovery facts (:func:`host_facts`); every
assumption of roles/discover/files/assumptions.yml is then a JMESPath selector into those facts and a
comparison with the role default (:func:`evaluate`), and the hosts' rows make the site's vars file
(:func:`site_vars`, :func:`site_yaml`). Everything copied from a host goes through :func:`mask` first:
connection strings, ``Password=``, tokens, keys and the run's own secrets never reach the profile.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import re
import struct

try:
    import jmespath

    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - pinned in requirements/runtime.txt
    HAS_JMESPATH = False

MASK = "********"

# name=value pairs whose value is a secret (connection strings, config files, command lines)
_KV = re.compile(
    r"(?i)\b(password|passwd|pwd|secret|client[_ ]?secret|token|access[_ ]?token|api[_ ]?key|apikey|"
    r"account[_ ]?key|shared[_ ]?access[_ ]?key|sas|sig|key)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^;\s,&\"'<>]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:]+):([^/@\s]+)@")
_XML_ATTR = re.compile(r"(?i)\b(password|secret|key|token)(\"?\s*value\s*=\s*\")([^\"]*)(\")")

VERSION_TOKEN = re.compile(r"(?<![\d.])\d+\.\d+\.\d+(?:\.\d+)?(?!\d|\.\d)")
PE_SUBSYSTEMS = {1: "native", 2: "gui", 3: "console", 9: "windows_ce_gui"}


# --------------------------------------------------------------------------- masking
def secret_variants(secrets):
    out = set()
    for s in secrets or ():
        if not isinstance(s, str) or len(s) < 4:
            continue
        out.add(s)
        try:
            from urllib.parse import quote, quote_plus
        except ImportError:  # pragma: no cover - Python 2
            continue
        out.add(quote(s, safe=""))
        out.add(quote_plus(s))
        out.add(base64.b64encode(s.encode("utf-8")).decode())
    return sorted(out, key=len, reverse=True)


def mask_text(text, secrets=()):
    """``text`` with every secret-looking value and every known secret replaced by ``********``."""
    if not isinstance(text, str) or not text:
        return text
    for s in secret_variants(secrets):
        text = text.replace(s, MASK)
    text = _URL_USERINFO.sub(lambda m: m.group(1) + m.group(2) + ":" + MASK + "@", text)
    text = _XML_ATTR.sub(lambda m: m.group(1) + m.group(2) + MASK + m.group(4), text)
    text = _KV.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + " " + MASK, text)
    text = _JWT.sub(MASK, text)
    return text


def mask(value, secrets=()):
    """:func:`mask_text` applied to every string inside ``value`` (dicts, lists)."""
    if isinstance(value, dict):
        return {k: mask(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(v, secrets) for v in value]
    if isinstance(value, str):
        return mask_text(value, secrets)
    return value


# --------------------------------------------------------------------------- primitives
def b64_bytes(content):
    if not content:
        return b""
    try:
        return base64.b64decode(content)
    except (binascii.Error, ValueError, TypeError):
        return b""


def pe_subsystem(content_b64):
    """The PE Subsystem field of an executable (base64 as slurp returns it).

    Microsoft PE format: the DOS header's ``e_lfanew`` (offset 0x3C) points at ``PE\\0\\0``; the optional
    header follows the 20-byte COFF header; its Subsystem field is at offset 68 for PE32 and PE32+ alike.
    """
    data = b64_bytes(content_b64)
    if len(data) < 0x40 or data[:2] != b"MZ":
        return {"kind": None, "subsystem": None, "error": "not a PE file (no MZ header)" if data else "not read"}
    (lfanew,) = struct.unpack_from("<I", data, 0x3C)
    opt = lfanew + 4 + 20
    if lfanew <= 0 or len(data) < opt + 70 or data[lfanew : lfanew + 4] != b"PE\0\0":
        return {"kind": None, "subsystem": None, "error": "no PE signature at e_lfanew 0x%X" % lfanew}
    (magic,) = struct.unpack_from("<H", data, opt)
    (sub,) = struct.unpack_from("<H", data, opt + 68)
    return {
        "kind": PE_SUBSYSTEMS.get(sub, "other"),
        "subsystem": sub,
        "format": {0x10B: "PE32", 0x20B: "PE32+"}.get(magic, "unknown"),
        "error": None,
    }


def text_of(content_b64):
    data = b64_bytes(content_b64)
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, "replace")
    return data.decode("utf-8", "replace")


def tail(text, n=5):
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return lines[-int(n) :] if n else []


def urls_in(content_b64):
    """The http(s) URLs in a file (client.wyc is binary; its update server sites are URL strings)."""
    data = b64_bytes(content_b64)
    text = data.decode("latin-1")
    return sorted(set(re.findall(r"https?://[^\s\"'<>\x00-\x1f]+", text)))


def version_template(path):
    """A log path with its version-looking token replaced by ``{version}`` (the roles' placeholder)."""
    return VERSION_TOKEN.sub("{version}", path, count=1)


def _literal(s):
    return r"\s*".join(re.escape(part) for part in re.split(r"\s+", s)) if s.strip() else r"\s*"


def infer_step_line(lines, steps, statuses):
    """A pattern for the step log, built from its own lines (named groups time, step, status, message).

    In a sample line the first known step name and, after it, the first known status word are located;
    what precedes the step name is the time (its surrounding punctuation kept literal), the text between
    them and the separator after the status are literal, the rest is the message. The pattern counts only
    when it parses most lines to known steps. Returns None when no line shows a step and a status.
    """
    steps = sorted(set(steps or ()), key=len, reverse=True)
    statuses = sorted(set(statuses or ()), key=len, reverse=True)
    if not steps or not statuses:
        return None
    step_rx = re.compile("|".join(re.escape(s) for s in steps))
    status_rx = re.compile(r"\b(" + "|".join(re.escape(s) for s in statuses) + r")\b")
    for line in lines or ():
        m = step_rx.search(line)
        if not m or m.start() == 0:
            continue
        st = status_rx.search(line, m.end())
        if not st:
            continue
        prefix, between, after = line[: m.start()], line[m.end() : st.start()], line[st.end() :]
        lead = re.match(r"^\W*", prefix).group(0)
        trail = re.search(r"[^\w:.]*$", prefix).group(0)
        sep = re.match(r"^[^\w]*", after).group(0)
        pattern = (
            "^"
            + _literal(lead)
            + r"(?P<time>.+?)"
            + _literal(trail)
            + r"(?P<step>[^\s|;:\[\]]+?)"
            + _literal(between)
            + r"(?P<status>\w+)"
            + (_literal(sep) + r"(?P<message>.*?)" if sep.strip() else r"\s*(?P<message>.*?)")
            + r"\s*$"
        )
        rx = re.compile(pattern, re.I)
        matched = [rx.match(ln) for ln in lines]
        good = [x for x in matched if x and x.group("step") in steps and x.group("status").upper() in statuses]
        if len(good) * 10 >= len(lines) * 9:
            return {"pattern": pattern, "matched": len(good), "lines": len(lines), "sample": line}
    return None


def find_step_log(logs, steps):
    """The log file (of ``[{path, tail}]``) whose last lines name the most UMP steps."""
    best, score = None, 0
    for log in logs or ():
        n = sum(1 for ln in log.get("tail") or () if any(s in ln for s in steps or ()))
        if n > score:
            best, score = log, n
    return best


# the words the guide says the Customer Upgrade Manager's log shows per customer ("read UpToDate in its log")
CUSTOMER_UPGRADE_WORDS = ("UpToDate", "Upgrading")


def find_customer_upgrade_log(logs, customers, exclude=None):
    """The log file (of ``[{path, tail}]``) whose last lines name the most SysAdminTenant customers beside a
    Customer Upgrade status word (UpToDate, Upgrading), other than ``exclude`` (the step log); None when no
    log does (a site whose customers were never upgraded has none)."""
    names = [c.lower() for c in customers or ()]
    words = re.compile(r"\b(" + "|".join(CUSTOMER_UPGRADE_WORDS) + r")\b", re.I)
    best, score = None, 0
    for log in logs or ():
        if exclude and log.get("path") == exclude:
            continue
        n = 0
        for ln in log.get("tail") or ():
            low = ln.lower()
            if words.search(ln) and any(re.search(r"(?<!\w)" + re.escape(c) + r"(?!\w)", low) for c in names):
                n += 1
        if n > score:
            best, score = log, n
    return best


def tenants_layout(dirs, customers):
    """The folder holding one sub-folder per customer of SysAdminTenant (``dirs``: folder paths)."""
    names = {c.lower() for c in customers or ()}
    parents = {}
    for d in dirs or ():
        parent, leaf = d.rstrip("\\").rpartition("\\")[::2]
        if leaf.lower() in names:
            parents.setdefault(parent, set()).add(leaf.lower())
    if not parents:
        return {"dir": None, "customers_found": [], "missing": sorted(names)}
    parent = max(parents, key=lambda p: len(parents[p]))
    return {"dir": parent, "customers_found": sorted(parents[parent]), "missing": sorted(names - parents[parent])}


def version_file(files, version):
    """The file name (of win_find ``files`` with sha1 ``checksum``) whose content is ``version``."""
    import hashlib

    sums = set()
    for body in (version, version + "\n", version + "\r\n"):
        for bom in ("", "\ufeff"):
            sums.add(hashlib.sha1((bom + body).encode("utf-8")).hexdigest())
    for f in files or ():
        if str(f.get("checksum") or "").lower() in sums:
            return f.get("filename") or str(f.get("path", "")).rpartition("\\")[2]
    return None


def azure_facts(info):
    """What the profile keeps of an azure_vm_info (restore_info=true) result: plain summaries the assumptions compare."""
    os_disk = info.get("os_disk") or {}
    des = os_disk.get("disk_encryption_set_id")
    if info.get("ade"):
        encryption = "ADE"
    elif des:
        encryption = "disk encryption set " + str(des).rstrip("/").rpartition("/")[2]
    else:
        encryption = "none"
    locks = info.get("locks") or []
    data_disks = info.get("data_disks") or []
    return {
        "power_state": info.get("power_state"),
        "os_disk_id": os_disk.get("id"),
        "data_disk_count": len(data_disks),
        "data_disks": [d.get("name") for d in data_disks],
        "encryption": encryption,
        "locks": ", ".join("%s (%s)" % (lk.get("name"), lk.get("level")) for lk in locks) or "none",
        "missing_actions": ", ".join(info.get("missing_actions") or []) or "none",
    }


def parse_openfiles_flag(text):
    """``openfiles /local``: "... global flag 'maintain objects list' is currently enabled|disabled"."""
    m = re.search(r"(?i)maintain objects list.*?\b(enabled|disabled|on|off)\b", text or "")
    if not m:
        return None
    return m.group(1).lower() in ("enabled", "on")


# --------------------------------------------------------------------------- assumptions
def select(facts, selector):
    if not HAS_JMESPATH:
        raise ValueError("the jmespath package is required (requirements/runtime.txt)")
    return jmespath.search(selector, facts)


def _norm(v):
    if isinstance(v, str):
        return v.strip().rstrip("\\").lower()
    return v


def evaluate(assumptions, facts, host=None):
    """One row per assumption: id, item, default, observed, state, how, sets.

    ``state``: holds (observed = default), differs, unknown (nothing observed), or recorded (an ``info``
    assumption: the observation is kept for the operator to read, there is no single value to compare)."""
    rows = []
    for a in assumptions or ():
        observed = select(facts or {}, a["select"])
        why = None
        if a.get("why_select"):
            why = select(facts or {}, a["why_select"])
        default = a.get("default")
        compare = a.get("compare", "equals")
        if observed is None or observed == [] or observed == "":
            state = "unknown"
        elif compare == "equals":
            state = "holds" if _norm(observed) == _norm(default) else "differs"
        elif compare == "in":
            state = "holds" if _norm(observed) in [_norm(x) for x in default or ()] else "differs"
        elif compare == "true":
            state = "holds" if observed is True else "differs"
        elif compare == "info":
            state = "recorded"
        else:
            raise ValueError("assumption %s: unknown comparison %r" % (a.get("id"), compare))
        rows.append(
            {
                "id": a["id"],
                "item": a.get("item", a["id"]),
                "default": default,
                "observed": observed,
                "state": state,
                "how": a.get("how", ""),
                "why": why if state == "unknown" else None,
                "sets": a.get("sets") or {},
                "guess": a.get("guess"),
                "host": host,
            }
        )
    return rows


def _value_for(row, template):
    """The value a row gives a variable: the observed value (``value``), a mapping of it (``map``), the
    portal_paths option under it (``portal_under``) or one key of a dict variable (``merge``)."""
    obs = row["observed"]
    if isinstance(template, dict) and "map" in template:
        return template["map"].get(str(obs), template.get("default"))
    if isinstance(template, dict) and template.get("portal_under"):
        return portal_paths(obs, default_portal_sections())
    if isinstance(template, dict) and "merge" in template:
        return {"__merge__": {template["merge"]: obs}}
    return obs


def site_vars(rows_by_host, bases=None):
    """The site's variables from every host's rows: a variable all hosts observed alike is site-wide; one
    that differs between hosts goes to ``per_host`` (customer_upgrade_mode has its own per-host map)."""
    by_var = {}
    notes = []
    unknown = {}
    for host in sorted(rows_by_host):
        for row in rows_by_host[host]:
            if row["state"] == "unknown" and not row.get("sets"):
                unknown.setdefault(row["item"], []).append(host)
            for var, template in (row.get("sets") or {}).items():
                var = var.replace("{host}", host)
                entry = by_var.setdefault(var, {"values": {}, "unknown": [], "item": row["item"], "id": row["id"]})
                if row["state"] == "unknown":
                    entry["unknown"].append(host)
                else:
                    entry["values"][host] = _value_for(row, template)
    site, per_host = {}, {}
    bases = bases or {}

    def resolved(var, v):
        if isinstance(v, dict) and "__merge__" in v:
            out = dict(bases.get(var) or {})
            out.update(v["__merge__"])
            return out
        return v

    for var in sorted(by_var):
        e = by_var[var]
        vals = e["values"]
        if e["unknown"]:
            notes.append(
                "%s (%s): not observed on %s; the role default stays; set it by hand if it differs"
                % (var, e["item"], ", ".join(e["unknown"]))
            )
        if not vals:
            continue
        distinct = []
        for v in vals.values():
            if v not in distinct:
                distinct.append(v)
        if len(distinct) == 1 and not e["unknown"]:
            site[var] = resolved(var, distinct[0])
        else:
            for h, v in vals.items():
                per_host.setdefault(h, {})[var] = resolved(var, v)
    for item in sorted(unknown):
        notes.append("%s: unknown on %s (not observed; check it by hand)" % (item, ", ".join(unknown[item])))
    return {"vars": site, "per_host": per_host, "notes": notes}


def merge_dict_vars(site):
    """Variables named ``a.b`` (a key of a dict variable) folded into the dict ``a``."""
    out = {}
    for k, v in site.items():
        if "." in k:
            top, key = k.split(".", 1)
            out.setdefault(top, {})[key] = v
        else:
            out[k] = v
    return out


# --------------------------------------------------------------------------- one host's facts
def _ok(result):
    return isinstance(result, dict) and not result.get("failed") and not result.get("skipped")


def _err(result, what):
    if not isinstance(result, dict) or result.get("skipped"):
        return "%s: not read" % what
    return "%s: %s" % (what, result.get("msg") or result.get("stderr") or "failed")


def host_facts(raw, secrets=(), steps=(), statuses=(), tail_lines=5):
    """The discovery facts of one host from the discover role's registered results (``raw``)."""
    raw = raw or {}
    f = {"errors": []}

    def note(what):
        f["errors"].append(what)

    # wyUpdate: which candidate path exists, client.wyc's update server, the /justcheck output verbatim
    exe = None
    for r in (raw.get("wyupdate_stat") or {}).get("results") or []:
        if _ok(r) and (r.get("stat") or {}).get("exists"):
            exe = r.get("item")
            break
    wyc = raw.get("client_wyc") or {}
    check = raw.get("wyupdate_check") or {}
    info = raw.get("wyupdate_outputinfo") or {}
    f["wyupdate"] = {
        "path": exe,
        "update_servers": urls_in(wyc.get("content")) if _ok(wyc) else None,
        "check_rc": check.get("rc") if _ok(check) or "rc" in check else None,
        "outputinfo": text_of(info.get("content")) if _ok(info) else None,
        "result_log_tail": tail(text_of((raw.get("wyupdate_result_log") or {}).get("content")), tail_lines)
        if _ok(raw.get("wyupdate_result_log"))
        else None,
    }
    f["wyupdate"]["update_server"] = (f["wyupdate"]["update_servers"] or [None])[0]
    if not exe:
        note("wyupdate.exe: none of the candidate paths exists")

    # logs and folders under C:\acs, with the last lines of each log
    logs = []
    for r in (raw.get("log_tails") or {}).get("results") or []:
        if _ok(r) and r.get("rc", 0) == 0:
            text = r["stdout"] if "stdout" in r else text_of(r.get("content"))
            logs.append({"path": r.get("item"), "tail": tail(text, tail_lines)})
    find = raw.get("acs_find") or {}
    f["acs"] = {
        "folders": sorted(x["path"] for x in find.get("files") or [] if x.get("isdir")) if _ok(find) else None,
        "logs": logs,
    }
    if not _ok(find):
        note(_err(find, "C:\\acs listing"))

    # the step log: the log naming the most UMP steps, its path template and its line pattern
    step_log = find_step_log(logs, steps)
    inferred = infer_step_line(step_log["tail"], steps, statuses) if step_log else None
    f["step_log"] = {
        "path": version_template(step_log["path"]) if step_log else None,
        "found": step_log["path"] if step_log else None,
        "pattern": inferred["pattern"] if inferred else None,
        "sample": inferred["sample"] if inferred else None,
        "why": None if step_log else "no log under C:\\acs names a UMP step (a site never upgraded has none)",
    }

    # services
    svc = raw.get("services") or {}
    qf = {}
    for r in (raw.get("qfailure") or {}).get("results") or []:
        if _ok(r):
            qf[r.get("item")] = r.get("stdout", "")
    f["services"] = (
        [
            {
                "name": s.get("name"),
                "start_mode": s.get("start_mode"),
                "state": s.get("state"),
                "recovery": qf.get(s.get("name")),
            }
            for s in svc.get("services") or []
        ]
        if _ok(svc)
        else None
    )

    # executables: console or GUI (PE Subsystem)
    exes = {}
    for r in (raw.get("executables") or {}).get("results") or []:
        item = r.get("item") or {}
        key = item.get("key") if isinstance(item, dict) else str(item)
        path = item.get("value") if isinstance(item, dict) else str(item)
        pe = pe_subsystem(r.get("content")) if _ok(r) else {"kind": None, "error": _err(r, path)}
        pe["path"] = path
        exes[key] = pe
    f["executables"] = exes

    # customers (SysAdminTenant), tenants layout, version file
    sql = raw.get("sql") or {}
    customers = sql.get("customers") if _ok(sql) else None
    f["customers"] = customers
    dirs = [x["path"] for x in find.get("files") or [] if x.get("isdir")] if _ok(find) else []
    layout = tenants_layout(dirs, [c["name"] for c in customers or []]) if customers else None
    files = (raw.get("tenant_files") or {}).get("files") if _ok(raw.get("tenant_files")) else None
    vf = None
    if layout and layout["dir"] and files and customers:
        first = layout["customers_found"][0]
        version = next((c["version"] for c in customers if c["name"].lower() == first), None)
        vf = version_file(files, version) if version else None
    # the Customer Upgrade (Manager)'s log: the log under C:\acs naming the most customers with UpToDate/Upgrading
    cu_log = find_customer_upgrade_log(logs, [c["name"] for c in customers or []], exclude=f["step_log"]["found"])
    f["customer_upgrade_log"] = {
        "path": cu_log["path"] if cu_log else None,
        "why": None
        if cu_log
        else "no log under C:\\acs names a SysAdminTenant customer with UpToDate or Upgrading (a site whose"
        " customers were never upgraded has none)",
    }
    f["tenants"] = {
        "dir": layout["dir"] if layout else None,
        "customers_found": layout["customers_found"] if layout else None,
        "missing": layout["missing"] if layout else None,
        "version_file": vf,
    }

    # SQL Server
    f["sql"] = (
        {
            "version": (sql.get("server") or {}).get("product_version"),
            "collation": (sql.get("server") or {}).get("collation"),
            "drives": sorted({x["drive"] for x in sql.get("database_files") or [] if x.get("drive")}),
            "files": sql.get("database_files"),
        }
        if _ok(sql)
        else {"error": _err(sql, "SQL Server")}
    )

    # openfiles global flag
    of = raw.get("openfiles") or {}
    flag = parse_openfiles_flag((of.get("stdout") or "") + (of.get("stderr") or "")) if of else None
    f["openfiles"] = {"maintain_objects_list": flag, "output": tail(of.get("stdout") or of.get("msg") or "", 3)}

    # Azure (ump365.upgrade.azure_vm_info: read-only)
    az = raw.get("azure") or {}
    f["azure"] = azure_facts(az) if _ok(az) and az.get("vm_id") else {"error": _err(az, "Azure")}

    # portal API: which candidate prefix answers every section with the expected shape
    portal = {"prefixes": {}, "prefix": None}
    for r in (raw.get("portal") or {}).get("results") or []:
        prefix = r.get("item")
        ok = _ok(r) and isinstance(r.get("portal"), dict) and bool(r["portal"])
        portal["prefixes"][prefix] = {
            "answers": ok,
            "shape": sorted((r.get("portal") or {}).get("versions", {}) or {})[:12] if ok else None,
            "error": None if ok else (r.get("msg") or "no answer")[:300],
        }
        if ok and portal["prefix"] is None:
            portal["prefix"] = prefix
    f["portal"] = portal
    f["sbc_numbers"] = sbc_numbers_facts(raw.get("user_dids"), raw.get("sbc_numbers"))
    return mask(f, secrets)


SBC_NUMBERS_DEFAULT = ("DialPlanRule", "Prefix")


def sbc_numbers_facts(user_dids, located):
    """Where the SBC keeps the users' DIDs: the INI table column covering the most of them (the default
    DialPlanRule Prefix when it covers as many). Nothing is guessed when no DID or no table was read."""
    out = {"table": None, "column": None, "matched": 0, "dids": 0, "why": None}
    if not _ok(user_dids):
        out["why"] = _err(user_dids, "the users' DIDs")
        return out
    out["dids"] = len(user_dids.get("user_dids") or [])
    if not out["dids"]:
        out["why"] = "no user has a DID in the customer databases"
        return out
    if not _ok(located):
        out["why"] = _err(located, "the SBC's INI")
        return out
    found = located.get("number_tables") or []
    if not found:
        out["why"] = "no INI table of the SBC holds any of the %d users' DIDs" % out["dids"]
        return out
    top = max(x["matched"] for x in found)
    best = [x for x in found if x["matched"] == top]
    pick = next((x for x in best if (x["table"], x["column"]) == SBC_NUMBERS_DEFAULT), best[0])
    out.update(table=pick["table"], column=pick["column"], matched=pick["matched"])
    return out


def portal_paths(prefix, sections):
    """The portal_paths option for every section under ``prefix`` (the default layout: prefix/section)."""
    return {k: prefix.rstrip("/") + "/" + v.rsplit("/", 1)[-1] for k, v in sections.items()}


def default_portal_sections():
    from ansible_collections.ump365.upgrade.plugins.module_utils.ump_api import PORTAL_PATHS

    return {k: v for k, v in PORTAL_PATHS.items() if v.startswith("/api/v3/portal/")}


# --------------------------------------------------------------------------- the profile's files
def _cell(v):
    if v is None:
        return "-"
    if isinstance(v, (list, dict)):
        import json

        v = json.dumps(v, sort_keys=True)
    s = str(v).replace("|", "\\|").replace("\n", " ")
    return s if len(s) <= 160 else s[:157] + "..."


def markdown(rows_by_host, generated=""):
    out = [
        "# Site profile",
        "",
        "Generated by playbooks/discover.yml %s. Review it, then pass site.yml to the upgrade." % generated,
        "",
    ]
    for host in sorted(rows_by_host):
        out += [
            "## %s" % host,
            "",
            "| assumption | default | observed | state | how observed |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in rows_by_host[host]:
            obs = r["observed"] if r["state"] != "unknown" else "unknown: %s" % (r.get("why") or "not observed")
            out.append(
                "| %s | %s | %s | %s | %s |"
                % (_cell(r["item"]), _cell(r["default"]), _cell(obs), r["state"], _cell(r["how"]))
            )
        out.append("")
    return "\n".join(out) + "\n"


def site_yaml(profile, hosts, generated=""):
    """The vars file (``-e @site.yml``): observed values only; what was not observed is a comment."""
    import json

    lines = [
        "---",
        "# Site profile written by playbooks/discover.yml %s for %s." % (generated, ", ".join(sorted(hosts))),
        "# Review every value, then pass it to the upgrade: ansible-playbook playbooks/upgrade.yml -e @site.yml",
        "# Values are what the hosts showed; nothing here is guessed. Where discovery could not observe a value",
        "# the role default stays, and a comment below says so.",
    ]
    for n in profile.get("notes") or ():
        lines.append("#   - " + n)
    for h, vals in sorted((profile.get("per_host") or {}).items()):
        lines.append("# differs between hosts; put into host_vars/%s.yml:" % h)
        for k, v in sorted(vals.items()):
            lines.append("#   %s: %s" % (k, json.dumps(v)))
    data = merge_dict_vars(profile.get("vars") or {})
    data["ump_site_profile"] = {"generated": generated, "hosts": sorted(hosts), "source": "playbooks/discover.yml"}
    for k in sorted(data):
        lines.append("%s: %s" % (k, json.dumps(data[k], sort_keys=True)))
    return "\n".join(lines) + "\n"


def check_rows(rows):
    """The rows as the run report's checks (ump_checks): holds/recorded=pass, differs=warn, unknown=skip."""
    status = {"holds": "pass", "recorded": "pass", "differs": "warn", "unknown": "skip"}
    out = []
    for r in rows:
        out.append(
            {
                "name": "site: %s" % r["id"],
                "status": status[r["state"]],
                "observed": r["observed"]
                if r["state"] != "unknown"
                else "unknown: %s" % (r.get("why") or "not observed"),
                "expected": r["default"],
                "fix": None
                if r["state"] == "holds"
                else (
                    "set from the site profile (site.yml)"
                    if r["state"] == "differs"
                    else r.get("guess") or "not observable here: check by hand"
                ),
                "blocking": False,
                "section": "Site profile",
                "details": {"profile": r["state"], "how": r["how"]},
            }
        )
    return out
