"""The seeded estate: N UMP-365 servers in Azure at SysAdminKit 8.0.400.64, due for 8.0.515.

Realistic on purpose (docs/lab.md): several customers per host, some still authenticated by password,
a SysAdmin.CacheSrv.<tenant> service per customer, a backend SQL server for every second host, an SBC
per host, one OVOC. Durations (``durations``) are the real ones in seconds; the lab multiplies them by
``config.scale``.

The SysAdminTenant schema below is the lab's own model of the portal data the guide checks; the real
schema is not public (docs/assumptions.md, "SysAdminTenant schema").
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone

from .world import World, arm_key

FROM_VERSION = "8.0.400.64"
TARGET_VERSION = "8.0.515"
LOCATION = "westeurope"
OVOC_IP = "10.201.80.4"
WAN_DEFAULT_IP = "169.254.0.1"

# Real durations in seconds of the slow operations (guide + Azure experience); multiplied by the scale.
DURATIONS = {
    "snapshot": 300,  # full snapshot of a 128 GB premium disk
    "disk_from_snapshot": 180,
    "vm_deallocate": 120,
    "vm_start": 90,
    "vm_update": 30,
    "service_stop": 5,
    "service_start": 5,
    "wyupdate_step": 40,  # one of ~27 steps
    "customer_upgrade": 120,  # per customer
    "sql_backup": 60,  # per database
    "sql_restore": 90,
    "replication_drain": 60,
}

CUSTOMER_NAMES = [
    "contoso",
    "fabrikam",
    "northwind",
    "tailspin",
    "adatum",
    "litware",
    "wingtip",
    "proseware",
    "woodgrove",
    "fourthcoffee",
    "alpineski",
    "blueyonder",
]

# Install components wyUpdate refreshes (facts/windows_wyupdate.md) with the versions before the upgrade.
COMPONENTS_BEFORE = {
    "SysAdminKit": FROM_VERSION,
    "MultiTenant": FROM_VERSION,
    "EmsMainAgent": "7.8.17.50112",
    "EmsClientAgent": "7.8.17.50113",
    "PublicOvocConnector": "1.0.6.50001",
    "tap-windows": "9.21.2",
    "DotNet": "6.0.10",
    "RabbitMQ": "3.10.7",
}
COMPONENTS_AFTER = {
    "SysAdminKit": TARGET_VERSION,
    "MultiTenant": TARGET_VERSION,
    "EmsMainAgent": "7.8.19.51806",
    "EmsClientAgent": "7.8.21.52131",
    "PublicOvocConnector": "1.0.8.51546",
    "tap-windows": "9.23.3",
    "DotNet": "6.0.36",
    "RabbitMQ": "3.12.13",
}

# The culture data a host formats dates and times with (.NET DateTimeFormatInfo of each culture): the
# separators that replace "/" and ":" in a custom format and the AM/PM designators that replace "tt".
# Kept as data in the host state so a lab flavour can vary them (facts/windows_wyupdate.md).
CULTURES = {
    "en-US": {
        "name": "en-US",
        "date_separator": "/",
        "time_separator": ":",
        "am_designator": "AM",
        "pm_designator": "PM",
    },
    "de-DE": {"name": "de-DE", "date_separator": ".", "time_separator": ":", "am_designator": "", "pm_designator": ""},
}
# wyUpdate's -logfile time stamp: Util/Logger.cs, DateTime.Now.ToString("M/d/yyyy HH:mm:ss:fff tt") + ": "
WYUPDATE_LOG_TIME_FORMAT = "M/d/yyyy HH:mm:ss:fff tt"
# Hosts of the default lab seeded with the de-DE culture (the others are en-US), so both are exercised.
DE_DE_HOSTS = ("ump02",)
# The change text the update server publishes with the target version (wyUpdate's /outputinfo, after line 1).
UPDATE_CHANGES = "UMP-365 8.0.515\r\n- SysAdminKit and MultiTenant 8.0.515\r\n- Customer tenants upgrade with Sysadmin.CustomerUpgrade"

# Endpoints wyUpdate and its install steps download from (defaults of the firewall role too).
EGRESS_ENDPOINTS = {
    "update_repository": "https://ump-updates.audiocodes.example/wyupdate/",
    "PowershellGetModule": "https://www.powershellgallery.com/api/v2/",
    "MicrosoftTeamsModule": "https://www.powershellgallery.com/api/v2/package/MicrosoftTeams",
    "Chocolatey": "https://community.chocolatey.org/install.ps1",
    "DotNet": "https://community.chocolatey.org/api/v2/package/dotnet-6.0-runtime",
    "Rabbitmq": "https://community.chocolatey.org/api/v2/package/rabbitmq",
    "EmsMainAgent": "https://ump-updates.audiocodes.example/components/EmsMainAgent.msi",
    "EmsClientAgent": "https://ump-updates.audiocodes.example/components/EmsClientAgent.msi",
    "InstallPublicOvocConnector": "https://ump-updates.audiocodes.example/components/PublicOvocConnector.msi",
    "Installtap-windows-9.23.3-I601-Win10": "https://build.openvpn.net/downloads/releases/tap-windows-9.23.3-I601-Win10.exe",
}

# Vendor details that are not public (docs/assumptions.md), per lab flavour. "default" is the contract our
# role defaults assume; "site-b" differs in every one of them, so that only a discovery run
# (playbooks/discover.yml) can make an upgrade succeed there. Each UMP host's state carries its own copy
# under ump.site (lab/umplab/windows/ump.py and emulators/ump_api.py read it).
FLAVOURS = ("default", "site-b")
SITE_DEFAULT = {
    "flavour": "default",
    "culture": "en-US",
    # the UMP package's step log: path ({version} = the target) and one line per state change
    "step_log": "C:\\acs\\wyupdate_logs\\upgrade_{version}.log",
    "step_line": "{time} | {step} | {status} | {message}",
    "step_time": "%Y-%m-%dT%H:%M:%SZ",
    # customers' folders: <tenants_dir>\<short>\<version_file>
    "tenants_dir": "C:\\acs\\tenants",
    "version_file": "version.txt",
    # the tenantui API's portal endpoints: <api>/tenantui<portal_prefix>/<section>
    "portal_prefix": "/api/v3/portal",
    # Sysadmin.CustomerUpgrade.exe: console (the /unattended contract) or gui (a window that never exits)
    "customer_upgrade": "console",
}
SITE_B = {
    "flavour": "site-b",
    "culture": "de-DE",
    "step_log": "C:\\acs\\Logs\\Upgrade\\Schritte_{version}.txt",
    "step_line": "[{time}] {step}: {status} - {message}",
    "step_time": "%d.%m.%Y %H:%M:%S",
    "tenants_dir": "C:\\acs\\Customers",
    "version_file": "tenant.version",
    "portal_prefix": "/api/sp/v1/portal",
    "customer_upgrade": "console",
}
# site-b: the host whose Customer Upgrade is the GUI program (the guide's Customer Upgrade Manager)
SITE_B_GUI_HOST = 2
# the PE Subsystem field (Microsoft PE format: IMAGE_SUBSYSTEM_WINDOWS_GUI 2, _WINDOWS_CUI 3)
PE_SUBSYSTEM = {"gui": 2, "console": 3}


def pe_image(subsystem: str, marker: str) -> bytes:
    """A small PE32+ image whose headers are real (DOS header, e_lfanew, PE signature, COFF header,
    optional header with its Subsystem field at offset 68); the body is a marker, not code."""
    import struct

    dos = bytearray(64)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x80)
    stub = b"This program cannot be run in DOS mode.\r\r\n$".ljust(64, b"\0")
    coff = struct.pack("<HHIIIHH", 0x8664, 3, 0x5F5E1000, 0, 0, 240, 0x0022)
    opt = bytearray(240)
    struct.pack_into("<H", opt, 0, 0x20B)  # PE32+
    struct.pack_into("<H", opt, 68, PE_SUBSYSTEM[subsystem])
    struct.pack_into("<H", opt, 70, 0x8160)  # DllCharacteristics: dynamic base, NX, terminal server aware
    return bytes(dos) + stub + b"PE\0\0" + coff + bytes(opt) + marker.encode()


def site_for(flavour: str, idx: int) -> dict:
    if flavour not in FLAVOURS:
        raise ValueError(f"--flavour must be one of {', '.join(FLAVOURS)}, got {flavour}")
    site = dict(SITE_B if flavour == "site-b" else SITE_DEFAULT)
    if flavour == "site-b" and idx == SITE_B_GUI_HOST:
        site["customer_upgrade"] = "gui"
    return site


SYSADMINTENANT_DDL = """
CREATE TABLE ApplicationSetting (Name TEXT PRIMARY KEY COLLATE NOCASE, Value TEXT);
CREATE TABLE Customer (
  UmpCustomerGuid TEXT PRIMARY KEY, CustomerShortName TEXT UNIQUE COLLATE NOCASE, CustomerName TEXT,
  LicenseType TEXT, MsTenantId TEXT, ActiveUserCount INTEGER, DidCount INTEGER, State TEXT,
  Enabled INTEGER, Version TEXT, AuthMethod TEXT, M365Email TEXT, LastVerified TEXT,
  LastVerificationOk INTEGER, ApplicationClientId TEXT, ClientSecretExpirationDate TEXT,
  ReplicationTime TEXT);
