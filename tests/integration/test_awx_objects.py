"""The AWX objects in awx/, validated offline against what AWX and the awx.awx modules accept.

Every object is checked against the argument spec of the awx.awx module that applies it (captured by
running the module's main() with ControllerAPIModule replaced), so a misspelt or unsupported field fails
here instead of in front of a live AWX. Survey specs, credential type inputs and injectors are checked
with the rules AWX itself applies on the server (sources cited beside each check). References between
objects, the playbooks the templates name and the variables the surveys set are checked against this
repository.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

REPO = Path(__file__).resolve().parents[2]
AWX = REPO / "awx"

# kind (sub-directory of awx/) -> the awx.awx module that applies it (roles/awx_configure)
KINDS = {
    "organizations": "organization",
    "teams": "team",
    "execution_environments": "execution_environment",
    "credential_types": "credential_type",
    "credentials": "credential",
    "projects": "project",
    "inventories": "inventory",
    "inventory_sources": "inventory_source",
    "notification_templates": "notification_template",
    "job_templates": "job_template",
    "workflow_templates": "workflow_job_template",
    "role_assignments": "role",
}
# Kinds whose objects are grants, not named objects.
UNNAMED = {"role_assignments"}

# Credential types AWX ships (managed); everything else must be defined in awx/credential_types.
BUILTIN_CREDENTIAL_TYPES = {"Microsoft Azure Resource Manager", "Source Control", "Machine", "Vault"}

# The variables credential injectors may set: what the roles and inventories/prod read.
# (WinRM logon and runas come from AWX's Machine credential, as command-line options, not variables.)
INJECTABLE_EXTRA_VARS = {
    "ump_sql_username",
    "ump_sql_password",
    "ump_api_tenant_id",
    "ump_api_client_id",
    "ump_api_client_secret",
    "ump_api_scope",
    "ump_api_authority",
    "ump_sbc_username",
    "ump_sbc_password",
    "ump_ovoc_username",
    "ump_ovoc_password",
}


def load_kind(kind: str) -> list[tuple[str, dict]]:
    """(file name, object) for every object of a kind; each file is a YAML list of objects."""
    out = []
    for path in sorted((AWX / kind).glob("*.yml")):
        data = yaml.safe_load(path.read_text())
        assert isinstance(data, list), f"{path.relative_to(REPO)} must be a YAML list of objects"
        for obj in data:
            assert isinstance(obj, dict), f"{path.relative_to(REPO)}: every entry must be a mapping"
            out.append((path.name, obj))
    return out


def names(kind: str) -> set[str]:
    return {obj["name"] for _, obj in load_kind(kind)}


ALL_OBJECTS = [(kind, fname, obj) for kind in KINDS for fname, obj in load_kind(kind)]


def label(obj: dict) -> str:
    return obj.get("name") or f"{obj.get('team') or obj.get('user')}:{obj.get('role')}"


# --- the awx.awx modules' argument specs ---------------------------------------------------------


class _Captured(Exception):
    def __init__(self, argument_spec: dict, kwargs: dict):
        super().__init__("captured")
        self.argument_spec = argument_spec
        self.kwargs = kwargs


_SPECS: dict[str, dict] = {}


def module_spec(module_name: str) -> dict:
    """The argument spec main() of awx.awx.<module_name> builds (without the auth options)."""
    if module_name not in _SPECS:
        mod = importlib.import_module(f"ansible_collections.awx.awx.plugins.modules.{module_name}")

        class Capture:
            def __init__(self, argument_spec=None, **kwargs):
                raise _Captured(argument_spec, kwargs)

        original = mod.ControllerAPIModule
        mod.ControllerAPIModule = Capture
        try:
            mod.main()
        except _Captured as cap:
            _SPECS[module_name] = cap.argument_spec
        finally:
            mod.ControllerAPIModule = original
    return _SPECS[module_name]


def doc_options_to_spec(options: dict) -> dict:
    """An argument spec from a DOCUMENTATION options block (defaults dropped: they are not input)."""
    spec = {}
    for name, doc in options.items():
        entry = {"type": doc.get("type", "str")}
        for key in ("elements", "choices", "required", "aliases"):
            if key in doc:
                entry[key] = doc[key]
        if "suboptions" in doc:
            entry["options"] = doc_options_to_spec(doc["suboptions"])
        spec[name] = entry
    return spec


def workflow_node_spec() -> dict:
    mod = importlib.import_module("ansible_collections.awx.awx.plugins.modules.workflow_job_template")
    doc = yaml.safe_load(mod.DOCUMENTATION)
    return doc_options_to_spec(doc["options"]["workflow_nodes"]["suboptions"])


def validate(spec: dict, params: dict) -> list[str]:
    return ArgumentSpecValidator(spec).validate(params).error_messages


def test_every_kind_has_objects_and_unique_names():
    for kind in KINDS:
        objs = load_kind(kind)
        assert objs, f"awx/{kind}/ holds no objects"
        if kind in UNNAMED:
            continue
        seen = [obj.get("name") for _, obj in objs]
        assert len(seen) == len(set(seen)), f"duplicate names in awx/{kind}: {seen}"
    unknown = {p.name for p in AWX.iterdir() if p.is_dir()} - set(KINDS)
    assert not unknown, f"awx/ has directories no module applies: {sorted(unknown)}"


def test_module_spec_capture_sees_the_real_fields():
    spec = module_spec("job_template")
    assert "survey_spec" in spec and "playbook" in spec
    assert "controller_host" not in spec  # auth options come from ControllerAPIModule, not main()
    assert validate(spec, {"name": "x", "playbok": "typo.yml"}), "a misspelt field must be an error"


@pytest.mark.parametrize(("kind", "fname", "obj"), ALL_OBJECTS, ids=[f"{k}/{label(o)}" for k, _, o in ALL_OBJECTS])
def test_object_matches_the_awx_module_argument_spec(kind, fname, obj):
    errors = validate(module_spec(KINDS[kind]), obj)
    assert not errors, f"awx/{kind}/{fname} {label(obj)!r}: {errors}"


def test_workflow_nodes_match_the_documented_node_options():
    spec = workflow_node_spec()
    assert validate(spec, {"identifier": "x", "unified_job_tmplate": {}}), "a misspelt node field must fail"
    for fname, wf in load_kind("workflow_templates"):
        for node in wf.get("workflow_nodes", []):
            errors = validate(spec, node)
            assert not errors, f"awx/workflow_templates/{fname} node {node.get('identifier')!r}: {errors}"


# --- surveys: the checks of AWX's JobTemplateSurveySpec._validate_spec_data ---------------------
# (awx/api/views/__init__.py in ansible/awx; the same code serves workflow job templates)

SURVEY_TYPES = {
    "text": str,
    "textarea": str,
    "password": str,
    "multiplechoice": str,
    "multiselect": str,
    "integer": int,
    "float": float,
}
SURVEY_ITEM_KEYS = {"type", "question_name", "question_description", "variable", "required", "default", "min", "max"}
SURVEY_ITEM_KEYS |= {"choices", "new_question"}


def survey_errors(survey: dict) -> list[str]:
    errs = []
    for field, typ in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(survey.get(field), typ):
            errs.append(f"survey field {field!r} missing or not {typ.__name__}")
    if errs:
        return errs
    if not survey["spec"]:
        return ["'spec' doesn't contain any items"]
    seen = set()
    for idx, item in enumerate(survey["spec"]):
        where = f"question {idx} ({item.get('variable')})"
        if unknown := set(item) - SURVEY_ITEM_KEYS:
            errs.append(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("type", "question_name", "variable", "required"):
            want = bool if key == "required" else str
            if not isinstance(item.get(key), want):
                errs.append(f"{where}: {key!r} missing or not {want.__name__}")
        if item.get("variable") in seen:
            errs.append(f"{where}: variable duplicated")
        seen.add(item.get("variable"))
        qtype = item.get("type")
        if qtype not in SURVEY_TYPES:
            errs.append(f"{where}: type {qtype!r} is not one of {sorted(SURVEY_TYPES)}")
            continue
        if "default" in item and item["default"] != "" and not isinstance(item["default"], SURVEY_TYPES[qtype]):
            errs.append(f"{where}: default {item['default']!r} is not {SURVEY_TYPES[qtype].__name__}")
        for key in ("min", "max"):
            if key in item and item[key] is not None and not isinstance(item[key], int):
                errs.append(f"{where}: {key} must be an integer")
        if qtype in ("multiplechoice", "multiselect"):
            choices = item.get("choices")
            if not choices:
                errs.append(f"{where}: {qtype} must list choices")
                continue
            choices = choices.splitlines() if isinstance(choices, str) else choices
            default = item.get("default", "")
            defaults = [d for d in default.splitlines() if d.strip()] if isinstance(default, str) else default
            if qtype == "multiplechoice" and len(defaults) > 1:
                errs.append(f"{where}: multiplechoice can only have one default")
            if any(d not in choices for d in defaults):
                errs.append(f"{where}: default must be one of the choices")
        if qtype in ("text", "textarea", "password") and isinstance(item.get("default"), str):
            lo, hi = item.get("min"), item.get("max")
            n = len(item["default"])
            if item["default"] and ((lo is not None and n < lo) or (hi is not None and n > hi)):
                errs.append(f"{where}: default is outside min/max length")
    return errs


def surveyed_templates():
    for kind in ("job_templates", "workflow_templates"):
        for fname, obj in load_kind(kind):
            if obj.get("survey_spec"):
                yield kind, fname, obj


def test_survey_check_rejects_what_awx_rejects():
    good = {
        "name": "s",
        "description": "",
        "spec": [{"type": "text", "question_name": "q", "variable": "v", "required": True}],
    }
    assert survey_errors(good) == []
    bad_type = {**good, "spec": [{**good["spec"][0], "type": "boolean"}]}
    assert survey_errors(bad_type)
    bad_default = {**good, "spec": [{**good["spec"][0], "type": "integer", "default": "3"}]}
    assert survey_errors(bad_default)
    no_choices = {**good, "spec": [{**good["spec"][0], "type": "multiplechoice"}]}
    assert survey_errors(no_choices)


def test_surveys_are_valid_for_awx():
    found = 0
    for kind, fname, obj in surveyed_templates():
        found += 1
        assert obj.get("survey_enabled") is True, f"awx/{kind}/{fname}: survey_spec without survey_enabled"
        errs = survey_errors(obj["survey_spec"])
        assert not errs, f"awx/{kind}/{fname} {obj['name']!r}: {errs}"
    assert found >= 6


# --- credential types: AWX's CredentialTypeInputField / CredentialTypeInjectorField -------------
# (awx/main/fields.py in ansible/awx: the JSON schemas below and the StrictUndefined render of every
# injector template with only the declared input ids defined)

INPUTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "required": {"type": "array", "items": {"type": "string"}},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"enum": ["string", "boolean"]},
                    "format": {"enum": ["ssh_private_key", "url"]},
                    "choices": {"type": "array", "minItems": 1, "items": {"type": "string"}, "uniqueItems": True},
                    "id": {"type": "string", "pattern": "^[a-zA-Z_]+[a-zA-Z0-9_]*$"},
                    "label": {"type": "string"},
                    "help_text": {"type": "string"},
                    "multiline": {"type": "boolean"},
                    "secret": {"type": "boolean"},
                    "ask_at_runtime": {"type": "boolean"},
                    "default": {},
                },
                "additionalProperties": False,
                "required": ["id", "label"],
            },
        },
    },
}
NAME = "^[a-zA-Z_]+[a-zA-Z0-9_]*$"
INJECTORS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "file": {
            "type": "object",
            "patternProperties": {r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$": {"type": "string"}},
            "additionalProperties": False,
        },
        "env": {
            "type": "object",
            "patternProperties": {NAME: {"type": "string", "pattern": "^[\x00-\x7f]*$"}},
            "additionalProperties": False,
        },
        "extra_vars": {
            "type": "object",
            "patternProperties": {NAME: {"type": "string"}},
            "additionalProperties": False,
        },
    },
}
SECRET_WORDS = ("password", "secret", "token", "key")


def injector_errors(ctype: dict) -> list[str]:
    errs = []
    inputs, injectors = ctype.get("inputs", {}), ctype.get("injectors", {})
    for schema, value, what in ((INPUTS_SCHEMA, inputs, "inputs"), (INJECTORS_SCHEMA, injectors, "injectors")):
        try:
            jsonschema.validate(value, schema)
        except jsonschema.ValidationError as exc:
            errs.append(f"{what}: {exc.message}")
    if errs:
        return errs
    fields = inputs.get("fields", [])
    ids = [f["id"] for f in fields]
    if len(ids) != len(set(ids)):
        errs.append(f"duplicate input ids {ids}")
    if "tower" in ids:
        errs.append('"tower" is a reserved field name')
    for name in inputs.get("required", []):
        if name not in ids:
            errs.append(f"required input {name!r} is not a field")
    for field in fields:
        if field.get("type", "string") != "string":
            errs.extend(
                f"{k} not allowed for {field['id']}" for k in ("choices", "multiline", "format", "secret") if k in field
            )
        if any(w in field["id"] for w in SECRET_WORDS) and field.get("secret") is not True:
            errs.append(f"input {field['id']!r} holds a secret but is not `secret: true`")
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    namespace = dict.fromkeys(ids, "EXAMPLE")
    used = set()
    for section, entries in injectors.items():
        for key, tmpl in entries.items():
            if section == "env" and key.startswith("ANSIBLE_"):
                errs.append(f"env {key}: ANSIBLE_* variables are refused by AWX")
            if section == "extra_vars" and key not in INJECTABLE_EXTRA_VARS:
                errs.append(f"extra var {key!r} is not a variable the roles read")
            try:
                env.from_string(tmpl).render(namespace)
            except (UndefinedError, TemplateSyntaxError) as exc:
                errs.append(f"{section}.{key} uses an undefined input or bad syntax: {exc}")
            used |= {i for i in ids if re.search(r"\b%s\b" % re.escape(i), tmpl)}
    if unused := set(ids) - used:
        errs.append(f"inputs no injector uses: {sorted(unused)}")
    return errs


def test_injector_check_catches_an_undeclared_input():
    ctype = {
        "inputs": {"fields": [{"id": "username", "label": "u"}, {"id": "password", "label": "p", "secret": True}]},
        "injectors": {"extra_vars": {"ump_sql_username": "{{ username }}", "ump_sql_password": "{{ pasword }}"}},
    }
    assert any("undefined" in e for e in injector_errors(ctype))
    ctype["injectors"]["extra_vars"]["ump_sql_password"] = "{{ password }}"
    assert injector_errors(ctype) == []
    ctype["inputs"]["fields"][1].pop("secret")
    assert injector_errors(ctype), "a password input without secret: true must fail"


@pytest.mark.parametrize(
    ("fname", "ctype"), load_kind("credential_types"), ids=[f for f, _ in load_kind("credential_types")]
)
def test_credential_type_inputs_and_injectors(fname, ctype):
    assert ctype.get("kind") in ("cloud", "net"), f"{fname}: custom credential types must be cloud or net"
    errs = injector_errors(ctype)
    assert not errs, f"awx/credential_types/{fname} {ctype['name']!r}: {errs}"


def test_credential_types_feed_every_variable_the_roles_need():
    injected = set()
    for _, ctype in load_kind("credential_types"):
        injected |= set(ctype["injectors"].get("extra_vars", {}))
    # ump_api_scope is per server (inventory); the credential's default scope arrives as UMP_API_SCOPE
    assert injected == INJECTABLE_EXTRA_VARS - {"ump_api_scope"}
    envs = {k for _, c in load_kind("credential_types") for k in c["injectors"].get("env", {})}
    assert envs == {"UMP_API_SCOPE"}
    for _, inv in load_kind("inventories"):
        assert "UMP_API_SCOPE" in inv["variables"]["ump_api_scope"]


# --- references between objects -----------------------------------------------------------------


def test_references_resolve_to_objects_defined_in_awx():
    orgs, ees, ctypes = names("organizations"), names("execution_environments"), names("credential_types")
    creds, projects, inventories = names("credentials"), names("projects"), names("inventories")
    job_templates = names("job_templates")
    problems = []
    for kind, fname, obj in ALL_OBJECTS:
        where = f"awx/{kind}/{fname} {label(obj)!r}"
        if "organization" in obj and obj["organization"] not in orgs:
            problems.append(f"{where}: organization {obj['organization']!r}")
        for key in ("execution_environment", "default_environment"):
            if key in obj and obj[key] not in ees:
                problems.append(f"{where}: {key} {obj[key]!r}")
        if kind == "credentials" and obj["credential_type"] not in ctypes | BUILTIN_CREDENTIAL_TYPES:
            problems.append(f"{where}: credential_type {obj['credential_type']!r}")
        if kind in ("job_templates", "inventory_sources", "workflow_templates"):
            for key, pool in (("project", projects), ("source_project", projects), ("inventory", inventories)):
                if key in obj and obj[key] not in pool:
                    problems.append(f"{where}: {key} {obj[key]!r}")
            for cred in obj.get("credentials", []) + ([obj["credential"]] if "credential" in obj else []):
                if cred not in creds:
                    problems.append(f"{where}: credential {cred!r}")
        if kind == "workflow_templates":
            for node in obj["workflow_nodes"]:
                ujt = node["unified_job_template"]
                if ujt["type"] == "job_template" and ujt["name"] not in job_templates:
                    problems.append(f"{where}: node {node['identifier']} runs unknown job template {ujt['name']!r}")
            for key in ("approvals", "success", "error", "started"):
                for nt in obj.get(f"notification_templates_{key}", []):
                    if nt not in names("notification_templates"):
                        problems.append(f"{where}: notification template {nt!r}")
        if kind == "role_assignments":
            if obj.get("team") not in names("teams"):
                problems.append(f"{where}: team {obj.get('team')!r}")
            for key, pool in (("workflows", names("workflow_templates")), ("job_templates", job_templates)):
                problems += [f"{where}: {key} {n!r}" for n in obj.get(key, []) if n not in pool]
    assert not problems, problems


def test_job_templates_attach_one_credential_per_type():
    # AWX refuses two credentials of the same type on a job template ("Cannot assign multiple ...").
    ctype_of = {obj["name"]: obj["credential_type"] for _, obj in load_kind("credentials")}
    for fname, jt in load_kind("job_templates"):
        types = [ctype_of[c] for c in jt.get("credentials", [])]
        assert len(types) == len(set(types)), f"awx/job_templates/{fname}: {types}"
        assert "Machine" in types, f"{jt['name']}: needs the WinRM (Machine) credential"


def workflow_graph():
    (_, wf), *_ = load_kind("workflow_templates")
    nodes = {n["identifier"]: n for n in wf["workflow_nodes"]}
    assert len(nodes) == len(wf["workflow_nodes"]), "node identifiers must be unique"
    return wf, nodes


def run_workflow(nodes: dict, outcome) -> list[str]:
    """The nodes AWX runs, in order, when ``outcome(identifier)`` says whether each job succeeds.

    AWX's rules (awx/main/scheduler/dag_workflow.py): a node runs when a parent finished and the edge
    it hangs on matches (success_nodes on success, failure_nodes on failure, always_nodes either way);
    a node none of whose parents' edges matched never runs.
    """
    children = {
        t["identifier"]
        for n in nodes.values()
        for k in ("success_nodes", "failure_nodes", "always_nodes")
        for t in n.get("related", {}).get(k, [])
    }
    ran, todo = [], [i for i in nodes if i not in children]
    while todo:
        ident = todo.pop(0)
        if ident in ran:
            continue
        ran.append(ident)
        ok = outcome(ident)
        rel = nodes[ident].get("related", {})
        for kind in ("success_nodes" if ok else "failure_nodes", "always_nodes"):
            todo += [t["identifier"] for t in rel.get(kind, [])]
    return ran


def test_workflow_is_preflight_canary_approval_waves_verify_with_rollback_of_failed_hosts():
    wf, nodes = workflow_graph()
    jts = {jt["name"]: jt for _, jt in load_kind("job_templates")}

    def what(ident):
        ujt = nodes[ident]["unified_job_template"]
        return "approval" if ujt["type"] == "workflow_approval" else jts[ujt["name"]]["playbook"]

    everything_ok = run_workflow(nodes, lambda i: True)
    assert [what(i) for i in everything_ok] == [
        "playbooks/preflight.yml",
        "playbooks/upgrade.yml",
        "approval",
        "playbooks/upgrade.yml",
        "playbooks/upgrade.yml",
        "playbooks/verify.yml",
    ]
    # the canary is its own job, before the approval, on its own group
    canary = everything_ok[1]
    assert nodes[canary]["limit"] == "ump_canary"
    assert jts[nodes[canary]["unified_job_template"]["name"]].get("job_slice_count", 1) == 1
    # then the rest in waves, each sliced across execution nodes
    waves = everything_ok[3:5]
    assert [nodes[w]["limit"] for w in waves] == ["ump_wave_1", "ump_wave_2"]
    for w in waves:
        jt = jts[nodes[w]["unified_job_template"]["name"]]
        assert jt["job_slice_count"] > 1 and jt["allow_simultaneous"] and jt["ask_limit_on_launch"]
        assert jt["extra_vars"]["ump_upgrade_batches"] == "100%", "a wave is one batch"
    # a workflow launch limit would replace the nodes' own limits
    assert wf["ask_limit_on_launch"] is False

    # stop-the-fleet: a failed wave starts no later wave and rolls back only the failed servers
    ran = run_workflow(nodes, lambda i: i != waves[0])
    assert waves[1] not in ran and what(ran[-1]) == "playbooks/rollback.yml"
    rollback = nodes[ran[-1]]
    assert rollback["extra_data"] == {"ump_rollback_only_failed": "true"}
    assert "ump_rollback_only_failed" in [q["variable"] for q in jts["UMP-365 rollback"]["survey_spec"]["spec"]], (
        "AWX drops node extra_data a template neither asks for nor has a survey question for"
    )
    # a failed canary never reaches the approval; a failed preflight or a denial changes nothing
    assert "approve" not in run_workflow(nodes, lambda i: i != canary)
    assert run_workflow(nodes, lambda i: what(i) != "playbooks/preflight.yml") == [everything_ok[0]]
    denied = run_workflow(nodes, lambda i: what(i) != "approval")
    assert [what(i) for i in denied][-1] == "approval"
    approval = next(n for n in nodes.values() if n["unified_job_template"]["type"] == "workflow_approval")
    assert approval["unified_job_template"]["timeout"] > 0


def test_sliced_templates_allow_simultaneous_slices():
    # slices are jobs of the same template: allow_simultaneous false would run them one at a time
    # (awx/main/scheduler/dependency_graph.py, DependencyGraph.job_blocked_by)
    sliced = {jt["name"] for _, jt in load_kind("job_templates") if jt.get("job_slice_count", 1) > 1}
    assert sliced == {"UMP-365 preflight", "UMP-365 verify", "UMP-365 upgrade wave"}
    for _, jt in load_kind("job_templates"):
        if jt["name"] in sliced:
            assert jt["allow_simultaneous"] is True, jt["name"]


def test_approvals_have_an_approver_and_notifications():
    wf, _ = workflow_graph()
    grants = [g for _, g in load_kind("role_assignments") if g["role"] == "approval"]
    assert any(wf["name"] in g.get("workflows", []) for g in grants), "nobody but an AWX admin could approve"
    for key in ("approvals", "success", "error"):
        assert wf.get(f"notification_templates_{key}"), f"no notification on {key}"
    nts = {nt["name"]: nt for _, nt in load_kind("notification_templates")}
    approvers = nts[wf["notification_templates_approvals"][0]]
    assert set(approvers["messages"]["workflow_approval"]) == {"running", "approved", "denied", "timed_out"}


# --- playbooks and survey variables --------------------------------------------------------------


def test_every_playbook_a_template_names_exists_or_is_pending():
    pending = yaml.safe_load((AWX / "pending.yml").read_text())["pending_playbooks"]
    named = {jt["playbook"] for _, jt in load_kind("job_templates")}
    assert set(pending) <= named, f"pending playbooks no template names: {sorted(set(pending) - named)}"
    stale = [p for p in pending if (REPO / p).exists()]
    assert not stale, f"{stale} exist now: remove them from awx/pending.yml"
    missing = [p for p in named - set(pending) if not (REPO / p).is_file()]
    assert not missing, f"job templates name playbooks that do not exist: {missing}"
    assert "playbooks/upgrade.yml" in named and "playbooks/upgrade.yml" not in pending


def role_options() -> dict[str, list[tuple[str, dict]]]:
    """Every option of every role's argument specs (all entry points): name -> [(role, spec), ...]."""
    out: dict[str, list[tuple[str, dict]]] = {}
    for path in sorted(REPO.glob("roles/*/meta/argument_specs.yml")):
        for entry in (yaml.safe_load(path.read_text()) or {}).get("argument_specs", {}).values():
            for opt, spec in (entry.get("options") or {}).items():
                out.setdefault(opt, []).append((path.parts[-3], spec))
    return out


