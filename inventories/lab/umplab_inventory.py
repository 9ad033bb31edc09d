#!/usr/bin/env python3
"""Dynamic inventory for a running UMP lab (``python -m umplab up``).

Finds the lab in $UMPLAB_STATE_DIR, else <repo>/.lab, and maps its endpoints.json onto the same
variables a production inventory sets (see inventories/prod). Uses only the standard library, so any
Python can run it. Without a running lab it prints an empty inventory and a hint on stderr.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
STATE_DIR = os.environ.get("UMPLAB_STATE_DIR") or os.path.join(HERE, "..", "..", ".lab")


def _set(d, key, value):
    if value is not None:
        d[key] = value


def build(ep):
    sec = ep.get("secrets", {})
    ca = ep["ca_file"]
    entra = ep.get("entra", {})
    azure = ep.get("azure", {})
    hosts = ep.get("hosts", {})
    inv = {
        "_meta": {"hostvars": {}},
        "all": {"children": ["ump_servers", "sql_backends"], "vars": {}},
        "ump_servers": {"hosts": []},
        "sql_backends": {"hosts": []},
        "controller": {"hosts": []},
    }
    allv = inv["all"]["vars"]
    allv.update(
        {
            "ump_lab": True,
            "ump_lab_state_dir": os.path.abspath(STATE_DIR),
            "ump_ca_bundle": ca,
            "ump_target_version": ep.get("target_version", "8.0.515"),
            "ump_from_version": ep.get("from_version", "8.0.400.64"),
            # Azure: the ARM emulator and its Entra ID authority
            "ump_azure_tenant_id": entra.get("tenant_id"),
            "ump_azure_client_id": entra.get("automation_client_id"),
            "ump_azure_secret": sec.get("azure_client_secret"),
            "ump_azure_authority": entra.get("authority"),
            "ump_azure_base_url": ep.get("arm", {}).get("base_url"),
            "ump_azure_ca_bundle": ca,
            # UMP tenantui API client (the app registration meant for the API)
            "ump_api_tenant_id": entra.get("tenant_id"),
            "ump_api_client_id": entra.get("ump_api_client_id"),
            "ump_api_client_secret": sec.get("ump_api_client_secret"),
            "ump_api_authority": entra.get("authority"),
            # OVOC
            "ump_ovoc_url": ep.get("ovoc", {}).get("url"),
            "ump_ovoc_username": ep.get("ovoc", {}).get("username", "ovoc-api"),
            "ump_ovoc_password": sec.get("ovoc_password"),
            "ump_ovoc_ip": ep.get("ovoc", {}).get("ip"),
            # Microsoft Graph (app-registration checks)
            "ump_graph_url": ep.get("graph", {}).get("url"),
            # WinRM to every Windows host, HTTPS with the lab CA, NTLM, become runas the service account
            "ansible_connection": "winrm",
            "ansible_winrm_transport": "ntlm",
            "ansible_winrm_scheme": "https",
            "ansible_winrm_ca_trust_path": ca,
            "ansible_winrm_server_cert_validation": "validate",
            "ansible_winrm_operation_timeout_sec": 20,
            "ansible_winrm_read_timeout_sec": 30,
            "ansible_user": "labadmin",
            "ansible_password": sec.get("winrm_admin_password"),
            "ansible_become_method": "runas",
            "ansible_become_user": "ump-svc",
            "ansible_become_password": sec.get("service_account_password"),
            "ump_service_account": "ump-svc",
            "ump_service_password": sec.get("service_account_password"),
            "ump_sql_username": "ump-svc",
            "ump_sql_password": sec.get("service_account_password"),
            "ump_sql_ca_bundle": ca,
            "ump_checkpoint_dir": os.path.join(os.path.abspath(STATE_DIR), "checkpoints"),
            "ump_report_dir": os.path.join(os.path.abspath(STATE_DIR), "reports"),
        }
    )
    inv["all"]["vars"] = {k: v for k, v in allv.items() if v is not None}
    for name, h in sorted(hosts.items()):
        hv = {
            "ansible_host": "127.0.0.1",
            "ump_fqdn": h.get("fqdn"),
            "ump_ip": h.get("ip"),
            "ump_azure_subscription_id": azure.get("subscription_id", h.get("subscription_id")),
            "ump_azure_resource_group": h.get("resource_group"),
            "ump_azure_vm_name": h.get("name", name),
        }
        _set(hv, "ansible_port", h.get("winrm_port"))
        if h.get("role") == "ump":
            inv["ump_servers"]["hosts"].append(name)
            sql_host = h.get("sql_host", name)
            sqlh = hosts.get(sql_host, {})
            hv["ump_sql_backend"] = sql_host if sql_host != name else ""
            # "localhost": the lab certificate carries it as a DNS name; python-tds's host-name check
            # matches DNS names only, never IP addresses (docs/sql_driver.md)
            _set(hv, "ump_sql_server", "localhost" if sqlh.get("sql_port") else None)
            _set(hv, "ump_sql_port", sqlh.get("sql_port"))
            _set(hv, "ump_api_url", h.get("ump_api_url"))
            app = h.get("ump_api_app_id")
            if app:
                hv["ump_api_scope"] = "api://%s/.default" % app
            sbc = ep.get("sbcs", {}).get(h.get("sbc", ""), {})
            _set(hv, "ump_sbc_url", sbc.get("url"))
            if sbc:
                hv["ump_sbc_username"] = sbc.get("username", "Admin")
                hv["ump_sbc_password"] = sec.get("sbc_password")
        else:
            inv["sql_backends"]["hosts"].append(name)
            _set(hv, "ump_sql_server", "localhost" if h.get("sql_port") else None)
            _set(hv, "ump_sql_port", h.get("sql_port"))
        inv["_meta"]["hostvars"][name] = {k: v for k, v in hv.items() if v is not None}
    return inv


def main(argv):
    ep_file = os.path.join(STATE_DIR, "endpoints.json")
    if len(argv) > 1 and argv[1] == "--host":
        print("{}")
        return 0
    if not os.path.exists(ep_file):
        sys.stderr.write(
            "umplab inventory: no lab running in %s; start one with: make lab-up\n" % os.path.abspath(STATE_DIR)
        )
        print(json.dumps({"_meta": {"hostvars": {}}}))
        return 0
    with open(ep_file) as f:
        print(json.dumps(build(json.load(f)), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
