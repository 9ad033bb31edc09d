# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Survey answers (AWX extra vars or command-line values) parsed at the playbook boundary.

Documentation in survey_bool.yml, survey_int.yml, survey_list.yml and survey_batches.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.ump365.upgrade.plugins.plugin_utils import survey


def _wrap(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except ValueError as e:
        raise AnsibleFilterError("%s; fix the survey answer or the -e value" % e)


def survey_bool(value, name="value"):
    return _wrap(survey.parse_bool, value, name)


def survey_int(value, name="value", minimum=None, maximum=None, default=None):
    return _wrap(survey.parse_int, value, name, minimum, maximum, default)


def survey_list(value, name="value", separator=","):
    return _wrap(survey.parse_list, value, name, separator)


def survey_batches(value, name="value", default=None):
    return _wrap(survey.parse_batches, value, name, default)


class FilterModule(object):
    def filters(self):
        return {
            "survey_bool": survey_bool,
            "survey_int": survey_int,
            "survey_list": survey_list,
            "survey_batches": survey_batches,
        }
