"""Module options as the real module declares them: read from the installed collection's docs.

Ansible.Basic (the C# module util every ansible.windows module uses) validates ``complex_args``
against the module's argument spec, fills defaults, and returns ``invocation.module_args`` with
``no_log`` values masked. The spec here comes from each module's DOCUMENTATION (the same source
``ansible-doc`` shows), so an option the real module does not accept fails here too.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import yaml

NO_LOG_VALUE = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

# options the real modules declare no_log (their .ps1 argument specs)
NO_LOG = {
    "password",
    "url_password",
    "proxy_password",
    "client_cert_password",
    "become_password",
    "key_passphrase",
}


class ArgError(Exception):
    pass


def _collection_dir(fqcn: str) -> Path | None:
    ns, coll, _ = fqcn.split(".", 2)
    spec = importlib.util.find_spec(f"ansible_collections.{ns}.{coll}")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@functools.lru_cache(maxsize=None)
def module_doc(fqcn: str) -> dict:
    """``{"options": ..., "return": ...}`` of a module from its .py or .yml documentation."""
    base = _collection_dir(fqcn)
    name = fqcn.rsplit(".", 1)[-1]
    if base is None:
        return {"options": {}, "return": {}}
    mod_dir = base / "plugins" / "modules"
    py = mod_dir / f"{name}.py"
    yml = mod_dir / f"{name}.yml"
    if yml.exists():
        data = yaml.safe_load(yml.read_text()) or {}
        doc = data.get("DOCUMENTATION") or {}
        ret = data.get("RETURN") or {}
    elif py.exists():
        ns: dict[str, Any] = {}
        src = py.read_text()
        # the docs are plain string assignments; evaluate only those
        import ast

        tree = ast.parse(src)
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in ("DOCUMENTATION", "RETURN")
                and isinstance(node.value, ast.Constant)
            ):
                ns[node.targets[0].id] = node.value.value
        doc = yaml.safe_load(ns.get("DOCUMENTATION", "") or "") or {}
        ret = yaml.safe_load(ns.get("RETURN", "") or "") or {}
    else:
        return {"options": {}, "return": {}}
    opts: dict[str, Any] = {}
    # options a module takes from doc fragments (e.g. win_uri's ansible.windows.web_request) count too
    for frag in doc.get("extends_documentation_fragment") or []:
        opts.update(_fragment_options(frag))
    opts.update(doc.get("options") or {})
    return {"options": opts, "return": ret or {}}


def _fragment_options(fragment: str) -> dict:
    """The options of a doc fragment ``ns.coll.name[.section]`` (its ModuleDocFragment class attribute)."""
    import ast

    parts = fragment.split(".")
    if len(parts) < 3:
        return {}
    base = _collection_dir(".".join(parts[:2]) + ".x")
    if base is None:
        return {}
    path = base / "plugins" / "doc_fragments" / f"{parts[2]}.py"
    attr = parts[3].upper() if len(parts) > 3 else "DOCUMENTATION"
    if not path.exists():
        return {}
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == attr
            and isinstance(node.value, ast.Constant)
        ):
            return dict((yaml.safe_load(node.value.value) or {}).get("options") or {})
    return {}


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("yes", "on", "1", "true", "y", "t"):
        return True
    if s in ("no", "off", "0", "false", "n", "f", ""):
        return False
    raise ValueError(f"{v!r} is not a valid boolean")


def _convert(name: str, spec: dict, value: Any) -> Any:
    if value is None:
        return None
    t = spec.get("type", "str")
    try:
        if t == "bool":
            return _bool(value)
        if t == "int":
            return int(value)
        if t == "float":
            return float(value)
        if t in ("str", "path"):
            if isinstance(value, (dict, list)):
                raise ValueError("not a string")
            return str(value)
        if t == "list":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",")] if value else []
            elif not isinstance(value, list):
                value = [value]
            el = spec.get("elements")
            if el:
                value = [_convert(name, {"type": el}, v) for v in value]
            return value
        if t == "dict":
            if isinstance(value, str):
                pairs = [p.split("=", 1) for p in value.split() if "=" in p]
                return dict(pairs)
            return dict(value)
    except (TypeError, ValueError) as e:
        raise ArgError(
            f"argument for {name} is of type {type(value).__name__} and we were unable to convert to {t}: {e}"
        ) from None
    return value


def validate(fqcn: str, raw: dict, extra_options: dict | None = None, strict: bool = True) -> tuple[dict, dict]:
    """Return (params, invocation_module_args) or raise ArgError with Ansible.Basic's wording."""
    short = fqcn.rsplit(".", 1)[-1]
    options = {k: v for k, v in module_doc(fqcn)["options"].items() if k != "free_form"}
    options.update(extra_options or {})
    user_args = {k: v for k, v in raw.items() if not k.startswith("_ansible_")}
    aliases: dict[str, str] = {}
    for opt, spec in options.items():
        for a in spec.get("aliases") or []:
            aliases[a] = opt
    params: dict[str, Any] = {}
    unsupported = []
    for k, v in user_args.items():
        target = k if k in options else aliases.get(k)
        if target is None:
            if strict:
                unsupported.append(k)
            else:
                params[k] = v
            continue
        params[target] = v
    if unsupported and options:
        supported = []
        for opt, spec in sorted(options.items()):
            al = spec.get("aliases") or []
            supported.append(f"{opt} ({', '.join(al)})" if al else opt)
        raise ArgError(
            f"Unsupported parameters for ({short}) module: {', '.join(sorted(unsupported))}. "
            f"Supported parameters include: {', '.join(supported)}"
        )
    missing = [o for o, s in options.items() if s.get("required") and params.get(o) is None and strict]
    if missing:
        raise ArgError(f"missing required arguments: {', '.join(sorted(missing))}")
    for opt, spec in options.items():
        if opt not in params or params[opt] is None:
            params[opt] = spec.get("default")
        params[opt] = _convert(opt, spec, params[opt])
        choices = spec.get("choices")
        if choices and params[opt] is not None:
            vals = params[opt] if isinstance(params[opt], list) else [params[opt]]
            choice_list = [str(c) for c in (choices if isinstance(choices, list) else list(choices))]
            for v in vals:
                if str(v) not in choice_list:
                    raise ArgError(f"value of {opt} must be one of: {', '.join(choice_list)}. Got no match for: {v}")
    invocation = {k: (NO_LOG_VALUE if (k in NO_LOG and v is not None) else v) for k, v in params.items()}
    return params, invocation
