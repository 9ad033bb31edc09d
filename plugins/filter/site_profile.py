# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the discover role: a host's discovery facts and the site profile (docs in the .yml files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.ump365.upgrade.plugins.plugin_utils import site_profile as sp


def _wrap(name, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError, KeyError) as e:
        raise AnsibleFilterError("%s: %s" % (name, e))


def discover_host_facts(raw, secrets=None, steps=None, statuses=None, tail_lines=5):
    return _wrap("discover_host_facts", sp.host_facts, raw, secrets or [], steps or [], statuses or [], tail_lines)


def discover_mask(value, secrets=None):
    return sp.mask(value, secrets or [])


def site_profile_rows(facts, assumptions, host=None):
    return _wrap("site_profile_rows", sp.evaluate, assumptions, facts, host)


def site_profile_vars(rows_by_host, bases=None):
    return _wrap("site_profile_vars", sp.site_vars, rows_by_host, bases or {})


def site_profile_yaml(profile, hosts, generated=""):
    return _wrap("site_profile_yaml", sp.site_yaml, profile, hosts, generated)


def site_profile_markdown(rows_by_host, generated=""):
    return _wrap("site_profile_markdown", sp.markdown, rows_by_host, generated)


def site_profile_checks(rows):
    return _wrap("site_profile_checks", sp.check_rows, rows)


def discover_tenants_layout(dirs, customers):
    return _wrap("discover_tenants_layout", sp.tenants_layout, dirs, customers)


def portal_paths_under(prefix, sections=None):
    return sp.portal_paths(prefix, sections or sp.default_portal_sections())


class FilterModule(object):
    def filters(self):
        return {
            "discover_host_facts": discover_host_facts,
            "discover_mask": discover_mask,
            "site_profile_rows": site_profile_rows,
            "site_profile_vars": site_profile_vars,
            "site_profile_yaml": site_profile_yaml,
            "site_profile_markdown": site_profile_markdown,
            "site_profile_checks": site_profile_checks,
            "portal_paths_under": portal_paths_under,
            "discover_tenants_layout": discover_tenants_layout,
        }
