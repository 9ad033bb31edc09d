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


def probe_report(endpoints, targets, results, ok_status=None, host="host"):
    """One row per endpoint: ``name, url, probed, reachable, status_code, error``; plus ok and msg.

    ``results``: win_uri loop results, one per target (``item`` = the target, ``status_code`` or
    ``msg`` on failure). Any HTTP answer proves the path is open (``reachable``); ``ok`` also wants
    the status in ``ok_status`` (default 200-399).
    """
    ok_codes = set(ok_status or range(200, 400))
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
        rows.append(
            {
                "name": name,
                "url": url,
                "probed": probed,
                "reachable": code is not None,
                "ok": _status_ok(code, ok_codes),
                "status_code": code,
                "elapsed": r.get("elapsed") if r else None,
                "error": error.strip(),
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
