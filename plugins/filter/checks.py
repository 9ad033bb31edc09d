# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn gathered observations into the guide's checks (documentation in the .yml files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.ump365.upgrade.plugins.plugin_utils import checks as c
from ansible_collections.ump365.upgrade.plugins.plugin_utils import egress


def _dict(name, value):
    if not isinstance(value, dict):
        raise AnsibleFilterError("%s: expected a dictionary of observations, got a %s" % (name, type(value).__name__))
    return value


def _checks(name, value):
    if not isinstance(value, (list, tuple)):
        raise AnsibleFilterError("%s: expected a list of checks, got a %s" % (name, type(value).__name__))
    return value


def preflight_checks(observations, **params):
    try:
        return c.preflight_checks(_dict("preflight_checks", observations), params)
    except (ValueError, TypeError) as e:
        raise AnsibleFilterError("preflight_checks: %s" % e)


def post_verify_checks(observations, **params):
    try:
        return c.post_verify_checks(_dict("post_verify_checks", observations), params)
    except (ValueError, TypeError) as e:
        raise AnsibleFilterError("post_verify_checks: %s" % e)


def failed_checks(checks, blocking_only=False):
    checks = _checks("failed_checks", checks)
    return c.blocking_failures(checks) if blocking_only else c.failures(checks)


def checks_message(failed, host="host"):
    return c.summary_message(host, _checks("checks_message", failed))


def checks_baseline(checks):
    return c.baseline_from_checks(_checks("checks_baseline", checks or []))


def settle_pending(checks, names=None):
    return c.settle_pending(_checks("settle_pending", checks or []), names or [])


def password_customers(auth_status):
    return c.password_customers(_dict("password_customers", auth_status or {}))


def customers_csv(rows, fields=None):
    return c.customers_csv(_checks("customers_csv", rows or []), fields or c.CSV_FIELDS)


def token_migration_status(auth_status, invitations, targets=None):
    return c.token_migration_status(auth_status or {}, invitations or [], targets)


def token_migration_checks(status, plan=None):
    return c.token_migration_checks(_checks("token_migration_checks", status or []), plan or {})


def parse_keyvalue(text):
    return c.parse_keyvalue(text)


def disk_free_gb(disks, drive="C"):
    return c.disk_free_gb(disks or [], drive)


def parse_openfiles(text):
    return c.parse_openfiles(text)


def certificates_from_info(certs):
    return c.certificates_from_info(certs or [])


def egress_from_uri_results(results):
    return egress.egress_from_uri_results(results or [])


def egress_from_curl(result, endpoints):
    return egress.egress_from_curl(result or {}, endpoints or {})


def curl_probe_command(endpoints, timeout=15, curl="C:\\Windows\\System32\\curl.exe"):
    return egress.curl_probe_command(endpoints or {}, timeout, curl)


def versions_summary(versions):
    return c.versions_summary(versions or {})


class FilterModule(object):
    def filters(self):
        return {
            "preflight_checks": preflight_checks,
            "post_verify_checks": post_verify_checks,
            "failed_checks": failed_checks,
            "checks_message": checks_message,
            "checks_baseline": checks_baseline,
            "settle_pending": settle_pending,
            "password_customers": password_customers,
            "customers_csv": customers_csv,
            "token_migration_status": token_migration_status,
            "token_migration_checks": token_migration_checks,
            "parse_keyvalue": parse_keyvalue,
            "disk_free_gb": disk_free_gb,
            "versions_summary": versions_summary,
            "parse_openfiles": parse_openfiles,
            "certificates_from_info": certificates_from_info,
            "egress_from_uri_results": egress_from_uri_results,
            "egress_from_curl": egress_from_curl,
            "curl_probe_command": curl_probe_command,
        }
