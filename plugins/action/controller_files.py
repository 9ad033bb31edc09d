# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ump365.upgrade.controller_files: write report files on the controller (its documentation: plugins/modules).

A proper action plugin: it runs in the task's worker on the controller, never uses the host's connection,
and reports ``changed: false`` (a report file on the controller is not a change of the managed host);
``written`` says whether anything was written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.ump365.upgrade.plugins.plugin_utils.controller_files import (
    ARGUMENT_SPEC,
    FilesError,
    write_files,
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _valid, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            created, rows = write_files(
                args["path"], args["files"], args["mode"], args["dir_mode"], bool(self._task.check_mode)
            )
        except FilesError as e:
            raise AnsibleActionFail("controller_files: %s" % e)
        result.update(changed=False, written=created or any(r["changed"] for r in rows), files=rows)
        return result
