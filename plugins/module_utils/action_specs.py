# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs of the controller-side action plugins, shared with their documentation-only modules,
so validation in the action plugin and the module file cannot drift apart."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

WIN_ASYNC_WAIT = dict(
    jid=dict(type="str", required=True),
    what=dict(type="str", default="the job"),
    timeout=dict(type="int", default=3600),
    delay=dict(type="int", default=10),
    min_delay=dict(type="int", default=1),
    progress=dict(type="str", default="none", choices=["none", "wyupdate", "customer_upgrade"]),
    progress_path=dict(type="str"),
    progress_every=dict(type="int", default=1),
    step_order=dict(type="list", elements="str"),
    patterns=dict(type="dict", default={}),
    customers=dict(type="list", elements="str", default=[]),
    customer_timeout=dict(type="int", default=0),
    connection_retries=dict(type="int", default=5),
    cleanup=dict(type="bool", default=True),
    progress_timeout=dict(type="int", default=0),
    stop_command=dict(type="str"),
    likely_cause=dict(type="str"),
    wait_on_host=dict(type="bool", default=True),
    wait_cap=dict(type="int", default=120),
    wait_for=dict(type="str", default="job", choices=["job", "log"]),
)

WIN_SERVICES_STATE = dict(
    names=dict(type="list", elements="str", required=True),
    state=dict(type="str", required=True, choices=["stopped", "started"]),
    timeout=dict(type="int", default=60),
    force_dependent_services=dict(type="bool", default=False),
    method=dict(type="str", default="each", choices=["each", "batch"]),
)
