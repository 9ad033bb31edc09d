# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Survey answers as AWX passes them, parsed into the types the playbooks need.

AWX turns a survey into extra vars (awx/main/models/mixins.py, SurveyJobTemplateMixin:
``_update_unified_job_kwargs`` adds each question's default that passes ``_survey_element_validation``,
then the launch answers): text, textarea, password and multiplechoice answers are ``str``, integer is
``int``, float is ``float`` or ``int``, multiselect is a list of ``str``. An optional question left
unanswered is absent, or the empty string for text. There is no boolean or list question, so a bool
arrives as ``"true"``/``"false"`` and a list an operator types as ``"a,b,c"``. The extra vars file
marks every string ``!unsafe`` (awx/main/utils/safe_yaml.py), so the values are never templated.
The command line passes real lists, ints and bools: they are accepted as they are.

Every parser raises ``ValueError`` naming the variable and the bad value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_PERCENT = re.compile(r"^(\d{1,3}(?:\.\d+)?)%$")


def _str(value):
    # AnsibleUnsafeText and AWX's UnsafeText are str subclasses: plain str() keeps the text.
    return str(value).strip()


def _bad(name, value, expected):
    return ValueError("survey answer %s=%r is not %s" % (name, value, expected))


def parse_bool(value, name):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = _str(value).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _bad(name, value, "true or false")


def parse_int(value, name, minimum=None, maximum=None, default=None):
    """An integer answer (or its text); ``None`` or ``""`` (unanswered) gives ``default``."""
    if value is None or (isinstance(value, str) and not _str(value)):
        return default
    if isinstance(value, bool):
        raise _bad(name, value, "a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.match(r"^[+-]?\d+$", _str(value)):
        number = int(_str(value))
    else:
        raise _bad(name, value, "a whole number")
    if minimum is not None and number < minimum:
        raise _bad(name, value, "at least %s" % minimum)
    if maximum is not None and number > maximum:
        raise _bad(name, value, "at most %s" % maximum)
    return number


def parse_list(value, name, separator=","):
    """A list answer: a list (multiselect, command line) or text separated by commas or new lines.

    Blank items are dropped, so ``""`` (unanswered text) is the empty list.
    """
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        items = re.split(r"[%s\n]" % re.escape(separator), value)
    else:
        raise _bad(name, value, "a list or text separated by %r" % separator)
    out = []
    for item in items:
        if isinstance(item, (dict, list, tuple)) or item is None:
            raise _bad(name, value, "a list of names (item %r)" % (item,))
        text = _str(item)
        if text:
            out.append(text)
    return out


def parse_batches(value, name, default=None):
    """Ansible ``serial`` batches: host counts (int >= 1) and percentages ("25%", 1-100).

    ``"1,25%,100%"`` gives ``[1, "25%", "100%"]``; an empty answer gives ``default``.
    """
    if isinstance(value, bool):
        raise _bad(name, value, "batches (host counts or percentages)")
    if isinstance(value, int):
        value = [value]
    items = parse_list(value, name) if not isinstance(value, (list, tuple)) else list(value)
    if not items:
        if default is None:
            raise _bad(name, value, "a non-empty list of batches")
        return parse_batches(default, name)
    batches = []
    for item in items:
        if isinstance(item, bool):
            raise _bad(name, value, "batches: host counts or percentages (item %r)" % (item,))
        if isinstance(item, int):
            count = item
        elif isinstance(item, str) and re.match(r"^\d+$", _str(item)):
            count = int(_str(item))
        elif isinstance(item, str) and _PERCENT.match(_str(item)):
            pct = float(_PERCENT.match(_str(item)).group(1))
            if not 0 < pct <= 100:
                raise _bad(name, value, "batches: a percentage above 0 and at most 100 (item %r)" % (item,))
            batches.append(_str(item))
            continue
        else:
            raise _bad(name, value, "batches: host counts or percentages like 1,25%%,100%% (item %r)" % (item,))
        if count < 1:
            raise _bad(name, value, "batches: a host count of at least 1 (item %r)" % (item,))
        batches.append(count)
    return batches
