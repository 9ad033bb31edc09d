#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: win_async_wait
short_description: Wait for a Windows async job on the controller, with progress from its log
version_added: "0.1.0"
description:
  - Polls an C(async) job started on a Windows host (for example a C(win_command) with C(async) and C(poll=0))
    through M(ansible.windows.async_status) until it finishes, with an overall timeout, so no WinRM call lasts
    longer than one poll.
  - Between polls it reads the job's log with M(ansible.windows.slurp) and shows a line for each wyUpdate step
    or customer that ended, and it stops waiting when a customer stays C(Upgrading) longer than O(customer_timeout).
  - A dropped WinRM connection is re-opened up to O(connection_retries) times; the job keeps running on the host.
  - This is an action plugin, all decisions run on the controller. Run it with the same C(become) settings as the
    task that started the job (the job file lives in that user's profile).
options:
  jid:
    description: The C(ansible_job_id) of the async task.
    type: str
    required: true
  what:
    description: What the job is, for progress lines and messages (for example C(wyUpdate)).
    type: str
    default: the job
  timeout:
    description: Seconds to wait for the job in total before failing.
    type: int
    default: 3600
  delay:
    description:
      - The longest wait between polls, in seconds.
      - Polls are paced by the progress seen (the time left is estimated from the pace so far once a step or
        customer has ended); before any progress the wait starts at O(min_delay) and doubles.
    type: int
    default: 10
  min_delay:
    description: The shortest wait between polls, in seconds.
    type: int
    default: 1
  progress:
    description: How to read O(progress_path) for progress lines.
    type: str
    choices: [none, wyupdate, customer_upgrade]
    default: none
  progress_path:
    description: Path on the host of the log to read between polls (required unless O(progress=none)).
    type: str
  progress_every:
    description: Read the log every this many polls (C(0) reads it only once the job finished).
    type: int
    default: 1
  step_order:
    description: The wyUpdate steps in order (default the guide's order).
    type: list
    elements: str
  patterns:
    description:
      - Regular expressions for the log lines, as the role defaults C(wyupdate_patterns) (keys C(step_line) ...)
        or C(customer_line) for the Customer Upgrade log.
    type: dict
    default: {}
  customers:
    description: Customers the job upgrades (progress lines and the stuck check are limited to them).
    type: list
    elements: str
    default: []
  customer_timeout:
    description: Seconds a customer may stay C(Upgrading) before the wait fails naming it (C(0) = no limit).
    type: int
    default: 0
  connection_retries:
    description: How often to re-open a dropped WinRM connection while waiting.
    type: int
    default: 5
  cleanup:
    description: Remove the async job file on the host once the job finished.
    type: bool
    default: true
  progress_timeout:
    description:
      - Seconds without progress (no new text in O(progress_path), the job still running) after which the program
        is stopped on the host with O(stop_command) and the wait fails naming the likely cause (C(0) = no limit).
      - A program that waits for a person (a GUI window, a console prompt) under the non-interactive WinRM session
        is found this way within minutes instead of at the async limit.
    type: int
    default: 0
  stop_command:
    description:
      - Command run with M(ansible.windows.win_command) to stop the program when O(progress_timeout) runs out (for
        example C(taskkill.exe /F /T /IM wyupdate.exe)). Without it the program is left running and the message says so.
    type: str
  likely_cause:
    description: The likely cause named in the message when O(progress_timeout) runs out.
    type: str
  wait_on_host:
    description:
      - Wait on the host instead of sleeping on the controller between polls - one M(ansible.windows.win_wait_for)
        that returns as soon as the job ends (O(wait_for=job)) or O(progress_path) grows (O(wait_for=log)), or after
        O(wait_cap) seconds. Waiting on the log, while the log grows the job is still writing, so its status is read
        only after a wait that saw no change (or once the log shows the end).
      - Needs O(progress_path); without it (or with C(false)) the controller sleeps as O(delay) and O(min_delay) say.
    type: bool
    default: true
  wait_cap:
    description:
      - The longest one on-host wait lasts, in seconds. With O(wait_for=job) a wait that runs out is followed by one
        read of the log (progress), so the wait costs two WinRM commands per O(wait_cap) seconds (one a minute at 120).
    type: int
    default: 120
  wait_for:
    description:
      - What an on-host wait (O(wait_on_host)) returns on.
      - >-
        V(job) - the end of the job. The M(ansible.windows.win_wait_for) watches the job's results file (the
        C(results_file) that M(ansible.windows.async_status) names; the async watchdog sets C(finished) to true in
        it when the module ends) and returns within a second of the end, or after O(wait_cap) seconds; the log is
        read after every wait (progress, stuck customers, O(progress_timeout)). A step that ends shows up to
        O(wait_cap) seconds late in the progress lines; the end of the job does not wait.
      - V(log) - every growth of O(progress_path) (two commands per new log line, the wait and the read).
      - Falls back to V(log) when the job's status names no results file.
    type: str
    choices: [job, log]
    default: job
extends_documentation_fragment:
  - ump365.upgrade.attributes
attributes:
  check_mode:
    support: full
    description: Only reads; in check mode the role skips starting the job, so there is nothing to wait for.
  diff_mode:
    support: none
    description: Changes nothing.
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Run wyUpdate unattended
  ansible.windows.win_command: C:\acs\wyupdate.exe /fromservice -logfile="C:\acs\wyupdate_logs\result.log"
  async: 7200
  poll: 0
  register: job

- name: Wait for it, showing each step as it ends
  ump365.upgrade.win_async_wait:
    jid: "{{ job.ansible_job_id }}"
    what: wyUpdate
    timeout: 7200
    delay: 15
    progress: wyupdate
    progress_path: C:\acs\wyupdate_logs\upgrade_8.0.515.log
"""

RETURN = r"""
job:
  description: The async_status result of the finished job (the module result of the waited task).
  returned: always
  type: dict
finished:
  description: Whether the job finished (if not, the wait failed and C(msg) says why).
  returned: always
  type: bool
rc:
  description: The job's exit code, when it finished.
  returned: when the job finished
  type: int
  sample: 0
retries:
  description:
    - The WinRM connection drops survived while waiting, one entry per reconnect (C(attempt), C(error), C(type),
      C(code=connection_lost), C(delay) in seconds), as the run report's retries (docs/report.md).
  returned: always
  type: list
  elements: dict
  sample: [{"attempt": 1, "error": "WinRM connection lost while waiting for wyUpdate: Connection aborted",
            "type": "AnsibleConnectionFailure", "status": null, "code": "connection_lost", "delay": 2}]
stalled:
  description: Whether the wait gave up because nothing changed for O(progress_timeout) seconds (the program was stopped).
  returned: always
  type: bool
host_waits:
  description: How many on-host waits (M(ansible.windows.win_wait_for)) ran.
  returned: always
  type: int
polls:
  description: How many times the job status was read.
  returned: always
  type: int
  sample: 3
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 42.1
progress_log:
  description: The text of O(progress_path) as last read (None if it could not be read).
  returned: always
  type: str
events:
  description: The progress lines shown while waiting.
  returned: always
  type: list
  elements: str
ump_progress:
  description: The last progress line (the run report shows it with the task).
  returned: always
  type: str
  sample: "ump01: wyUpdate 8.0.515 step 26/26 Refresh_EMSCClientAgent_ignoreList ok"
stuck:
  description: Customers found C(Upgrading) for longer than O(customer_timeout).
  returned: always
  type: list
  elements: str
timed_out:
  description: Whether the wait gave up because O(timeout) ran out.
  returned: always
  type: bool
connection_errors:
  description: How many times the WinRM connection was re-opened.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ump365.upgrade.plugins.module_utils import validation
from ansible_collections.ump365.upgrade.plugins.module_utils import action_specs


def main():
    module = AnsibleModule(
        argument_spec=action_specs.WIN_ASYNC_WAIT,
        supports_check_mode=True,
    )
    validation.check_module(module)
    module.fail_json(msg="ump365.upgrade.win_async_wait runs on the controller as an action plugin only")


if __name__ == "__main__":
    main()
