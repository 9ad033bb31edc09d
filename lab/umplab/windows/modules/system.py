"""win_feature and win_reg_stat (both on the legacy module utils in ansible.windows 3.3).

Registry: ``host_state["registry"]`` = {``HKLM:\\<key>``: {value name: {"type": "REG_SZ", "value": ...}}};
``HKLM:\\SYSTEM\\CurrentControlSet\\Services\\<name>`` is a live view of the service (Start, ImagePath,
DisplayName, ObjectName), as on Windows. Features: ``host_state["features"]`` = {name: {"display_name",
"installed"}}.
"""

from __future__ import annotations

import re

from .. import services as scm
from . import ModuleContext, module

HIVES = {
    "hkey_local_machine": "HKLM",
    "hklm": "HKLM",
    "hkey_current_user": "HKCU",
    "hkcu": "HKCU",
    "hkey_classes_root": "HKCR",
    "hkcr": "HKCR",
    "hkey_users": "HKU",
    "hku": "HKU",
    "hkey_current_config": "HKCC",
    "hkcc": "HKCC",
}

SERVICE_KEY = re.compile(r"^hklm:\\system\\currentcontrolset\\services\\([^\\]+)$", re.I)


def norm_key(path: str) -> str | None:
    m = re.match(r"^([A-Za-z_]+):?\\(.*)$", path.strip().replace("/", "\\"))
    if not m or m.group(1).lower() not in HIVES:
        return None
    rest = re.sub(r"\\+", r"\\", m.group(2)).strip("\\")
    return f"{HIVES[m.group(1).lower()]}:\\{rest}"


def _key_values(state: dict, key: str) -> dict | None:
    m = SERVICE_KEY.match(key)
    if m:
        real, svc = scm.find(state, m.group(1))
        if svc is None:
            return None
        start = {"auto": 2, "delayed": 2, "manual": 3, "disabled": 4}.get(svc.get("start_mode", "manual"), 3)
        vals = {
            "Start": {"type": "REG_DWORD", "value": start},
            "ImagePath": {"type": "REG_EXPAND_SZ", "value": svc.get("path", "")},
            "DisplayName": {"type": "REG_SZ", "value": svc.get("display_name", real)},
            "ObjectName": {"type": "REG_SZ", "value": svc.get("username", "LocalSystem")},
        }
        if svc.get("start_mode") == "delayed":
            vals["DelayedAutostart"] = {"type": "REG_DWORD", "value": 1}
        return vals
    reg = state.get("registry", {})
    for k, v in reg.items():
        if k.lower() == key.lower():
            return v
    # an intermediate key exists when something below it does
    if any(k.lower().startswith(key.lower() + "\\") for k in reg):
        return {}
    return None


def _sub_keys(state: dict, key: str) -> list[str]:
    out = set()
    prefix = key.lower() + "\\"
    keys = list(state.get("registry", {}))
    if key.lower() == "hklm:\\system\\currentcontrolset\\services":
        return sorted(state.get("services", {}))
    for k in keys:
        if k.lower().startswith(prefix):
            out.add(k[len(prefix) :].split("\\")[0])
    return sorted(out)


def _raw(v: dict):
    if v["type"] in ("REG_DWORD", "REG_QWORD"):
        return v["value"]
    return v["value"]


@module("ansible.windows.win_reg_stat")
def win_reg_stat(ctx: ModuleContext) -> dict:
    path = ctx.params["path"]
    name = ctx.params.get("name")
    key = norm_key(path)
    if key is None:
        ctx.fail(f"path: {path} is not a valid registry path, see module documentation for examples.")
    with ctx.lock:
        st = ctx.state()
        values = _key_values(st, key)
        if values is None:
            return {"changed": False, "exists": False}
        if name is None:
            props = {
                n: {"type": v["type"], "value": v["value"], "raw_value": _raw(v)} for n, v in sorted(values.items())
            }
            return {"changed": False, "exists": True, "properties": props, "sub_keys": _sub_keys(st, key)}
        v = next((val for n, val in values.items() if n.lower() == name.lower()), None)
        if v is None:
            return {"changed": False, "exists": False}
        return {"changed": False, "exists": True, "type": v["type"], "value": v["value"], "raw_value": _raw(v)}


