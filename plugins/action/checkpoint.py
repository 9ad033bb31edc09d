# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side implementation of ump365.upgrade.checkpoint.

The checkpoint lives on the controller, so there is nothing to ship to a host: running the logic in
the controller process saves a module fork per phase transition (the upgrade records ~20 of them per
host). The module file keeps the documentation and the same logic for direct module use.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.ump365.upgrade.plugins.module_utils import checkpoint as ckpt


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        if "store" not in args and (task_vars or {}).get("ump_checkpoint_store"):
            # one inventory variable picks the store for every checkpoint task of every role
            args["store"] = self._templar.template(task_vars["ump_checkpoint_store"])
        validation = ArgumentSpecValidator(ckpt.ARGUMENT_SPEC, required_if=ckpt.REQUIRED_IF).validate(args)
        if validation.error_messages:
            result.update(failed=True, msg="checkpoint: " + "; ".join(validation.error_messages))
            return result
        out = ckpt.apply(validation.validated_parameters, check_mode=bool(self._task.check_mode))
        result.update(out)
        if not self._task.diff:
            result.pop("diff", None)
        return result
