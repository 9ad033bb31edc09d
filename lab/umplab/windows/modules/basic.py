"""win_ping, setup, win_stat, slurp and async_status."""

from __future__ import annotations

import base64
import hashlib
import json
import ntpath
import time
from datetime import datetime, timezone

from .. import fs
from . import ModuleContext, module


@module("ansible.windows.win_ping")
def win_ping(ctx: ModuleContext) -> dict:
    data = ctx.params.get("data")
    if data == "crash":
        ctx.fail("Unhandled exception while executing module: boom")
    return {"changed": False, "ping": data}


def _epoch(iso: str | None) -> float:
    if not iso:
        return time.time()
    try:
        return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return time.time()


@module("ansible.windows.setup")
def setup(ctx: ModuleContext) -> dict:
    with ctx.lock:
        st = ctx.state()
        os_ = dict(st.get("os", {}))
        hinfo = dict(ctx.world.host(ctx.name))
    hostname = os_.get("hostname", ctx.name.upper())
    fqdn = os_.get("fqdn", hinfo.get("fqdn", ctx.name))
    ip = os_.get("ip", hinfo.get("ip", "10.0.0.4"))
    domain = fqdn.split(".", 1)[1] if "." in fqdn else ""
    # fault clock.skew: the host's clock runs off the controller's
    now = datetime.fromtimestamp(time.time() + ctx.world.clock_skew(ctx.name), timezone.utc)
    boot = os_.get("boot_time")
    version = os_.get("version", "10.0.17763.0")
    profile = fs.user_profile(ctx.user)
    mac = "00:0D:3A:" + ":".join(f"{b:02X}" for b in hashlib.sha1(ctx.name.encode()).digest()[:3])
    facts = {
        "ansible_hostname": hostname,
        "ansible_fqdn": fqdn,
        "ansible_domain": domain,
        "ansible_nodename": fqdn,
        "ansible_netbios_name": hostname,
        "ansible_system": "Win32NT",
        "ansible_os_family": "Windows",
        "ansible_os_name": os_.get("product_name", "Windows Server 2019 Datacenter"),
        "ansible_os_product_type": "server",
        "ansible_os_installation_type": "Server",
        "ansible_distribution": os_.get("product_name", "Windows Server 2019 Datacenter"),
        "ansible_distribution_version": version,
        "ansible_distribution_major_version": version.split(".")[0],
        "ansible_kernel": version,
        "ansible_architecture": "64-bit",
        "ansible_architecture2": "x86_64",
        "ansible_machine": "x86_64",
        "ansible_machine_id": "S-1-5-21-" + str(int(hashlib.sha1(ctx.name.encode()).hexdigest()[:8], 16)),
        "ansible_windows_domain": os_.get("domain", "WORKGROUP"),
        "ansible_windows_domain_member": os_.get("domain", "WORKGROUP") != "WORKGROUP",
        "ansible_windows_domain_role": "Stand-alone server",
        "ansible_owner_name": "labadmin",
        "ansible_owner_contact": "",
        "ansible_ip_addresses": [ip, "fe80::" + hashlib.sha1(ip.encode()).hexdigest()[:4] + ":1"],
        "ansible_interfaces": [
            {
                "connection_name": "Ethernet",
                "default_gateway": ip.rsplit(".", 1)[0] + ".1",
                "dns_domain": None,
                "interface_index": 6,
                "interface_name": "Microsoft Hyper-V Network Adapter",
                "macaddress": mac,
                "mtu": 1500,
                "speed": 40000,
                "ipv4": {"address": ip, "prefix": "24"},
            }
        ],
        "ansible_memtotal_mb": 16384,
        "ansible_swaptotal_mb": 0,
        "ansible_processor": ["GenuineIntel", "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz"] * 2,
        "ansible_processor_cores": 2,
        "ansible_processor_count": 1,
        "ansible_processor_threads_per_core": 2,
        "ansible_processor_vcpus": 4,
        "ansible_bios_date": "12/07/2018",
        "ansible_bios_version": "Hyper-V UEFI Release v4.1",
        "ansible_product_name": "Virtual Machine",
        "ansible_product_serial": "0000-0000-0000-0000-0000-0000-00",
        "ansible_system_vendor": "Microsoft Corporation",
        "ansible_virtualization_type": "Hyper-V",
        "ansible_virtualization_role": "guest",
        "ansible_powershell_version": 5,
        "ansible_dotnet_version": "4.8.3761",
        "ansible_user_id": ctx.user,
        "ansible_user_dir": profile,
        "ansible_user_gecos": "",
        "ansible_user_sid": "S-1-5-21-1-" + str(sum(map(ord, ctx.user))),
        "ansible_reboot_pending": False,
        "ansible_lastboot": (boot or now.strftime("%Y-%m-%dT%H:%M:%SZ")).replace("T", " ").rstrip("Z"),
        "ansible_uptime_seconds": int(now.timestamp() - _epoch(boot)),
        "ansible_date_time": {
            "date": now.strftime("%Y-%m-%d"),
            "day": now.strftime("%d"),
            "epoch": str(int(now.timestamp())),
            "hour": now.strftime("%H"),
            "iso8601": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "minute": now.strftime("%M"),
            "month": now.strftime("%m"),
            "second": now.strftime("%S"),
            "time": now.strftime("%H:%M:%S"),
            "tz": "Coordinated Universal Time",
            "tz_offset": "+00:00",
            "weekday": now.strftime("%A"),
            "weeknumber": now.strftime("%W"),
            "year": now.strftime("%Y"),
        },
        "ansible_env": {
            "COMPUTERNAME": hostname,
            "USERNAME": ctx.user,
            "USERPROFILE": profile,
            "TEMP": f"{profile}\\AppData\\Local\\Temp",
            "TMP": f"{profile}\\AppData\\Local\\Temp",
            "SystemRoot": "C:\\Windows",
            "windir": "C:\\Windows",
            "ProgramFiles": "C:\\Program Files",
            "ProgramData": "C:\\ProgramData",
            "PROCESSOR_ARCHITECTURE": "AMD64",
            "PATH": "C:\\Windows\\system32;C:\\Windows;C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\",
            "OS": "Windows_NT",
        },
        "ansible_win_rm_certificate_expires": "",
        "ansible_pkg_mgr": "unknown",
        "module_setup": True,
        "gather_subset": ctx.params.get("gather_subset") or ["all"],
    }
    return {"changed": False, "ansible_facts": facts}


