"""Azure Resource Manager (Microsoft.Compute): disks, snapshots and virtual machines, over HTTPS.

Modelled on ARM's documented REST behaviour and on what azure-mgmt-compute 39 / azure-core accept
(facts/azure.md; azure/core/polling/base_polling.py and azure/mgmt/core/polling/arm_polling.py):

- api-versions: virtualMachines 2026-04-01, disks and snapshots 2026-03-02 (older ones accepted, newer
  ones refused with 400 InvalidApiVersionParameter, a missing one with 400 MissingApiVersionParameter).
- Bearer tokens from the lab's Entra ID for the audience https://management.azure.com (also the
  classic https://management.core.windows.net/), which is what ComputeManagementClient asks for by
  default (``credential_scopes`` defaults to the cloud's ``https://management.azure.com/.default``).
- Snapshot and disk PUT/DELETE answer 202 with ``Azure-AsyncOperation`` and ``Location`` pointing at
  ``.../locations/{loc}/DiskOperations/{id}``; VM PUT answers 200 with ``Azure-AsyncOperation``; VM
  POST actions (deallocate, start, powerOff) answer 202 with ``Azure-AsyncOperation`` and a
  ``Location`` (``?monitor=true``) that gives 202 while running and 200 when done.
- Polls answer ``{"status": "InProgress"}`` then ``Succeeded`` (with ``properties.output``) or
  ``Failed`` (with ``error``). ``Retry-After`` is an integer number of seconds >= 1 (the SDK sleeps it
  exactly; 0 or none would make it fall back to 30 s), paced from the remaining scaled duration.
- Operations are time based: a request records when an operation started and when it ends
  (``world.duration(DURATIONS[...])``); every request settles operations whose end has passed, so no
  request thread ever sleeps. At scale 0 an operation is finished by the first (immediate) poll.
- Errors are ARM's ``{"error": {"code", "message"}}``: 400 InvalidParameter, 403 AuthorizationFailed
  naming the action, 404 ResourceNotFound / ResourceGroupNotFound, 409 OperationNotAllowed for a
  conflicting write, 409 PropertyChangeNotAllowed, 429 TooManyRequests with Retry-After, 500.
- Only real ARM fields are exposed: the SDK keeps unknown fields of a GET and sends them back in a PUT.

A snapshot copies what is on its source disk (``world.copy_disk_contents``) when it is requested
(point in time); a disk created from a snapshot copies it back; swapping a VM's OS disk changes which
disk ``world.host_state`` reads. Faults are listed in docs/lab.md under "ARM (azure)".
"""

from __future__ import annotations

import copy
import fnmatch
import math
import re
import time
import uuid
from datetime import datetime, timezone

from ..httpbase import HTTPError, LabHandler, Request, Response
from ..seed import DURATIONS
from ..world import World, arm_key
from .entra import check_token

ORDER = 20

AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")
API_VERSIONS = {
    "virtualMachines": "2026-04-01",
    "disks": "2026-03-02",
    "snapshots": "2026-03-02",
    # Microsoft.Authorization: Permissions - List For Resource Group (2022-04-01) and Management Locks - List At
    # Resource Group Level (2020-05-01), learn.microsoft.com/rest/api/authorization
    "permissions": "2022-04-01",
    "locks": "2020-05-01",
}
SNAPSHOT_SKUS = {"Standard_LRS": "Standard", "Premium_LRS": "Premium", "Standard_ZRS": "Standard"}
DISK_SKUS = {
    "Standard_LRS": "Standard",
    "Premium_LRS": "Premium",
    "StandardSSD_LRS": "StandardSSD",
    "UltraSSD_LRS": "Ultra",
    "Premium_ZRS": "Premium",
    "StandardSSD_ZRS": "StandardSSD",
    "PremiumV2_LRS": "PremiumV2",
}
# Disk and snapshot names: letters, digits, '_', '.', '-'; start with a letter or digit, end with a
# letter, digit or '_'; at most 80 characters (Azure naming rules for Microsoft.Compute/disks).
NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")
MAX_RETRY_AFTER = 30
POWER_DISPLAY = {
    "running": "VM running",
    "starting": "VM starting",
    "stopping": "VM stopping",
    "stopped": "VM stopped",
    "deallocating": "VM deallocating",
    "deallocated": "VM deallocated",
}
# What each Compute operation is called in RBAC (used for 403 AuthorizationFailed).
ACTIONS = {
    "virtualMachines.read": "Microsoft.Compute/virtualMachines/read",
    "virtualMachines.list": "Microsoft.Compute/virtualMachines/read",
    "virtualMachines.write": "Microsoft.Compute/virtualMachines/write",
    "virtualMachines.delete": "Microsoft.Compute/virtualMachines/delete",
    "virtualMachines.deallocate": "Microsoft.Compute/virtualMachines/deallocate/action",
    "virtualMachines.start": "Microsoft.Compute/virtualMachines/start/action",
    "virtualMachines.powerOff": "Microsoft.Compute/virtualMachines/powerOff/action",
    "virtualMachines.instanceView": "Microsoft.Compute/virtualMachines/instanceView/read",
    "disks.read": "Microsoft.Compute/disks/read",
    "disks.list": "Microsoft.Compute/disks/read",
    "disks.write": "Microsoft.Compute/disks/write",
    "disks.delete": "Microsoft.Compute/disks/delete",
    "snapshots.read": "Microsoft.Compute/snapshots/read",
    "snapshots.list": "Microsoft.Compute/snapshots/read",
    "snapshots.write": "Microsoft.Compute/snapshots/write",
    "snapshots.delete": "Microsoft.Compute/snapshots/delete",
    "diskOperations.read": "Microsoft.Compute/locations/DiskOperations/read",
    "operations.read": "Microsoft.Compute/locations/operations/read",
    "locks.list": "Microsoft.Authorization/locks/read",
}
# A lock's level and what it forbids (Azure Resource Manager, "Lock your resources to protect your
# infrastructure"): ReadOnly forbids every write and POST action, CanNotDelete only deletes.
WRITE_OPS = {"write", "delete", "deallocate", "start", "powerOff"}
LOCK_FORBIDS = {"readonly": WRITE_OPS, "cannotdelete": {"delete"}}

_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_RG = _SUB + r"/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Compute"
_AUTHZ = _SUB + r"/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Authorization"
_TYPE = r"(?P<type>disks|snapshots|virtualMachines)"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"


