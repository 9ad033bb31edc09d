# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options every UMP, SBC and OVOC REST module shares (module_utils/http.py).
    DOCUMENTATION = r"""
options:
  ca_bundle:
    description:
      - A PEM file with the CA certificates to trust for the HTTPS endpoints (for example a private CA).
      - Without it the controller's system CA store is used.
      - An empty value is an error (it never means "no verification"); a path that is not a file too.
      - Inventory variable C(ump_ca_bundle).
    type: path
  allow_insecure_http:
    description:
      - Allow a plain C(http://) URL. Every one of these APIs takes a credential (HTTP Basic auth, a client
        secret, a bearer token), so C(http://) is refused unless this is set; only for a throw-away test.
      - When it is used the result has RV(insecure_http=true) and the run report says so.
      - Inventory variable C(ump_allow_insecure_http).
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the servers' TLS certificates. Only turn this off for a throw-away test; use O(ca_bundle) instead.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for a connection and for each answer.
    type: float
    default: 30
  retries:
    description:
      - Extra attempts after a failed one, for failures that may pass (429 and 503 honouring Retry-After,
        other 5xx, timeouts and dropped connections on reads), with exponential backoff and jitter.
      - C(0) tries once.
    type: int
    default: 3
notes:
  - Runs on the controller (or wherever the task is delegated); nothing is installed on the UMP server.
  - Secrets (passwords, client secrets, tokens) are never logged or returned; they are masked in error messages.
requirements:
  - requests (Python library) on the host the module runs on
"""
