# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ump365.upgrade.plugins.plugin_utils.inprocess import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    MODULE = "azure_vm_info"
