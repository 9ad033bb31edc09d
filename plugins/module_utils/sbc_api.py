# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client of the AudioCodes Mediant SBC REST API v1 (HTTP Basic auth).

Documented behaviour used here (AudioCodes "REST API for Mediant Devices", facts/ump_sbc_ovoc.md):
``GET /api/v1/status``; ``GET /api/v1/alarms/active`` with cursor paging (``?limit=&after=``, the
answer's ``cursor.after`` is ``"-1"`` on the last page, 204 when there are no alarms);
``GET /api/v1/alarms/active/{id}``; ``GET /api/v1/files/ini`` (the INI text); ``GET /api/v1/license``.
401 = bad credentials, 403/405 = the user's privilege level is too low, 409 = HA synchronisation.
There is no JSON endpoint for dial-plan rules: they are read from the INI's ``[ DialPlanRule ]`` table.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils import prefix as prefix_lint
from ansible_collections.ump365.upgrade.plugins.module_utils.http import (
    HttpClient,
    check_fields,
    require_list,
    require_object,
    shape_error,
)

try:
    from requests.auth import HTTPBasicAuth
except ImportError:  # pragma: no cover - http.py reports the missing library
    HTTPBasicAuth = None

ALARM_PAGE_LIMIT = 20  # the device's documented default
MAX_ALARM_PAGES = 1000


class SbcClient(HttpClient):
    system = "sbc"

    def __init__(self, base_url, username, password, **kw):
        if not username or not password:
            raise errors.ValidationError(
                "the SBC username and password are required",
                system=self.system,
                operation="configure",
                remedy="set ump_sbc_username and ump_sbc_password",
            )
        auth = HTTPBasicAuth(username, password) if HTTPBasicAuth is not None else None
        super(SbcClient, self).__init__(base_url, auth=auth, **kw)
        self.username = username
        self.add_secret(password)

    def error_for(self, resp, method, path, operation, resource):
        err = super(SbcClient, self).error_for(resp, method, path, operation, resource)
        if resp.status == 401:
            err.remedy = "check ump_sbc_username and ump_sbc_password (the SBC's REST/Web user %r)" % self.username
        elif resp.status in (403, 405):
            err = errors.AuthorizationError(
                err.message,
                system=self.system,
                operation=operation,
                resource=resource,
                details=err.details,
                remedy="the SBC user %r lacks the privilege for %s %s; use a user with Security Administrator "
                "(or Master) level" % (self.username, method, path),
            )
        elif resp.status == 409:
            err.message += " (HA synchronisation in progress)"
            err.remedy = "the SBC pair is synchronising (HA); wait until highAvailability is operational and run again"
        return err

    def status(self):
        resp = self.request("GET", "/api/v1/status", operation="read status", expect=(200,))
        # the fields the checks read (facts/ump_sbc_ovoc.md); others are passed through unchecked
        return require_object(
            resp.body,
            self.system,
            "read status",
            resp.endpoint,
            {"operationalState": str, "versionID": (str, None), "highAvailability": (str, None)},
        )

    def active_alarms(self, limit=ALARM_PAGE_LIMIT, details=False):
        """Every active alarm, following the ``after`` cursor page by page; ``(alarms, pages)``."""
        alarms = []
        after = None
        pages = 0
        while pages < MAX_ALARM_PAGES:
            params = {"limit": int(limit)}
            if after is not None:
                params["after"] = after
            resp = self.request(
                "GET", "/api/v1/alarms/active", params=params, operation="list active alarms", expect=(200, 204)
            )
            pages += 1
            if resp.status == 204:  # the device's documented "no active alarm"
                break
            body = require_object(resp.body, self.system, "list active alarms", resp.endpoint, {"cursor": (dict, None)})
            page = require_list(body, self.system, "list active alarms", resp.endpoint, keys=("alarms",))
            for n, a in enumerate(page):
                check_fields(a, {"id": (int, str)}, self.system, "list active alarms", resp.endpoint, "alarm %d" % n)
            alarms.extend(page)
            nxt = str((body.get("cursor") or {}).get("after", "-1"))
            if nxt in ("-1", "", "None") or not page or nxt == after:
                break
            after = nxt
        if details:
            alarms = [self.alarm(a["id"]) if "severity" not in a else a for a in alarms]
        return alarms, pages

    def alarm(self, alarm_id):
        resp = self.request(
            "GET",
            "/api/v1/alarms/active/%s" % alarm_id,
            operation="read alarm",
            resource="alarm %s" % alarm_id,
            expect=(200,),
        )
        return require_object(resp.body, self.system, "read alarm", resp.endpoint, {"severity": str})

    def ini(self):
        resp = self.request("GET", "/api/v1/files/ini", operation="read INI file", expect=(200,), expect_json=False)
        ctype = (resp.headers.get("Content-Type") or "").lower()
        if "html" in ctype or resp.text.lstrip()[:1] == "<":
            raise shape_error(
                self.system, "read INI file", resp.endpoint, "an HTML page (Content-Type %s), not the INI text" % ctype
            )
        return resp.text

    def license(self):
        resp = self.request("GET", "/api/v1/license", operation="read licence", expect=(200,))
        return require_object(resp.body, self.system, "read licence", resp.endpoint)

    def dial_plan_rules(self):
        return ini_table(self.ini(), "DialPlanRule")

    def numbers(self, table="DialPlanRule", column="Prefix", ini_text=None):
        """The numbers (or number prefixes and ranges) in ``column`` of the INI table ``table``, one dict per
        ``;``-separated entry: ``table``, ``index`` (the row's key), ``value`` and, when the row has one, its
        ``dial_plan``. Where an SBC keeps per-user numbers is a site's configuration (docs/assumptions.md):
        a table or column missing from the INI is an error naming what the INI has, never an empty list."""
        text = self.ini() if ini_text is None else ini_text
        endpoint = self.base_url + "/api/v1/files/ini"
        columns = ini_table_columns(text, table)
        if columns is None:
            raise errors.ValidationError(
                "the SBC's INI has no [ %s ] table (tables: %s)" % (table, ", ".join(ini_tables(text)) or "none"),
                system=self.system,
                operation="read numbers",
                resource=endpoint,
                remedy="set the INI table that holds the users' numbers (post_verify_sbc_numbers_table)",
            )
        if _lower(column) not in [_lower(c) for c in columns]:
            raise errors.ValidationError(
                "the SBC's [ %s ] table has no column %s (columns: %s)" % (table, column, ", ".join(columns)),
                system=self.system,
                operation="read numbers",
                resource=endpoint,
                remedy="set the column that holds the numbers (post_verify_sbc_numbers_column)",
            )
        out = []
        for n, row in enumerate(ini_table(text, table)):
            value = next((v for k, v in row.items() if _lower(k) == _lower(column)), None)
            if value is not None and not isinstance(value, str):
                raise shape_error(self.system, "read numbers", endpoint, "row %d of [ %s ]: %r" % (n, table, row))
            for entry in str(value or "").split(";"):
                if entry.strip():
                    item = {"table": table, "index": row.get("Index", n), "value": entry.strip()}
                    if row.get("DialPlanName") is not None:
                        item["dial_plan"] = row.get("DialPlanName")
                    out.append(item)
        return out

    def locate_numbers(self, numbers, ini_text=None):
        """Which INI table columns hold the given numbers: per table and column that covers at least one,
        ``table``, ``column``, ``matched`` (how many of ``numbers``) and ``rows``; most matched first. Only the
        counts are returned, never a value (an INI may hold passwords)."""
        text = self.ini() if ini_text is None else ini_text
        wanted = [n for n in (numbers or []) if str(n or "").strip()]
        out = []
        for table in ini_tables(text):
            rows = ini_table(text, table)
            for col in (ini_table_columns(text, table) or [])[1:]:
                entries = [
                    e.strip() for r in rows for e in str(r.get(col) or "").split(";") if e.strip() and e.strip() != "*"
                ]
                matched = sum(1 for n in wanted if any(prefix_lint.covers(e, n) for e in entries))
                if matched:
                    out.append({"table": table, "column": col, "matched": matched, "rows": len(rows)})
        return sorted(out, key=lambda x: -x["matched"])


_SECTION = re.compile(r"^\s*\[\s*(\\?)\s*([^\]\\]+?)\s*\]\s*$")


def _split_values(text):
    """Split an INI table row's values on commas outside double quotes."""
    out = []
    cur = []
    quoted = False
    for c in text:
        if c == '"':
            quoted = not quoted
            cur.append(c)
        elif c == "," and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur))
    return [_unquote(v.strip()) for v in out]


