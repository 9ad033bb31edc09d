"""The emulated NTFS volume: ``host_state["files"]`` keyed by :func:`umplab.world.win_key`.

An entry is ``{"type": "file"|"directory", "path": <as created>, "content": <text>, "size", "mtime"}``;
binary content that is not UTF-8 is kept as ``content_b64``. Callers hold ``world.lock``.
"""

from __future__ import annotations

import base64
import fnmatch
import ntpath
import re
from datetime import datetime, timezone
from typing import Iterator

from ..world import win_key


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_profile(user: str) -> str:
    return f"C:\\Users\\{user}"


def expand_env(path: str, user: str, env: dict | None = None) -> str:
    """``[Environment]::ExpandEnvironmentVariables`` plus ``~`` for the user the code runs as."""
    base = {
        "TEMP": f"{user_profile(user)}\\AppData\\Local\\Temp",
        "TMP": f"{user_profile(user)}\\AppData\\Local\\Temp",
        "USERPROFILE": user_profile(user),
        "HOMEPATH": f"\\Users\\{user}",
        "HOMEDRIVE": "C:",
        "SYSTEMROOT": "C:\\Windows",
        "WINDIR": "C:\\Windows",
        "PROGRAMFILES": "C:\\Program Files",
        "PROGRAMDATA": "C:\\ProgramData",
        "APPDATA": f"{user_profile(user)}\\AppData\\Roaming",
        "LOCALAPPDATA": f"{user_profile(user)}\\AppData\\Local",
        "USERNAME": user,
    }
    base.update({k.upper(): v for k, v in (env or {}).items()})

    def sub(m: re.Match) -> str:
        return base.get(m.group(1).upper(), m.group(0))

    out = re.sub(r"%([^%]+)%", sub, path)
    out = re.sub(r"\$env:(\w+)", lambda m: base.get(m.group(1).upper(), ""), out, flags=re.I)
    if out == "~" or out.startswith(("~\\", "~/")):
        out = user_profile(user) + out[1:]
    out = out.replace("/", "\\")
    # "C:\\x\\." and ".." as Windows resolves them (Ansible removes its temp dir as '<dir>\\.')
    return ntpath.normpath(out) if out else out


def display(path: str) -> str:
    p = path.replace("/", "\\")
    p = re.sub(r"(?<!^)\\+", r"\\", p)
    if len(p) > 3:
        p = p.rstrip("\\")
    if re.match(r"^[a-z]:", p):
        p = p[0].upper() + p[1:]
    return p


def get(files: dict, path: str) -> dict | None:
    return files.get(win_key(path))


def real_path(files: dict, path: str) -> str:
    """The path with each component's case as it is stored (Windows keeps the creator's case)."""
    e = get(files, path)
    return e.get("path", display(path)) if e else display(path)


def parent(path: str) -> str:
    return ntpath.dirname(display(path))


def is_drive_root(path: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z]:\\?", path.strip()))


def exists(files: dict, path: str) -> bool:
    return is_drive_root(path) or win_key(path) in files


def is_dir(files: dict, path: str) -> bool:
    if is_drive_root(path):
        return True
    e = get(files, path)
    return bool(e and e["type"] == "directory")


def mkdir(files: dict, path: str) -> bool:
    """``New-Item -ItemType Directory -Force``: creates the parents too. Returns True if created."""
    path = display(path)
    if is_drive_root(path):
        return False
    created = False
    par = parent(path)
    if par and par != path and not is_drive_root(par):
        created = mkdir(files, par) or created
    key = win_key(path)
    if key not in files:
        files[key] = {"type": "directory", "path": path, "mtime": now_iso()}
        created = True
    return created


def read_bytes(files: dict, path: str) -> bytes:
    e = get(files, path)
    if not e or e["type"] != "file":
        raise FileNotFoundError(path)
    if "content_b64" in e:
        return base64.b64decode(e["content_b64"])
    return e.get("content", "").encode("utf-8")


def read_text(files: dict, path: str) -> str:
    return read_bytes(files, path).decode("utf-8", errors="replace")


def write_bytes(files: dict, path: str, data: bytes, make_parents: bool = True) -> None:
    path = display(path)
    if make_parents:
        mkdir(files, parent(path))
    key = win_key(path)
    old = files.get(key)
    entry = {"type": "file", "path": old.get("path", path) if old else path, "size": len(data), "mtime": now_iso()}
    try:
        entry["content"] = data.decode("utf-8")
    except UnicodeDecodeError:
        entry["content_b64"] = base64.b64encode(data).decode()
    if old and "created" in old:
        entry["created"] = old["created"]
    files[key] = entry


def write_text(files: dict, path: str, text: str) -> None:
    write_bytes(files, path, text.encode("utf-8"))


def append_text(files: dict, path: str, text: str) -> None:
    try:
        old = read_text(files, path)
    except FileNotFoundError:
        old = ""
    write_text(files, path, old + text)


def children(files: dict, path: str) -> list[str]:
    """Keys of the direct children of a directory."""
    prefix = win_key(path) + "\\"
    if is_drive_root(path):
        prefix = win_key(path)[:2] + "\\"
    out = []
    for k in files:
        if k.startswith(prefix) and "\\" not in k[len(prefix) :]:
            out.append(k)
    return sorted(out)


def walk(files: dict, path: str) -> Iterator[str]:
    """Keys of everything under a directory (not the directory itself)."""
    prefix = win_key(path) + "\\"
    for k in sorted(files):
        if k.startswith(prefix):
            yield k


def remove(files: dict, path: str, recurse: bool = True) -> bool:
    key = win_key(path)
    if key not in files:
        return False
    for k in list(walk(files, path)):
        if not recurse:
            raise OSError(f"The directory is not empty: {path}")
        files.pop(k, None)
    files.pop(key, None)
    return True


def locked(state: dict, path: str) -> list[str]:
    """Open handles (host_state["open_files"]) on ``path`` or anything under it."""
    key = win_key(path)
    out = []
    for f in state.get("open_files", []):
        p = f["path"] if isinstance(f, dict) else str(f)
        k = win_key(p)
        if k == key or k.startswith(key + "\\"):
            out.append(p)
    return out


def wildcard_match(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())
