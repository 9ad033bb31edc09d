"""How AWX turns a template's survey and launch answers into the job's extra vars file.

A faithful port of ansible/awx (commit e21dd0a0933fd544d1fe2513c54fe41203775eb5):
- awx/main/models/mixins.py SurveyJobTemplateMixin._update_unified_job_kwargs: JT extra_vars, then each
  survey default that passes _survey_element_validation, then the runtime (launch) extra vars;
- _survey_element_validation: the type rules AWX applies to answers (launch is refused on errors);
- awx/main/tasks/jobs.py RunJob.build_extra_vars_file + awx/main/utils/safe_yaml.py safe_dump: the
  file ansible-playbook reads with -e @env/extravars, every string marked !unsafe;
- awx_meta_vars (awx/main/models/unified_jobs.py): awx_job_id, tower_job_id, ... (a few of them).
"""

from __future__ import annotations

import json
from copy import copy

import yaml


class SafeStringDumper(yaml.SafeDumper):
    def represent_data(self, value):
        if isinstance(value, str):
            return self.represent_scalar("!unsafe", value)
        return super().represent_data(value)


def safe_dump(x: dict, safe_dict: dict | None = None) -> str:
    yamls = []
    safe_dict = safe_dict or {}
    for k, v in x.items():
        dumper = yaml.SafeDumper
        if k not in safe_dict or safe_dict.get(k) != v:
            dumper = SafeStringDumper
        yamls.append(yaml.dump_all([{k: v}], None, Dumper=dumper, default_flow_style=False))
    return "".join(yamls)


def element_errors(el: dict, data: dict, validate_required: bool = True) -> list[str]:
    errors: list[str] = []
    var = el["variable"]
    if var not in data and el["required"]:
        if validate_required:
            errors.append("'%s' value missing" % var)
    elif el["type"] in ("textarea", "text", "password"):
        if var in data:
            if not isinstance(data[var], str):
                return ["Value %s for '%s' expected to be a string." % (data[var], var)]
            if el.get("min") not in ("", None) and len(data[var]) < int(el["min"]):
                errors.append("'%s' value %s is too small" % (var, data[var]))
            if el.get("max") not in ("", None) and len(data[var]) > int(el["max"]):
                errors.append("'%s' value %s is too large" % (var, data[var]))
    elif el["type"] == "integer":
        if var in data:
            if type(data[var]) is not int:
                return ["Value %s for '%s' expected to be an integer." % (data[var], var)]
            if el.get("min") not in ("", None) and data[var] < int(el["min"]):
                errors.append("'%s' value %s is too small" % (var, data[var]))
            if el.get("max") not in ("", None) and data[var] > int(el["max"]):
                errors.append("'%s' value %s is too large" % (var, data[var]))
    elif el["type"] == "float":
        if var in data and type(data[var]) not in (float, int):
            return ["Value %s for '%s' expected to be a numeric type." % (data[var], var)]
    elif el["type"] == "multiselect":
        if var in data:
            if type(data[var]) is not list:
                errors.append("'%s' value is expected to be a list." % var)
            else:
                choices = copy(el["choices"])
                if isinstance(choices, str):
                    choices = [c for c in choices.splitlines() if c.strip() != ""]
                errors += [
                    "Value %s for '%s' expected to be one of %s." % (v, var, choices)
                    for v in data[var]
                    if v not in choices
                ]
    elif el["type"] == "multiplechoice":
        choices = copy(el["choices"])
        if isinstance(choices, str):
            choices = [c for c in choices.splitlines() if c.strip() != ""]
        if var in data and data[var] not in choices:
            errors.append("Value %s for '%s' expected to be one of %s." % (data[var], var, choices))
    return errors


def launch_extra_vars(template: dict, answers: dict | None = None, job_id: int = 42, form: bool = True) -> dict:
    """The job's extra vars for a launch of ``template`` with ``answers``; ValueError when AWX refuses.

    ``form``: launched from the UI's survey form, which is filled with each question's default and
    submits every question that has a value (an optional question left empty is not sent).
    """
    spec = template.get("survey_spec", {}).get("spec", []) if template.get("survey_enabled") else []
    submitted = {el["variable"]: el["default"] for el in spec if form and el.get("default") not in (None, "")}
    submitted.update(answers or {})
    answers = submitted
    extra_vars = dict(template.get("extra_vars") or {})
    errors = []
    for el in spec:
        errors += element_errors(el, answers)
    if errors:
        raise ValueError("; ".join(errors))
    defaults = {}
    for el in spec:
        if el.get("default") is not None and not element_errors(el, {el["variable"]: el["default"]}):
            defaults[el["variable"]] = el["default"]
    extra_vars.update(defaults)
    extra_vars.update(answers)
    # the job's own extra_vars is stored as JSON, then read back (json.loads(job.decrypted_extra_vars()))
    extra_vars = json.loads(json.dumps(extra_vars))
    for prefix in ("awx", "tower"):  # JOB_VARIABLE_PREFIXES
        extra_vars.update({prefix + "_job_id": job_id, prefix + "_job_launch_type": "manual"})
    return extra_vars


def extravars_file(template: dict, answers: dict | None = None) -> str:
    """The content of env/extravars (strings !unsafe unless they equal the JT's own extra_vars)."""
    return safe_dump(launch_extra_vars(template, answers), template.get("extra_vars") or {})
