# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dial-plan prefix linting: the SBC's syntax and the upgrade guide's stricter UMP-365 rule.

Pure functions, no Ansible imports, so the filter, the modules and the unit tests share them.

UMP rule (upgrade guide, "SBC Dialplan Verification"): prefixes are plain digits with an optional
leading ``+`` and bracket ranges such as ``+44587996[01-20]`` whose bounds have the same number of
digits; entries are separated by ``;``; no notation (``x``, ``n``, ``z`` or ``#``).

SBC rule (Mediant user manual, dial plans; facts/ump_sbc_ovoc.md): digits; ``x`` any digit; ``z``
1-9; ``n`` 2-9; ``.`` repeats the previous element; ``*`` only alone; one trailing ``#``; ranges and
lists in brackets ``[n-m,a,b]`` whose members have equal digit counts; a suffix in parentheses at
the end. A leading ``+`` is accepted (the portal's "Show Prefixes" lists ``+41589061[000-999]``).

Every finding is a dict: ``entry`` (the trimmed entry), ``index`` (0-based entry number),
``position`` (0-based character offset in the whole input), ``column`` (offset inside the entry),
``rule`` (``ump`` or ``sbc``), ``code`` (a stable identifier) and ``why`` (a sentence).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

SYNTAXES = ("ump", "sbc", "both")
UMP_FORBIDDEN_NOTATION = "xnz#"
_DIGITS = "0123456789"


def _finding(rule, code, why, entry, index, start, column):
    return {
        "entry": entry,
        "index": index,
        "position": start + column,
        "column": column,
        "rule": rule,
        "code": code,
        "why": why,
    }


def split_entries(text):
    """``[(entry, index, offset)]``: entries split on ``;``, trimmed, with their offset in ``text``."""
    out = []
    pos = 0
    for index, raw in enumerate(text.split(";")):
        stripped = raw.lstrip()
        lead = len(raw) - len(stripped)
        out.append((stripped.rstrip(), index, pos + lead))
        pos += len(raw) + 1
    return out


def _bracket(entry, i):
    """Index of the ``]`` closing the ``[`` at ``i``, or -1."""
    j = entry.find("]", i + 1)
    k = entry.find("[", i + 1)
    if j < 0 or (0 <= k < j):
        return -1
    return j


def _check_members(rule, body, entry, index, start, col, allow_list):
    """Findings for the inside of one ``[...]`` (``body`` starts at entry column ``col``)."""
    findings = []
    if body == "":
        return [_finding(rule, "empty_brackets", "empty brackets '[]'", entry, index, start, col - 1)]
    members = body.split(",")
    if len(members) > 1 and not allow_list:
        return [
            _finding(
                rule,
                "bracket_list",
                "UMP accepts a single range 'a-b' in brackets, not a list",
                entry,
                index,
                start,
                col + len(members[0]),
            )
        ]
    widths = []
    offset = col
    for member in members:
        parts = member.split("-")
        bad = next((c for c in member if c not in _DIGITS and c != "-"), None)
        if bad is not None:
            findings.append(
                _finding(
                    rule,
                    "bracket_character",
                    "%r is not allowed inside brackets (digits and one '-' only)" % bad,
                    entry,
                    index,
                    start,
                    offset + member.index(bad),
                )
            )
        elif len(parts) > 2 or any(p == "" for p in parts):
            findings.append(
                _finding(
                    rule,
                    "bracket_member",
                    "%r is not a number or a range 'a-b'" % member,
                    entry,
                    index,
                    start,
                    offset,
                )
            )
        elif len(parts) == 2:
            low, high = parts
            if len(low) != len(high):
                findings.append(
                    _finding(
                        rule,
                        "range_digit_count",
                        "range bounds %r and %r have different digit counts (%d and %d); write both with "
                        "the same number of digits" % (low, high, len(low), len(high)),
                        entry,
                        index,
                        start,
                        offset,
                    )
                )
            elif int(low) > int(high):
                findings.append(
                    _finding(
                        rule,
                        "range_order",
                        "range %s-%s runs backwards" % (low, high),
                        entry,
                        index,
                        start,
                        offset,
                    )
                )
            else:
                widths.append(len(low))
        else:
            widths.append(len(member))
        offset += len(member) + 1
    if not findings and len(set(widths)) > 1:
        findings.append(
            _finding(
                rule,
                "bracket_digit_count",
                "members of [%s] have different digit counts" % body,
                entry,
                index,
                start,
                col,
            )
        )
    return findings


def _lint_ump_entry(entry, index, start):
    rule = "ump"
    if entry == "":
        return [_finding(rule, "empty_entry", "empty entry (stray ';')", entry, index, start, 0)]
    findings = []
    i = 0
    digits = 0
    if entry.startswith("+"):
        i = 1
    while i < len(entry):
        c = entry[i]
        if c in _DIGITS:
            digits += 1
            i += 1
        elif c == "[":
            j = _bracket(entry, i)
            if j < 0:
                findings.append(_finding(rule, "unclosed_bracket", "'[' is never closed", entry, index, start, i))
                return findings
            findings.extend(_check_members(rule, entry[i + 1 : j], entry, index, start, i + 1, allow_list=False))
            digits += 1
            i = j + 1
        elif c.lower() in UMP_FORBIDDEN_NOTATION:
            findings.append(
                _finding(
                    rule,
                    "notation",
                    "notation %r is not allowed in UMP prefixes (the upgrade guide forbids x, n, z and #)" % c,
                    entry,
                    index,
                    start,
                    i,
                )
            )
            i += 1
        elif c == "+":
            findings.append(_finding(rule, "plus_position", "'+' is allowed only first", entry, index, start, i))
            i += 1
        elif c == "]":
            findings.append(_finding(rule, "stray_bracket", "']' without '['", entry, index, start, i))
            i += 1
        else:
            findings.append(
                _finding(
                    rule,
                    "character",
                    "%r is not allowed in UMP prefixes (digits, a leading '+' and [a-b] ranges only)" % c,
                    entry,
                    index,
                    start,
                    i,
                )
            )
            i += 1
    if digits == 0 and not findings:
        findings.append(_finding(rule, "no_digits", "the prefix has no digits", entry, index, start, 0))
    return findings


_SBC_ELEMENT = _DIGITS + "xXzZnN"


def _lint_sbc_entry(entry, index, start):
    rule = "sbc"
    if entry == "":
        return [_finding(rule, "empty_entry", "empty entry (stray ';')", entry, index, start, 0)]
    if entry == "*":
        return []
    findings = []
    body_end = len(entry)
    if entry.endswith(")"):
        k = entry.rfind("(")
        if k < 0:
            return [_finding(rule, "stray_parenthesis", "')' without '('", entry, index, start, len(entry) - 1)]
        suffix = entry[k + 1 : -1]
        for n, c in enumerate(suffix):
            if c not in _SBC_ELEMENT + "[]-,.":
                findings.append(
                    _finding(
                        rule, "suffix_character", "%r is not allowed in the suffix" % c, entry, index, start, k + 1 + n
                    )
                )
        body_end = k
    i = 0
    seen_element = False
    if entry.startswith("+"):
        i = 1
    while i < body_end:
        c = entry[i]
        if c in _SBC_ELEMENT:
            seen_element = True
            i += 1
        elif c == "[":
            j = _bracket(entry, i)
            if j < 0 or j >= body_end:
                findings.append(_finding(rule, "unclosed_bracket", "'[' is never closed", entry, index, start, i))
                return findings
            findings.extend(_check_members(rule, entry[i + 1 : j], entry, index, start, i + 1, allow_list=True))
            seen_element = True
            i = j + 1
        elif c == ".":
            if not seen_element:
                findings.append(
                    _finding(rule, "repeat_position", "'.' must follow a digit or a range", entry, index, start, i)
                )
            i += 1
        elif c == "#":
            if i != body_end - 1:
                findings.append(_finding(rule, "hash_position", "'#' is allowed only last", entry, index, start, i))
            i += 1
        elif c == "*":
            findings.append(
                _finding(rule, "star_position", "'*' is allowed only as the whole prefix", entry, index, start, i)
            )
            i += 1
        elif c == "+":
            findings.append(_finding(rule, "plus_position", "'+' is allowed only first", entry, index, start, i))
            i += 1
        elif c in "()":
            findings.append(
                _finding(
                    rule, "parenthesis_position", "a suffix in parentheses must end the prefix", entry, index, start, i
                )
            )
            i += 1
        elif c == "]":
            findings.append(_finding(rule, "stray_bracket", "']' without '['", entry, index, start, i))
            i += 1
        else:
            findings.append(
                _finding(rule, "character", "%r is not part of the SBC prefix syntax" % c, entry, index, start, i)
            )
            i += 1
    if not seen_element and not findings:
        findings.append(_finding(rule, "no_digits", "the prefix has no digits", entry, index, start, 0))
    return findings


def lint(text, syntax="ump"):
    """Findings for ``text`` (entries separated by ``;``) under ``syntax`` (``ump``, ``sbc`` or ``both``).

    Never raises for any string. A non-string is turned into its ``str()``; ``None`` is empty.
    """
    if syntax not in SYNTAXES:
        raise ValueError("syntax must be one of %s, got %r" % (", ".join(SYNTAXES), syntax))
    if text is None:
        text = ""
    if not isinstance(text, str):
        text = str(text)
    if text.strip() == "":
        return [
            _finding(rule, "empty", "no prefix given", text, 0, 0, 0)
            for rule in (("ump", "sbc") if syntax == "both" else (syntax,))
        ]
    findings = []
    for entry, index, start in split_entries(text):
        if syntax in ("ump", "both"):
            findings.extend(_lint_ump_entry(entry, index, start))
        if syntax in ("sbc", "both"):
            findings.extend(_lint_sbc_entry(entry, index, start))
    return findings


def lint_many(values, syntax="ump"):
    """Lint a list of prefix strings; each finding also carries ``item`` (the list index)."""
    out = []
    for item, value in enumerate(values):
        for f in lint(value, syntax):
            f["item"] = item
            out.append(f)
    return out


# --------------------------------------------------------------------------- number coverage
def _entry_tokens(entry):
    """An entry as a list of digit sets (one per position) plus trailing flags, or None when it is a
    notation this matcher does not read (``*``, a ``.`` repeat): such an entry never counts as covering."""
    entry = entry.strip()
    if "(" in entry and entry.endswith(")"):
        entry = entry[: entry.index("(")]
    if entry.endswith("#"):
        entry = entry[:-1]
    if not entry or "*" in entry or "." in entry:
        return None
    out = []
    i = 0
    if entry[0] == "+":
        out.append(("+",))
        i = 1
    while i < len(entry):
        c = entry[i]
        if c in _DIGITS:
            out.append((c,))
            i += 1
        elif c in "xX":
            out.append(tuple(_DIGITS))
            i += 1
        elif c in "zZ":
            out.append(tuple(_DIGITS[1:]))
            i += 1
        elif c in "nN":
            out.append(tuple(_DIGITS[2:]))
            i += 1
        elif c == "[":
            j = _bracket(entry, i)
            if j < 0:
                return None
            members = []
            for m in entry[i + 1 : j].split(","):
                lo, _dash, hi = m.strip().partition("-")
                hi = hi or lo
                if not (lo.isdigit() and hi.isdigit() and len(lo) == len(hi)):
                    return None
                members.append((int(lo), int(hi), len(lo)))
            if len({w for _lo, _hi, w in members}) != 1:
                return None
            out.append(("range", members))
            i = j + 1
        else:
            return None
    return out


def _match(tokens, number):
    pos = 0
    for t in tokens:
        if t and t[0] == "range":
            width = t[1][0][2]
            chunk = number[pos : pos + width]
            if len(chunk) != width or not chunk.isdigit():
                return False
            if not any(lo <= int(chunk) <= hi for lo, hi, _w in t[1]):
                return False
            pos += width
        else:
            if pos >= len(number) or number[pos] not in t:
                return False
            pos += 1
    return pos == len(number)


def normalize_number(number):
    """A phone number as digits with its leading ``+`` (spaces, dashes, dots and parentheses dropped)."""
    s = str(number or "").strip()
    plus = s.startswith("+")
    digits = "".join(c for c in s if c in _DIGITS)
    return ("+" if plus else "") + digits if digits else ""


def covers(entry, number):
    """Whether a prefix entry (one of ``;``-separated entries) stands for the whole ``number``: every digit
    matched, a bracket range consuming as many digits as its bounds have (``+44587996[01-20]`` covers
    ``+4458799607``, not ``+445879960``). A number is matched with and without its ``+``."""
    tokens = _entry_tokens(str(entry or ""))
    n = normalize_number(number)
    if tokens is None or not n:
        return False
    if _match(tokens, n):
        return True
    plus_entry = bool(tokens) and tokens[0] == ("+",)
    if plus_entry and not n.startswith("+"):
        return _match(tokens[1:], n)
    if not plus_entry and n.startswith("+"):
        return _match(tokens, n[1:])
    return False


def covered_by(number, entries):
    """The first entry of ``entries`` covering ``number``, or None."""
    for e in entries or []:
        if covers(e, number):
            return e
    return None
