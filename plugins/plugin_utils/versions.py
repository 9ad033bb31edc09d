# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one version comparison of the collection (UMP / SysAdminKit versions such as ``8.0.400.64``).

It replaces the copies in checks.py and wyupdate.py, which disagreed on an empty version and on
trailing ``.0`` parts (``8.0.450`` did not match an expected ``8.0.450.0`` in the checks).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


def version_tuple(version):
    """``8.0.400.64`` -> (8, 0, 400, 64); a part's leading digits count, a part without digits is 0.
    ``None`` or empty -> ()."""
    if version is None or str(version).strip() == "":
        return ()
    out = []
    for part in str(version).strip().split("."):
        m = re.match(r"\d+", part)
        out.append(int(m.group(0)) if m else 0)
    return tuple(out)


def _padded(a, b):
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


def version_cmp(a, b):
    """-1, 0 or 1; missing parts are 0 (``8.0.515`` == ``8.0.515.0``)."""
    ta, tb = _padded(version_tuple(a), version_tuple(b))
    return (ta > tb) - (ta < tb)


def version_at_least(actual, minimum):
    return version_cmp(actual, minimum) >= 0


def version_matches(actual, expected):
    """True when ``actual`` is ``expected`` or a build of it: ``8.0.515.12`` matches ``8.0.515``, and
    ``8.0.515`` matches ``8.0.515.0`` (missing parts are 0); nothing matches an empty expectation."""
    a, e = version_tuple(actual), version_tuple(expected)
    if not a or not e:
        return False
    a = a + (0,) * (len(e) - len(a))
    return a[: len(e)] == e
