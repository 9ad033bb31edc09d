"""win_file, win_find and win_copy (the module side of the win_copy action plugin)."""

from __future__ import annotations

import base64
import hashlib
import io
import ntpath
import re
import zipfile

from ...world import win_key
from .. import fs
from . import ModuleContext, module
from ..process import Cancelled
from .basic import stat_entry


def _locked_fail(ctx: ModuleContext, path: str) -> None:
    handles = fs.locked(ctx.state(), path)
    if handles:
        ctx.fail(
            f"Failed to delete {path}: The process cannot access the file '{handles[0]}' because it is being used "
            "by another process."
        )


@module("ansible.windows.win_file")
def win_file(ctx: ModuleContext) -> dict:
    p = ctx.params
    path = fs.expand_env(p["path"], ctx.user)
    state = p.get("state")
    res: dict = {"changed": False}
    with ctx.lock:
        files = ctx.files()
        if state == "touch":
            if not ctx.check_mode:
                if fs.exists(files, path):
                    files[win_key(path)]["mtime"] = fs.now_iso()
                else:
                    if not fs.is_dir(files, fs.parent(path)):
                        ctx.fail(f"Could not find a part of the path '{path}'.")
                    fs.write_bytes(files, path, b"", make_parents=False)
            res["changed"] = True
            return res
        if fs.exists(files, path):
            isdir = fs.is_dir(files, path)
            if state == "absent":
                _locked_fail(ctx, path)
                if not ctx.check_mode:
                    fs.remove(files, path)
                res["changed"] = True
            elif state == "directory" and not isdir:
                ctx.fail(f"path {path} is not a directory")
            elif state == "file" and isdir:
                ctx.fail(f"path {path} is not a file")
            return res
        if state is None:
            state = "file" if ntpath.basename(path.rstrip()) else "directory"
        if state == "directory":
            if not ctx.check_mode:
                fs.mkdir(files, path)
            res["changed"] = True
        elif state == "file":
            ctx.fail(f"path {path} will not be created")
    return res


def _age_ok(spec: str | None, mtime: float, now: float) -> bool:
    if not spec:
        return True
    m = re.fullmatch(r"(-?)(\d+)([smhdw]?)", spec.strip().lower())
    if not m:
        return True
    mult = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(3)]
    secs = int(m.group(2)) * mult
    age = now - mtime
    return age <= secs if m.group(1) else age >= secs


@module("ansible.windows.win_find")
def win_find(ctx: ModuleContext) -> dict:
    import time

    p = ctx.params
    patterns = p.get("patterns") or []
    use_regex = p.get("use_regex")
    file_type = p.get("file_type") or "file"
    recurse = p.get("recurse")
    depth = p.get("depth")
    contains = p.get("contains")
    examined = 0
    matched: list[dict] = []
    now = time.time()
    # fault winhost.tenants_elsewhere [path=C:\acs\tenants]: this site keeps its customers' files somewhere
    # else (another tenants layout): the folder exists but holds none of them
    moved = ctx.world.peek_fault("winhost.tenants_elsewhere", host=ctx.name)
    moved_root = win_key(moved.get("path") or "C:\\acs\\tenants") if moved else None
    with ctx.lock:
        files = ctx.files()
        for raw in p["paths"]:
            root = fs.expand_env(raw, ctx.user)
            if moved_root and win_key(root).startswith(moved_root):
                continue
            if not fs.is_dir(files, root):
                ctx.warnings.append(f"Argument path '{root}' does not exist, skipping")
                continue
            base_depth = win_key(root).count("\\")
            keys = fs.walk(files, root) if recurse else fs.children(files, root)
            for k in keys:
                d = k.count("\\") - base_depth
                if depth is not None and d > depth:
                    continue
                e = files[k]
                examined += 1
                isdir = e["type"] == "directory"
                if (file_type == "file" and isdir) or (file_type == "directory" and not isdir):
                    continue
                name = ntpath.basename(e.get("path", k))
                if patterns:
                    if use_regex:
                        ok = any(re.search(pt, name, re.I) for pt in patterns)
                    else:
                        ok = any(fs.wildcard_match(name, pt) for pt in patterns)
                    if not ok:
                        continue
                entry = stat_entry(
                    files,
                    e.get("path", k),
                    get_checksum=p.get("get_checksum", True) and not isdir,
                    algo=p.get("checksum_algorithm") or "sha1",
                )
                if not _age_ok(p.get("age"), entry["lastwritetime"], now):
                    continue
                if contains and (isdir or not re.search(contains, fs.read_text(files, k))):
                    continue
                if isdir:
                    entry.pop("checksum", None)
                matched.append(entry)
    matched.sort(key=lambda x: x["path"])
    return {"changed": False, "examined": examined, "matched": len(matched), "files": matched}


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


