# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one ISO 8601 time parser of the collection (modules and controller code import it).

It replaces four copies whose behaviour had drifted (checks, wyupdate, app_registration, azure_disk):
fractions of any length (ARM and .NET write 7 digits, ``datetime`` takes 6), ``Z`` or ``+hh:mm`` /
``-hh:mm`` offsets, a space instead of ``T``, a date alone. What is not a time gives ``None``: the
caller decides whether that is an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import datetime, timedelta, timezone

_TIME = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?\s*(Z|[+-]\d\d:?\d\d)?$",
    re.IGNORECASE,
)


def parse_time(value, naive="utc"):
    """An ISO 8601 time as a ``datetime``, or ``None`` when ``value`` is empty or not one.

    A time with an offset comes back aware, in UTC. ``naive="utc"`` (the default) reads a time
    without an offset as UTC; ``naive="keep"`` returns it naive (wyUpdate's logs write local time,
    which only compares with other local times).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt, off = value, None
        if dt.tzinfo is not None:
            return dt.astimezone(timezone.utc)
    else:
        m = _TIME.match(str(value).strip())
        if not m:
            return None
        y, mo, d, hh, mi, ss, frac, off = m.groups()
        try:
            dt = datetime(
                int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), int(((frac or "") + "000000")[:6])
            )
        except ValueError:
            return None
        if off and off.upper() != "Z":
            sign = 1 if off[0] == "+" else -1
            digits = off[1:].replace(":", "")
            dt = dt - sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return dt.replace(tzinfo=timezone.utc)
        if off:
            return dt.replace(tzinfo=timezone.utc)
    if naive == "keep":
        return dt
    return dt.replace(tzinfo=timezone.utc)
