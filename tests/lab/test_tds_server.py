"""The lab's SQL Server over TDS, driven by python-tds directly (no code of ours on the client side)."""

from __future__ import annotations

import OpenSSL.SSL
import pytds
import pytest
from pytds import tds_base
from pytds.tls import EncryptedSocket

UMP_LOCAL = "ump01"  # SQL Server on the UMP server itself
BACKEND = "ump02-sql"  # ump02's backend SQL server


def port(lab, host=UMP_LOCAL):
    return lab.endpoints["hosts"][host]["sql_port"]


def password(lab):
    return lab.endpoints["secrets"]["service_account_password"]


def connect(lab, host=UMP_LOCAL, **kw):
    args = dict(
        dsn="localhost",
        port=port(lab, host),
        user="ump-svc",
        password=password(lab),
        cafile=lab.ca_file,
        database="SysAdminTenant",
        autocommit=True,
        login_timeout=5,
        disable_connect_retry=True,
    )
    args.update(kw)
    return pytds.connect(**args)


def rows(conn, sql, params=None):
    cur = conn.cursor()
    cur.execute(sql, params)
    out = cur.fetchall() if cur.description else []
    while cur.nextset():
        pass
    return out


def test_tls_login_with_the_lab_ca_encrypts_the_whole_connection(lab):
    with connect(lab) as conn:
        assert isinstance(conn._tds_socket.sock, EncryptedSocket)
        assert conn.tds_version == tds_base.TDS74
        assert conn.product_version >> 24 == 15  # SQL Server 2019
        ((collation, db, version),) = rows(conn, "SELECT SERVERPROPERTY('Collation'), DB_NAME(), @@VERSION")
        assert collation == "SQL_Latin1_General_CP1_CI_AS"
        assert db == "SysAdminTenant"
        assert version.startswith("Microsoft SQL Server 2019")


def test_a_server_certificate_from_another_ca_is_refused(lab):
    with pytest.raises(OpenSSL.SSL.Error):
        connect(lab, cafile=lab.endpoints["wrong_ca_file"])


def test_a_host_name_the_certificate_does_not_carry_is_refused(lab):
    # the lab certificate names localhost and the FQDNs as DNS names; python-tds matches DNS names only
    with pytest.raises(tds_base.Error, match="does not match host name"):
        connect(lab, dsn="127.0.0.1")


def test_wrong_password_is_sql_server_error_18456(fresh_lab):
    with pytest.raises(tds_base.OperationalError) as e:
        connect(fresh_lab, password="not-the-password")
    assert e.value.msg_no == 18456
    assert "Login failed for user 'ump-svc'" in str(e.value)
    assert fresh_lab.counters().get("sql.login_failures", 0) >= 1


def test_unknown_initial_database_is_error_4060(lab):
    with pytest.raises(tds_base.OperationalError) as e:
        connect(lab, database="NoSuchDb")
    assert {e.value.msg_no} <= {4060, 18456}
    assert "NoSuchDb" in str(e.value)


def test_without_a_ca_python_tds_connects_unencrypted_unless_the_server_forces_it(fresh_lab):
    with connect(fresh_lab, cafile=None) as conn:
        assert not isinstance(conn._tds_socket.sock, EncryptedSocket)
        assert rows(conn, "SELECT 1") == [(1,)]
    fresh_lab.set_host_state(UMP_LOCAL, ["sql", "force_encryption"], True)
    with pytest.raises(tds_base.Error, match="encryption"):
        connect(fresh_lab, cafile=None)


def test_parameters_round_trip_with_types_and_injection_stays_data(lab):
    evil = "x'); DROP TABLE ApplicationSetting; --"
    long_text = "é" * 5000  # NVARCHAR(MAX) both ways
    with connect(lab) as conn:
        got = rows(conn, "SELECT %s AS s, %s AS i, %s AS big, %s AS f, %s AS l", (evil, 42, 2**40, 1.5, long_text))
        assert got == [(evil, 42, 2**40, 1.5, long_text)]
        assert rows(conn, "SELECT Value FROM dbo.ApplicationSetting WHERE Name = %s", (evil,)) == []
        assert rows(conn, "SELECT COUNT(*) FROM dbo.ApplicationSetting")[0][0] > 5


def test_errors_carry_sql_server_numbers(lab):
    with connect(lab) as conn:
        cur = conn.cursor()
        with pytest.raises(tds_base.ProgrammingError) as e:
            cur.execute("SELECT * FROM dbo.NoSuchTable")
        assert e.value.msg_no == 208 and "Invalid object name 'NoSuchTable'" in str(e.value)
        with pytest.raises(tds_base.OperationalError) as e:
            cur.execute("USE [NoSuchDb]")
        assert e.value.msg_no == 911
        # the session is still usable after errors
        assert rows(conn, "SELECT DB_NAME()") == [("SysAdminTenant",)]


