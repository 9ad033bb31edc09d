"""Every module (and both action plugins) given generated wrong arguments fails cleanly before doing anything.

For each module of plugins/modules, hypothesis picks one option at a time and gives it a wrong value of
a kind the option cannot take: a wrong type, an empty string, a huge value, unicode, or an injection
string (``'; DROP TABLE``, ``$(rm -rf /)``, ``../..``, CR/LF). All other options keep a valid baseline.
The module must end in ``fail_json`` with a message that names the option, never raise, and never open
a network connection (sockets are blocked and recorded). The action plugins must raise an Ansible
action failure naming the option without calling any module on the host.

Derandomized; ``UMP365_BAD_INPUT_EXAMPLES`` (default 25) sets the examples per module. Which values an
option refuses is decided here from the option's meaning, not read from the validation code.
Free-text options (a setting's value, a checkpoint's error text, a display label) and local file paths
take any string and are not tried.
"""

from __future__ import annotations

import math
import os
import socket
import tempfile
import time
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleError
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.ump365.upgrade.plugins.action import win_async_wait as act_async
from ansible_collections.ump365.upgrade.plugins.action import win_services_state as act_services
from ansible_collections.ump365.upgrade.plugins.module_utils import retry
from ansible_collections.ump365.upgrade.plugins.modules import (
    app_registration_info,
    azure_disk,
    azure_snapshot,
    azure_snapshot_info,
    azure_vm_info,
    azure_vm_os_disk,
    checkpoint,
    ovoc_alarm_info,
    ovoc_device_info,
    sbc_info,
    sql_backup,
    sql_info,
    ump_app_setting,
    ump_customer_info,
    ump_portal_info,
    ump_script_template_info,
    ump_task,
    ump_token_invitation,
    win_async_wait,
    win_services_state,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("UMP365_BAD_INPUT_EXAMPLES", "25"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

GUID = "0b5f6c1e-2d3a-4b8c-9e7f-112233445566"
SECRET = "Baseline-s3cret-value"
CKPT_DIR = tempfile.mkdtemp(prefix="ump365-bad-input-")

UMP = {
    "api_url": "https://ump01.example.com/tenantui",
    "tenant_id": GUID,
    "client_id": GUID,
    "client_secret": SECRET,
    "scope": "api://%s/.default" % GUID,
    "authority": "https://login.example.com",
    "token_cache": False,
    "retries": 0,
}
AZURE = {
    "subscription_id": GUID,
    "tenant": GUID,
    "client_id": GUID,
    "secret": SECRET,
    "authority": "https://login.example.com",
    "base_url": "https://management.example.com",
    "retry_attempts": 1,
}
SQL = {"server": "sql01.example.com", "username": "ump-svc", "password": SECRET, "retries": 0}
SBC = {"sbc_url": "https://sbc01.example.com", "sbc_username": "Admin", "sbc_password": SECRET, "retries": 0}
OVOC = {
    "ovoc_url": "https://ovoc.example.com",
    "ovoc_username": "ovoc-api",
    "ovoc_password": SECRET,
    "device_ip": "10.201.80.11",
    "retries": 0,
}

BASELINES = {
    app_registration_info: {
        "graph_url": "https://graph.example.com",
        "tenant": GUID,
        "client_id": GUID,
        "secret": SECRET,
        "authority": "https://login.example.com",
        "app_id": GUID,
        "fqdn": "ump01.example.com",
    },
    azure_disk: dict(AZURE, resource_group="rg-ump01", name="disk1", created_before="2026-01-01T00:00:00Z"),
    azure_snapshot: dict(AZURE, resource_group="rg-ump01", name="snap1", vm_name="ump01"),
    azure_snapshot_info: dict(AZURE, resource_group="rg-ump01"),
    azure_vm_os_disk: dict(AZURE, resource_group="rg-ump01", vm_name="ump01", snapshot="snap1"),
    azure_vm_info: dict(AZURE, resource_group="rg-ump01", name="ump01", restore_info=True),
    checkpoint: {"path": CKPT_DIR, "host": "ump01", "run_id": "8.0.515", "phase": "snapshot"},
    ovoc_alarm_info: OVOC,
    ovoc_device_info: OVOC,
    sbc_info: SBC,
    sql_backup: dict(SQL, databases=["SysAdminTenant"]),
    sql_info: SQL,
    ump_app_setting: dict(SQL, name="ApiAllowedIps", members=["10.0.0.1"]),
    ump_customer_info: UMP,
    ump_portal_info: UMP,
    ump_script_template_info: UMP,
    ump_task: dict(UMP, task_id="1002"),
    ump_token_invitation: dict(UMP, customer="contoso"),
    win_async_wait: {"jid": "j123456789.1234"},
    win_services_state: {"names": ["w3svc"], "state": "stopped"},
}

# options that name or address something: none of the injection, empty, huge or odd-unicode values is one
NAMING = {
    "api_url", "sbc_url", "ovoc_url", "graph_url", "authority", "base_url", "tenant_id", "tenant", "client_id",
    "subscription_id", "app_id", "scope", "credential_scope", "customer", "customers", "task_id",
    "invitation_email", "switch_path", "alarms_path", "devices_path", "alarms_key", "devices_key", "status_field",
    "severity_field", "management_status_path", "step_order", "device_ip", "server", "fqdn", "username",
    "sbc_username", "ovoc_username", "database", "tenant_database", "customer_database_prefix", "databases",
    "customer_table", "customer_column", "customer_name_column", "customer_version_column",
    "numbers_table", "numbers_column", "user_table", "user_name_column", "user_did_column",
    "expected_collation", "folder", "progress_path", "backup_name", "host", "run_id", "phase", "resource_group",
    "vm_name", "disk_name", "snapshot", "source_disk", "provisioning_state", "jid", "cloud_environment",
    "required_actions", "permissions_api_version", "locks_api_version", "created_before", "restore_id",
    "reuse_restore_id",
}  # fmt: skip
NAMING_BY_MODULE = {
    "name": {azure_disk, azure_snapshot, azure_snapshot_info, azure_vm_info, ump_app_setting},
    "path": {ump_script_template_info},
}
# printable text that goes into a header or a filter: control characters, unicode and huge values are wrong
PRINTABLE = {"channel_id", "alarms_filter"}
# any string is fine (free text, a local file path, the operator's own stop command for the host): not tried
FREE = {
    "value", "members", "error", "what", "path", "ca_bundle", "token_cache_path", "lock_dir", "stop_command",
    "likely_cause", "locate_numbers",
}  # fmt: skip
OPTIONAL_EMPTY_OK = {"backup_name", "cloud_environment"}  # "": the default cloud (an empty AZURE_CLOUD_ENVIRONMENT)

INJECTIONS = [
    "'; DROP TABLE Customer;--",
    "$(rm -rf /)",
    "`id`",
    "../../etc/passwd",
    "..\\..\\Windows\\System32",
    "x\r\nX-Injected: 1",
    "<script>alert(1)</script>",
    "a\x00b",
    "%00",
    "\u202e\u200bevil",
    "😀😀",
    "ümläut\x00",
    "A" * 5000,
]
SERVICE_BAD = ["", "a/b", "..\\..\\x", "$(rm -rf /)", "x" * 300, "a\x00b", "x\r\ny"]
PRINTABLE_BAD = ["x\r\nX-Injected: 1", "a\x00b", "\u202eevil", "😀", "A" * 5000]
WRONG_TYPES = [{"a": 1}, [1, 2]]
BAD_BOOLS = ["maybe", "'; DROP TABLE x", 2, [1], {"a": 1}]
BAD_CHOICES = ["nope", "'; DROP TABLE x;--", "$(rm -rf /)", "../.."]

# a generated prefix no name, id, URL or path of any kind can start with, then any text
GENERATED_NAMING = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(["'", "../", "$(", ";", " ", "\n", "`"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
)


def bad_values(module, name: str, spec: dict):
    """A strategy of wrong values for one option, or None when the option takes anything."""
    typ = spec.get("type", "str")
    if spec.get("choices"):
        if typ == "list":
            return st.sampled_from([["nope"], ["'; DROP TABLE x"], [{"a": 1}]])
        return st.sampled_from(BAD_CHOICES + WRONG_TYPES)
    if typ in ("int", "float"):
        numbers = st.one_of(
            st.integers(max_value=-1),
            st.integers(min_value=10**8, max_value=10**30),
            st.sampled_from(["abc", "'; DROP TABLE x", "$(rm -rf /)", "", [1], {"a": 1}]),
        )
        if typ == "float":
            numbers = st.one_of(numbers, st.sampled_from([math.nan, math.inf, -math.inf, 1e300]))
        return numbers
    if typ == "bool":
        return st.sampled_from(BAD_BOOLS)
    if typ == "dict":
        return st.sampled_from([42, [1, 2], "not a dict"])
    if spec.get("no_log"):
        return st.just("")
    naming = name in NAMING or module in NAMING_BY_MODULE.get(name, ())
    if name == "names":
        strings = st.sampled_from(SERVICE_BAD)
    elif naming:
        fixed = [v for v in INJECTIONS + [""] if not (v == "" and name in OPTIONAL_EMPTY_OK)]
        strings = st.one_of(st.sampled_from(fixed), GENERATED_NAMING)
    elif name in PRINTABLE:
        strings = st.sampled_from(PRINTABLE_BAD)
    else:
        assert name in FREE, f"{module.__name__}: decide what is a wrong value for option {name!r}"
        return None  # Ansible turns a dict or list given for a str into its text: that text is a fine value
    if typ == "list":
        return strings.map(lambda v: ["ok", v] if name != "names" else ["w3svc", v])
    return st.one_of(strings, st.sampled_from(WRONG_TYPES)) if naming else strings


class ModuleExit(Exception):
    def __init__(self, result: dict, failed: bool):
        super().__init__(result.get("msg", ""))
        self.result = result
        self.failed = failed


class NetworkCall(OSError):
    pass


@pytest.fixture
def sandbox(monkeypatch):
    """exit_json/fail_json raise; every socket connect or name lookup is recorded and refused."""
    calls: list = []

    def _exit(self, **kw):
        raise ModuleExit(kw, failed=False)

    def _fail(self, msg, **kw):
        kw["msg"] = msg
        raise ModuleExit(kw, failed=True)

    def _blocked(*args, **kwargs):
        calls.append(args[1:] if args and isinstance(args[0], socket.socket) else args)
        raise NetworkCall("network blocked by test_bad_input")

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail)
    monkeypatch.setattr(socket.socket, "connect", _blocked)
    monkeypatch.setattr(socket.socket, "connect_ex", _blocked)
    monkeypatch.setattr(socket, "create_connection", _blocked)
    monkeypatch.setattr(socket, "getaddrinfo", _blocked)
    # no back-off between retries of a blocked connection (retry.call_with_retry binds time.sleep as a default)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    defaults = list(retry.call_with_retry.__defaults__)
    defaults[2] = lambda seconds: None
    monkeypatch.setattr(retry.call_with_retry, "__defaults__", tuple(defaults))
    return calls


def _spec_of(module) -> dict:
    """The argument spec a module builds (captured from its AnsibleModule)."""
    seen = {}
    real = basic.AnsibleModule.__init__

    def spy(self, *args, **kwargs):
        seen.update(kwargs.get("argument_spec") or args[0])
        raise ModuleExit({"msg": "spec captured"}, failed=True)

    basic.AnsibleModule.__init__ = spy
    try:
        with patch_module_args({}):
            try:
                module.main()
            except ModuleExit:
                pass
    finally:
        basic.AnsibleModule.__init__ = real
    assert seen, module.__name__
    return seen


def _run(module, args: dict) -> dict:
    with patch_module_args(dict(args, _ansible_check_mode=False, _ansible_diff=False)):
        try:
            module.main()
        except ModuleExit as e:
            return dict(e.result, failed=e.failed)
    raise AssertionError(f"{module.__name__} returned without exit_json/fail_json")


def _names(name: str, spec: dict) -> list[str]:
    return [name, *spec.get("aliases", [])]


def _check_failure(where: str, name: str, spec: dict, value, result: dict, calls: list) -> None:
    assert not calls, f"{where}: {name}={value!r} reached the network: {calls}"
    assert result.get("failed"), f"{where}: {name}={value!r} was accepted: {result}"
    msg = str(result.get("msg", ""))
    assert any(n in msg for n in _names(name, spec)), f"{where}: {name}={value!r}: message does not name it: {msg}"
    assert "Traceback" not in msg, msg
    if spec.get("no_log") and value:
        assert str(value) not in msg


MODULES = sorted(BASELINES, key=lambda m: m.__name__)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_module_fails_cleanly_on_wrong_arguments(module, sandbox, monkeypatch):
    for var in ("AZURE_SUBSCRIPTION_ID", "AZURE_TENANT", "AZURE_CLIENT_ID", "AZURE_SECRET", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    spec = _spec_of(module)
    baseline = BASELINES[module]
    cases = [(name, bad_values(module, name, opt)) for name, opt in sorted(spec.items())]
    cases = [(name, strat) for name, strat in cases if strat is not None]
    where = module.__name__.rsplit(".", 1)[-1]

    @SETTINGS
    @given(st.sampled_from(cases).flatmap(lambda c: st.tuples(st.just(c[0]), c[1])))
    def check(case):
        name, value = case
        sandbox.clear()
        result = _run(module, dict(baseline, **{name: value}))
        _check_failure(where, name, spec[name], value, result, sandbox)

    check()


def test_the_baselines_pass_validation(sandbox):
    """The fixed arguments really are valid: a module fails with them only at the (blocked) network or later."""
    for module in MODULES:
        result = _run(module, BASELINES[module])
        assert "invalid input" not in str(result.get("msg")), (module.__name__, result.get("msg"))
        assert "Validation of arguments failed" not in str(result.get("msg")), (module.__name__, result.get("msg"))


ACTIONS = {
    act_async: (act_async.ARGSPEC, {"jid": "j123456789.1234"}),
    act_services: (act_services.ARGSPEC, {"names": ["w3svc"], "state": "stopped"}),
}


@pytest.mark.parametrize("plugin", list(ACTIONS), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_action_plugin_fails_cleanly_on_wrong_arguments(plugin, monkeypatch):
    spec, baseline = ACTIONS[plugin]
    monkeypatch.setattr(plugin.display, "display", lambda *a, **k: None)
    cases = [(name, bad_values(plugin, name, opt)) for name, opt in sorted(spec.items())]
    cases = [(name, strat) for name, strat in cases if strat is not None]
    where = plugin.__name__.rsplit(".", 1)[-1]

    @SETTINGS
    @given(st.sampled_from(cases).flatmap(lambda c: st.tuples(st.just(c[0]), c[1])))
    def check(case):
        name, value = case
        task = MagicMock()
        task.args = dict(baseline, **{name: value})
        task.async_val = 0
        task.check_mode = False
        task.diff = False
        action = plugin.ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
        calls = []
        action._execute_module = lambda *a, **k: calls.append((a, k)) or {"failed": True, "msg": "called"}
        action._low_level_execute_command = lambda *a, **k: calls.append((a, k)) or {"rc": 1}
        try:
            result = action.run(task_vars={"inventory_hostname": "ump01"})
        except AnsibleError as e:  # AnsibleActionFail: the task fails with this message
            result = {"failed": True, "msg": str(e)}
        _check_failure(where, name, spec[name], value, result, calls)

    check()
