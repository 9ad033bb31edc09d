# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``ump365.upgrade.prefix_lint`` filter (documentation in prefix_lint.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.ump365.upgrade.plugins.module_utils import prefix


def prefix_lint(value, syntax="ump"):
    if syntax not in prefix.SYNTAXES:
        raise AnsibleFilterError("prefix_lint: syntax must be one of %s, got %r" % (", ".join(prefix.SYNTAXES), syntax))
    if value is None:
        return prefix.lint("", syntax)
    if isinstance(value, (list, tuple)):
        for n, v in enumerate(value):
            if v is not None and not isinstance(v, (str, bytes, int)):
                raise AnsibleFilterError(
                    "prefix_lint: item %d of the list is a %s, expected a prefix string" % (n, type(v).__name__)
                )
        return prefix.lint_many([to_text(v) if v is not None else "" for v in value], syntax)
    if isinstance(value, (str, bytes, int)):
        return prefix.lint(to_text(value), syntax)
    raise AnsibleFilterError("prefix_lint: expected a prefix string or a list of them, got a %s" % type(value).__name__)


class FilterModule(object):
    def filters(self):
        return {"prefix_lint": prefix_lint}