@module("ansible.windows.win_copy")
def win_copy(ctx: ModuleContext) -> dict:
    p = ctx.params
    mode = p.get("_copy_mode") or "single"
    dest = fs.expand_env(p["dest"], ctx.user)
    force = p.get("force", True)
    res: dict = {"changed": False}
    with ctx.lock:
        files = ctx.files()
        if mode == "query":
            changed_files, changed_dirs = [], []
            for f in p.get("files") or []:
                target = ntpath.join(dest, f["dest"])
                if fs.is_dir(files, target):
                    target = ntpath.join(target, ntpath.basename(f["src"].replace("/", "\\")))
                if fs.exists(files, target) and not fs.is_dir(files, target):
                    if force and _sha1(fs.read_bytes(files, target)) != f.get("checksum"):
                        changed_files.append(f)
                elif fs.is_dir(files, target):
                    ctx.fail(f"cannot copy file to dest '{target}': object at path is already a directory")
                else:
                    changed_files.append(f)
            for d in p.get("directories") or []:
                target = ntpath.join(dest, d["dest"])
                if fs.exists(files, target) and not fs.is_dir(files, target):
                    ctx.fail(f"cannot copy folder to dest '{target}': object at path is already a file")
                if not fs.is_dir(files, target):
                    changed_dirs.append(d)
            res.update(files=changed_files, directories=changed_dirs, symlinks=[])
            return res
        if mode == "single":
            src = fs.expand_env(p["src"], ctx.user)
            try:
                data = fs.read_bytes(files, src)
            except FileNotFoundError:
                ctx.fail(f"Cannot copy src file: '{src}' as it does not exist")
            remote_dest = dest
            if p["dest"].endswith(("/", "\\")) or fs.is_dir(files, dest):
                remote_dest = ntpath.join(dest, p.get("_original_basename") or ntpath.basename(src))
            par = fs.parent(remote_dest)
            if fs.exists(files, par) and not fs.is_dir(files, par):
                ctx.fail(f"object at destination parent dir '{par}' is currently a file")
            if not fs.is_dir(files, par):
                if dest == remote_dest:
                    ctx.fail(f"Destination directory '{par}' does not exist")
                fs.mkdir(files, par)
            handles = fs.locked(ctx.state(), remote_dest)
            if handles:
                ctx.fail(
                    f"The process cannot access the file '{remote_dest}' because it is being used by another process."
                )
            if p.get("backup") and fs.exists(files, remote_dest):
                bk = f"{remote_dest}.{fs.now_iso().replace(':', '')}.bak"
                fs.write_bytes(files, bk, fs.read_bytes(files, remote_dest))
                res["backup_file"] = bk
            if not ctx.check_mode:
                fs.write_bytes(files, remote_dest, data)
            res["changed"] = True
            return res
        if mode == "explode":
            src = fs.expand_env(p["src"], ctx.user)
            try:
                blob = fs.read_bytes(files, src)
            except FileNotFoundError:
                ctx.fail(f"Cannot expand src zip file: '{src}' as it does not exist")
            with zipfile.ZipFile(io.BytesIO(blob)) as zf:
                for info in zf.infolist():
                    # the action plugin base64-encodes each entry name (win_copy.py _create_zip_tempfile)
                    try:
                        name = base64.b64decode(info.filename.rstrip("/")).decode("utf-8")
                    except ValueError:
                        name = info.filename
                    target = ntpath.join(dest, name.replace("/", "\\"))
                    if info.is_dir() or info.filename.endswith("/"):
                        fs.mkdir(files, target)
                    else:
                        fs.write_bytes(files, target, zf.read(info))
            res["changed"] = True
            return res
        if mode == "remote":
            src = fs.expand_env(p["src"], ctx.user)
            if not fs.exists(files, src):
                ctx.fail(f"Cannot copy src file: '{src}' as it does not exist")
            if fs.is_dir(files, src):
                base = src.rstrip("\\")
                target_root = dest if p["src"].endswith(("\\", "/")) else ntpath.join(dest, ntpath.basename(base))
                fs.mkdir(files, target_root)
                for k in fs.walk(files, base):
                    e = files[k]
                    rel = e.get("path", k)[len(base) + 1 :]
                    t = ntpath.join(target_root, rel)
                    if e["type"] == "directory":
                        fs.mkdir(files, t)
                    elif not fs.exists(files, t) or fs.read_bytes(files, t) != fs.read_bytes(files, k):
                        fs.write_bytes(files, t, fs.read_bytes(files, k))
                        res["changed"] = True
                res["operation"] = "folder_copy"
            else:
                data = fs.read_bytes(files, src)
                target = ntpath.join(dest, ntpath.basename(src)) if fs.is_dir(files, dest) else dest
                if not fs.exists(files, target) or fs.read_bytes(files, target) != data:
                    if not ctx.check_mode:
                        fs.write_bytes(files, target, data)
                    res["changed"] = True
                res.update(
                    operation="file_copy",
                    checksum=_sha1(data),
                    size=len(data),
                    dest=target,
                    src=src,
                    original_basename=ntpath.basename(src),
                )
            return res
    ctx.fail(f"unsupported _copy_mode {mode}")
    return res


