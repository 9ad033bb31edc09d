"""100 parameterised queries through our client against the lab, over TLS and plain, in one process.

Prints the time ratio (read it with ``pytest -s``); asserts only correctness and round trips, never time.
"""

from __future__ import annotations

import time

from ansible_collections.ump365.upgrade.plugins.module_utils.sql import SqlClient

N = 100


def _client(lab, **kw):
    return SqlClient(
        "localhost",
        "ump-svc",
        lab.endpoints["secrets"]["service_account_password"],
        port=lab.endpoints["hosts"]["ump01"]["sql_port"],
        database="SysAdminTenant",
        **kw,
    )


def _run(client) -> tuple[float, list]:
    client.connect()
    start = time.perf_counter()
    got = [
        client.scalar("SELECT Value FROM dbo.ApplicationSetting WHERE Name = %s", ("QuickReplicationCycleDelay",))
        for _ in range(N)
    ]
    return time.perf_counter() - start, got


def test_100_parameterised_queries_tls_and_plain(fresh_lab):
    """Best of 3 alternating rounds each way (the build machine is shared, single runs are noisy)."""
    with _client(fresh_lab, ca_bundle=fresh_lab.ca_file) as tls, _client(fresh_lab, encrypt=False) as plain:
        _run(plain)  # warm the translation cache and the imports
        before = fresh_lab.counters().get("sql.requests", 0)
        t_tls, t_plain = [], []
        for _ in range(3):
            t, got_tls = _run(tls)
            t_tls.append(t)
            t, got_plain = _run(plain)
            t_plain.append(t)
    after = fresh_lab.counters().get("sql.requests", 0)
    assert got_tls == got_plain == ["5"] * N
    assert after - before >= 6 * N  # one sp_executesql round trip per query, nothing batched away
    print(
        f"\n{N} parameterised queries (best of 3): TLS {min(t_tls) * 1000:.1f} ms, plain {min(t_plain) * 1000:.1f} ms, "
        f"ratio {min(t_tls) / min(t_plain):.2f}"
    )