CREATE TABLE SiteLocation (Id INTEGER PRIMARY KEY, UmpCustomerGuid TEXT, Name TEXT, SbcName TEXT,
  SbcDeploymentState INTEGER, M365DeploymentState INTEGER, PendingTasks INTEGER);
CREATE TABLE Sbc (Id INTEGER PRIMARY KEY, Name TEXT, Address TEXT, UmpCustomerGuid TEXT, Status TEXT);
CREATE TABLE DialPlanRule (Id INTEGER PRIMARY KEY, UmpCustomerGuid TEXT, SiteLocationId INTEGER,
  DialPlanName TEXT, RuleName TEXT, Prefix TEXT, Tag TEXT);
CREATE TABLE ReplicationCommand (Id INTEGER PRIMARY KEY, UmpCustomerGuid TEXT, CmdType TEXT, State TEXT,
  Retries INTEGER, WhenExecuted TEXT, ExecutionResult TEXT, NextExecutionMinutes TEXT);
CREATE TABLE Invitation (Id INTEGER PRIMARY KEY, UmpCustomerGuid TEXT, Email TEXT, Kind TEXT, State TEXT,
  SentAt TEXT, AcceptedAt TEXT);
CREATE TABLE ScriptTemplate (Id INTEGER PRIMARY KEY, Name TEXT, Kind TEXT, Body TEXT, Version TEXT);
CREATE TABLE Licence (Id INTEGER PRIMARY KEY, Kind TEXT, Users INTEGER, Customers INTEGER, ExpiresAt TEXT,
  Status TEXT);
CREATE TABLE Task (Id INTEGER PRIMARY KEY, Kind TEXT, UmpCustomerGuid TEXT, Status TEXT, Message TEXT,
  CreatedAt TEXT, CompletedAt TEXT);
