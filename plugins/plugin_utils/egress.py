# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Outbound HTTP/HTTPS from the UMP server to what the upgrade downloads (guide, "Configure Firewall").

Pure functions for the controller: which URLs to probe from the host (ansible.windows.win_uri), and
what the answers mean. ``scope=origin`` probes each scheme://host:port once (fewer WinRM commands);
``scope=url`` probes every endpoint's own URL (also catches a proxy that filters by path).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 controller
    from urlparse import urlsplit


class EgressConfigError(ValueError):
    pass


def origin(url):
    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise EgressConfigError("endpoint URL %r is not an http(s) URL with a host" % (url,))
    port = u.port or (443 if u.scheme == "https" else 80)
    return "%s://%s:%d/" % (u.scheme, u.hostname.lower(), port)


def probe_targets(endpoints, scope="origin"):
    """The URLs to probe: ``[{"url", "endpoints": [names]}]`` in the order endpoints are given.

    ``endpoints``: a dict ``{name: url}`` or a list of ``{"name", "url"}``.
    """
    if scope not in ("origin", "url"):
        raise EgressConfigError("probe scope %r is not one of origin, url" % (scope,))
    items = endpoints.items() if isinstance(endpoints, dict) else [(e.get("name"), e.get("url")) for e in endpoints]
    targets = []
    index = {}
    for name, url in items:
        if not name or not url:
            raise EgressConfigError("endpoint %r has no name or no URL" % ((name, url),))
        key = origin(url) if scope == "origin" else url
        if key not in index:
            index[key] = len(targets)
            targets.append({"url": key, "endpoints": []})
        targets[index[key]]["endpoints"].append(name)
    return targets


def _status_ok(code, ok_codes):
    return code is not None and int(code) in ok_codes


OK_STATUS = range(200, 400)


def uri_outcome(r, ok_status=None):
    """One win_uri result -> ``(reachable, ok, status_code, error)``: the one reading of a probe.

    Any HTTP answer proves the path open (``reachable``); ``ok`` also wants the status in
    ``ok_status`` (default 200-399), whether or not win_uri itself failed on it (its ``status_code``
    option decides that, not the network).
    """
    ok_codes = set(ok_status or OK_STATUS)
    code = r.get("status_code") if r else None
    if r is None:
        error = "not probed"
    elif r.get("skipped"):
        error = "not probed (check mode or skipped)"
    elif code is None:
        error = r.get("msg") or "no HTTP answer"
    elif not _status_ok(code, ok_codes):
        error = "HTTP %s %s" % (code, r.get("status_description") or "")
    else:
        error = ""
    return code is not None, _status_ok(code, ok_codes), code, error.strip()[:200]


def probe_report(endpoints, targets, results, ok_status=None, host="host"):
    """One row per endpoint: ``name, url, probed, reachable, status_code, error``; plus ok and msg.

    ``results``: win_uri loop results, one per target (``item`` = the target, ``status_code`` or
    ``msg`` on failure). Any HTTP answer proves the path is open (``reachable``); ``ok`` also wants
    the status in ``ok_status`` (default 200-399).
    """
    ok_codes = set(ok_status or OK_STATUS)
    by_url = {}
    for r in results or []:
        item = r.get("item") or {}
        url = item.get("url") if isinstance(item, dict) else item
        by_url[url] = r
    items = endpoints.items() if isinstance(endpoints, dict) else [(e["name"], e["url"]) for e in endpoints]
    target_of = {}
    for t in targets:
        for n in t["endpoints"]:
            target_of[n] = t["url"]
    rows = []
    for name, url in items:
        probed = target_of.get(name)
        r = by_url.get(probed)
        reachable, ok, code, error = uri_outcome(r, ok_codes)
        rows.append(
            {
                "name": name,
                "url": url,
                "probed": probed,
                "reachable": reachable,
                "ok": ok,
                "status_code": code,
                "elapsed": r.get("elapsed") if r else None,
                "error": error,
            }
        )
    unreachable = [x for x in rows if not x["reachable"]]
    if unreachable:
        msg = "%s: %d of %d download endpoints are not reachable from the host: %s. Fix: open outbound TCP 80/443 " % (
            host,
            len(unreachable),
            len(rows),
            "; ".join("%s (%s): %s" % (x["name"], x["url"], x["error"]) for x in unreachable),
        )
        msg += "to them on the host and the enterprise firewall/proxy (guide: Configure Firewall), then run again"
    else:
        msg = "%s: all %d download endpoints are reachable from the host" % (host, len(rows))
    return {"ok": not unreachable, "rows": rows, "unreachable": [x["name"] for x in unreachable], "msg": msg}


