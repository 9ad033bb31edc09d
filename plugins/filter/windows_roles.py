# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side decisions of the roles services, firewall, wyupdate_steps and customer_upgrade.

Thin wrappers over plugins/module_utils/{win_services,egress,wyupdate,customer_upgrade}.py (where the
logic and its unit tests live); each filter is documented in plugins/filter/<name>.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.ump365.upgrade.plugins.plugin_utils import customer_upgrade as cu
from ansible_collections.ump365.upgrade.plugins.plugin_utils import egress
from ansible_collections.ump365.upgrade.plugins.plugin_utils import win_services as svc
from ansible_collections.ump365.upgrade.plugins.plugin_utils import versions
from ansible_collections.ump365.upgrade.plugins.plugin_utils import wyupdate as wy


def _guard(fn):
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, KeyError, TypeError) as e:
            raise AnsibleFilterError("%s: %s" % (fn.__name__, e))

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


# ------------------------------------------------------------------ services
@_guard
def services_match(services, patterns, exclude=None):
    return svc.match_services(services, list(patterns or []), list(exclude or []))


@_guard
def services_to_change(matched, action):
    return svc.needs_action(matched, action)


@_guard
def services_came_back(action_results, matched_after):
    return svc.came_back(action_results, matched_after)


@_guard
def sc_qfailure(stdout):
    return svc.parse_qfailure(stdout)


@_guard
def sc_failure_command(name, recovery=None, sc_exe="sc.exe"):
    return svc.sc_failure_command(name, recovery, sc_exe)


@_guard
def services_report(
    matched_after,
    action,
    matched_before=None,
    action_results=None,
    action_results_2=None,
    recovery_changed=None,
    all_services=None,
    kit_version=None,
    whitelist=None,
    whitelist_from=svc.WHITELIST_FROM_VERSION,
    host="host",
    timeout=None,
):
    rows = svc.service_table(
        matched_before if matched_before is not None else matched_after,
        matched_after,
        action_results,
        recovery_changed,
        action_results_2,
    )
    key = {"stop": "stop", "start": "start", "verify": "verify_running"}.get(action, action)
    ev = svc.evaluate(key, rows, host, stop_timeout=timeout, start_timeout=timeout)
    wl = svc.whitelist_report(all_services or [], kit_version, whitelist, whitelist_from)
    return {"table": rows, "ok": ev["ok"], "bad": ev["bad"], "msg": ev["msg"], "whitelist": wl}


# ------------------------------------------------------------------ firewall
@_guard
def egress_targets(endpoints, scope="origin"):
    return egress.probe_targets(endpoints, scope)


@_guard
def egress_report(endpoints, targets, results, ok_status=None, host="host"):
    return egress.probe_report(endpoints, targets, results, ok_status, host)


# ------------------------------------------------------------------ wyUpdate
@_guard
def customer_db_check(db_customers, found, target, requested=None, pattern=None, exclude=None, host="host", where=None):
    return cu.db_cross_check(db_customers, found, target, requested, pattern, exclude, host, where)


@_guard
def customer_db_after(db_customers, need, target, host="host"):
    return cu.db_after_check(db_customers, need, target, host)


@_guard
def wyupdate_check(text, rc=None, patterns=None):
    return wy.parse_check_output(text, rc, patterns)


@_guard
def wyupdate_result_count(text, patterns=None):
    """How many result lines the -logfile holds (read before a run: they are earlier runs')."""
    return wy.parse_result_log(text, patterns)["count"]


@_guard
def wyupdate_report(data, order=None, patterns=None, status_map=None, aliases=None, exit_messages=None, hints=None):
    data = dict(data or {})
    return wy.evaluate_run(
        data.get("rc"),
        data.get("step_log") or "",
        data.get("logreport"),
        data.get("result_log"),
        order=order,
        patterns=patterns,
        status_map=status_map,
        aliases=aliases,
        exit_messages=exit_messages,
        hints=hints,
        host=data.get("host", "host"),
        step_log_path=data.get("step_log_path", "the step log"),
        skip_results=int(data.get("skip_results") or 0),
        step_log_configured=bool(data.get("step_log_configured", True)),
        accept_missing_result=bool(data.get("accept_missing_result", False)),
        accept_no_steps=bool(data.get("accept_no_steps", False)),
    )


@_guard
def wyupdate_hint(hints, text):
    return wy.error_hint(text, list(hints or []))


@_guard
def version_compare(version, other):
    return versions.version_cmp(version, other)


# ------------------------------------------------------------------ customers
@_guard
def customer_versions(files, target, version_file="version.txt", known_versions=None):
    return cu.customers_from_find(files, target, version_file, known_versions)


@_guard
def customer_selection(found, target, requested=None, pattern=None, exclude=None, finished=None):
    return cu.select_customers(found, target, requested, pattern, exclude, finished)


@_guard
def customer_batches(names, size):
    return cu.batches(list(names or []), size)


@_guard
def customer_report(
    log_text,
    target,
    selected,
    skipped=None,
    found_after=None,
    found_before=None,
    stuck=None,
    batches_run=None,
    host="host",
    log_path="the Customer Upgrade log",
    pattern=None,
    status_map=None,
    since=None,
):
    parsed = cu.parse_log(log_text or "", pattern, status_map, since)
    table = cu.customer_table(
        target, list(selected or []), list(skipped or []), parsed, found_after, found_before, stuck, batches_run
    )
    summary = cu.summarize(table, host, log_path)
    summary["table"] = table
    summary["garbled_count"] = len(parsed["garbled"])
    return summary


class FilterModule(object):
    def filters(self):
        return {
            "services_match": services_match,
            "services_to_change": services_to_change,
            "services_came_back": services_came_back,
            "services_report": services_report,
            "sc_qfailure": sc_qfailure,
            "sc_failure_command": sc_failure_command,
            "egress_targets": egress_targets,
            "egress_report": egress_report,
            "wyupdate_check": wyupdate_check,
            "wyupdate_report": wyupdate_report,
            "customer_db_check": customer_db_check,
            "customer_db_after": customer_db_after,
            "wyupdate_result_count": wyupdate_result_count,
            "wyupdate_hint": wyupdate_hint,
            "version_compare": version_compare,
            "customer_versions": customer_versions,
            "customer_selection": customer_selection,
            "customer_batches": customer_batches,
            "customer_report": customer_report,
        }