CREATE TABLE SchemaVersion (Version TEXT, AppliedAt TEXT);
"""

CUSTOMER_DDL = """
CREATE TABLE UserAccount (Upn TEXT PRIMARY KEY COLLATE NOCASE, DisplayName TEXT, Department TEXT,
  Did TEXT, Licensed INTEGER);
CREATE TABLE SyncState (Name TEXT PRIMARY KEY, Value TEXT);
"""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _det_uuid(*parts: str) -> str:
    return str(uuid.UUID(hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]))


def make_secrets() -> dict[str, str]:
    """Fresh credentials for every ``up``: the no-leak tests search outputs for exactly these."""

    def s(n: int = 18) -> str:
        return "Lab!" + secrets.token_urlsafe(n)

    return {
        "azure_client_secret": s(),
        "winrm_admin_password": s(),
        "service_account_password": s(),
        "sql_password": s(),
        "ump_api_client_secret": s(),
        "sync_app_client_secret": s(),
        "sbc_password": s(),
        "ovoc_password": s(),
        "customer_m365_password": s(),
    }


def build_world(
    state_dir,
    hosts: int = 2,
    scale: float = 0.0,
    customers_per_host: int = 4,
    shared_sql: bool | frozenset[str] = False,
    flavour: str = "default",
) -> World:
    """The seeded estate. ``shared_sql``: the backend databases of every even-numbered UMP server live on one
    SQL Server machine, ``sql01``, each server in its own named instance (``SQL01\\UMP02``, ...; the guide's
    fixed database name SysAdminTenant rules out two UMP servers in one instance, docs/assumptions.md), so
    the instances share the machine's disk, services and backup folder C:\\acs\\dbbackup. A set of host names
    (``--shared-sql-hosts``) puts only those even-numbered servers there; the others keep their own."""
    if isinstance(shared_sql, (set, frozenset)):
        bad = sorted(h for h in shared_sql if not h[3:].isdigit() or int(h[3:]) % 2 or int(h[3:]) > hosts)
        if bad:
            raise ValueError(f"--shared-sql-hosts: not an even-numbered UMP server of this lab: {bad}")
    if hosts < 1 or hosts > 64:
        raise ValueError(f"--hosts must be between 1 and 64, got {hosts}")
    site_for(flavour, 1)  # validates the flavour
    w = World(state_dir)
    sec = make_secrets()
    tenant_id = _det_uuid("tenant")
    subscription = _det_uuid("subscription")
    now = _now()
    w.data.update(
        {
            "config": {
                "scale": scale,
                "from_version": FROM_VERSION,
                "target_version": TARGET_VERSION,
                "durations": dict(DURATIONS),
                "created": _iso(now),
                "flavour": flavour,
            },
            "secrets": sec,
            "vendor": {
                "latest_version": TARGET_VERSION,
                "changes": UPDATE_CHANGES,
                "components_after": dict(COMPONENTS_AFTER),
                "egress_endpoints": dict(EGRESS_ENDPOINTS),
            },
            "entra": {
                "tenant_id": tenant_id,
                "apps": {
                    _det_uuid("app", "automation"): {
                        "name": "ump-upgrade-automation",
                        "secret": sec["azure_client_secret"],
                        "kind": "service_principal",
                    },
                    _det_uuid("app", "ump-api-client"): {
                        "name": "ump-api-client",
                        "secret": sec["ump_api_client_secret"],
                        "kind": "service_principal",
                    },
                },
                "api_apps": {},  # api://<app id> audiences: one UMP tenantui API per host, filled below
                "tokens": {},
                # The multitenant app registration for synchronization (seed 001), as Microsoft Graph shows it.
                "app_registrations": {},
            },
            "azure": {
                "subscription_id": subscription,
                "tenant_id": tenant_id,
                "resources": {},
                "power": {},
                "resource_groups": {},
                "operations": {},
                # RBAC: actions the automation principal may perform (a fault can remove one for 403 tests)
                "allowed_actions": ["*"],
            },
            "disk_contents": {},
            "hosts": {},
            "sbcs": {},
            "ovoc": {
                "ip": OVOC_IP,
                "username": "ovoc-api",
                "password": sec["ovoc_password"],
                "devices": {},
                "alarms": [],
            },
        }
    )
    automation_id = _det_uuid("app", "automation")
    w.data["azure"]["automation_client_id"] = automation_id

    for i in range(1, hosts + 1):
        name = f"ump{i:02d}"
        backend = i % 2 == 0
        _add_ump_host(
            w,
            name,
            i,
            subscription,
            backend,
            customers_per_host,
            now,
            site_for(flavour, i),
            shared_sql=shared_sql is True or (isinstance(shared_sql, frozenset | set) and name in shared_sql),
        )
    w.config["shared_sql"] = bool(shared_sql)
    return w


def _vm_and_disk(w: World, name: str, subscription: str, rg: str, zone: str, now: datetime) -> tuple[str, str]:
    vm_id = f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}"
    suffix = hashlib.sha256(name.encode()).hexdigest()[:32]
    disk_name = f"{name}_OsDisk_1_{suffix}"
    disk_id = f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{disk_name}"
    w.data["azure"]["resource_groups"][rg.lower()] = {"name": rg, "location": LOCATION}
    w.resources[arm_key(disk_id)] = {
        "id": disk_id,
        "name": disk_name,
        "type": "Microsoft.Compute/disks",
        "location": LOCATION,
        "managedBy": vm_id,
        "sku": {"name": "Premium_LRS", "tier": "Premium"},
        "zones": [zone],
        "tags": {"LiveCloudEnv": "lab"},
        "properties": {
            "osType": "Windows",
            "hyperVGeneration": "V2",
            "supportedCapabilities": {"architecture": "x64"},
            "creationData": {
                "createOption": "FromImage",
                "imageReference": {
                    "id": f"/Subscriptions/{subscription}/Providers/Microsoft.Compute/Locations/{LOCATION}/Publishers/"
                    "MicrosoftWindowsServer/ArtifactTypes/VMImage/Offers/WindowsServer/Skus/2019-datacenter-gensecond/"
                    "Versions/17763.6414.241004"
                },
            },
            "diskSizeGB": 128,
            "diskIOPSReadWrite": 500,
            "diskMBpsReadWrite": 100,
            "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
            "networkAccessPolicy": "AllowAll",
            "publicNetworkAccess": "Enabled",
            "securityProfile": {"securityType": "TrustedLaunch"},
            "timeCreated": _iso(now - timedelta(days=400)),
            "provisioningState": "Succeeded",
            "diskState": "Attached",
            "diskSizeBytes": 128 * 1024**3,
            "uniqueId": _det_uuid("disk", disk_id),
            "tier": "P10",
        },
    }
    w.resources[arm_key(vm_id)] = {
        "id": vm_id,
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": LOCATION,
        "zones": [zone],
        "tags": {"LiveCloudEnv": "lab", "role": "ump365"},
        "properties": {
            "vmId": _det_uuid("vm", vm_id),
            "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
            "securityProfile": {
                "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
                "securityType": "TrustedLaunch",
            },
            "storageProfile": {
                "imageReference": {
                    "publisher": "MicrosoftWindowsServer",
                    "offer": "WindowsServer",
                    "sku": "2019-datacenter-gensecond",
                    "version": "latest",
                    "exactVersion": "17763.6414.241004",
                },
                "osDisk": {
                    "osType": "Windows",
                    "name": disk_name,
                    "createOption": "FromImage",
                    "caching": "ReadWrite",
                    "managedDisk": {"storageAccountType": "Premium_LRS", "id": disk_id},
                    "deleteOption": "Detach",
                    "diskSizeGB": 128,
                },
                "dataDisks": [],
                "diskControllerType": "SCSI",
            },
            "osProfile": {
                "computerName": name.upper(),
                "adminUsername": "labadmin",
                "windowsConfiguration": {"provisionVMAgent": True, "enableAutomaticUpdates": False},
                "secrets": [],
                "allowExtensionOperations": True,
                "requireGuestProvisionSignal": True,
            },
            "networkProfile": {
                "networkInterfaces": [
                    {
                        "id": f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/"
                        f"Microsoft.Network/networkInterfaces/{name}-nic"
                    }
                ]
            },
            "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
            "provisioningState": "Succeeded",
            "timeCreated": _iso(now - timedelta(days=400)),
        },
    }
    w.set_power_state(vm_id, "running")
    return vm_id, disk_id


def _base_windows_state(name: str, fqdn: str, ip: str, sec: dict, now: datetime) -> dict:
    return {
        "os": {
            "hostname": name.upper(),
            "fqdn": fqdn,
            "ip": ip,
            "product_name": "Windows Server 2019 Datacenter",
            "version": "10.0.17763.0",
            "build": "17763",
            "domain": "WORKGROUP",
            "drives": {"C": {"size_gb": 127, "free_gb": 61}},
            "boot_time": _iso(now - timedelta(days=12)),
            # host-local time = UTC + this offset (wyUpdate's -logfile writes local time)
            "utc_offset_minutes": 60,
            "culture": dict(CULTURES["en-US"]),
        },
        "accounts": {
            "labadmin": {"password": sec["winrm_admin_password"], "groups": ["Administrators"], "enabled": True},
            "ump-svc": {
                "password": sec["service_account_password"],
                "groups": ["Administrators", "UmpAdmins"],
                "enabled": True,
            },
        },
        "groups": {"Administrators": ["labadmin", "ump-svc"], "UmpAdmins": ["ump-svc"]},
        "services": {},
        # the system folders every Windows host has (a program writing under them finds its folder)
        "files": {
            d.lower(): {"type": "directory", "path": d, "mtime": _iso(now)}
            for d in ("C:\\Windows", "C:\\Windows\\Temp", "C:\\Windows\\System32", "C:\\Users")
        },
        "open_files": [],
        "processes": [],
        "certificates": [],
        "firewall": {
            "managed": True,
            "profiles": {"Domain": True, "Private": True, "Public": True},
            "outbound_default": "block",
            "rules": {},
        },
        # which outside URLs the host can reach (win_uri is answered from this); "*" = all
        "egress": {"allow": ["*"], "deny": []},
        "sql": {"databases": []},
    }


def _service(
    display: str,
    state: str = "running",
    start_mode: str = "auto",
    recovery: str = "restart",
    path: str = "",
    user: str = ".\\ump-svc",
) -> dict:
    return {
        "display_name": display,
        "state": state,
        "start_mode": start_mode,
        "recovery": {
            "actions": [recovery, recovery, recovery] if recovery != "none" else [],
            "reset_period_sec": 86400,
            "restart_delay_ms": 60000,
        },
        "path": path,
        "username": user,
        "dependencies": [],
        "depended_by": [],
        "desktop_interact": False,
    }


def _file(content: str = "", size: int | None = None, now: datetime | None = None) -> dict:
    return {
        "type": "file",
        "content": content,
        "size": len(content.encode()) if size is None else size,
        "mtime": _iso(now or _now()),
    }


def _add_ump_host(
    w: World,
    name: str,
    idx: int,
    subscription: str,
    backend: bool,
    n_customers: int,
    now: datetime,
    site: dict | None = None,
    shared_sql: bool = False,
) -> None:
    site = site or dict(SITE_DEFAULT)
    tenants = site["tenants_dir"]
    sec = w.data["secrets"]
    rg = f"rg-{name}"
    zone = str((idx - 1) % 3 + 1)
    fqdn = f"{name}.ump.lab.test"
    ip = f"10.201.80.{10 + idx}"
    vm_id, disk_id = _vm_and_disk(w, name, subscription, rg, zone, now)
    state = _base_windows_state(name, fqdn, ip, sec, now)
    if site["flavour"] == "default":
        state["os"]["culture"] = dict(CULTURES["de-DE" if name in DE_DE_HOSTS else "en-US"])
    else:
        state["os"]["culture"] = dict(CULTURES[site["culture"]])

    customers = []
    for c in range(n_customers):
        short = CUSTOMER_NAMES[(idx * 3 + c) % len(CUSTOMER_NAMES)] + f"{idx:02d}"
        customers.append(
            {
                "guid": _det_uuid("customer", name, short),
                "short": short,
                "password_auth": c % 2 == 1,  # every second customer still on password authentication
                "license": ["Hosted Essentials", "Hosted Pro", "Hosted Essentials Plus", "Hosted Pro"][c % 4],
            }
        )

    svc = state["services"]
    acs = "C:\\acs"
    svc["SysAdmin.TenantSvc"] = _service("SysAdmin.TenantSvc", path=f"{acs}\\SysAdminKit\\SysAdmin.TenantSvc.exe")
    svc["SysAdmin.PeeringSvc"] = _service("SysAdmin.PeeringSvc", path=f"{acs}\\SysAdminKit\\SysAdmin.PeeringSvc.exe")
    for c in customers:
        svc[f"SysAdmin.CacheSrv.{c['short']}"] = _service(
            f"SysAdmin.CacheSrv.{c['short']}", path=f"{tenants}\\{c['short']}\\SysAdmin.CacheSrv.exe"
        )
    # created by 8.0.450 (guide, "Additional SysAdmin Verifications"); 8.0.400.64 has not got them yet
    svc["w3svc"] = _service(
        "World Wide Web Publishing Service",
        recovery="restart",
        path="C:\\Windows\\system32\\svchost.exe -k iissvcs",
        user="LocalSystem",
    )
    svc["WAS"] = _service(
        "Windows Process Activation Service",
        recovery="none",
        path="C:\\Windows\\system32\\svchost.exe -k iissvcs",
        user="LocalSystem",
    )
    svc["w3svc"]["dependencies"] = ["WAS"]
    svc["WAS"]["depended_by"] = ["w3svc"]
    svc["WinRM"] = _service(
        "Windows Remote Management (WS-Management)",
        recovery="restart",
        path="C:\\Windows\\System32\\svchost.exe -k NetworkService",
        user="NT AUTHORITY\\NetworkService",
    )
    if not backend:
        svc["MSSQLSERVER"] = _service(
            "SQL Server (MSSQLSERVER)",
            recovery="restart",
            path="C:\\Program Files\\Microsoft SQL Server\\MSSQL15.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe",
            user="NT Service\\MSSQLSERVER",
        )

    files = state["files"]
    for d in [
        acs,
        tenants,
        f"{acs}\\tools",
        f"{acs}\\tools\\LogReport",
        f"{acs}\\SysAdminKit",
        f"{acs}\\SysAdminKit\\logs",
        f"{acs}\\SysAdmin.CustomerUpgrade",
        f"{acs}\\CheckAzureTenantId_220",
        f"{acs}\\temp",
        f"{acs}\\wyupdate_logs",
        f"{acs}\\SysAdmin.CustomerUpgrade\\logs",
        *_parents(site["step_log"]),
    ]:
        files[d.lower()] = {"type": "directory", "path": d, "mtime": _iso(now)}
    for path, subsystem in [
        (f"{acs}\\wyupdate.exe", "gui"),  # wyUpdate is a Windows Forms program (wyday/wyupdate)
        (f"{acs}\\SysAdmin.CustomerUpgrade\\Sysadmin.CustomerUpgrade.exe", site["customer_upgrade"]),
        (f"{acs}\\tools\\LogReport\\LogReport.exe", "console"),
        (f"{acs}\\CheckAzureTenantId_220\\CheckAzureTenantId_220.exe", "console"),
    ]:
        image = pe_image(subsystem, path.rsplit("\\", 1)[-1])
        files[path.lower()] = {
            "type": "file",
            "path": path,
            "content_b64": base64.b64encode(image).decode(),
            "size": len(image),
            "mtime": _iso(now),
        }
    for path, content in [
        (
            f"{acs}\\client.wyc",
            f"update server=https://ump-updates.audiocodes.example/wyupdate/\nversion={FROM_VERSION}\n",
        ),
        (f"{acs}\\SysAdminKit\\version.txt", FROM_VERSION + "\n"),
        (f"{acs}\\SysAdminKit\\SysAdmin.TenantSvc.exe", "MZ TenantSvc"),
        (f"{acs}\\SysAdminKit\\SysAdmin.PeeringSvc.exe", "MZ PeeringSvc"),
        (f"{acs}\\SysAdminKit\\web.config", "<configuration><appSettings/></configuration>\n"),
        (
            # a service log that prints its connection string at start (what a discovery run must mask)
            f"{acs}\\SysAdminKit\\logs\\SysAdmin.TenantSvc.log",
            f"{_iso(now)} INFO service started\n{_iso(now)} INFO SysAdminTenant: Server=localhost;"
            f"Database=SysAdminTenant;User ID=ump-svc;Password={sec['service_account_password']}\n",
        ),
    ]:
        files[path.lower()] = dict(_file(content, now=now), path=path)
    for c in customers:
        for d in [f"{tenants}\\{c['short']}", f"{tenants}\\{c['short']}\\logs"]:
            files[d.lower()] = {"type": "directory", "path": d, "mtime": _iso(now)}
        p = f"{tenants}\\{c['short']}\\SysAdmin.CacheSrv.exe"
        files[p.lower()] = dict(_file("MZ CacheSrv", now=now), path=p)
        p = f"{tenants}\\{c['short']}\\logs\\sync.log"
        files[p.lower()] = dict(_file(f"{_iso(now)} INFO replication cycle completed\n", now=now), path=p)
        p = f"{tenants}\\{c['short']}\\{site['version_file']}"
        files[p.lower()] = dict(_file(FROM_VERSION + "\n", now=now), path=p)

    state["certificates"].append(
        {
            "store": "LocalMachine\\My",
            "subject": f"CN={fqdn}",
            "issuer": "CN=Lab Issuing CA",
            "thumbprint": hashlib.sha1(fqdn.encode()).hexdigest().upper(),
            "dns_names": [fqdn],
            "not_before": _iso(now - timedelta(days=200)),
            "not_after": _iso(now + timedelta(days=165)),
            "has_private_key": True,
            "serial_number": hashlib.md5(fqdn.encode()).hexdigest().upper()[:16],
        }
    )
    state["ump"] = {
        "role": "ump",
        "fqdn": fqdn,
        "components": dict(COMPONENTS_BEFORE),
        "wyupdate": {
            "installed_version": FROM_VERSION,
            "running": False,
            # the .NET custom format of the -logfile time stamp (public: Util/Logger.cs)
            "log_time_format": WYUPDATE_LOG_TIME_FORMAT,
        },
        "customers": [c["short"] for c in customers],
        "site": dict(site),
    }
    if site["flavour"] != "default":
        # an earlier upgrade's step log, as a site that was upgraded before keeps it (what discovery reads)
        _seed_old_step_log(files, site, now, sec)

    sql_host = name
    w.disk_contents[arm_key(disk_id)] = state
    ump_app_id = _det_uuid("app", "tenantui", name)
    w.data["entra"]["api_apps"][ump_app_id] = {"name": f"{name}-tenantui", "host": name}
    host_entry = {
        "name": name,
        "fqdn": fqdn,
        "ip": ip,
        "role": "ump",
        "vm_id": vm_id,
        "resource_group": rg,
        "subscription_id": subscription,
        "location": LOCATION,
        "sql_host": name,
        "ump_api_app_id": ump_app_id,
        "service_account": "ump-svc",
        "admin_user": "labadmin",
        "sbc": f"sbc-{name}",
    }
    w.hosts[name] = host_entry

    if backend and shared_sql:
        sql_host = _add_sql_instance(w, name, subscription, sec, now)
        host_entry["sql_host"] = sql_host
    elif backend:
        sql_host = f"{name}-sql"
        svm_id, sdisk_id = _vm_and_disk(w, sql_host, subscription, rg, zone, now)
        sstate = _base_windows_state(sql_host, f"{sql_host}.ump.lab.test", f"10.201.81.{10 + idx}", sec, now)
        sstate["services"]["MSSQLSERVER"] = _service(
            "SQL Server (MSSQLSERVER)",
            recovery="restart",
            path="C:\\Program Files\\Microsoft SQL Server\\MSSQL15.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe",
            user="NT Service\\MSSQLSERVER",
        )
        sstate["services"]["WinRM"] = dict(svc["WinRM"])
        for d in ["C:\\acs", "C:\\acs\\dbbackup"]:
            sstate["files"][d.lower()] = {"type": "directory", "path": d, "mtime": _iso(now)}
        sstate["ump"] = {"role": "sql_backend", "serves": name}
        w.disk_contents[arm_key(sdisk_id)] = sstate
        w.hosts[sql_host] = {
            "name": sql_host,
            "fqdn": f"{sql_host}.ump.lab.test",
            "ip": f"10.201.81.{10 + idx}",
            "role": "sql_backend",
            "vm_id": svm_id,
            "resource_group": rg,
            "subscription_id": subscription,
            "location": LOCATION,
            "sql_host": sql_host,
            "service_account": "ump-svc",
            "admin_user": "labadmin",
            "serves": name,
        }
        host_entry["sql_host"] = sql_host
    else:
        state["files"]["c:\\acs\\dbbackup"] = {"type": "directory", "path": "C:\\acs\\dbbackup", "mtime": _iso(now)}

    sql_config = {
        "collation": "SQL_Latin1_General_CP1_CI_AS",
        "version": "15.0.4375.4",
        "product": "Microsoft SQL Server 2019 (RTM-CU27) (KB5040948) - 15.0.4375.4 (X64)",
        "edition": "Standard Edition (64-bit)",
        "logins": {"ump-svc": sec["service_account_password"], "sa": sec["sql_password"]},
        "databases": [],
        "backup_dir": "C:\\acs\\dbbackup",
        "free_mb": 61000,
    }
    inst = w.hosts[sql_host].get("sql_instance")
    if inst:
        w.host_state(sql_host).setdefault("sql_instances", {})[inst] = sql_config
    else:
        w.host_state(sql_host)["sql"] = sql_config
    _seed_sql(w, name, sql_host, customers, fqdn, now, site["flavour"])
    _seed_sbc_ovoc(w, name, ip, customers, now, site["flavour"])


SHARED_SQL_MACHINE = "sql01"


def _add_sql_instance(w: World, ump: str, subscription: str, sec: dict, now: datetime) -> str:
    """A named instance for ``ump`` on the shared SQL Server machine (created with the first instance)."""
    machine = SHARED_SQL_MACHINE
    rg = "rg-sql"
    ip = "10.201.81.200"
    if machine not in w.hosts:
        vm_id, disk_id = _vm_and_disk(w, machine, subscription, rg, "1", now)
        state = _base_windows_state(machine, f"{machine}.ump.lab.test", ip, sec, now)
        for d in ["C:\\acs", "C:\\acs\\dbbackup"]:
            state["files"][d.lower()] = {"type": "directory", "path": d, "mtime": _iso(now)}
        state["ump"] = {"role": "sql_backend", "serves": []}
        state["sql_instances"] = {}
        w.disk_contents[arm_key(disk_id)] = state
        w.hosts[machine] = {
            "name": machine,
            "fqdn": f"{machine}.ump.lab.test",
            "ip": ip,
            "role": "sql_backend",
            "vm_id": vm_id,
            "resource_group": rg,
            "subscription_id": subscription,
            "location": LOCATION,
            "service_account": "ump-svc",
            "admin_user": "labadmin",
            "serves": [],
        }
    m = w.hosts[machine]
    inst = ump.upper()
    mstate = w.host_state(machine)
    mstate["services"][f"MSSQL${inst}"] = _service(
        f"SQL Server ({inst})",
        recovery="restart",
        path=f"C:\\Program Files\\Microsoft SQL Server\\MSSQL15.{inst}\\MSSQL\\Binn\\sqlservr.exe -s{inst}",
        user=f"NT Service\\MSSQL${inst}",
    )
    mstate["ump"]["serves"].append(ump)
    m["serves"].append(ump)
    name = f"{machine}-{ump}"
    w.hosts[name] = dict(
        m,
        name=name,
        role="sql_instance",
        machine=machine,
        sql_instance=inst,
        sql_host=name,
        serves=ump,
    )
    return name


def _parents(path: str) -> list[str]:
    """The folders above a file below C:\\acs (C:\\acs itself excluded)."""
    parts = path.split("\\")[:-1]
    return ["\\".join(parts[: i + 1]) for i in range(2, len(parts))]


def step_log_line(site: dict, when: datetime, step: str, status: str, message: str) -> str:
    return site["step_line"].format(time=when.strftime(site["step_time"]), step=step, status=status, message=message)


def _seed_old_step_log(files: dict, site: dict, now: datetime, sec: dict) -> None:
    from .windows.ump import STEPS

    prev = "8.0.300.12"
    t = now - timedelta(days=120)
    lines = []
    for step in STEPS:
        lines.append(step_log_line(site, t, step, "START", f"running {step}"))
        t += timedelta(seconds=40)
        msg = "done"
        if step == "CheckSQLConn":
            # a vendor script that logs its connection string: discovery must mask it (docs/assumptions.md)
            msg = f"connected: Server=localhost;Database=SysAdminTenant;User ID=ump-svc;Password={sec['service_account_password']}"
        lines.append(step_log_line(site, t, step, "OK", msg))
    p = site["step_log"].replace("{version}", prev)
    files[p.lower()] = dict(_file("\r\n".join(lines) + "\r\n", now=t), path=p)


def _seed_sql(
    w: World, ump: str, sql_host: str, customers: list[dict], fqdn: str, now: datetime, flavour: str = "default"
) -> None:
    sql_state = {"sql": w.sql_state(sql_host)}
    sql_state["sql"]["databases"].append("SysAdminTenant")
    path = w.sql_path(sql_host, "SysAdminTenant")
    conn = sqlite3.connect(path)
    sync_app = _det_uuid("app", "sync", ump)
    with conn:
        conn.executescript(SYSADMINTENANT_DDL)
        settings = {
            "QuickReplicationCycleDelay": "5",
            "CmdTaskRunnerSvc.MaxDegreeOfParallelism": "4",
            "ApiAllowedIps": f'["{WAN_DEFAULT_IP}"]',
            "SysAdminKitVersion": FROM_VERSION,
            "MultiTenantVersion": FROM_VERSION,
            "InvitationPortalUrl": f"https://{fqdn}/authenticate",
            "AuthStatus.ClientId": sync_app,
            "AuthStatus.ClientSecret": w.data["secrets"]["sync_app_client_secret"],
            "AuthStatus.RedirectUri": f"https://{fqdn}/authenticate/OAuth2Callback",
            "AvailableUsers": "9970",
            "AvailableCustomers": "499",
        }
        conn.executemany("INSERT INTO ApplicationSetting VALUES (?, ?)", settings.items())
        conn.execute("INSERT INTO SchemaVersion VALUES (?, ?)", (FROM_VERSION, _iso(now - timedelta(days=90))))
        conn.execute(
            "INSERT INTO Licence (Kind, Users, Customers, ExpiresAt, Status) VALUES (?,?,?,?,?)",
            ("SP", 10000, 500, _iso(now + timedelta(days=300)), "Valid"),
        )
        site_id = 1
        rule_id = 1
        for n, c in enumerate(customers):
            conn.execute(
                "INSERT INTO Customer VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    c["guid"],
                    c["short"],
                    c["short"].capitalize() + " Ltd",
                    c["license"],
                    _det_uuid("mstenant", c["short"]),
                    25 + n * 7,
                    30 + n * 5,
                    "Deployed",
                    1,
                    FROM_VERSION,
                    "Password" if c["password_auth"] else "Token",
                    f"admin@{c['short']}.onmicrosoft.com",
                    _iso(now - timedelta(days=3 + n)),
                    1,
                    sync_app,
                    _iso(now + timedelta(days=500)),
                    _iso(now - timedelta(minutes=17)),
                ),
            )
            conn.execute(
                "INSERT INTO Sbc (Name, Address, UmpCustomerGuid, Status) VALUES (?,?,?,?)",
                (f"sbc-{ump}", f"sbc-{ump}.ump.lab.test", c["guid"], "Connected"),
            )
            conn.execute(
                "INSERT INTO SiteLocation VALUES (?,?,?,?,?,?,?)",
                (site_id, c["guid"], f"{c['short']}-main", f"sbc-{ump}", 3, 3, 0),
            )
            prefixes = ["+4455896552", "+44587996[01-20]"] if "Essentials" in c["license"] else ["+3120555[100-199]"]
            for p in prefixes:
                conn.execute(
                    "INSERT INTO DialPlanRule VALUES (?,?,?,?,?,?,?)",
                    (rule_id, c["guid"], site_id, f"{c['short']}-dp", f"rule{rule_id}", p, "TEAMS"),
                )
                rule_id += 1
            site_id += 1
        for t, (tname, body) in enumerate(
            [
                ("Teams Direct Routing", "configure voip\n sip-definition settings\n  gw-name UMP\n exit\nexit\n"),
                ("Operator Connect", "configure voip\n proxy-set 1\n  proxy-name OC\n exit\nexit\n"),
            ]
        ):
            conn.execute("INSERT INTO ScriptTemplate VALUES (?,?,?,?,?)", (t + 1, tname, "SBC", body, FROM_VERSION))
    conn.close()

    for c in customers:
        db = f"SysAdmin{c['short']}"
        sql_state["sql"]["databases"].append(db)
        conn = sqlite3.connect(w.sql_path(sql_host, db))
        with conn:
            conn.executescript(CUSTOMER_DDL)
            for u in range(USERS_PER_CUSTOMER):
                conn.execute(
                    "INSERT INTO UserAccount VALUES (?,?,?,?,?)",
                    (
                        f"user{u}@{c['short']}.onmicrosoft.com",
                        f"User {u}",
                        "Sales" if u % 2 else "Support",
                        user_did(c, u, flavour),
                        1,
                    ),
                )
            conn.execute("INSERT INTO SyncState VALUES (?, ?)", ("Version", FROM_VERSION))
        conn.close()


USERS_PER_CUSTOMER = 5


def user_did(c: dict, u: int, flavour: str = "default") -> str:
    """User ``u``'s DID. default: inside the customer's dial-plan range, as UMP deploys it to the SBC (the guide:
    "Add DID and verify that it is successfully added on the SBC"; the SBC's DialPlanRule prefixes hold the DIDs).
    site-b (where an SBC keeps per-user numbers is not public): outside the dial-plan ranges, each user's
    number in the SBC's user information table instead (emulators/sbc.py render_ini)."""
    if flavour == "site-b":
        return f"+44587997{u + 1:02d}" if "Essentials" in c["license"] else f"+3120556{100 + u}"
    return f"+44587996{u + 1:02d}" if "Essentials" in c["license"] else f"+3120555{100 + u}"


def _seed_sbc_ovoc(
    w: World, ump: str, ump_ip: str, customers: list[dict], now: datetime, flavour: str = "default"
) -> None:
    sbc_name = f"sbc-{ump}"
    rules = []
    for c in customers:
        prefixes = ["+4455896552", "+44587996[01-20]"] if "Essentials" in c["license"] else ["+3120555[100-199]"]
        for p in prefixes:
            rules.append(
                {"DialPlanName": f"{c['short']}-dp", "Name": f"rule{len(rules) + 1}", "Prefix": p, "Tag": "TEAMS"}
            )
    w.data["sbcs"][sbc_name] = {
        "name": sbc_name,
        "ump_host": ump,
        "username": "Admin",
        "password": w.data["secrets"]["sbc_password"],
        "status": {
            "localTimeStamp": _iso(now),
            "ipAddress": f"10.201.90.{len(w.data['sbcs']) + 10}",
            "subnetMask": "255.255.255.0",
            "defaultGateway": "10.201.90.1",
            "productType": "Mediant VE SBC",
            "versionID": "7.40A.500.775",
            "protocolType": "SIP",
            "operationalState": "UNLOCKED",
            "highAvailability": "Not Operational",
            "serialNumber": str(8000000 + len(w.data["sbcs"])),
            "macAddress": "00:90:8f:00:00:01",
            "systemUpTime": 86400 * 30,
            "saveNeeded": False,
            "resetNeeded": False,
            "upgradeStatus": "None",
        },
        "alarms": {"active": [], "history": []},
        "dial_plan_rules": rules,
        "user_info": [
            {
                "LocalUser": user_did(c, u, flavour),
                "Username": f"user{u}.{c['short']}",
                "IPGroupName": f"{c['short']}-ipg",
            }
            for c in customers
            for u in range(USERS_PER_CUSTOMER)
        ]
        if flavour == "site-b"
        else [],
        "license": {"FeatureKey": "SBC-Sessions=100;FEU=250"},
    }
    w.data["ovoc"]["devices"][ump] = {
        "id": len(w.data["ovoc"]["devices"]) + 1,
        "name": ump.upper(),
        "ipAddress": ump_ip,
        "productType": "UMP",
        "status": "Active",
        "applicationsStatus": {"management": {"managementStatus": "Connected"}},
        "alarms": [],
    }