@module("ansible.windows.win_feature")
def win_feature(ctx: ModuleContext) -> dict:
    p = ctx.params
    names = p.get("name") or []
    want = p.get("state") or "present"
    results = []
    with ctx.lock:
        feats = ctx.state().setdefault("features", {})
        for n in names:
            real = next((k for k in feats if k.lower() == n.lower()), None)
            if real is None:
                ctx.fail(
                    f"Failed to {'install' if want == 'present' else 'uninstall'} Windows Feature: ArgumentNotValid: The role, role service, or feature name is not valid: '{n}'. The name was not found."
                )
            f = feats[real]
            if f.get("installed") == (want == "present"):
                continue
            if not ctx.check_mode:
                f["installed"] = want == "present"
            results.append(
                {
                    "id": f.get("id", 0),
                    "display_name": f.get("display_name", real),
                    "message": [],
                    "reboot_required": False,
                    "skip_reason": "NotSkipped",
                    "success": True,
                }
            )
    return {
        "changed": bool(results),
        "feature_result": results,
        "success": True,
        "exitcode": "Success" if results else "NoChangeNeeded",
        "reboot_required": False,
    }


def seed_host(state: dict) -> None:
    """Registry values and Windows features of a freshly seeded lab host (what the modules read)."""
    os_ = state.get("os", {})
    reg = state.setdefault("registry", {})
    reg.setdefault(
        "HKLM:\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full",
        {"Release": {"type": "REG_DWORD", "value": 528449}, "Version": {"type": "REG_SZ", "value": "4.8.03761"}},
    )
    reg.setdefault(
        "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
        {
            "ProductName": {"type": "REG_SZ", "value": os_.get("product_name", "Windows Server 2019 Datacenter")},
            "CurrentBuild": {"type": "REG_SZ", "value": os_.get("build", "17763")},
            "ReleaseId": {"type": "REG_SZ", "value": "1809"},
        },
    )
    feats = state.setdefault("features", {})
    ump = state.get("ump", {}).get("role") == "ump"
    for i, (n, d, inst) in enumerate(
        [
            ("Web-Server", "Web Server (IIS)", ump),
            ("Web-Asp-Net45", "ASP.NET 4.8", ump),
            ("Web-Mgmt-Console", "IIS Management Console", ump),
            ("NET-Framework-45-Core", ".NET Framework 4.8", True),
            ("Telnet-Client", "Telnet Client", False),
        ]
    ):
        feats.setdefault(n, {"id": 100 + i, "display_name": d, "installed": inst})


@module("community.windows.win_disk_facts")
def win_disk_facts(ctx: ModuleContext) -> dict:
    """One GPT system disk holding the host's drives (host_state["os"]["drives"]), shaped as the module's
    win_disk_facts.ps1 builds it: ``ansible_facts.ansible_disks`` (not ``disks``), partitions and volumes
    only when the ``filter`` asks for them."""
    wanted = ctx.params.get("filter") or ["physical_disk", "virtual_disk", "win32_disk_drive", "partitions", "volumes"]
    with ctx.lock:
        drives = dict(ctx.state()["os"].get("drives", {}))
    gib = 1024**3
    size = sum(int(d.get("size_gb", 0)) for d in drives.values()) * gib + 1024**2 * 550
    disk: dict = {
        "number": 0,
        "size": size,
        "bus_type": "SCSI",
        "friendly_name": "Msft Virtual Disk",
        "partition_style": "GPT",
        "partition_count": len(drives) + 1,
        "operational_status": "Online",
        "sector_size": 4096,
        "read_only": False,
        "bootable": True,
        "system_disk": True,
        "clustered": False,
        "manufacturer": "Msft",
        "model": "Virtual Disk",
        "firmware_version": "1.0",
        "location": "Integrated : Adapter 0",
        "serial_number": "",
        "unique_id": "60022480" + ctx.name.encode().hex()[:24].upper(),
        "guid": None,
        "path": "\\\\?\\scsi#disk&ven_msft&prod_virtual_disk#000000#{53f56307-b6bf-11d0-94f2-00a0c91efb8b}",
    }
    if "partitions" in wanted or "volumes" in wanted:
        parts = []
        offset = 1024**2 * 550
        for n, (letter, d) in enumerate(sorted(drives.items()), start=2):
            psize = int(d.get("size_gb", 0)) * gib
            part = {
                "number": n,
                "size": psize,
                "type": "Basic",
                "drive_letter": letter,
                "transition_state": 1,
                "offset": offset,
                "hidden": False,
                "shadow_copy": False,
                "guid": "{%08x-0000-0000-0000-000000000000}" % n,
                "access_paths": [f"{letter}:\\"],
                "gpt_type": "{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}",
                "no_default_driveletter": False,
            }
            offset += psize
            if "volumes" in wanted:
                part["volumes"] = [
                    {
                        "size": psize,
                        "size_remaining": int(float(d.get("free_gb", 0)) * gib),
                        "type": "NTFS",
                        "label": "Windows" if letter == "C" else "",
                        "health_status": "Healthy",
                        "drive_type": "Fixed",
                        "object_id": f"{{1}}\\\\{ctx.name.upper()}\\root/Microsoft/Windows/Storage/Providers_v2\\WSP_Volume",
                        "path": "\\\\?\\Volume{%08x-0000-0000-0000-000000000000}\\" % n,
                        "allocation_unit_size": 4096,
                    }
                ]
            parts.append(part)
        disk["partitions"] = parts
    if "physical_disk" in wanted:
        disk["physical_disk"] = {
            "size": size,
            "media_type": "Unspecified",
            "bus_type": "SCSI",
            "health_status": "Healthy",
            "operational_status": "OK",
            "friendly_name": "Msft Virtual Disk",
            "can_pool": False,
        }
    return {"changed": False, "ansible_facts": {"ansible_disks": [disk]}}