def _unquote(v):
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        return v[1:-1]
    if v == "$$":  # the INI's empty value
        return ""
    return v


def _table_body(text, table):
    """(found, lines): whether the INI has a ``[ table ]`` section, and its lines (stripped, without blank
    lines and ``;`` comments) up to ``[ \\table ]`` or the next section."""
    lines = []
    inside = False
    found = False
    for line in (text or "").splitlines():
        m = _SECTION.match(line)
        if m:
            if m.group(2).lower() == table.lower():
                inside = not m.group(1)
                found = True
            elif inside and not m.group(1):
                inside = False
            continue
        s = line.strip()
        if inside and s and not s.startswith(";"):
            lines.append(s)
    return found, lines


def _format_line(s):
    """``FORMAT <key> = <col>, <col>...;`` as (key column, [columns]); None for any other line."""
    if not s.upper().startswith("FORMAT "):
        return None
    left, _eq, right = s[len("FORMAT ") :].partition("=")
    return left.strip(), [c.strip() for c in right.strip().rstrip(";").split(",")]


def ini_table(text, table):
    """Rows of an AudioCodes INI table as dicts (column names without the ``<Table>_`` prefix).

    The format::

        [ DialPlanRule ]
        FORMAT DialPlanRule_Index = DialPlanRule_DialPlanName, DialPlanRule_Name, DialPlanRule_Prefix, DialPlanRule_Tag;
        DialPlanRule 0 = "PLAN1", "rule1", "+4455896552", "TEAMS";
        [ \\DialPlanRule ]
    """
    rows = []
    columns = None
    key_col = None
    prefix = table + "_"
    for s in _table_body(text, table)[1]:
        fmt = _format_line(s)
        if fmt:
            key_col, columns = fmt
            continue
        if columns is None or "=" not in s:
            continue
        left, _eq, right = s.partition("=")
        parts = left.split()
        if len(parts) != 2 or parts[0].lower() != table.lower():
            continue
        values = _split_values(right.strip().rstrip(";"))
        row = {_strip(key_col, prefix): _int_or(parts[1])}
        for col, val in zip(columns, values):  # noqa: B905 - short rows leave columns out
            row[_strip(col, prefix)] = val
        rows.append(row)
    return rows


