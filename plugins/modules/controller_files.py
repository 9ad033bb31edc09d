#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation only: the action plugin plugins/action/controller_files.py does the work on the controller.

DOCUMENTATION = r"""
---
module: controller_files
short_description: Write a few small text files (reports) into one folder on the controller
version_added: "0.1.0"
description:
  - Creates O(path) when missing and writes each of O(files) into it, in one module run (instead of one
    M(ansible.builtin.file) plus a M(ansible.builtin.copy) per file, which run two modules each).
  - A file whose content is already the same is left alone. Writes are atomic (temporary file in the
    same folder, then rename).
  - An action plugin (it runs in the task's worker on the controller; no connection to the host is used).
    This file holds only its documentation, as for M(ansible.builtin.debug).
  - C(changed) is always C(false) - report files on the controller are not a change of the managed host,
    so C(preflight.yml) and C(verify.yml) report C(changed=0) on a healthy estate; RV(written) and
    RV(files[].changed) say what was written.
options:
  path:
    description: The folder; created with O(dir_mode) when missing.
    type: path
    required: true
  files:
    description: The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: File name inside O(path) (no folder part).
        type: str
        required: true
      content:
        description: The text, written as UTF-8.
        type: str
        required: true
  mode:
    description: Permissions of the files.
    type: raw
    default: "0640"
  dir_mode:
    description: Permissions of O(path) when it is created.
    type: raw
    default: "0750"
extends_documentation_fragment:
  - ump365.upgrade.attributes
attributes:
  check_mode:
    support: full
    description: In check mode nothing is written; the result says which files would change.
  diff_mode:
    support: none
    description: Report files are not shown as a diff.
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Write the password-authenticated customers (CSV and JSON)
  ump365.upgrade.controller_files:
    path: "{{ playbook_dir }}/../reports"
    files:
      - name: "{{ inventory_hostname }}_password_customers.csv"
        content: "{{ rows | ump365.upgrade.customers_csv }}"
      - name: "{{ inventory_hostname }}_password_customers.json"
        content: "{{ rows | to_nice_json }}"
  delegate_to: localhost
"""

RETURN = r"""
written:
  description: Whether the folder was created or a file was (or in check mode would be) written.
  returned: always
  type: bool
  sample: true
files:
  description: One entry per file.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file's full path.
      type: str
      sample: /srv/ump365/reports/ump01_password_customers.csv
    changed:
      description: Whether the content was (or in check mode would be) written.
      type: bool
      sample: true
"""
