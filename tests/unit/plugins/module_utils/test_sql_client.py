from __future__ import annotations

import socket
import struct
import threading

import pytest
from pytds import tds_base

from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.retry import RetryPolicy
from ansible_collections.ump365.upgrade.plugins.module_utils.sql import SqlClient, quote_name, validate_db_name


def client(**kw):
    args = dict(server="sql01.example.test", username="ump-svc", password="pw", port=1433)
    args.update(kw)
    return SqlClient(**args)


def db_error(number, text, cls=tds_base.OperationalError):
    e = cls(text)
    e.msg_no = e.number = number
    e.text = text.split(". ")[-1]
    return e


def test_quote_name_has_quotename_semantics():
    assert quote_name("SysAdminTenant") == "[SysAdminTenant]"
    assert quote_name("a]b") == "[a]]b]"


@pytest.mark.parametrize("name", ["SysAdminTenant", "SysAdmincontoso01", "db_1", "a.b-c"])
def test_valid_database_names(name):
    assert validate_db_name(name) == name


@pytest.mark.parametrize("name", ["", "x]; DROP DATABASE y; --", "a b", "1db", "d" * 129, "db'", None])
def test_invalid_database_names_are_named_in_the_error(name):
    with pytest.raises(errors.ValidationError) as e:
        validate_db_name(name)
    assert repr(name) in str(e.value)


def test_tls_is_required_unless_encrypt_false(tmp_path, monkeypatch):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    assert client(ca_bundle=str(ca))._tls_args() == {"cafile": str(ca), "validate_host": True}
    assert client(encrypt=False)._tls_args() == {"cafile": None}
    monkeypatch.setattr("ansible_collections.ump365.upgrade.plugins.module_utils.sql.default_ca_bundle", lambda: None)
    with pytest.raises(errors.ConfigurationError, match="no CA bundle"):
        client()._tls_args()
    with pytest.raises(errors.ConfigurationError, match="IP address"):
        client(server="10.0.0.5", ca_bundle=str(ca))._tls_args()
    assert client(server="10.0.0.5", ca_bundle=str(ca), validate_certs=False)._tls_args()["validate_host"] is False


def test_error_mapping():
    c = client()
    e = c.map_error(db_error(18456, "Login failed for user 'ump-svc'."), "connect")
    assert isinstance(e, errors.AuthenticationError)
    assert "user 'ump-svc' on sql01.example.test:1433" in str(e) and not e.retriable
    e = c.map_error(
        db_error(18456, 'Cannot open database "X" requested by the login. The login failed. Login failed for user'),
        "connect",
    )
    assert isinstance(e, errors.NotFoundError) and e.details["code"] == 4060
    e = c.map_error(db_error(208, "Invalid object name 'T'.", tds_base.ProgrammingError), "query", "SysAdminTenant")
    assert isinstance(e, errors.NotFoundError) and e.resource == "sql01.example.test:1433/SysAdminTenant"
    e = c.map_error(db_error(1205, "deadlocked"), "update")
    assert e.retriable
    e = c.map_error(
        db_error(
            3013,
            "Exclusive access could not be obtained because the database is in use. RESTORE DATABASE is "
            "terminating abnormally.",
        ),
        "restore",
    )
    assert e.details["code"] == 3101 and not e.retriable
    e = c.map_error(db_error(3013, 'Write on "x" failed: 112(There is not enough space on the disk.) BACKUP'), "b")
    assert e.details["code"] == 3202 and "free disk space" in e.remedy
    assert isinstance(c.map_error(ConnectionRefusedError(111, "refused"), "connect"), errors.UnreachableError)
    assert isinstance(c.map_error(socket.timeout("timed out"), "connect"), errors.UnreachableError)
    assert isinstance(c.map_error(tds_base.ClosedConnectionError(), "connect"), errors.UnreachableError)


def test_connect_retries_transient_failures_then_gives_up(monkeypatch):
    calls = []

    def refuse(*a, **kw):
        calls.append(a)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refuse)
    c = client(encrypt=False, retries=2)
    c.policy.base_delay = 0.0
    with pytest.raises(errors.UnreachableError) as e:
        c.connect()
    assert len(calls) == 3 and len(e.value.attempts) == 2


@pytest.fixture
def closing_server():
    """A port whose server accepts every connection and closes it before PRELOGIN (a stopped SQL service)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    accepted = []

    def serve():
        while True:
            try:
                conn, _peer = srv.accept()
            except OSError:
                return
            accepted.append(1)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield srv.getsockname()[1], accepted
    srv.close()


def test_a_connection_closed_before_login_fails_each_attempt_at_once(closing_server):
    """python-tds would wait out login_timeout per attempt and say "timed out"; we fail each attempt at once."""
    port, accepted = closing_server
    policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.01, budget=5)
    client = SqlClient("127.0.0.1", "sa", "x", port=port, encrypt=False, timeout=20, retry_policy=policy)
    with pytest.raises(errors.UnreachableError) as e:
        client.connect()
    assert "closed the connection before the login" in str(e.value)
    assert "MSSQLSERVER" in e.value.remedy
    assert len(accepted) == 3