def _lower(v):
    return str(v or "").lower()


def ini_tables(text):
    """The names of the tables (``[ Name ]`` sections) in an INI text, in order."""
    out = []
    for line in (text or "").splitlines():
        m = _SECTION.match(line)
        if m and not m.group(1) and m.group(2) not in out:
            out.append(m.group(2))
    return out


def ini_table_columns(text, table):
    """A table's columns (without the ``<Table>_`` prefix, the key column first) from its ``FORMAT`` line;
    None when the INI has no such table, [] when it has the section but no FORMAT line."""
    found, lines = _table_body(text, table)
    prefix = table + "_"
    for s in lines:
        fmt = _format_line(s)
        if fmt:
            return [_strip(c, prefix) for c in [fmt[0]] + fmt[1]]
    return [] if found else None


def _strip(col, prefix):
    return col[len(prefix) :] if col.lower().startswith(prefix.lower()) else col


def _int_or(v):
    try:
        return int(v)
    except ValueError:
        return v


def sbc_argument_spec():
    from ansible_collections.ump365.upgrade.plugins.module_utils.http import rest_argument_spec

    spec = dict(
        sbc_url=dict(type="str", required=True),
        sbc_username=dict(type="str", required=True),
        sbc_password=dict(type="str", required=True, no_log=True),
    )
    spec.update(rest_argument_spec())
    return spec


def client_from_params(params):
    from ansible_collections.ump365.upgrade.plugins.module_utils.http import rest_client_kwargs

    return SbcClient(params["sbc_url"], params["sbc_username"], params["sbc_password"], **rest_client_kwargs(params))