win_copy.extra_options = {  # type: ignore[attr-defined]
    "_copy_mode": {"type": "str", "default": "single"},
    "_original_basename": {"type": "str"},
    "files": {"type": "list"},
    "directories": {"type": "list"},
}


@module("ansible.windows.win_wait_for")
def win_wait_for(ctx: ModuleContext) -> dict:
    """win_wait_for.ps1 (ansible.windows 3.x) for a file: wait until it exists (state present/started) and, with
    ``regex``, until its text (``Get-Content -Raw``, BOM dropped) ``-match``es it (case-insensitive), checking every
    ``sleep`` seconds for up to ``timeout`` seconds of the host's time; state absent waits for the opposite.
    Ports are not modelled (the lab's hosts have no TCP listeners of their own)."""
    import time

    p = ctx.params
    path, regex, state = p.get("path"), p.get("regex"), p.get("state") or "started"
    timeout, sleep = int(p.get("timeout") or 300), max(0, int(p.get("sleep") or 1))
    if path is None:
        ctx.fail("the lab's win_wait_for models path waits only (no port, no plain sleep)")
    if state not in ("present", "started", "absent"):
        ctx.fail(f"state={state} should only be used for checking a port in the win_wait_for module")
    start = time.monotonic()
    if p.get("delay") and ctx.proc.cancel.wait(int(p["delay"])):
        raise Cancelled()
    rx = re.compile(regex, re.I) if regex is not None else None
    want_present = state in ("present", "started")
    attempts = 0
    while time.monotonic() - start < timeout:
        attempts += 1
        with ctx.lock:
            files = ctx.files()
            target = fs.expand_env(path, ctx.user)
            exists = fs.exists(files, target)
            text = fs.read_text(files, target).lstrip("\ufeff") if exists and not fs.is_dir(files, target) else ""
        matched = exists and (rx is None or (bool(text) and rx.search(text) is not None))
        if want_present and matched:
            break
        if not want_present and (not exists or (rx is not None and rx.search(text or "") is None)):
            break
        if ctx.proc.cancel.wait(sleep):
            raise Cancelled()
    else:
        extra = {"elapsed": round(time.monotonic() - start, 3), "wait_attempts": attempts, "changed": False}
        if want_present:
            what = f"file {path} to be present" if regex is None else f"string regex {regex} in file {path} to match"
        else:
            what = f"file {path} to be absent" if regex is None else f"string regex {regex} in file {path} to not match"
        ctx.fail(f"timeout while waiting for {what}", **extra)
    return {"changed": False, "elapsed": round(time.monotonic() - start, 3), "wait_attempts": attempts}
