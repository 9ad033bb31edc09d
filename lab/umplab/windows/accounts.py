"""Local accounts and groups of an emulated Windows host (``host_state["accounts"]``/``["groups"]``)."""

from __future__ import annotations


def in_group(state: dict, user: str, group: str) -> bool:
    name = user.split("\\")[-1].lower()
    if name == "system" and group.lower() == "administrators":
        return True
    for g, members in state.get("groups", {}).items():
        if g.lower() == group.lower() and any(m.lower() == name for m in members):
            return True
    acct = next((a for n, a in state.get("accounts", {}).items() if n.lower() == name), None)
    return bool(acct and any(g.lower() == group.lower() for g in acct.get("groups", [])))


def is_admin(state: dict, user: str) -> bool:
    return in_group(state, user, "Administrators")
