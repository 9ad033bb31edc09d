# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One error hierarchy for every client: what failed, where, and what the operator should do.

Clients raise these; modules turn them into ``fail_json`` with :func:`fail_module`, so every failure
reads the same way: ``<system> <operation> failed for <resource>: <message>. Fix: <remedy>``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class UmpError(Exception):
    """Base of every error our clients raise.

    :param system: the system spoken to (``azure``, ``sql``, ``ump_api``, ``sbc``, ``ovoc``, ``graph``)
    :param operation: what we were doing (``create snapshot``, ``login``)
    :param resource: what it was done to (an ARM id, a database, a URL path)
    :param remedy: what the operator should do about it
    :param retriable: whether a later attempt may succeed (throttling, conflicts, timeouts)
    :param retry_after: seconds the server asked us to wait, when it said
    :param details: machine-readable extras (status code, vendor error code, trace id)
    """

    default_remedy = None

    def __init__(
        self,
        message,
        system=None,
        operation=None,
        resource=None,
        remedy=None,
        retriable=False,
        retry_after=None,
        details=None,
    ):
        super(UmpError, self).__init__(message)
        self.message = message
        self.system = system
        self.operation = operation
        self.resource = resource
        self.remedy = remedy or self.default_remedy
        self.retriable = retriable
        self.retry_after = retry_after
        self.details = dict(details or {})
        self.attempts = []  # filled by retry.call_with_retry: one dict per failed attempt

    def render(self):
        head = " ".join(p for p in (self.system, self.operation) if p)
        text = head + " failed" if head else "failed"
        if self.resource:
            text += " for %s" % self.resource
        text += ": %s" % self.message
        if self.attempts:
            text += " (after %d attempts)" % (len(self.attempts) + 1)
        if self.remedy:
            text += ". Fix: %s" % self.remedy
        return text

    def __str__(self):
        return self.render()

    def as_dict(self):
        return {
            "type": type(self).__name__,
            "system": self.system,
            "operation": self.operation,
            "resource": self.resource,
            "message": self.message,
            "remedy": self.remedy,
            "retriable": self.retriable,
            "details": self.details,
            "retries": list(self.attempts),
        }


class ConfigurationError(UmpError):
    default_remedy = "correct the module arguments or inventory variables named in the message"


class ValidationError(ConfigurationError):
    """Bad input caught at the module boundary; the message names the bad value."""


class AuthenticationError(UmpError):
    default_remedy = "check the credential (user, password, client secret or certificate) and that it has not expired"


class AuthorizationError(UmpError):
    default_remedy = "grant the identity the permission named in the message"


class NotFoundError(UmpError):
    default_remedy = "check the name and scope (subscription, resource group, host) of the resource"


class ConflictError(UmpError):
    default_remedy = "another operation is in progress on the resource; wait for it and run again"

    def __init__(self, message, **kwargs):
        kwargs.setdefault("retriable", True)
        super(ConflictError, self).__init__(message, **kwargs)


class ThrottledError(UmpError):
    default_remedy = "the service is throttling requests; lower forks/throttle or run again later"

    def __init__(self, message, **kwargs):
        kwargs.setdefault("retriable", True)
        super(ThrottledError, self).__init__(message, **kwargs)


class RemoteError(UmpError):
    """The remote system answered with an error we do not classify further (5xx, vendor error)."""


class UnreachableError(UmpError):
    default_remedy = "check that the endpoint is up and reachable from the controller (DNS, firewall, port)"

    def __init__(self, message, **kwargs):
        kwargs.setdefault("retriable", True)
        super(UnreachableError, self).__init__(message, **kwargs)


class OperationTimeoutError(UmpError):
    default_remedy = (
        "the operation is still running or stuck; check it on the system, then raise the timeout or run again"
    )


class OperationFailedError(UmpError):
    """A long-running operation finished, but in a failed state."""


def fail_module(module, error, **extra):
    """``module.fail_json`` for an :class:`UmpError` (or any exception), never leaking a traceback."""
    if isinstance(error, UmpError):
        result = dict(extra)
        result["error"] = error.as_dict()
        if error.attempts:
            result["retries"] = list(error.attempts)
        module.fail_json(msg=error.render(), **result)
    module.fail_json(msg="unexpected %s: %s" % (type(error).__name__, error), **extra)