def accepted_variables() -> dict[str, list[tuple[str, dict]]]:
    """Who declares each variable: the roles' argument specs, else the contract file."""
    contract = yaml.safe_load((AWX / "survey_contract.yml").read_text())["options"]
    out = {name: [("awx/survey_contract.yml", spec)] for name, spec in contract.items()}
    out.update(role_options())  # once a role declares a variable, its spec is what counts
    return out


# What a survey question delivers (a str unless stated) and the argument-spec types that can take it.
# bool and list questions deliver strings that Ansible's validation converts ("true", "a,b"); the
# contract file explains why the roles must apply `| bool` / split them.
SURVEY_TO_SPEC_TYPES = {
    "text": {"str", "raw", "list", "path"},
    "textarea": {"str", "raw", "list"},
    "password": {"str", "raw"},
    "multiplechoice": {"str", "raw", "bool", "int"},
    "multiselect": {"list", "raw"},
    "integer": {"int", "raw"},
    "float": {"float", "raw"},
}


def test_survey_variables_are_accepted_by_a_role_or_the_contract():
    accepted = accepted_variables()
    problems = []
    for kind, fname, obj in surveyed_templates():
        for q in obj["survey_spec"]["spec"]:
            var, qtype = q["variable"], q["type"]
            where = f"awx/{kind}/{fname} {obj['name']!r} variable {var!r}"
            if var not in accepted:
                problems.append(f"{where}: no role argument spec nor awx/survey_contract.yml declares it")
                continue
            for source, spec in accepted[var]:  # every role that declares it must accept the answer
                spec_type = spec.get("type", "str")
                if spec_type not in SURVEY_TO_SPEC_TYPES[qtype]:
                    problems.append(f"{where}: a {qtype} question cannot feed {spec_type} ({source})")
                    continue
                samples = [q["default"]] if q.get("default", "") != "" else []
                if qtype == "multiplechoice" and isinstance(q.get("choices"), list):
                    samples += q["choices"]
                for sample in samples:
                    clean = {k: v for k, v in spec.items() if k in ("type", "elements", "choices")}
                    errors = validate({var: clean}, {var: sample})
                    if errors:
                        problems.append(f"{where}: answer {sample!r} fails {source}: {errors}")
    assert not problems, problems


