# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendering of the run report (controller only): HTML from the Jinja2 template
``templates/report.html.j2``, JUnit XML, and the atomic write of the three files.

Input is the JSON document of ``report_model.RunReport.as_dict()`` (already scrubbed of secrets).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import xml.etree.ElementTree as ET

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ansible_collections.ump365.upgrade.plugins.plugin_utils.report_model import duration

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
# the rollback section (roles/upgrade recover.yml, docs/report.md): these first, any other key after
ROLLBACK_COLUMNS = ["result", "recovery", "recovery_why", "snapshot", "restored_disk", "previous_disk", "reason"]

STATUS_COLOURS = {
    "ok": "#2e7d32",
    "changed": "#ef6c00",
    "failed": "#c62828",
    "skipped": "#9e9e9e",
    "pass": "#2e7d32",
    "warn": "#f9a825",
    "fail": "#c62828",
    "skip": "#9e9e9e",
    "upgraded": "#2e7d32",
    "unchanged": "#546e7a",
    "not_started": "#9e9e9e",
    "rolled_back": "#ef6c00",
    "stopped_before_change": "#f9a825",
    "failed_state": "#c62828",
}

CSS = """
body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#212121}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:18px 0 6px}.meta{color:#555;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f5f5f5}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.timeline{position:relative;margin:8px 0 20px;border-left:1px solid #bbb}
.axis{position:relative;height:18px;font-size:11px;color:#666;margin-left:140px}
.axis span{position:absolute;transform:translateX(-50%)}
.row{display:flex;align-items:center;height:26px}
.row .label{width:140px;font-size:13px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.track{position:relative;flex:1;height:20px;background:#fafafa;border:1px solid #eee}
.bar{position:absolute;top:1px;height:18px;border-radius:3px;color:#fff;font-size:11px;line-height:18px;
overflow:hidden;white-space:nowrap;padding-left:3px;box-sizing:border-box;min-width:3px}
.legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:12px;height:12px;
border-radius:2px;margin-right:4px;vertical-align:middle}
pre{margin:0;white-space:pre-wrap;font-size:12px}
"""


def colour(text, key=None):
    """A badge's colour: by ``key`` when given, else by the text (a ``failed`` final state is red)."""
    if key is None and text == "failed":
        return STATUS_COLOURS["failed_state"]
    return STATUS_COLOURS.get(key or text, "#546e7a")


def columns_of(rows, first):
    """Every key of ``rows``, the ``first`` ones (those present) before the rest in name order."""
    return sorted({k for r in rows for k in r}, key=lambda k: (k not in first, k))


def rollback_columns(rollback):
    return ROLLBACK_COLUMNS + sorted(k for k in (rollback or {}) if k not in ROLLBACK_COLUMNS)


def _environment():
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=1, sort_keys=True)
    env.globals.update(colour=colour, duration=duration, columns_of=columns_of, rollback_columns=rollback_columns)
    return env


