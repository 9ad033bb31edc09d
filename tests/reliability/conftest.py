"""A lab of its own for a reliability suite: N hosts at scale 0, one per fault case (docs/lab.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import Lab, umplab

TARGET = "8.0.515"
OLD = "8.0.400.64"

# Role options that make the waits of a scale-0 lab short: a stuck customer, a queue that never empties and
# the wyUpdate job polls would otherwise wait the production timeouts (minutes) per host.
FAST_WAITS = {
    "customer_upgrade_customer_timeout": 8,
    "customer_upgrade_poll_delay": 1,
    "preflight_queue_wait_timeout": 4,
    "preflight_queue_poll_interval": 1,
    "wyupdate_steps_poll_delay": 1,
    # no progress for this long stops the program (the lab's steps are instant at scale 0); short on-host waits
    "wyupdate_steps_progress_timeout": 20,
    "customer_upgrade_progress_timeout": 12,
    "wyupdate_steps_wait_cap": 5,
    "customer_upgrade_wait_cap": 5,
    "upgrade_wyupdate_busy_delay": 1,
    # the settle window after the start: OVOC reconnecting later is read again every 1-2 s for up to 30 s
    "post_verify_settle_timeout": 30,
    "post_verify_settle_delay": 1,
    "post_verify_settle_backoff": 1.5,
    "post_verify_settle_max_delay": 2,
}


@pytest.fixture(scope="module")
def own_lab(tmp_path_factory) -> Iterator[Callable[..., Lab]]:
    """``own_lab(hosts, scale=0, flavour="default")`` starts a lab for this module (stopped at its end)."""
    started: list = []

    def start(hosts: int, scale: float = 0, flavour: str = "default") -> Lab:
        state_dir = tmp_path_factory.mktemp("reliability-lab")
        umplab("up", "--hosts", str(hosts), "--scale", str(scale), "--flavour", flavour, state_dir=state_dir)
        started.append(state_dir)
        return Lab(state_dir)

    try:
        yield start
    finally:
        for d in started:
            umplab("down", state_dir=d, check=False)


def acs_files(host_state: dict) -> dict[str, tuple]:
    """The files and folders under C:\\acs as (type, content): what must be unchanged (times may differ)."""
    return {
        k: (v.get("type"), v.get("content"))
        for k, v in host_state.get("files", {}).items()
        if k == "c:\\acs" or k.startswith("c:\\acs\\")
    }
