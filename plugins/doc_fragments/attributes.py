# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The attributes every module of the collection shares (a module's own check_mode/diff_mode entries
    # say how it supports them). Use with GROUP_<system> (its action group), when it has one. (Not named
    # like the system fragments: ump365.upgrade.attributes.azure would load the azure fragment.)
    DOCUMENTATION = r"""
options: {}
attributes:
  action:
    description:
      - Carried out by the collection's action plugin of the same name, on the controller (in the task's
        worker process where its preconditions hold, see plugins/plugin_utils/inprocess.py, else as a
        normal module run).
    support: full
  async:
    description: Not for C(async); the module waits for its own work within its own timeouts.
    support: none
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying the target.
    support: full
  diff_mode:
    description: Returns details on what has changed when in diff mode.
    support: none
"""

    # For a module that only reads; list it before ump365.upgrade.attributes (the first fragment wins).
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Reads only, so it runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: none
"""

    GROUP_AZURE = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/ump365.upgrade.azure) in C(module_defaults) to set the Azure options once.
    support: full
    membership:
      - ump365.upgrade.azure
"""

    GROUP_UMP_API = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/ump365.upgrade.ump_api) in C(module_defaults) to set the UMP API options once.
    support: full
    membership:
      - ump365.upgrade.ump_api
"""

    GROUP_SBC = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/ump365.upgrade.sbc) in C(module_defaults) to set the SBC options once.
    support: full
    membership:
      - ump365.upgrade.sbc
"""

    GROUP_OVOC = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/ump365.upgrade.ovoc) in C(module_defaults) to set the OVOC options once.
    support: full
    membership:
      - ump365.upgrade.ovoc
"""

    GROUP_GRAPH = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/ump365.upgrade.graph) in C(module_defaults) to set the Graph options once.
    support: full
    membership:
      - ump365.upgrade.graph
"""

    GROUP_SQL = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/ump365.upgrade.sql) in C(module_defaults) to set the SQL Server options once.
    support: full
    membership:
      - ump365.upgrade.sql
"""
