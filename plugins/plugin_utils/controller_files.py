# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a few small text files into one folder on the controller, atomically.

The work of the action plugin ``ump365.upgrade.controller_files`` (plugins/action); controller-only, so it
lives in plugin_utils. plugins/modules/controller_files.py holds only its documentation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    files=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(name=dict(type="str", required=True), content=dict(type="str", required=True)),
    ),
    mode=dict(type="raw", default="0640"),
    dir_mode=dict(type="raw", default="0750"),
)


class FilesError(Exception):
    pass


def octal_mode(value, what):
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        raise FilesError("%s %r is not an octal mode such as 0640" % (what, value))


def write_files(folder, files, mode, dir_mode, check_mode=False):
    """Create ``folder`` when missing and write each ``{name, content}`` whose content differs.

    Returns ``(folder_created, rows)``; a row is ``{path, changed}`` (written, or would be in check mode)."""
    mode = octal_mode(mode, "mode")
    dir_mode = octal_mode(dir_mode, "dir_mode")
    for f in files:
        if not f["name"] or os.path.basename(f["name"]) != f["name"] or f["name"] in (".", ".."):
            raise FilesError("file name %r must be a plain name inside %s, without a folder part" % (f["name"], folder))
    created = False
    if not os.path.isdir(folder):
        created = True
        if not check_mode:
            try:
                # exist_ok: the hosts of a batch write into the same folder at once (another may win the race)
                os.makedirs(folder, dir_mode, exist_ok=True)
                os.chmod(folder, dir_mode)  # makedirs' mode is reduced by the umask
            except OSError as e:
                raise FilesError("cannot create the folder %s on the controller: %s" % (folder, e))
    rows = []
    for f in files:
        dest = os.path.join(folder, f["name"])
        data = f["content"].encode("utf-8")
        try:
            with open(dest, "rb") as fh:
                same = fh.read() == data
        except OSError:
            same = False
        if not same and not check_mode:
            try:
                fd, tmp = tempfile.mkstemp(prefix="." + f["name"] + ".", dir=folder)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.chmod(tmp, mode)
                os.replace(tmp, dest)
            except OSError as e:
                raise FilesError("cannot write %s on the controller: %s" % (dest, e))
        elif same and not check_mode and (os.stat(dest).st_mode & 0o7777) != mode:
            os.chmod(dest, mode)
            same = False
        rows.append({"path": dest, "changed": not same})
    return created, rows