def test_transaction_rollback_and_commit_via_transaction_manager_requests(fresh_lab):
    q = "SELECT Value FROM dbo.ApplicationSetting WHERE Name = %s"
    with connect(fresh_lab) as conn, connect(fresh_lab) as other:
        before = rows(conn, q, ("QuickReplicationCycleDelay",))
        conn.autocommit = False  # TM_BEGIN_XACT
        assert conn._tds_socket.tds72_transaction != 0
        rows(conn, "UPDATE dbo.ApplicationSetting SET Value = %s WHERE Name = %s", ("9", "QuickReplicationCycleDelay"))
        conn.rollback()
        assert rows(conn, q, ("QuickReplicationCycleDelay",)) == before
        rows(conn, "UPDATE dbo.ApplicationSetting SET Value = %s WHERE Name = %s", ("7", "QuickReplicationCycleDelay"))
        conn.commit()
        conn.autocommit = True
        assert rows(other, q, ("QuickReplicationCycleDelay",)) == [("7",)]


def test_attention_is_acknowledged_and_the_session_goes_on(fresh_lab):
    with connect(fresh_lab) as conn:
        cur = conn.cursor()
        cur.execute("SELECT Name FROM dbo.ApplicationSetting")
        cur.cancel()  # attention packet; the server answers DONE with DONE_ATTN
        # an undrained sp_executesql makes python-tds send another attention before the next request
        cur.execute("SELECT Name FROM dbo.ApplicationSetting WHERE Name = %s", ("ApiAllowedIps",))
        assert rows(conn, "SELECT 2") == [(2,)]
    assert fresh_lab.counters().get("sql.attentions", 0) >= 2


def test_system_views_and_procedures(lab):
    with connect(lab, host=BACKEND, database="master") as conn:
        names = [r[0] for r in rows(conn, "SELECT name FROM sys.databases ORDER BY database_id")]
        assert names[:4] == ["master", "tempdb", "model", "msdb"]
        assert "SysAdminTenant" in names and any(n.startswith("SysAdmin") and n != "SysAdminTenant" for n in names)
        assert rows(conn, "EXEC master.dbo.xp_fixeddrives")[0][0] == "C"
        sizes = rows(conn, "SELECT COUNT(*) FROM sys.master_files WHERE type_desc = 'ROWS'")
        assert sizes[0][0] == len(names)


def test_backup_restore_round_trip_and_sql_server_errors(fresh_lab):
    path = "C:\\acs\\dbbackup\\SysAdminTenant_t.bak"
    other = "C:\\acs\\dbbackup\\Other_t.bak"
    with connect(fresh_lab, host=BACKEND, database="master") as conn:
        customer = next(r[0] for r in rows(conn, "SELECT name FROM sys.databases WHERE database_id = 6"))
        rows(conn, "BACKUP DATABASE [SysAdminTenant] TO DISK = %s WITH COPY_ONLY, CHECKSUM, INIT", (path,))
        rows(conn, f"BACKUP DATABASE [{customer}] TO DISK = %s WITH COPY_ONLY, CHECKSUM, INIT", (other,))
        hdr = rows(conn, "RESTORE HEADERONLY FROM DISK = %s", (path,))
        assert hdr[0][9] == "SysAdminTenant" and hdr[0][-1] == 1  # DatabaseName, IsCopyOnly
        rows(conn, "RESTORE VERIFYONLY FROM DISK = %s WITH CHECKSUM", (path,))
        with connect(fresh_lab, host=BACKEND) as tenant:
            rows(tenant, "UPDATE dbo.ApplicationSetting SET Value = %s WHERE Name = %s", ("1", "AvailableUsers"))
            # an open session on the database: exclusive access impossible (3101)
            with pytest.raises(tds_base.OperationalError) as e:
                rows(conn, "RESTORE DATABASE [SysAdminTenant] FROM DISK = %s WITH REPLACE", (path,))
            assert e.value.msg_no in (3101, 3013) and "Exclusive access" in str(e.value)
        # a backup of another database over an existing one without REPLACE: 3154
        with pytest.raises(tds_base.OperationalError) as e:
            rows(conn, "RESTORE DATABASE [SysAdminTenant] FROM DISK = %s", (other,))
        assert "holds a backup of a database other than the existing 'SysAdminTenant'" in str(e.value)
        rows(conn, "RESTORE DATABASE [SysAdminTenant] FROM DISK = %s WITH REPLACE, RECOVERY", (path,))
        # no backup inside a transaction (3021)
        conn.autocommit = False
        with pytest.raises(tds_base.OperationalError, match="within a transaction"):
            rows(conn, "BACKUP DATABASE [SysAdminTenant] TO DISK = %s WITH INIT", (path,))
        conn.rollback()
        conn.autocommit = True
        with pytest.raises(tds_base.OperationalError) as e:
            rows(conn, "RESTORE HEADERONLY FROM DISK = %s", ("C:\\acs\\dbbackup\\missing.bak",))
        assert "Cannot open backup device" in str(e.value)
    with connect(fresh_lab, host=BACKEND) as tenant:
        assert rows(tenant, "SELECT Value FROM dbo.ApplicationSetting WHERE Name = %s", ("AvailableUsers",)) == [
            ("9970",)
        ]
    files = fresh_lab.host_state(BACKEND)["files"]
    assert path.lower() in files and files[path.lower()]["size"] > 0