# ---------------------------------------------------------------- preflight's probe (egress list for the checks)
def egress_from_uri_results(results, ok_status=None):
    """A looped ansible.windows.win_uri (loop over dict2items of the endpoints) -> egress probe list.

    Read by :func:`uri_outcome`, as the firewall's :func:`probe_report` reads its probes.
    """
    out = []
    for r in results or []:
        item = r.get("item") or {}
        _reachable, ok, status, error = uri_outcome(r, ok_status)
        out.append(
            {
                "name": item.get("name", item.get("key")),
                "url": item.get("url", item.get("value")),
                "ok": ok,
                "status": status,
                "error": None if ok else error,
            }
        )
    return out


CURL_WRITE_OUT = "%{http_code} %{time_total} %{url_effective}\\n"
_CURL_LINE = re.compile(r"^(\d{3}) (\S+) (\S+)\s*$")
_CURL_ERROR = re.compile(r"^curl: \((\d+)\) (.*?)\s*$")


def curl_probe_command(endpoints, timeout=15, curl="C:\\Windows\\System32\\curl.exe"):
    """One curl.exe command line that sends a HEAD to every endpoint URL in turn.

    ``-sS``: no progress meter but an error line per failed transfer; ``-o NUL`` once per URL (curl pairs
    each ``-o`` with one URL); ``--write-out`` uses only variables of curl 7.55.1 (Server 2019's inbox
    curl): a line ``<http_code> <time_total> <url_effective>`` per transfer, failed ones too (000).
    """
    items = endpoints.items() if isinstance(endpoints, dict) else [(e.get("name"), e.get("url")) for e in endpoints]
    parts = ['"%s"' % curl, "-sS", "-I", "--max-time", str(int(timeout)), "-w", '"%s"' % CURL_WRITE_OUT]
    for _name, url in items:
        if not re.match(r"^https?://[^\s\"]+$", str(url or "")):
            raise ValueError("endpoint URL %r is not an http(s) URL without spaces or quotes" % (url,))
        parts += ["-o", "NUL", str(url)]
    return " ".join(parts)


def egress_from_curl(result, endpoints):
    """The registered result of :func:`curl_probe_command` run by win_command -> egress probe list.

    Transfers are matched to the endpoints by position (curl runs the URLs in the order given); the
    error lines on stderr (``curl: (N) message``) belong, in order, to the transfers with code 000. A
    probe is ok when the HTTP status is 200 to 399, as with win_uri. A command that did not run (curl
    missing, WinRM error) fails every probe with its message.
    """
    items = endpoints.items() if isinstance(endpoints, dict) else [(e.get("name"), e.get("url")) for e in endpoints]
    result = result or {}
    lines = [m for m in (_CURL_LINE.match(x) for x in (result.get("stdout") or "").splitlines()) if m]
    errs = [m for m in (_CURL_ERROR.match(x) for x in (result.get("stderr") or "").splitlines()) if m]
    # no transfer line at all: curl did not run (not found, WinRM error) or refused its arguments
    why = (result.get("msg") or result.get("stderr") or "curl.exe gave no answer").strip()[:200]
    out = []
    for n, (name, url) in enumerate(items):
        if n >= len(lines):
            out.append(
                {"name": name, "url": url, "ok": False, "status": None, "error": why if not lines else "not probed"}
            )
            continue
        code = int(lines[n].group(1))
        ok = code in OK_STATUS
        error = None
        if code == 0:
            k = sum(1 for m in lines[:n] if m.group(1) == "000")
            error = ("curl error %s: %s" % (errs[k].group(1), errs[k].group(2))) if k < len(errs) else "no HTTP answer"
        elif not ok:
            error = "HTTP %d" % code
        out.append({"name": name, "url": url, "ok": ok, "status": code or None, "error": error})
    return out