def html_view(data):
    """What the page shows beyond the document itself: the host summary, the rows that need a person's
    attention, and the timeline's axis and bars (positions in percent of the run)."""
    total = max(float(data.get("duration_s") or 0), 0.001)
    summary, attention, timeline = [], [], []
    for name, h in data["hosts"].items():
        counts = {}
        for c in h["checks"]:
            counts[c["status"]] = counts.get(c["status"], 0) + 1
            if c["status"] in ("fail", "warn"):
                attention.append(
                    {
                        "host": name,
                        "phase": c["phase"],
                        "what": c["name"],
                        "status": c["status"],
                        "observed": c["observed"],
                        "expected": c["expected"],
                        "fix": c["fix"],
                    }
                )
        for f in h["failures"]:
            if not f["ignored"]:
                attention.append(
                    {"host": name, "phase": f["phase"], "what": f["task"], "status": "fail", "observed": f["msg"]}
                )
        summary.append(
            {
                "host": name,
                "final state": h["final_state"],
                "why": h["final_state_reason"],
                "checks pass/warn/fail": "%d / %d / %d"
                % (counts.get("pass", 0), counts.get("warn", 0), counts.get("fail", 0)),
                "version before": h["versions"].get("before"),
                "version after": h["versions"].get("after"),
            }
        )
        bars = []
        for p in h["phases"]:
            left = max(0.0, min(100.0, 100.0 * p["offset_s"] / total))
            width = max(0.4, min(100.0 - left, 100.0 * p["duration_s"] / total))
            title = "%s: %s, %s to %s (%s), %d tasks, %d changed, %d failed" % (
                p["name"],
                p["status"],
                p["start"],
                p["end"],
                duration(p["duration_s"]),
                p["tasks"],
                p["changed"],
                p["failed"],
            )
            bars.append(
                {
                    "name": p["name"],
                    "status": p["status"],
                    "title": title,
                    "left": "%.3f" % left,
                    "width": "%.3f" % width,
                }
            )
        timeline.append({"host": name, "bars": bars})
    attention.sort(key=lambda r: (r["status"] != "fail", r["host"]))
    ticks = [
        {
            "left": "%.1f" % (i * 20),
            "shift": "0" if i == 0 else ("-100%" if i == 5 else "-50%"),
            "label": duration(total * i / 5),
        }
        for i in range(6)
    ]
    return {"summary": summary, "attention": attention, "timeline": timeline, "ticks": ticks}


def render_html(data):
    template = _environment().get_template("report.html.j2")
    return template.render(data=data, css=CSS, **html_view(data))


def render_junit(data):
    suites = ET.Element("testsuites", name="ump365.upgrade %s" % data["run_id"])
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for name, h in data["hosts"].items():
        suite = ET.SubElement(suites, "testsuite", name=name, timestamp=h["started"] or data["started"])
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        seconds = 0.0
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="final_state", value=h["final_state"])
        ET.SubElement(props, "property", name="final_state_reason", value=h["final_state_reason"])
        for p in h["phases"]:
            case = ET.SubElement(
                suite, "testcase", classname="%s.phases" % name, name=p["name"], time="%.3f" % p["duration_s"]
            )
            seconds += p["duration_s"]
            counts["tests"] += 1
            if p["status"] == "failed":
                msgs = [f["msg"] for f in h["failures"] if f["phase"] == p["name"] and not f["ignored"]]
                unreachable = any(f["unreachable"] for f in h["failures"] if f["phase"] == p["name"])
                tag = "error" if unreachable else "failure"
                counts["errors" if unreachable else "failures"] += 1
                el = ET.SubElement(case, tag, message=(msgs[0] if msgs else "failed")[:500])
                el.text = "\n".join(msgs)
            elif p["status"] == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message="every task of the phase was skipped")
        for c in h["checks"]:
            case = ET.SubElement(
                suite, "testcase", classname="%s.%s.checks" % (name, c["phase"]), name=c["name"], time="0"
            )
            counts["tests"] += 1
            detail = "observed: %s\nexpected: %s\nfix: %s" % (
                json.dumps(c["observed"], sort_keys=True),
                json.dumps(c["expected"], sort_keys=True),
                c["fix"] or "",
            )
            if c["status"] == "fail":
                counts["failures"] += 1
                el = ET.SubElement(case, "failure", message="%s failed: %s" % (c["name"], (c["fix"] or "")[:400]))
                el.text = detail
            elif c["status"] == "skip":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=(c["fix"] or "not applicable")[:400])
            else:
                out = ET.SubElement(case, "system-out")
                out.text = ("WARN: " if c["status"] == "warn" else "PASS: ") + detail
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("time", "%.3f" % seconds)
    for k, v in totals.items():
        suites.set(k, str(v))
    suites.set("time", "%.3f" % data["duration_s"])
    if hasattr(ET, "indent"):
        ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def write_report(data, directory):
    """Write the three files atomically; return their paths."""
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o750)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", data["run_id"]) or "run"
    paths = {}
    for ext, text in (
        ("json", json.dumps(data, indent=1, sort_keys=True) + "\n"),
        ("html", render_html(data)),
        ("junit.xml", render_junit(data)),
    ):
        path = os.path.join(directory, "%s.%s" % (safe, ext))
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
        paths[ext] = path
    return paths
