# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: prefork
type: aggregate
short_description: Load once in the controller's main process what every task's worker would load again
version_added: "0.1.0"
description:
  - Ansible runs every task of every host in a worker process forked from C(ansible-playbook). What a worker
    imports (a Jinja test or filter plugin of ansible-core, the C(normal) action plugin that runs the
    ansible.windows modules, a codec) dies with it, so the next worker imports it again (in an upgrade run
    about 45 of the 214 workers of a host load ansible-core's four Jinja test plugin files, and as many load the
    C(normal) action plugin).
  - When the playbook starts, this callback loads those in the main process, so that every worker inherits
    them; then it collects garbage and freezes the objects that survive (Python's C(gc.freeze)), so that a garbage
    collection inside a worker does not walk (and thereby copy) the memory pages it shares with the main
    process. The collection's Azure, SQL and REST client libraries are not loaded here (they are large;
    loading the Azure SDK too made a run no cheaper in our measurements, and the main process, which every
    fork copies from, larger).
  - It changes nothing that a task does, returns or prints. A module that cannot be loaded is left out
    (C(-vvv) says which), as is the whole preparation when the callback is not enabled.
  - docs/performance.md has the measurements.
author:
  - ump365.upgrade developers (@ump365)
requirements:
  - enable in configuration, for example C(callbacks_enabled = ump365.upgrade.prefork) in ansible.cfg or
    C(ANSIBLE_CALLBACKS_ENABLED=ump365.upgrade.prefork) (the collection's ansible.cfg enables it)
"""

import gc
import importlib

from ansible.plugins.callback import CallbackBase

# Python modules the workers of an upgrade run imported again and again (counted from sys.modules at the start
# and the end of each worker's task, docs/performance.md): the plugin loader's Jinja test and filter plugins
# come from the loaders below; these are the rest. A name that a newer or older ansible-core does not have is
# skipped.
PRELOAD_MODULES = (
    "ansible.plugins.action.normal",
    "ansible.utils.version",
    "encodings.utf_16_le",
    "ansible.module_utils._internal._json._profiles._module_legacy_c2m",
    "ansible.module_utils._internal._json._profiles._module_legacy_m2c",
    # this collection's own small helpers, which most of its action plugins and in-process modules import
    "ansible_collections.ump365.upgrade.plugins.module_utils.errors",
    "ansible_collections.ump365.upgrade.plugins.module_utils.retry",
    "ansible_collections.ump365.upgrade.plugins.module_utils.http",
    "ansible_collections.ump365.upgrade.plugins.module_utils.validation",
)

# What workers ask the plugin loaders for by these names; loading them here puts them in the loaders' caches.
PRELOAD_ACTIONS = ("ansible.legacy.normal", "ansible.builtin.normal")


def prepare(display=None):
    """Load the shared plugins and modules, then freeze the surviving objects; return what was left out."""
    from ansible.plugins.loader import action_loader, filter_loader, test_loader

    missed = []
    for loader in (test_loader, filter_loader):
        try:
            for _plugin in loader.all(class_only=True):
                pass
        except Exception as e:  # an optimisation only: never fail a run over it
            missed.append("%s plugins (%s)" % (getattr(loader, "type", "jinja"), e))
    for name in PRELOAD_ACTIONS:
        try:
            action_loader.get(name, class_only=True)
        except Exception as e:
            missed.append("action %s (%s)" % (name, e))
    for name in PRELOAD_MODULES:
        try:
            importlib.import_module(name)
        except Exception as e:
            missed.append("%s (%s)" % (name, e))
    gc.collect()
    gc.freeze()
    if display is not None and missed:
        display.vvv("ump365.upgrade.prefork: not preloaded: %s" % "; ".join(missed))
    return missed


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "ump365.upgrade.prefork"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._prepared = False

    def v2_playbook_on_start(self, playbook):
        if not self._prepared:
            self._prepared = True
            prepare(self._display)
