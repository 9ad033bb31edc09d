"""dict2items items in results: their ``key`` is a variable's name, not a secret-named key (issue 13)."""

from __future__ import annotations

from ansible_collections.ump365.upgrade.plugins.callback import report as rp


def test_a_dict2items_item_is_judged_by_the_variable_it_names():
    s = rp.SecretScrubber()
    # the phase loop of roles/upgrade: set_fact "{{ item.key }}": "{{ item.value }}"
    result = {"results": [{"item": {"key": "services_action", "value": "stop"}, "ansible_facts": {}}]}
    s.learn(result)
    assert "services_action" not in s.values
    assert s.scrub({"key": "services_action", "value": "stop"}) == {"key": "services_action", "value": "stop"}
    assert s.scrub("phase var services_action") == "phase var services_action"


def test_a_dict2items_item_of_a_secret_variable_is_masked_and_learnt():
    s = rp.SecretScrubber()
    s.learn({"results": [{"item": {"key": "ump_api_client_secret", "value": "s3cr3t-value"}}]})
    assert "s3cr3t-value" in s.values
    assert s.scrub({"key": "ump_api_client_secret", "value": "s3cr3t-value"})["value"] == rp.MASK
    s.learn({"pairs": [{"key": "sql_password", "value": "pa55word!"}]})
    assert s.scrub("login with pa55word!") == "login with " + rp.MASK


def test_a_variable_named_key_is_still_a_secret():
    s = rp.SecretScrubber()
    assert s.scrub({"key": "abcdef123456", "name": "x"})["key"] == rp.MASK
