# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Primitives read from the Windows host (disks, openfiles, certificates, wyUpdate's key=value output,
the versions) turned into the observations the check sets read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import re

from ansible_collections.ump365.upgrade.plugins.plugin_utils.check_model import (
    _lower,
)


def parse_keyvalue(text):
    """``key=value`` lines (wyUpdate's /outputinfo file) as a dict with lower-case keys."""
    out = {}
    for line in (text or "").splitlines():
        line = line.strip().lstrip("\ufeff")
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out[k.strip().lower()] = v.strip()
    return out


# --------------------------------------------------------------------------- Windows primitives -> observations
def disk_free_gb(disks, drive="C"):
    """Free GB of ``drive`` from community.windows.win_disk_facts (``ansible_facts.ansible_disks``, as win_disk_facts.ps1 sets it); None if not found."""
    d = _lower(drive).rstrip(":\\")
    for disk in disks or []:
        for part in disk.get("partitions") or []:
            if _lower(part.get("drive_letter")) != d:
                continue
            for vol in part.get("volumes") or []:
                if vol.get("size_remaining") is not None:
                    return round(float(vol["size_remaining"]) / 1024**3, 1)
    return None


def parse_openfiles(text):
    """Paths from ``openfiles.exe /query /fo csv /v`` (the last column is the open file's path)."""
    rows = list(csv.reader(io.StringIO(text or "")))
    out = []
    for row in rows:
        if not row or row[0].strip().lower() in ("hostname", "info:"):
            continue
        path = row[-1].strip()
        if re.match(r"^[a-zA-Z]:\\", path):
            out.append(path)
    return out


def certificates_from_info(certs):
    """ansible.windows.win_certificate_info ``certificates`` -> the fields the certificate check reads."""
    out = []
    for c in certs or []:
        out.append(
            {
                "subject": c.get("subject"),
                "dns_names": c.get("dns_names") or [],
                "not_after": c.get("valid_to_iso8601"),
                "has_private_key": c.get("has_private_key", True),
                "thumbprint": c.get("thumbprint"),
            }
        )
    return out


def versions_summary(versions):
    """The Tenants page as the report's versions: SysAdminKit, MultiTenant and each customer's version."""
    v = versions or {}
    return {
        "sysadminkit": v.get("sysadminkit_version"),
        "multitenant": v.get("multitenant_version"),
        "customers": {str(c.get("name")): c.get("version") for c in v.get("customers") or []},
    }