@pytest.mark.parametrize(
    "fault,needle",
    [
        ("sql.backup_folder_missing", "Operating system error 3"),
        ("sql.disk_full", "There is not enough space on the disk"),
    ],
)
def test_backup_faults(fresh_lab, fault, needle):
    fresh_lab.fault(fault, host=BACKEND)
    with connect(fresh_lab, host=BACKEND, database="master") as conn:
        with pytest.raises(tds_base.OperationalError) as e:
            rows(conn, "BACKUP DATABASE [SysAdminTenant] TO DISK = %s WITH INIT", ("C:\\acs\\dbbackup\\x.bak",))
        assert needle in str(e.value) and "BACKUP DATABASE is terminating abnormally" in str(e.value)
    if fault == "sql.disk_full":
        with connect(fresh_lab, host=BACKEND) as conn:
            with pytest.raises(tds_base.OperationalError) as e:
                rows(conn, "UPDATE dbo.ApplicationSetting SET Value = %s WHERE Name = %s", ("1", "AvailableUsers"))
            assert e.value.msg_no == 1105 and "'PRIMARY' filegroup is full" in str(e.value)
            assert rows(conn, "SELECT Value FROM dbo.ApplicationSetting WHERE Name = %s", ("AvailableUsers",)) == [
                ("9970",)
            ]


def test_server_down_and_wrong_collation_faults(fresh_lab):
    fresh_lab.fault("sql.wrong_collation", host=UMP_LOCAL)
    with connect(fresh_lab) as conn:
        assert rows(conn, "SELECT SERVERPROPERTY('Collation')") == [("Latin1_General_CI_AS",)]
    fresh_lab.fault("sql.down", host=UMP_LOCAL)
    with pytest.raises((tds_base.Error, OSError)):
        connect(fresh_lab)
    with connect(fresh_lab, host=BACKEND) as conn:  # another server is not affected
        assert rows(conn, "SELECT 1") == [(1,)]


def test_windows_login_over_ntlm(fresh_lab):
    from pytds.login import SpnegoAuth

    def ntlm(user, pw):
        return SpnegoAuth(username=user, password=pw, hostname="localhost", service="MSSQLSvc", protocol="ntlm")

    with connect(fresh_lab, host=BACKEND, user=None, password=None, auth=ntlm("ump-svc", password(fresh_lab))) as c:
        assert rows(c, "SELECT SUSER_SNAME()") == [("UMP02-SQL\\ump-svc",)]
    with pytest.raises(tds_base.OperationalError) as e:
        connect(fresh_lab, host=BACKEND, user=None, password=None, auth=ntlm("ump-svc", "wrong"))
    assert e.value.msg_no == 18452
    # a valid Windows account without a SQL Server login
    admin_pw = fresh_lab.endpoints["secrets"]["winrm_admin_password"]
    with pytest.raises(tds_base.OperationalError) as e:
        connect(fresh_lab, host=BACKEND, user=None, password=None, auth=ntlm("labadmin", admin_pw))
    assert e.value.msg_no == 18456 and "UMP02-SQL\\labadmin" in e.value.text
    assert fresh_lab.counters().get("sql.windows_logins") == 1


def test_prepared_statements_as_mssql_python_sends_them(lab):
    # sp_prepare returns the handle as an OUTPUT parameter (RETURNVALUE); sp_execute runs it by handle
    with connect(lab) as conn:
        cur = conn.cursor()
        handle = pytds.output(value=None, param_type="int")
        out = cur.callproc(
            tds_base.SP_PREPARE,
            [handle, "@P1 nvarchar(4000)", "SELECT Value FROM dbo.ApplicationSetting WHERE Name = @P1"],
        )
        while cur.nextset():
            pass
        h = out[0]
        assert isinstance(h, int) and h > 0
        cur.callproc(tds_base.SP_EXECUTE, [h, "QuickReplicationCycleDelay"])
        assert cur.fetchall() == [("5",)]
        while cur.nextset():
            pass


def test_attention_stops_a_running_backup(fresh_lab):
    # a backup takes 60 s of real time; at scale 1/30 that is 2 s, longer than the client waits
    fresh_lab.set_scale(1 / 30)
    path = "C:\\acs\\dbbackup\\cancelled.bak"
    try:
        with connect(fresh_lab, host=BACKEND, database="master", timeout=0.3) as conn:
            cur = conn.cursor()
            with pytest.raises(tds_base.TimeoutError):
                cur.execute("BACKUP DATABASE [SysAdminTenant] TO DISK = %s WITH INIT", (path,))
            # python-tds sent an attention on the timeout; the server stopped and answered DONE(ATTN)
            conn._tds_socket.sock.settimeout(5)
            assert rows(conn, "SELECT DB_NAME()") == [("master",)]
    finally:
        fresh_lab.set_scale(0)
    assert fresh_lab.counters().get("sql.cancelled_requests") == 1
    assert path.lower() not in fresh_lab.host_state(BACKEND)["files"]
