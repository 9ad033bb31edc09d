#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
  - Run it on the controller (C(delegate_to=localhost)); the collection's action plugin runs it in the
    task's worker process there.
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

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def _mode(module, value, what):
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        module.fail_json(msg="%s %r is not an octal mode such as 0640" % (what, value))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            files=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(name=dict(type="str", required=True), content=dict(type="str", required=True)),
            ),
            mode=dict(type="raw", default="0640"),
            dir_mode=dict(type="raw", default="0750"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    folder = p["path"]
    mode = _mode(module, p["mode"], "mode")
    dir_mode = _mode(module, p["dir_mode"], "dir_mode")
    for f in p["files"]:
        if not f["name"] or os.path.basename(f["name"]) != f["name"] or f["name"] in (".", ".."):
            module.fail_json(
                msg="file name %r must be a plain name inside %s, without a folder part" % (f["name"], folder)
            )
    out = []
    changed = False
    if not os.path.isdir(folder):
        changed = True
        if not module.check_mode:
            try:
                # exist_ok: the hosts of a batch write into the same folder at once (another may win the race)
                os.makedirs(folder, dir_mode, exist_ok=True)
                os.chmod(folder, dir_mode)  # makedirs' mode is reduced by the umask
            except OSError as e:
                module.fail_json(msg="cannot create the folder %s on the controller: %s" % (folder, e))
    for f in p["files"]:
        dest = os.path.join(folder, f["name"])
        data = f["content"].encode("utf-8")
        same = False
        try:
            with open(dest, "rb") as fh:
                same = fh.read() == data
        except OSError:
            same = False
        if not same and not module.check_mode:
            try:
                fd, tmp = tempfile.mkstemp(prefix="." + f["name"] + ".", dir=folder)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.chmod(tmp, mode)
                os.replace(tmp, dest)
            except OSError as e:
                module.fail_json(msg="cannot write %s on the controller: %s" % (dest, e))
        elif same and not module.check_mode and (os.stat(dest).st_mode & 0o7777) != mode:
            os.chmod(dest, mode)
            same = False
        changed = changed or not same
        out.append({"path": dest, "changed": not same})
    module.exit_json(changed=changed, files=out)


if __name__ == "__main__":
    main()