def stat_entry(files: dict, path: str, get_checksum: bool = True, algo: str = "sha1", get_size: bool = True) -> dict:
    e = fs.get(files, path)
    shown = fs.real_path(files, path)
    if e is None and not fs.is_drive_root(path):
        return {"exists": False}
    isdir = e is None or e["type"] == "directory"
    mtime = _epoch((e or {}).get("mtime"))
    out = {
        "exists": True,
        "path": shown,
        "filename": ntpath.basename(shown),
        "attributes": "Directory" if isdir else "Archive",
        "isarchive": not isdir,
        "isdir": isdir,
        "ishidden": False,
        "isjunction": False,
        "islnk": False,
        "isreadonly": False,
        "isreg": not isdir,
        "isshared": False,
        "hlnk_targets": [],
        "nlink": 1,
        "owner": "BUILTIN\\Administrators",
        "creationtime": _epoch((e or {}).get("created", (e or {}).get("mtime"))),
        "lastaccesstime": mtime,
        "lastwritetime": mtime,
    }
    if not isdir:
        data = fs.read_bytes(files, path)
        out["extension"] = ntpath.splitext(shown)[1]
        if get_size:
            out["size"] = len(data)
        if get_checksum:
            h = {"md5": hashlib.md5, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
            out["checksum"] = h.get(algo, hashlib.sha1)(data).hexdigest()
    else:
        if get_size:
            out["size"] = sum(len(fs.read_bytes(files, k)) for k in fs.walk(files, path) if files[k]["type"] == "file")
    return out


@module("ansible.windows.win_stat")
def win_stat(ctx: ModuleContext) -> dict:
    p = ctx.params
    path = fs.expand_env(p["path"], ctx.user)
    with ctx.lock:
        st = stat_entry(
            ctx.files(),
            path,
            get_checksum=p.get("get_checksum", True),
            algo=p.get("checksum_algorithm") or "sha1",
            get_size=p.get("get_size", True),
        )
    return {"changed": False, "stat": st}


@module("ansible.windows.slurp")
def slurp(ctx: ModuleContext) -> dict:
    src = fs.expand_env(ctx.params["src"], ctx.user)
    with ctx.lock:
        files = ctx.files()
        if fs.is_dir(files, src):
            ctx.fail(f"Path {src} is a directory")
        try:
            data = fs.read_bytes(files, src)
        except FileNotFoundError:
            ctx.fail(f"Path {src} is not found")
    return {"changed": False, "content": base64.b64encode(data).decode(), "encoding": "base64", "source": src}


@module("ansible.windows.async_status")
def async_status(ctx: ModuleContext) -> dict:
    jid = ctx.params["jid"]
    mode = ctx.params.get("mode") or "status"
    async_dir = fs.expand_env(ctx.params["_async_dir"], ctx.user)
    path = async_dir.rstrip("\\") + "\\" + jid
    with ctx.lock:
        files = ctx.files()
        if not fs.exists(files, path):
            ctx.fail(f"could not find job at '{async_dir}'", ansible_job_id=jid, started=1, finished=1)
        if mode == "cleanup":
            fs.remove(files, path)
            return {"ansible_job_id": jid, "erased": path}
        raw = fs.read_text(files, path)
    if not raw:
        return {"results_file": path, "ansible_job_id": jid, "started": 1, "finished": 0}
    try:
        data = json.loads(raw)
    except ValueError:
        ctx.fail(f"Could not parse job output: {raw}", ansible_job_id=jid, results_file=path, started=1, finished=1)
    if "started" not in data:
        data["finished"] = 1
        data["ansible_job_id"] = jid
    elif "finished" not in data:
        data["finished"] = 0
    return data


async_status.extra_options = {"_async_dir": {"type": "path", "required": True}}  # type: ignore[attr-defined]