def test_contract_is_an_argument_spec_and_covers_the_documented_variables():
    contract = yaml.safe_load((AWX / "survey_contract.yml").read_text())["options"]
    assert set(contract) == {
        "ump_target_version",
        "ump_upgrade_customers",
        "ump_upgrade_batches",
        "ump_max_fail_percentage",
        "ump_rollback_on_failure",
        "ump_rollback_only_failed",
    }
    for name, spec in contract.items():
        # the contract must itself be a valid argument spec (so it can move into a role verbatim)
        assert not validate({name: spec}, {}), name
    assert contract["ump_upgrade_batches"]["default"] == [1, "25%", "100%"]
    assert contract["ump_rollback_on_failure"]["default"] is True


def test_an_unknown_survey_variable_would_fail():
    accepted = accepted_variables()
    assert "ump_target_version" in accepted
    assert "ump_target_verison" not in accepted


# --- the role that applies it all ---------------------------------------------------------------


def role_task_args() -> dict[str, set[str]]:
    tasks = yaml.safe_load((REPO / "roles/awx_configure/tasks/main.yml").read_text())
    out = {}

    def walk(items):
        for task in items:
            if "block" in task:
                walk(task["block"])
            for key, args in task.items():
                if key.startswith("awx.awx.") and isinstance(args, dict):
                    out[key.removeprefix("awx.awx.")] = set(args)

    walk(tasks)
    return out


