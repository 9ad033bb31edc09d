# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret scrubbing for the run report (controller only; used by the ``ump365.upgrade.report`` callback).

The scrubber never templates a variable and never decrypts a vault value itself. It learns the values to
mask only from what the tasks already resolved:

* the arguments a task ran with (``TaskResult.task_fields['args']``, templated by the worker before the
  module ran): for this collection's modules the options in :data:`SECRET_OPTIONS` (exactly its ``no_log``
  options: ``alarms_key`` is the name of a JSON key, not a secret), for any other task the names matching
  the secret name pattern (``password`` of ``ansible.windows.win_service``, a ``set_fact`` of
  ``ump_sql_password``, ...);
* result keys and facts with a secret name (``set_fact: ump_sql_password=...``, a module that returns
  ``access_token``); not ``invocation`` (a module masks its no_log options there itself).

Results of ``no_log`` tasks are censored by Ansible before a callback sees them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

COLLECTION = "ump365.upgrade"
MASK = "********"
# what AnsibleModule puts in invocation.module_args in place of a no_log value
NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
DEFAULT_PATTERN = r"(^|_)(password|passwd|pass|pwd|secret|token|key|credentials?)$"
DEFAULT_MIN_LENGTH = 6

# Every option declared no_log=True by this collection's modules and action plugins
# (tests/unit/plugins/plugin_utils/test_report_secrets.py keeps this list complete).
SECRET_OPTIONS = frozenset(
    (
        "client_secret",
        "ovoc_password",
        "password",
        "sbc_password",
        "secret",
    )
)


def dict2items_pair(value):
    """A ``{key, value}`` item of ``dict2items`` (or ``with_dict``): its ``key`` is a variable's name, not a
    key named "key", so whether ``value`` is secret depends on that name."""
    return isinstance(value, dict) and set(value) == {"key", "value"} and isinstance(value["key"], str)


class SecretScrubber:
    """Masks secret values everywhere and the values of secret-named keys."""

    def __init__(self, pattern=DEFAULT_PATTERN, min_length=DEFAULT_MIN_LENGTH):
        self.key_rx = re.compile(pattern, re.I)
        self.min_length = int(min_length)
        self.values = set()

    def key_is_secret(self, key):
        """The name is matched in snake case (``clientSecret`` -> ``client_secret``), so the default
        pattern looks at the last word: ``ump_api_client_secret`` and ``access_token`` are secrets,
        ``password_customers``, ``token_migration_status`` and ``ClientSecretExpirationDate`` are not."""
        if key in SECRET_OPTIONS:
            return True
        name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(key)).lower()
        return bool(self.key_rx.search(name))

    def add(self, value):
        """Remember a secret value (strings under it when it is a dict or list)."""
        if isinstance(value, dict):
            for v in value.values():
                self.add(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                self.add(v)
        elif isinstance(value, str):
            text = str(value)  # plain str: a tagged or wrapped string is never unwrapped (or decrypted) here
            if len(text) >= self.min_length and text not in (MASK, NO_LOG_PLACEHOLDER):
                self.values.add(text)

    def learn(self, data, depth=0, is_secret=None, skip=()):
        """Remember the values of secret-named keys at any depth of ``data`` (already resolved values).
        ``is_secret``: the test of a key's name (default :meth:`key_is_secret`); ``skip``: keys not looked into."""
        is_secret = is_secret or self.key_is_secret
        if depth > 8:
            return
        if isinstance(data, list):
            for item in data:
                self.learn(item, depth + 1, is_secret, skip)
            return
        if not isinstance(data, dict):
            return
        if dict2items_pair(data):
            data = {data["key"]: data["value"]}
        for key, value in data.items():
            if key in skip:
                continue
            if is_secret(key):
                self.add(value)
            elif isinstance(value, (dict, list)):
                self.learn(value, depth + 1, is_secret, skip)

    def learn_task(self, task_fields, result, action=None):
        """What one finished task tells: the arguments it ran with and its secret-named result keys.
        ``action``: the task's resolved action (``Task.resolved_action``); a module of this collection
        declares its secret options exactly (:data:`SECRET_OPTIONS`)."""
        args = (task_fields or {}).get("args")
        if isinstance(args, dict):
            if str(action or "").startswith(COLLECTION + "."):
                self.learn(args, is_secret=SECRET_OPTIONS.__contains__)
            else:
                self.learn(args)
        if isinstance(result, dict):
            self.learn(result, skip=("invocation",))

    def text(self, value):
        for secret in sorted(self.values, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def scrub(self, data, depth=0):
        if depth > 40:
            return MASK
        if isinstance(data, str):
            return self.text(data)
        if dict2items_pair(data):
            masked = self.key_is_secret(data["key"]) and data["value"] not in (None, "", [], {})
            return {"key": data["key"], "value": MASK if masked else self.scrub(data["value"], depth + 1)}
        if isinstance(data, dict):
            out = {}
            for k, v in data.items():
                if self.key_is_secret(k) and v not in (None, "", [], {}) and not isinstance(v, (bool, int, float)):
                    out[k] = MASK
                else:
                    out[k] = self.scrub(v, depth + 1)
            return out
        if isinstance(data, list):
            return [self.scrub(v, depth + 1) for v in data]
        return data