def arm_error(status: int, code: str, message: str, headers: dict | None = None) -> HTTPError:
    return HTTPError(status, {"error": {"code": code, "message": message}}, headers=headers)


def _api_version_tuple(v: str) -> tuple:
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(-preview)?", v or "")
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else ()


class ArmHandler(LabHandler):
    system = "arm"
    routes = [
        (
            "GET",
            _SUB + r"/providers/Microsoft\.Compute/locations/(?P<loc>[^/]+)/DiskOperations/(?P<op>[^/]+)",
            "get_disk_op",
        ),
        ("GET", _SUB + r"/providers/Microsoft\.Compute/locations/(?P<loc>[^/]+)/operations/(?P<op>[^/]+)", "get_vm_op"),
        ("GET", _SUB + r"/providers/Microsoft\.Compute/" + _TYPE, "list_sub"),
        ("GET", _RG + "/" + _TYPE, "list_rg"),
        ("GET", _RG + r"/virtualMachines/(?P<name>[^/]+)/instanceView", "vm_instance_view"),
        ("POST", _RG + r"/virtualMachines/(?P<name>[^/]+)/(?P<action>deallocate|start|powerOff)", "vm_action"),
        ("GET", _RG + "/" + _TYPE + r"/(?P<name>[^/]+)", "get_resource"),
        ("PUT", _RG + "/" + _TYPE + r"/(?P<name>[^/]+)", "put_resource"),
        ("DELETE", _RG + "/" + _TYPE + r"/(?P<name>[^/]+)", "delete_resource"),
        ("GET", _AUTHZ + r"/permissions", "list_permissions"),
        ("GET", _AUTHZ + r"/locks", "list_locks"),
    ]

    # ------------------------------------------------------------------ helpers
    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    def error_body(self, status: int, code: str, message: str):
        return {"error": {"code": code, "message": message}}

    def _op_name(self, req: Request) -> str:
        p = req.params
        if "/providers/microsoft.authorization/" in req.path.lower():
            return "permissions.list" if req.path.lower().endswith("/permissions") else "locks.list"
        if "op" in p:
            return "diskOperations.read" if "/DiskOperations/" in req.path else "operations.read"
        if "action" in p:
            return f"virtualMachines.{p['action']}"
        if req.path.endswith("/instanceView"):
            return "virtualMachines.instanceView"
        rtype = p.get("type", "virtualMachines")
        if "name" not in p:
            return f"{rtype}.list"
        return f"{rtype}.{ {'GET': 'read', 'PUT': 'write', 'DELETE': 'delete'}[req.method] }"

    def _host_of(self, req: Request) -> str | None:
        """The lab host a request is about (for faults narrowed with ``host=``)."""
        w = self.world
        p = req.params
        with w.lock:
            if "op" in p:
                op = w.data["azure"]["operations"].get(p["op"].lower())
                return op.get("host") if op else None
            name = p.get("name")
            if not name:
                return self._host_of_rg(p.get("rg"))
            rtype = p.get("type", "virtualMachines")
            if rtype == "virtualMachines":
                return name
            res = w.resource(self._rid(req))
            if res is None and req.method == "PUT":
                body = req.json() or {}
                src = ((body.get("properties") or {}).get("creationData") or {}).get("sourceResourceId")
                res = w.resource(src) if src else None
            return self._host_of_resource(res)

    def _host_of_rg(self, rg: str | None) -> str | None:
        """The UMP host whose VM lives in resource group ``rg`` (the lab gives each its own)."""
        for name, h in self.world.hosts.items():
            if rg and h.get("role") == "ump" and str(h.get("resource_group", "")).lower() == rg.lower():
                return name
        return None

    def _host_of_resource(self, res: dict | None) -> str | None:
        if not res:
            return None
        if res.get("type") == "Microsoft.Compute/virtualMachines":
            return res["name"]
        owner = res.get("managedBy")
        if owner:
            return owner.rstrip("/").split("/")[-1]
        src = (res.get("properties", {}).get("creationData") or {}).get("sourceResourceId")
        if src:
            parent = self.world.resource(src)
            if parent is not None and parent is not res:
                return self._host_of_resource(parent)
        return None

    def _rid(self, req: Request) -> str:
        p = req.params
        return (
            f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/Microsoft.Compute/"
            f"{p.get('type', 'virtualMachines')}/{p['name']}"
        )

    def _retry_after(self, op: dict | None, now: float) -> int:
        if op is None:
            return 1
        remaining = op["ends_at"] - now
        return max(1, min(MAX_RETRY_AFTER, math.ceil(remaining)))

    # ------------------------------------------------------------------ checks common to every route
    def before(self, req: Request) -> None:
        w = self.world
        op = self._op_name(req)
        req.op = op  # type: ignore[attr-defined]
        w.count(f"arm.requests.{op}")
        # authentication first, as ARM does
        info = self._authenticate(req)
        self._check_api_version(req, op)
        if req.params.get("sub", "").lower() != w.data["azure"]["subscription_id"].lower():
            raise arm_error(
                404, "SubscriptionNotFound", f"The subscription '{req.params.get('sub')}' could not be found."
            )
        host = self._host_of(req)
        verb = op.split(".")[1]
        f = w.take_fault("arm.429", op=op, host=host or "")
        if f is not None:
            ra = int(f.get("retry_after", max(1, math.ceil(w.duration(20)))))
            raise arm_error(
                429,
                "TooManyRequests",
                "The request is being throttled as the limit has been reached for operation type - "
                f"{'Write' if verb in WRITE_OPS else 'Read'}. Please retry after {ra} seconds.",
                headers={"Retry-After": str(ra)},
            )
        if verb in WRITE_OPS and w.take_fault("arm.409", op=op, host=host or "") is not None:
            raise arm_error(
                409,
                "OperationNotAllowed",
                "Conflicting writes: another operation is in progress on the resource (lab fault arm.409).",
            )
        if w.take_fault("arm.500", op=op, host=host or "") is not None:
            raise arm_error(500, "InternalServerError", "An internal server error occurred (lab fault arm.500).")
        self._apply_state_faults(host or self._host_of_rg(req.params.get("rg")))
        if op != "permissions.list":  # every principal may list its own permissions
            self._authorize(req, op, info, host or self._host_of_rg(req.params.get("rg")))
        if verb in WRITE_OPS:
            self._refuse_if_locked(req, verb, host or self._host_of_rg(req.params.get("rg")))
        if "rg" in req.params:
            with w.lock:
                if req.params["rg"].lower() not in w.data["azure"]["resource_groups"]:
                    raise arm_error(
                        404, "ResourceGroupNotFound", f"Resource group '{req.params['rg']}' could not be found."
                    )
        self._settle()

    def _authenticate(self, req: Request) -> dict:
        header = req.headers.get("Authorization")
        last: HTTPError | None = None
        for aud in AUDIENCES:
            try:
                return check_token(self.world, header, aud)
            except HTTPError as e:
                if e.status != 403:
                    raise
                last = e
        assert last is not None
        raise last

    def _check_api_version(self, req: Request, op: str) -> None:
        v = req.query.get("api-version")
        if not v:
            raise arm_error(
                400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required."
            )
        rtype = op.split(".")[0]
        newest = API_VERSIONS.get(
            rtype, API_VERSIONS["disks"] if rtype == "diskOperations" else API_VERSIONS["virtualMachines"]
        )
        got = _api_version_tuple(v)
        if not got or got > _api_version_tuple(newest) or got < (2015, 1, 1):
            raise arm_error(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{v}' is invalid. The supported versions are up to '{newest}'.",
            )

    def _authorize(self, req: Request, op: str, token_info: dict, host: str | None = None) -> None:
        action = ACTIONS[op]
        w = self.world
        scope = req.path
        with w.lock:
            allowed = list(w.data["azure"].get("allowed_actions", ["*"]))
        denied = w.take_fault("arm.403", action=action) is not None
        denied = denied or action.lower() in {a.lower() for a in self._missing_actions(host)}
        if not denied and any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in allowed):
            return
        who = token_info.get("client_id", "unknown")
        raise arm_error(
            403,
            "AuthorizationFailed",
            f"The client '{who}' with object id '{who}' does not have authorization to perform action "
            f"'{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
            "please refresh your credentials.",
        )

    # ------------------------------------------------------------------ RBAC, locks and host state faults
    def _missing_actions(self, host: str | None) -> set[str]:
        """Actions the identity lacks on ``host``'s resource group (fault ``arm.missing_permission``)."""
        out = set()
        with self.world.lock:
            for f in self.world.data["faults"]:
                p = f["params"]
                if f["name"] == "arm.missing_permission" and (
                    "host" not in p or str(p["host"]).lower() == str(host).lower()
                ):
                    out.add(str(p.get("action", "")))
        return out

    def _locks(self, host: str | None, rg: str) -> list[dict]:
        """Management locks on ``rg`` and its resources (fault ``arm.lock``; ``scope=vm`` locks the VM only)."""
        w = self.world
        out = []
        with w.lock:
            faults = [f["params"] for f in w.data["faults"] if f["name"] == "arm.lock"]
        for n, p in enumerate(faults):
            if "host" in p and str(p["host"]).lower() != str(host).lower():
                continue
            level = {"readonly": "ReadOnly", "cannotdelete": "CanNotDelete"}.get(str(p.get("level", "")).lower())
            if level is None:
                continue
            scope = f"/subscriptions/{w.data['azure']['subscription_id']}/resourceGroups/{rg}"
            if str(p.get("scope", "rg")).lower() == "vm" and host:
                scope += f"/providers/Microsoft.Compute/virtualMachines/{host}"
            name = p.get("lock_name", f"lab-lock-{n + 1}")
            out.append(
                {
                    "id": f"{scope}/providers/Microsoft.Authorization/locks/{name}",
                    "type": "Microsoft.Authorization/locks",
                    "name": name,
                    "properties": {"level": level, "notes": p.get("notes", "lab fault arm.lock")},
                }
            )
        return out

    def _refuse_if_locked(self, req: Request, verb: str, host: str | None) -> None:
        rg = req.params.get("rg")
        if not rg:
            return
        for lock in self._locks(host, rg):
            scope = lock["id"].split("/providers/Microsoft.Authorization/")[0]
            on_vm = "/virtualMachines/" in scope
            if on_vm and req.params.get("type", "virtualMachines") != "virtualMachines":
                continue  # a lock on the VM does not cover disks and snapshots beside it
            if verb in LOCK_FORBIDS[lock["properties"]["level"].lower()]:
                raise arm_error(
                    409,
                    "ScopeLocked",
                    f"The scope '{req.path}' cannot perform {'delete' if verb == 'delete' else 'write'} operation "
                    f"because following scope(s) are locked: '{scope}'. Please remove the lock and try again.",
                )

    def _apply_state_faults(self, host: str | None) -> None:
        """Faults that describe how a host's VM is built, made real the first time it is asked about:
        ``arm.des`` (the OS disk encrypted with a customer-managed key from a disk encryption set) and
        ``arm.data_disk`` (a managed data disk attached at a LUN)."""
        if not host or host not in self.world.hosts:
            return
        w = self.world
        with w.lock:
            applied = w.data["azure"].setdefault("state_faults_applied", {}).setdefault(host, [])
            vm = w.resource(w.hosts[host]["vm_id"])
            if vm is None:
                return
            des = w.peek_fault("arm.des", host=host)
            if des is not None and "des" not in applied:
                applied.append("des")
                disk = w.resource(vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"])
                des_id = (
                    vm["id"].split("/providers/")[0]
                    + "/providers/Microsoft.Compute/diskEncryptionSets/"
                    + str(des.get("des_name", f"des-{host}"))
                )
                if disk is not None:
                    disk["properties"]["encryption"] = {
                        "type": "EncryptionAtRestWithCustomerKey",
                        "diskEncryptionSetId": des_id,
                    }
            dd = w.peek_fault("arm.data_disk", host=host)
            if dd is not None and "data_disk" not in applied:
                applied.append("data_disk")
                lun = int(dd.get("lun", 0))
                size = int(dd.get("size_gb", 256))
                name = f"{host}_DataDisk_{lun}"
                disk_id = vm["id"].split("/providers/")[0] + "/providers/Microsoft.Compute/disks/" + name
                os_disk = w.resource(vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]) or {}
                w.resources[arm_key(disk_id)] = {
                    "id": disk_id,
                    "name": name,
                    "type": "Microsoft.Compute/disks",
                    "location": vm["location"],
                    "managedBy": vm["id"],
                    "sku": {"name": "Premium_LRS", "tier": "Premium"},
                    "zones": list(vm.get("zones") or []),
                    "properties": {
                        "creationData": {"createOption": "Empty"},
                        "diskSizeGB": size,
                        "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
                        "networkAccessPolicy": "AllowAll",
                        "publicNetworkAccess": "Enabled",
                        "timeCreated": os_disk.get("properties", {}).get("timeCreated"),
                        "provisioningState": "Succeeded",
                        "diskState": "Attached",
                        "diskSizeBytes": size * 1024**3,
                        "uniqueId": str(uuid.uuid4()),
                    },
                }
                vm["properties"]["storageProfile"]["dataDisks"].append(
                    {
                        "lun": lun,
                        "name": name,
                        "createOption": "Attach",
                        "caching": "ReadOnly",
                        "managedDisk": {"storageAccountType": "Premium_LRS", "id": disk_id},
                        "deleteOption": "Detach",
                        "diskSizeGB": size,
                        "toBeDetached": False,
                    }
                )

    def list_permissions(self, req: Request):
        """Permissions - List For Resource Group: the caller's effective actions (one entry per role assignment;
        the lab has one) with the actions it lacks as ``notActions``."""
        w = self.world
        host = self._host_of_rg(req.params.get("rg"))
        with w.lock:
            allowed = list(w.data["azure"].get("allowed_actions", ["*"]))
        missing = sorted(self._missing_actions(host))
        return {
            "value": [
                {
                    "actions": allowed,
                    "notActions": [a for a in missing if a],
                    "dataActions": [],
                    "notDataActions": [],
                }
            ]
        }

    def list_locks(self, req: Request):
        host = self._host_of_rg(req.params.get("rg"))
        return {"value": self._locks(host, req.params["rg"])}

    # ------------------------------------------------------------------ long-running operations
    def _start_op(self, kind: str, resource: dict, seconds: float, host: str | None, **extra) -> dict:
        """Record an operation; the caller holds the lock. ``seconds`` is the real (unscaled) duration."""
        w = self.world
        now = time.time()
        slow = w.peek_fault("arm.slow", op=extra.get("op", ""), host=host or "")
        duration = float(slow["seconds"]) if slow is not None and "seconds" in slow else w.duration(seconds)
        if slow is not None:
            w.take_fault("arm.slow", op=extra.get("op", ""), host=host or "")
        op = {
            "id": str(uuid.uuid4()),
            "kind": kind,
            "resource_id": resource["id"],
            "location": resource.get("location", "westeurope"),
            "start": now,
            "ends_at": now + duration,
            "status": "InProgress",
            "host": host,
            **extra,
        }
        w.data["azure"]["operations"][op["id"]] = op
        return op

    def _settle(self) -> None:
        """Finish every operation whose end time has passed (applies its effects)."""
        w = self.world
        now = time.time()
        with w.lock:
            for op in w.data["azure"]["operations"].values():
                if op["status"] == "InProgress" and op["ends_at"] <= now:
                    self._finish(op)

    def _finish(self, op: dict) -> None:
        w = self.world
        res = w.resource(op["resource_id"])
        kind = op["kind"]
        op["status"] = "Failed" if op.get("fail") else "Succeeded"
        op["end"] = max(op["ends_at"], op["start"])
        if res is None:
            return
        props = res["properties"]
        if kind in ("snapshot.create", "disk.create", "disk.update", "snapshot.update"):
            if op.get("fail"):
                props["provisioningState"] = "Failed"
                w.delete_disk_contents(res["id"])
                op["error"] = {
                    "code": "InternalDiskManagementError",
                    "message": f"An internal disk management error occurred while creating '{res['name']}' (lab fault).",
                }
            else:
                props["provisioningState"] = "Succeeded"
                if "completionPercent" in props:
                    props["completionPercent"] = 100.0
        elif kind in ("disk.delete", "snapshot.delete"):
            w.resources.pop(arm_key(res["id"]), None)
            w.delete_disk_contents(res["id"])
        elif kind == "vm.update":
            if op.get("fail"):
                props["provisioningState"] = "Failed"
                op["error"] = {
                    "code": "InternalExecutionError",
                    "message": f"An internal execution error occurred while updating VM '{res['name']}' "
                    "(lab fault arm.vm_update_failed). Please retry later.",
                }
            else:
                props["provisioningState"] = "Succeeded"
        elif kind == "vm.deallocate":
            w.set_power_state(res["id"], "deallocated")
            props["provisioningState"] = "Succeeded"
            self._set_disk_state(res, "Reserved")
        elif kind == "vm.powerOff":
            w.set_power_state(res["id"], "stopped")
            props["provisioningState"] = "Succeeded"
        elif kind == "vm.start":
            w.set_power_state(res["id"], "running")
            props["provisioningState"] = "Succeeded"
            self._set_disk_state(res, "Attached")

    def _set_disk_state(self, vm: dict, state: str) -> None:
        disk = self.world.resource(vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"])
        if disk is not None:
            disk["properties"]["diskState"] = state

    def _in_progress(self, resource_id: str) -> dict | None:
        key = arm_key(resource_id)
        for op in self.world.data["azure"]["operations"].values():
            if op["status"] == "InProgress" and arm_key(op["resource_id"]) == key:
                return op
        return None

    def _conflict_if_busy(self, resource_id: str, what: str) -> None:
        op = self._in_progress(resource_id)
        if op is not None:
            raise arm_error(
                409,
                "OperationNotAllowed",
                f"Conflicting writes: operation '{op['kind']}' ({op['id']}) is in progress on "
                f"'{resource_id.split('/')[-1]}'; '{what}' is not allowed until it completes.",
            )

    def _lro_headers(self, op: dict, api_version: str, disk: bool) -> dict:
        kind = "DiskOperations" if disk else "operations"
        sub = self.world.data["azure"]["subscription_id"]
        url = (
            f"{self.base}/subscriptions/{sub}/providers/Microsoft.Compute/locations/{op['location']}/{kind}/{op['id']}"
        )
        return {
            "Azure-AsyncOperation": f"{url}?api-version={api_version}",
            "Location": f"{url}?{'' if disk else 'monitor=true&'}api-version={api_version}",
            "Retry-After": str(self._retry_after(op, time.time())),
        }

    def _op_body(self, op: dict) -> dict:
        body = {"name": op["id"], "startTime": _iso(op["start"]), "status": op["status"]}
        if op["status"] != "InProgress":
            body["endTime"] = _iso(op["end"])
        if op["status"] == "Failed":
            body["error"] = op.get("error") or {"code": "OperationFailed", "message": "The operation failed."}
        return body

    def get_disk_op(self, req: Request):
        with self.world.lock:
            op = self.world.data["azure"]["operations"].get(req.params["op"].lower())
            if op is None or not op["kind"].startswith(("disk.", "snapshot.")):
                raise arm_error(404, "NotFound", f"Operation '{req.params['op']}' was not found.")
            body = self._op_body(op)
            if op["status"] == "Succeeded" and not op["kind"].endswith(".delete"):
                res = self.world.resource(op["resource_id"])
                if res is not None:
                    body["properties"] = {"output": copy.deepcopy(res)}
            headers = {"Retry-After": str(self._retry_after(op, time.time()))} if op["status"] == "InProgress" else {}
        return Response(200, body, headers)

    def get_vm_op(self, req: Request):
        with self.world.lock:
            op = self.world.data["azure"]["operations"].get(req.params["op"].lower())
            if op is None or not op["kind"].startswith("vm."):
                raise arm_error(404, "NotFound", f"Operation '{req.params['op']}' was not found.")
            running = op["status"] == "InProgress"
            headers = {"Retry-After": str(self._retry_after(op, time.time()))} if running else {}
            if req.query.get("monitor", "").lower() == "true":
                # the Location URL of a POST action: 202 while running, 200 (no body) once done
                if running:
                    return Response(202, None, headers)
                if op["status"] == "Failed":
                    return Response(
                        500, {"error": op.get("error") or {"code": "OperationFailed", "message": "failed"}}, {}
                    )
                return Response(200, None, {})
            return Response(200, self._op_body(op), headers)

    # ------------------------------------------------------------------ views
    def _view(self, res: dict) -> dict:
        """What ARM shows of a resource (plus lab faults that change what is shown)."""
        out = copy.deepcopy(res)
        w = self.world
        if res["type"] == "Microsoft.Compute/virtualMachines" and w.peek_fault("arm.ade", host=res["name"]):
            out["resources"] = [self._ade_extension(res)]
        if res["type"] == "Microsoft.Compute/disks":
            host = self._host_of_resource(res)
            if host and res.get("managedBy") and w.peek_fault("arm.ade", host=host):
                out["properties"]["encryptionSettingsCollection"] = {
                    "enabled": True,
                    "encryptionSettings": [
                        {
                            "diskEncryptionKey": {
                                "secretUrl": f"https://kv-{host}.vault.azure.net/secrets/ade/0",
                                "sourceVault": {
                                    "id": f"{res['id'].split('/providers/')[0]}/providers/Microsoft.KeyVault/vaults/kv-{host}"
                                },
                            }
                        }
                    ],
                    "encryptionSettingsVersion": "1.1",
                }
        return out

    def _ade_extension(self, vm: dict) -> dict:
        return {
            "id": f"{vm['id']}/extensions/AzureDiskEncryption",
            "name": "AzureDiskEncryption",
            "type": "Microsoft.Compute/virtualMachines/extensions",
            "location": vm["location"],
            "properties": {
                "publisher": "Microsoft.Azure.Security",
                "type": "AzureDiskEncryption",
                "typeHandlerVersion": "2.2",
                "autoUpgradeMinorVersion": True,
                "settings": {"EncryptionOperation": "EnableEncryption", "VolumeType": "All"},
                "provisioningState": "Succeeded",
            },
        }

    def _instance_view(self, vm: dict) -> dict:
        w = self.world
        power = w.power_state(vm["id"])
        ps = vm["properties"]["provisioningState"]
        disk = w.resource(vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]) or {}
        now = _iso(time.time())
        state = w.disk_contents.get(arm_key(disk.get("id", "")), {}).get("os", {})
        return {
            "computerName": vm["properties"].get("osProfile", {}).get("computerName"),
            "osName": state.get("product_name", "Windows Server 2019 Datacenter"),
            "osVersion": state.get("version", "10.0.17763.0"),
            "hyperVGeneration": disk.get("properties", {}).get("hyperVGeneration", "V2"),
            "vmAgent": {
                "vmAgentVersion": "2.7.41491.1102",
                "statuses": [
                    {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Ready" if power == "running" else "Not Ready",
                        "time": now,
                    }
                ],
            },
            "disks": [
                {
                    "name": vm["properties"]["storageProfile"]["osDisk"]["name"],
                    "statuses": [
                        {
                            "code": "ProvisioningState/succeeded",
                            "level": "Info",
                            "displayStatus": "Provisioning succeeded",
                            "time": now,
                        }
                    ],
                }
            ],
            "statuses": [
                {
                    "code": f"ProvisioningState/{ps.lower()}",
                    "level": "Info",
                    "displayStatus": f"Provisioning {ps.lower()}",
                    "time": now,
                },
                {"code": f"PowerState/{power}", "level": "Info", "displayStatus": POWER_DISPLAY.get(power, power)},
            ],
        }

    def _get_existing(self, req: Request) -> dict:
        res = self.world.resource(self._rid(req))
        if res is None:
            rtype = req.params.get("type", "virtualMachines")
            raise arm_error(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.Compute/{rtype}/{req.params['name']}' under resource group "
                f"'{req.params['rg']}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        return res

    # ------------------------------------------------------------------ routes: reads
    def get_resource(self, req: Request):
        with self.world.lock:
            res = self._get_existing(req)
            out = self._view(res)
            if res["type"] == "Microsoft.Compute/virtualMachines" and req.query.get("$expand") == "instanceView":
                out["properties"]["instanceView"] = self._instance_view(res)
            return out

    def vm_instance_view(self, req: Request):
        with self.world.lock:
            return self._instance_view(self._get_existing(req))

    def _list(self, rtype: str, rg: str | None):
        w = self.world
        want = f"microsoft.compute/{rtype.lower()}"
        with w.lock:
            out = []
            for res in w.resources.values():
                if res["type"].lower() != want:
                    continue
                if rg is not None and f"/resourcegroups/{rg.lower()}/" not in arm_key(res["id"]) + "/":
                    continue
                out.append(self._view(res))
        return {"value": sorted(out, key=lambda r: r["id"].lower())}

    def list_rg(self, req: Request):
        return self._list(req.params["type"], req.params["rg"])

    def list_sub(self, req: Request):
        return self._list(req.params["type"], None)

    # ------------------------------------------------------------------ routes: writes
    def put_resource(self, req: Request):
        body = req.json()
        if not isinstance(body, dict):
            raise arm_error(
                400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
            )
        rtype = req.params["type"]
        with self.world.lock:
            if rtype == "virtualMachines":
                return self._put_vm(req, body)
            return self._put_disk_or_snapshot(req, body, rtype)

    def _put_disk_or_snapshot(self, req: Request, body: dict, rtype: str):
        w = self.world
        name = req.params["name"]
        rid = self._rid(req)
        what = "snapshot" if rtype == "snapshots" else "disk"
        if not NAME_RE.match(name):
            raise arm_error(
                400,
                "InvalidParameter",
                f"The {what} name '{name}' is invalid: use 1-80 letters, digits, '_', '.', '-', starting with a "
                "letter or digit and ending with a letter, digit or '_'. Target: 'name'.",
            )
        location = body.get("location")
        if not location:
            raise arm_error(400, "LocationRequired", "The location property is required for this definition.")
        props = body.get("properties") or {}
        cd = props.get("creationData") or {}
        existing = w.resource(rid)
        skus = SNAPSHOT_SKUS if rtype == "snapshots" else DISK_SKUS
        sku = (body.get("sku") or {}).get("name") or (existing or {}).get("sku", {}).get("name") or "Standard_LRS"
        if sku not in skus:
            raise arm_error(
                400,
                "InvalidParameter",
                f"The value '{sku}' of parameter 'sku.name' is not valid for {rtype}; allowed: {', '.join(skus)}. "
                "Target: 'sku.name'.",
            )
        if existing is not None:
            self._conflict_if_busy(rid, "write")
            old_cd = existing["properties"].get("creationData", {})
            if cd and arm_key(cd.get("sourceResourceId") or "") != arm_key(old_cd.get("sourceResourceId") or ""):
                raise arm_error(
                    409,
                    "PropertyChangeNotAllowed",
                    "Changing property 'creationData.sourceResourceId' is not allowed. Target: 'creationData.sourceResourceId'.",
                )
            if location.lower() != existing["location"].lower():
                raise arm_error(409, "PropertyChangeNotAllowed", "Changing property 'location' is not allowed.")
            if (
                rtype == "snapshots"
                and "incremental" in props
                and bool(props["incremental"]) != bool(existing["properties"].get("incremental"))
            ):
                raise arm_error(409, "PropertyChangeNotAllowed", "Changing property 'incremental' is not allowed.")
            existing["tags"] = dict(body.get("tags") or {})
            existing["sku"] = {"name": sku, "tier": skus[sku]}
            failed_before = existing["properties"].get("provisioningState") == "Failed"
            existing["properties"]["provisioningState"] = "Creating" if failed_before else "Updating"
            host = self._host_of_resource(existing)
            fail = failed_before and w.take_fault(
                "arm.snapshot_failed" if rtype == "snapshots" else "arm.disk_failed", host=host or ""
            )
            if failed_before:
                src = existing["properties"]["creationData"].get("sourceResourceId")
                if src and arm_key(src) in w.disk_contents:
                    w.copy_disk_contents(src, rid)
            op = self._start_op(
                f"{what}.create" if failed_before else f"{what}.update",
                existing,
                DURATIONS["snapshot" if rtype == "snapshots" else "disk_from_snapshot"] if failed_before else 2,
                host,
                op=req.op,  # type: ignore[attr-defined]
                fail=bool(fail),
            )
            return Response(202, self._view(existing), self._lro_headers(op, req.query["api-version"], True))

        # create
        option = cd.get("createOption")
        if option not in ("Copy", "Empty") or (rtype == "snapshots" and option != "Copy"):
            raise arm_error(
                400,
                "InvalidParameter",
                f"The value '{option}' of parameter 'creationData.createOption' is not supported by the lab "
                "(use Copy with a sourceResourceId). Target: 'creationData.createOption'.",
            )
        src_id = cd.get("sourceResourceId")
        if not src_id:
            raise arm_error(
                400,
                "InvalidParameter",
                "Required parameter 'creationData.sourceResourceId' is missing (null). Target: 'creationData.sourceResourceId'.",
            )
        src = w.resource(src_id)
        if src is None:
            raise arm_error(
                404,
                "ResourceNotFound",
                f"The source resource '{src_id}' was not found. Target: 'creationData.sourceResourceId'.",
            )
        src_props = src["properties"]
        if (
            rtype == "disks"
            and src["type"] != "Microsoft.Compute/snapshots"
            and src["type"] != "Microsoft.Compute/disks"
        ):
            raise arm_error(400, "InvalidParameter", f"'{src_id}' cannot be the source of a disk.")
        if rtype == "snapshots" and src["type"] != "Microsoft.Compute/disks":
            raise arm_error(
                400,
                "InvalidParameter",
                f"The source '{src_id}' of a snapshot must be a managed disk. Target: 'creationData.sourceResourceId'.",
            )
        if src_props.get("provisioningState") != "Succeeded":
            raise arm_error(
                409,
                "OperationNotAllowed",
                f"The source '{src['name']}' is in provisioning state '{src_props.get('provisioningState')}'; "
                "it can be copied only once it has Succeeded.",
            )
        if location.lower() != src["location"].lower():
            raise arm_error(
                400,
                "InvalidParameter",
                f"The location '{location}' differs from the source's location '{src['location']}'; a copy must be "
                "created in the same region. Target: 'location'.",
            )
        zones = body.get("zones")
        if zones is not None and (
            rtype == "snapshots" or not isinstance(zones, list) or len(zones) > 1 or sku.endswith("_ZRS")
        ):
            raise arm_error(
                400,
                "InvalidParameter",
                f"The value '{zones}' of parameter 'zones' is not valid for this {what} (one zone, not for ZRS or "
                "snapshots). Target: 'zones'.",
            )
        size = props.get("diskSizeGB") or src_props.get("diskSizeGB")
        if size < src_props.get("diskSizeGB", 0):
            raise arm_error(
                400,
                "InvalidParameter",
                f"The disk size {size} GB is smaller than the source's {src_props['diskSizeGB']} GB. Target: 'diskSizeGB'.",
            )
        hyperv = props.get("hyperVGeneration") or src_props.get("hyperVGeneration")
        if hyperv not in ("V1", "V2"):
            raise arm_error(
                400,
                "InvalidParameter",
                f"The value '{hyperv}' of parameter 'hyperVGeneration' is not valid (V1 or V2).",
            )
        now = time.time()
        security = copy.deepcopy(props.get("securityProfile") or src_props.get("securityProfile"))
        new_props = {
            "osType": props.get("osType") or src_props.get("osType"),
            "hyperVGeneration": hyperv,
            "supportedCapabilities": copy.deepcopy(src_props.get("supportedCapabilities", {"architecture": "x64"})),
            "creationData": {
                "createOption": "Copy",
                "sourceResourceId": src["id"],
                "sourceUniqueId": src_props.get("uniqueId"),
            },
            "diskSizeGB": size,
            "encryption": copy.deepcopy(props.get("encryption") or {"type": "EncryptionAtRestWithPlatformKey"}),
            "networkAccessPolicy": props.get("networkAccessPolicy", "AllowAll"),
            "publicNetworkAccess": props.get("publicNetworkAccess", "Enabled"),
            "timeCreated": _iso(now),
            # what ARM answers in the 202 of a create (azure-rest-api-specs DiskRP examples
            # Snapshot_Create_FromAnExistingSnapshot.json, Disk_Create_FromAnExistingManagedDisk.json): "Updating"
            "provisioningState": "Updating",
            "diskSizeBytes": size * 1024**3,
            "uniqueId": str(uuid.uuid4()),
        }
        if security:
            new_props["securityProfile"] = security
        if rtype == "snapshots":
            new_props["incremental"] = bool(props.get("incremental", False))
            if new_props["incremental"]:
                new_props["incrementalSnapshotFamilyId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, arm_key(src["id"])))
        else:
            new_props["diskState"] = "Unattached"
            new_props["diskIOPSReadWrite"] = src_props.get("diskIOPSReadWrite", 500)
            new_props["diskMBpsReadWrite"] = src_props.get("diskMBpsReadWrite", 100)
            new_props["tier"] = src_props.get("tier", "P10") if skus[sku] == "Premium" else None
            if new_props["tier"] is None:
                del new_props["tier"]
        res = {
            "id": rid,
            "name": name,
            "type": f"Microsoft.Compute/{rtype}",
            "location": src["location"],
            "tags": dict(body.get("tags") or {}),
            "sku": {"name": sku, "tier": skus[sku]},
            "properties": new_props,
        }
        if rtype == "disks" and zones:
            res["zones"] = list(zones)
        host = self._host_of_resource(src)
        skew = w.clock_skew(host)
        if skew:  # fault clock.skew: ARM's clock (timeCreated) runs off the controller's
            new_props["timeCreated"] = _iso(now + skew)
        w.resources[arm_key(rid)] = res
        # point in time: the copy holds what the source holds now
        if arm_key(src["id"]) in w.disk_contents:
            w.copy_disk_contents(src["id"], rid)
        if rtype == "snapshots":
            fail = w.take_fault("arm.snapshot_failed", host=host or "") is not None
        else:
            # a disk made from a snapshot (the rollback's restored disk) whose copy ends Failed
            fail = w.take_fault("arm.disk_failed", host=host or "") is not None
        op = self._start_op(
            f"{what}.create",
            res,
            DURATIONS["snapshot" if rtype == "snapshots" else "disk_from_snapshot"],
            host,
            op=req.op,  # type: ignore[attr-defined]
            fail=fail,
        )
        return Response(202, self._view(res), self._lro_headers(op, req.query["api-version"], True))

    def _put_vm(self, req: Request, body: dict):
        w = self.world
        vm = w.resource(self._rid(req))
        if vm is None:
            raise arm_error(
                400,
                "InvalidParameter",
                f"The lab does not create virtual machines; '{req.params['name']}' does not exist. Target: 'name'.",
            )
        self._conflict_if_busy(vm["id"], "write")
        props = body.get("properties") or {}
        new_os = (props.get("storageProfile") or {}).get("osDisk") or {}
        old_os = vm["properties"]["storageProfile"]["osDisk"]
        if new_os.get("createOption") and new_os["createOption"] != old_os["createOption"]:
            raise arm_error(
                409,
                "PropertyChangeNotAllowed",
                "Changing property 'osDisk.createOption' is not allowed. Target: 'properties.storageProfile.osDisk.createOption'.",
            )
        if (body.get("location") or vm["location"]).lower() != vm["location"].lower():
            raise arm_error(409, "PropertyChangeNotAllowed", "Changing property 'location' is not allowed.")
        new_disk_id = ((new_os.get("managedDisk") or {}).get("id")) or old_os["managedDisk"]["id"]
        swapping = arm_key(new_disk_id) != arm_key(old_os["managedDisk"]["id"])
        if swapping:
            self._check_swap(vm, new_disk_id)
        # writable fields only; read-only ones (ids, provisioningState, vmId, timeCreated) stay ARM's
        if "tags" in body:
            vm["tags"] = dict(body.get("tags") or {})
        hw = props.get("hardwareProfile")
        if hw:
            vm["properties"]["hardwareProfile"] = copy.deepcopy(hw)
        if swapping and w.take_fault("arm.vm_update_failed", host=vm["name"]) is not None:
            # the PUT is accepted and its operation ends Failed: the model keeps the disk it had, the VM's
            # provisioningState is Failed (ARM's shape for a failed VM update; facts/azure.md)
            vm["properties"]["provisioningState"] = "Updating"
            op = self._start_op(
                "vm.update",
                vm,
                DURATIONS["vm_update"],
                vm["name"],
                op=req.op,  # type: ignore[attr-defined]
                fail=True,
            )
            headers = self._lro_headers(op, req.query["api-version"], False)
            headers.pop("Location")
            return Response(200, self._view(vm), headers)
        if swapping:
            disk = w.resource(new_disk_id)
            old_disk = w.resource(old_os["managedDisk"]["id"])
            if old_disk is not None:
                old_disk.pop("managedBy", None)
                old_disk["properties"]["diskState"] = "Unattached"
            power = w.power_state(vm["id"])
            disk["managedBy"] = vm["id"]
            disk["properties"]["diskState"] = "Reserved" if power == "deallocated" else "Attached"
            old_os["managedDisk"] = {"storageAccountType": disk["sku"]["name"], "id": disk["id"]}
            old_os["name"] = disk["name"]
            old_os["diskSizeGB"] = disk["properties"]["diskSizeGB"]
        elif new_os.get("caching"):
            old_os["caching"] = new_os["caching"]
        vm["properties"]["provisioningState"] = "Updating"
        op = self._start_op(
            "vm.update",
            vm,
            DURATIONS["vm_update"],
            vm["name"],
            op=req.op,  # type: ignore[attr-defined]
        )
        headers = self._lro_headers(op, req.query["api-version"], False)
        headers.pop("Location")  # a VM PUT answers with Azure-AsyncOperation only
        return Response(200, self._view(vm), headers)

    def _check_swap(self, vm: dict, disk_id: str) -> None:
        w = self.world
        disk = w.resource(disk_id)
        if disk is None or disk["type"] != "Microsoft.Compute/disks":
            raise arm_error(
                404,
                "NotFound",
                f"Disk '{disk_id}' was not found. Target: 'properties.storageProfile.osDisk.managedDisk.id'.",
            )
        if w.peek_fault("arm.ade", host=vm["name"]):
            raise arm_error(
                409,
                "OperationNotAllowed",
                f"The OS disk of VM '{vm['name']}' cannot be swapped: the VM is encrypted with Azure Disk Encryption.",
            )
        dp = disk["properties"]
        if dp.get("provisioningState") != "Succeeded":
            raise arm_error(
                409,
                "OperationNotAllowed",
                f"Disk '{disk['name']}' is in provisioning state '{dp.get('provisioningState')}' and cannot be attached yet.",
            )
        if disk.get("managedBy") and arm_key(disk["managedBy"]) != arm_key(vm["id"]):
            raise arm_error(
                409,
                "OperationNotAllowed",
                f"Disk '{disk['name']}' is already attached to VM '{disk['managedBy']}'.",
            )
        if disk["location"].lower() != vm["location"].lower():
            raise arm_error(400, "InvalidParameter", f"Disk '{disk['name']}' is in another region than the VM.")
        if vm.get("zones") and disk.get("zones") != vm["zones"]:
            raise arm_error(
                400,
                "InvalidParameter",
                f"Disk '{disk['name']}' (zones {disk.get('zones')}) cannot be attached to VM '{vm['name']}' in zone "
                f"{vm['zones']}: the disk must be in the VM's zone. Target: 'managedDisk.id'.",
            )
        old = w.resource(vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]) or {}
        want_gen = old.get("properties", {}).get("hyperVGeneration", "V2")
        if dp.get("hyperVGeneration", "V1") != want_gen:
            raise arm_error(
                400,
                "InvalidParameter",
                f"Disk '{disk['name']}' has hyperVGeneration {dp.get('hyperVGeneration', 'V1')} but VM "
                f"'{vm['name']}' is generation {want_gen}. Target: 'hyperVGeneration'.",
            )
        if dp.get("osType") != "Windows":
            raise arm_error(
                400, "InvalidParameter", f"Disk '{disk['name']}' has no osType Windows; it is not an OS disk."
            )
        vm_sec = (vm["properties"].get("securityProfile") or {}).get("securityType")
        disk_sec = (dp.get("securityProfile") or {}).get("securityType")
        if vm_sec == "TrustedLaunch" and disk_sec not in ("TrustedLaunch", None):
            raise arm_error(
                400,
                "InvalidParameter",
                f"Disk '{disk['name']}' has security type {disk_sec}; VM '{vm['name']}' is TrustedLaunch.",
            )

    def vm_action(self, req: Request):
        w = self.world
        action = req.params["action"]
        with w.lock:
            vm = self._get_existing(req)
            self._conflict_if_busy(vm["id"], action)
            power = w.power_state(vm["id"])
            if action == "start":
                target = "running"
                w.set_power_state(vm["id"], "starting" if power != "running" else "running")
                seconds = 0 if power == "running" else DURATIONS["vm_start"]
            elif action == "deallocate":
                target = "deallocated"
                w.set_power_state(vm["id"], "deallocating" if power != "deallocated" else "deallocated")
                seconds = 0 if power == "deallocated" else DURATIONS["vm_deallocate"]
            else:
                if power == "deallocated":
                    raise arm_error(
                        409,
                        "OperationNotAllowed",
                        f"Operation 'powerOff' is not allowed on VM '{vm['name']}' since the VM is deallocated.",
                    )
                target = "stopped"
                w.set_power_state(vm["id"], "stopping" if power != "stopped" else "stopped")
                seconds = 0 if power == "stopped" else DURATIONS["vm_deallocate"] / 2
            vm["properties"]["provisioningState"] = "Updating"
            op = self._start_op(f"vm.{action}", vm, seconds, vm["name"], op=req.op, target=target)  # type: ignore[attr-defined]
            return Response(202, None, self._lro_headers(op, req.query["api-version"], False))

    def delete_resource(self, req: Request):
        w = self.world
        rtype = req.params["type"]
        with w.lock:
            res = w.resource(self._rid(req))
            if res is None:
                return Response(204, None)  # ARM: deleting what is not there succeeds
            if rtype == "virtualMachines":
                raise arm_error(400, "InvalidParameter", "The lab does not delete virtual machines.")
            self._conflict_if_busy(res["id"], "delete")
            if res.get("managedBy"):
                raise arm_error(
                    409,
                    "OperationNotAllowed",
                    f"Disk '{res['name']}' is attached to VM '{res['managedBy']}' and cannot be deleted.",
                )
            for op in w.data["azure"]["operations"].values():
                src = (w.resource(op["resource_id"]) or {}).get("properties", {}).get("creationData", {})
                if op["status"] == "InProgress" and arm_key(src.get("sourceResourceId") or "") == arm_key(res["id"]):
                    raise arm_error(
                        409,
                        "OperationNotAllowed",
                        f"'{res['name']}' is being copied by operation {op['id']} and cannot be deleted until it completes.",
                    )
            res["properties"]["provisioningState"] = "Deleting"
            what = "snapshot" if rtype == "snapshots" else "disk"
            op = self._start_op(f"{what}.delete", res, 5, self._host_of_resource(res), op=req.op)  # type: ignore[attr-defined]
            return Response(202, None, self._lro_headers(op, req.query["api-version"], True))


def start(lab) -> dict:
    w: World = lab.world
    with w.lock:
        w.data["azure"].setdefault("operations", {})
        w.data["azure"].setdefault("allowed_actions", ["*"])
    srv = lab.serve(ArmHandler)
    url = lab.url(srv)
    return {"arm": {"base_url": url, "audience": AUDIENCES[0]}, "tls": {"arm": url}}