def test_the_role_passes_every_field_the_data_uses():
    task_args = role_task_args()
    assert set(task_args) == set(KINDS.values())
    for kind, fname, obj in ALL_OBJECTS:
        dropped = set(obj) - task_args[KINDS[kind]]
        if kind == "credentials":
            dropped -= {"inputs"}  # never in the data: from awx_configure_credential_inputs
        assert not dropped, f"awx/{kind}/{fname} {label(obj)!r}: roles/awx_configure drops {sorted(dropped)}"
    kinds = yaml.safe_load((REPO / "roles/awx_configure/defaults/main.yml").read_text())["awx_configure_kinds"]
    assert kinds == list(KINDS), "the role applies kinds in dependency order"


def test_credentials_in_data_hold_no_secrets():
    for fname, cred in load_kind("credentials"):
        assert "inputs" not in cred, f"awx/credentials/{fname}: inputs belong in the vaulted role variable"


# --- Azure dynamic inventory: removed ----------------------------------------------------------


def test_no_azure_rm_inventory_source_that_the_ee_cannot_run():
    # azure.azcollection's azure_rm inventory needs the collection and its ~20 azure-mgmt-* packages,
    # which the lean EE does not install, and reads Microsoft.Network, which the lab's ARM does not
    # model: removed rather than shipped untested (docs/awx.md, "Azure dynamic inventory").
    assert not [o for _, o in load_kind("inventory_sources") if o["source"] == "azure_rm"]
    assert not (REPO / "inventories/azure").exists()
