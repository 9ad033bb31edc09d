# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade guide's checks as pure functions: observations in, check results out.

A facade over the check model (check_model.py) and the per-phase check sets (checks_preflight.py,
checks_azure.py, checks_post_verify.py, checks_sbc.py, checks_token_migration.py, checks_host.py); the filters in plugins/filter/checks.py
and the tests import it. docs/checks.md lists every check with its source section in the guide.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# A facade: every name below is re-exported for the filters and the tests.
# pylint: disable=unused-import

from ansible_collections.ump365.upgrade.plugins.plugin_utils.check_model import (  # noqa: F401
    CHECK_SOURCES,
    FAIL,
    NO_BASELINE,
    PASS,
    POLICIES,
    PRE_EXISTING,
    REGRESSION,
    SKIP,
    SOFT_SOURCES,
    STATUSES,
    S_ADDITIONAL,
    S_BEFORE,
    S_COMPONENTS,
    S_DIALPLAN,
    S_FIREWALL,
    S_PASSWORD,
    S_ROLLBACK,
    S_SCRIPTS,
    S_SNAPSHOT,
    S_SQL_UPDATE,
    S_TENANT_ADMIN,
    S_TOKEN,
    S_UPGRADE,
    WARN,
    _items_fail,
    _lower,
    _names,
    _short,
    apply_baseline,
    apply_errors,
    baseline_from_checks,
    blocking_failures,
    check,
    expected_portal_url,
    expected_redirect_uri,
    failures,
    not_gathered,
    parse_time,
    pre_existing,
    settle_pending,
    split_errors,
    summary_message,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.checks_host import (  # noqa: F401
    certificates_from_info,
    disk_free_gb,
    parse_keyvalue,
    parse_openfiles,
    versions_summary,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.checks_azure import (  # noqa: F401
    check_azure,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.checks_sbc import (  # noqa: F401
    DEFAULT_WAN_OVOC_IP,
    _sbc_entry,
    check_api_allowed_ips,
    check_dial_plans,
    check_ovoc,
    check_ovoc_alarms,
    check_sbc,
    check_sbc_user_dids,
    check_sbcs,
    split_prefixes,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.checks_token_migration import (  # noqa: F401
    CSV_FIELDS,
    GRANT_CONSENT_STEPS,
    customers_csv,
    password_customers,
    token_migration_checks,
    token_migration_status,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.checks_preflight import (  # noqa: F401
    DISCOVER_FIX,
    REQUIRED_COLLATION,
    WHITELIST_FROM_VERSION,
    WHITELIST_SERVICES,
    _queue_command,
    check_auth_status_credentials,
    check_backend,
    check_become,
    check_certificate,
    check_egress,
    check_free_disk,
    check_open_files,
    check_password_customers,
    check_replication_queue,
    check_site_layout,
    check_sql_collation,
    check_whitelist_services,
    check_wyupdate,
    preflight_checks,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.checks_post_verify import (  # noqa: F401
    SCRIPT_SYNTAX,
    check_customer_details,
    check_customers_deployed,
    check_customers_unchanged,
    check_invitation_url,
    check_licence,
    check_script_templates,
    check_services_running,
    check_tenant_admin_auth,
    check_versions,
    post_verify_checks,
    script_syntax_problems,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.egress import (  # noqa: F401
    curl_probe_command,
    egress_from_curl,
    egress_from_uri_results,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.versions import (  # noqa: F401
    version_at_least,
    version_matches,
    version_tuple,
)