def _sid(host: str, rid: int) -> str:
    """A stable machine SID per host (S-1-5-21-a-b-c) and a relative id."""
    h = int.from_bytes(host.encode()[:8].ljust(8, b"\0"), "big")
    return f"S-1-5-21-{h % 4294967295}-{(h >> 8) % 4294967295}-{(h >> 16) % 4294967295}-{rid}"


@module("ansible.windows.win_whoami")
def win_whoami(ctx: ModuleContext) -> dict:
    """The logon token of the user the module runs as (after become: the become user), shaped as
    win_whoami's RETURN: ``account`` and ``groups`` (local groups under the computer's name, BUILTIN for
    Administrators), ``login_domain``, ``logon_type``, ``privileges``..."""
    with ctx.lock:
        state = ctx.state()
        computer = str(state.get("os", {}).get("hostname") or ctx.name.upper())
        user = ctx.user.split("\\")[-1]
        accounts = state.get("accounts", {})
        acct_name = next((n for n in accounts if n.lower() == user.lower()), user)
        group_names = sorted(
            {g for g, members in state.get("groups", {}).items() if any(m.lower() == user.lower() for m in members)}
            | set((accounts.get(acct_name) or {}).get("groups", []))
        )
    if user.upper() == "SYSTEM":
        account = {"account_name": "SYSTEM", "domain_name": "NT AUTHORITY", "sid": "S-1-5-18", "type": "WellKnownGroup"}
    else:
        account = {"account_name": acct_name, "domain_name": computer, "sid": _sid(computer, 1000), "type": "User"}
    attrs = ["Mandatory", "Enabled by default", "Enabled"]
    groups = [
        {"account_name": "Everyone", "domain_name": "", "attributes": attrs, "sid": "S-1-1-0", "type": "WellKnownGroup"}
    ]
    for n, g in enumerate(group_names):
        if g.lower() == "administrators":
            groups.append(
                {
                    "account_name": "Administrators",
                    "domain_name": "BUILTIN",
                    "attributes": attrs + ["Owner"],
                    "sid": "S-1-5-32-544",
                    "type": "Alias",
                }
            )
        else:
            groups.append(
                {
                    "account_name": g,
                    "domain_name": computer,
                    "attributes": attrs,
                    "sid": _sid(computer, 1100 + n),
                    "type": "Alias",
                }
            )
    return {
        "changed": False,
        "authentication_package": "NTLM",
        "user_flags": "",
        "upn": "",
        "logon_type": "Batch" if ctx.user != ctx.host.world.hosts.get(ctx.name, {}).get("admin_user") else "Network",
        "privileges": {"SeChangeNotifyPrivilege": "enabled-by-default"},
        "label": {
            "account_name": "High Mandatory Level",
            "domain_name": "Mandatory Label",
            "sid": "S-1-16-12288",
            "type": "Label",
        },
        "impersonation_level": "SecurityAnonymous",
        "login_time": "2026-01-01T00:00:00.0000000+00:00",
        "groups": groups,
        "account": account,
        "login_domain": computer,
        "logon_server": computer,
        "logon_id": 20470143,
        "dns_domain_name": "",
        "token_type": "TokenPrimary",
    }
