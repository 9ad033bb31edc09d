"""token_migration.yml against the lab: invitations for the password customers, idempotent, tracked until
accepted (the customer's admin opens https://<FQDN>/authenticate/<InvitationId>), the app registration."""

from __future__ import annotations

import csv
import json
import ssl
import urllib.request

from .checks_helpers import checks, rows, run, sql, statuses


def accept(lab, host: str, invitation_id: int) -> dict:
    base = lab.inventory()["_meta"]["hostvars"][host]["ump_api_url"].rsplit("/tenantui", 1)[0]
    ctx = ssl.create_default_context(cafile=lab.ca_file)
    req = urllib.request.Request(f"{base}/authenticate/{invitation_id}", data=b"", method="POST")
    with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
        return json.loads(resp.read())


def test_token_migration_invites_tracks_and_reports(fresh_lab, tmp_path):
    lab = fresh_lab
    pw = {r[0] for r in rows(lab, "ump01", "SELECT CustomerShortName FROM Customer WHERE AuthMethod='Password'")}
    assert len(pw) == 2
    lab.fault("graph.secret_expiring", host="ump01", days=30)
    # by default a dry run: it lists whom it would invite and sends nothing
    proc, report = run(lab, "playbooks/token_migration.yml", tmp_path, "tm-0", "-l", "ump01")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert rows(lab, "ump01", "SELECT Id FROM Invitation WHERE Kind = 'Request'") == []
    assert "dry run, nothing sent" in proc.stdout and all(n in proc.stdout for n in pw)
    c = checks(report, "ump01")
    assert all(c[f"token_auth_{n}"]["status"] == "warn" for n in pw)
    assert all("dry run" in c[f"token_auth_{n}"]["observed"] for n in pw)
    # the operator confirms the listed customers
    proc, report = run(
        lab, "playbooks/token_migration.yml", tmp_path, "tm-1", extra_vars={"token_migration_confirm": True}
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    sent = rows(
        lab,
        "ump01",
        "SELECT c.CustomerShortName, i.Id, i.State, i.Email FROM Invitation i JOIN Customer c "
        "ON c.UmpCustomerGuid = i.UmpCustomerGuid WHERE i.Kind = 'Request'",
    )
    assert {r[0] for r in sent} == pw and all(r[2] == "Sent" for r in sent)
    assert all(r[3].startswith("admin@") for r in sent)  # the customer's M365 e-mail by default
    c = checks(report, "ump01")
    assert {n for n in c if n.startswith("token_auth_")} == {f"token_auth_{n}" for n in pw}
    assert all(c[f"token_auth_{n}"]["status"] == "warn" for n in pw)
    # the app registration (Graph): secret expiring within 60 days warns on ump01 only
    assert c["app_registration_client_secret_expiry"]["status"] == "warn"
    assert checks(report, "ump02")["app_registration_client_secret_expiry"]["status"] == "pass"
    assert {"app_registration_multitenant", "app_registration_redirect_uri", "app_registration_implicit_grant"} <= (
        statuses(report, "ump01", "pass")
    )

    # one admin accepts; a second run sends nothing new, waits, and reports the other still pending
    # (token_migration_customers is not used here: the report masks variables named like "token")
    done, pending = sorted(sent)[0], sorted(sent)[1]
    assert accept(lab, "ump01", done[1])["State"] == "Accepted"
    proc, report = run(
        lab,
        "playbooks/token_migration.yml",
        tmp_path,
        "tm-2",
        "-l",
        "ump01",
        extra_vars={
            "token_migration_confirm": True,
            "token_migration_wait_timeout": 2,
            "token_migration_poll_interval": 0,
            "token_migration_fail_on_pending": True,
        },
    )
    assert proc.returncode != 0
    assert f"still on password authentication after the wait: {pending[0]}" in " ".join(proc.stdout.split())
    assert len(rows(lab, "ump01", "SELECT Id FROM Invitation WHERE Kind = 'Request'")) == 2  # idempotent
    c = checks(report, "ump01")
    assert c[f"token_auth_{done[0]}"]["status"] == "pass"
    assert c[f"token_auth_{pending[0]}"]["status"] == "warn"
    assert rows(lab, "ump01", "SELECT AuthMethod FROM Customer WHERE CustomerShortName=?", (done[0],))[0][0] == "Token"
    with open(tmp_path / "reports" / "ump01_token_migration.csv") as f:
        left = list(csv.DictReader(f))
    assert [r["customer"] for r in left] == [pending[0]] and left[0]["state"] == "invited"
    written = proc.stdout + proc.stderr + "".join(p.read_text() for p in (tmp_path / "reports").iterdir())
    for secret in lab.secrets():
        assert secret not in written


def test_token_migration_checks_invitation_url_and_offers_grant_consent(fresh_lab, tmp_path):
    lab = fresh_lab
    pw = sorted(r[0] for r in rows(lab, "ump01", "SELECT CustomerShortName FROM Customer WHERE AuthMethod='Password'"))
    sql(
        lab,
        "ump01",
        "UPDATE ApplicationSetting SET Value='https://old.example/authenticate' WHERE Name='InvitationPortalUrl'",
    )
    proc, _ = run(
        lab,
        "playbooks/token_migration.yml",
        tmp_path,
        "tm-url",
        "-l",
        "ump01",
        extra_vars={"token_migration_confirm": True},
    )
    assert proc.returncode != 0
    assert "https://old.example/authenticate" in proc.stdout and "nothing was sent" in proc.stdout
    assert rows(lab, "ump01", "SELECT Id FROM Invitation WHERE Kind = 'Request'") == []
    # URL fixed: one customer by invitation, the other by the Grant Consent path (nothing sent to it)
    sql(
        lab,
        "ump01",
        "UPDATE ApplicationSetting SET Value=? WHERE Name='InvitationPortalUrl'",
        ("https://%s/authenticate" % lab.inventory()["_meta"]["hostvars"]["ump01"]["ump_fqdn"],),
    )
    proc, report = run(
        lab,
        "playbooks/token_migration.yml",
        tmp_path,
        "tm-consent",
        "-l",
        "ump01",
        extra_vars={"token_migration_confirm": True, "token_migration_methods": {pw[1]: "grant_consent"}},
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    sent = rows(
        lab,
        "ump01",
        "SELECT c.CustomerShortName FROM Invitation i JOIN Customer c ON c.UmpCustomerGuid = i.UmpCustomerGuid "
        "WHERE i.Kind = 'Request'",
    )
    assert [r[0] for r in sent] == [pw[0]]
    assert "Grant Consent" in proc.stdout
    c = checks(report, "ump01")
    assert c[f"token_auth_{pw[1]}"]["status"] == "warn" and "Grant Consent" in c[f"token_auth_{pw[1]}"]["fix"]
