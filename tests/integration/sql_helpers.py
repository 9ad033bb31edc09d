"""Run the SQL modules the way a playbook does (ansible, on the controller) against the lab over TDS + TLS."""

from __future__ import annotations

import json
import re

import pytds

UMP_LOCAL = "ump01"
BACKEND = "ump02-sql"


def conn_args(lab, host: str = UMP_LOCAL, **extra) -> dict:
    args = {
        "server": "localhost",
        "port": lab.endpoints["hosts"][host]["sql_port"],
        "username": "ump-svc",
        "password": lab.endpoints["secrets"]["service_account_password"],
        "ca_bundle": lab.ca_file,
        "retries": 1,
        "timeout": 10,
    }
    args.update(extra)
    return args


def run(lab, module: str, args: dict, *flags: str) -> tuple[dict, str]:
    """``ansible localhost -m ump365.upgrade.<module>``; returns (result, full stdout+stderr)."""
    proc = lab.adhoc("localhost", f"ump365.upgrade.{module}", json.dumps(args), *flags)
    out = proc.stdout + proc.stderr
    m = re.search(r"localhost \| (SUCCESS|CHANGED|FAILED!) => (\{.*)", proc.stdout, re.S)
    assert m, f"no result from {module}:\n{out[-4000:]}"
    decoder = json.JSONDecoder()
    result, _ = decoder.raw_decode(m.group(2))
    result.setdefault("failed", m.group(1) == "FAILED!")
    return result, out


def rows(lab, host: str, database: str, sql: str, params=None) -> list[tuple]:
    """Read through python-tds directly (not our client), for checks."""
    with pytds.connect(
        dsn="localhost",
        port=lab.endpoints["hosts"][host]["sql_port"],
        user="ump-svc",
        password=lab.endpoints["secrets"]["service_account_password"],
        cafile=lab.ca_file,
        database=database,
        autocommit=True,
        login_timeout=5,
        disable_connect_retry=True,
    ) as conn:
        cur = conn.cursor()
        cur.execute(sql, params)
        out = cur.fetchall() if cur.description else []
        while cur.nextset():
            pass
        return out


def setting(lab, host: str, name: str):
    got = rows(lab, host, "SysAdminTenant", "SELECT Value FROM dbo.ApplicationSetting WHERE Name = %s", (name,))
    return got[0][0] if got else None
