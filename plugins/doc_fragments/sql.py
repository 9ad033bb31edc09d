# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options shared by every module that talks to SQL Server (plugins/module_utils/sql.py).
    DOCUMENTATION = r"""
options:
  server:
    description:
      - DNS name of the SQL Server (the UMP server itself, or its backend SQL server).
      - With O(validate_certs=true) it must be a name the server certificate carries; python-tds checks
        DNS names only, so an IP address is refused.
    type: str
    required: true
  port:
    description: TCP port of the SQL Server instance.
    type: int
    default: 1433
  username:
    description:
      - SQL login (for example the UMP service account's login), or the Windows account (C(DOMAIN\\user)
        or C(user)) with O(login_type=windows).
    type: str
    required: true
  password:
    description: Password of O(username).
    type: str
    required: true
  login_type:
    description:
      - C(sql) for a SQL Server login, C(windows) for a Windows login over NTLM (python-tds with pyspnego).
    type: str
    choices: [sql, windows]
    default: sql
  database:
    description: Database to connect to.
    type: str
    default: master
  ca_bundle:
    description:
      - PEM file with the CA that issued the SQL Server certificate.
      - Defaults to the controller's system CA bundle.
    type: path
  validate_certs:
    description:
      - Check that the server certificate names O(server).
      - The certificate chain is always verified against O(ca_bundle) when O(encrypt=true); python-tds
        cannot skip that.
    type: bool
    default: true
  encrypt:
    description:
      - Encrypt the connection with TLS (TDS PRELOGIN encryption C(ON)).
      - Set C(false) only for a server without a certificate on a trusted network; the password then
        travels only obfuscated, not encrypted.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the login and for each statement.
    type: int
    default: 30
  retries:
    description:
      - How many times to retry after a transient failure (server unreachable, deadlock victim, lock
        time-out), with exponential backoff.
    type: int
    default: 3
requirements:
  - python-tds
  - pyOpenSSL (for TLS)
  - pyspnego (for O(login_type=windows))
"""
