# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""State from the systems (issue 22, item 1): the upgrade engine's checkpoint reconciled with what Azure and
the host say, on the controller, before the snapshot phase and before any rollback.

The evidence:
  snapshots  the Azure snapshots tagged for this host and target version (azure_snapshot_info: name, id,
             provisioning_state, tags ump_host / ump_upgrade_from / ump_upgrade_to / ump_attempt); None when
             ARM could not be read
  versions   the UMP portal's versions (versions_summary: sysadminkit, multitenant, customers {name:
             version}); None when they could not be read
  host       what the UMP server's disk says: kit_version (C:\\acs\\SysAdminKit\\version.txt, which wyUpdate
             rewrites only when every step succeeded), kit_copies (the SysAdminKit_<version> folders that
             wyUpdate's renameSysAdminKitFolder step copies the kit to before it replaces it), wyupdate_logs
             (wyUpdate's upgrade_<target>.log / LogReport.txt); None when the host could not be read

Unknown evidence never counts as "nothing to worry about": it never lets a run skip work, and a snapshot is
never taken of a host whose disk could not be read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

SUCCEEDED = "Succeeded"


def _s(value):
    return "" if value is None else str(value).strip()


def _phases(checkpoint):
    return (checkpoint or {}).get("phases") or {}


def _status(phases, name):
    return _s((phases.get(name) or {}).get("status"))


def _outputs(phases, name):
    return (phases.get(name) or {}).get("outputs") or {}


def at_target(versions, target):
    """True/False when the versions were read: every component and customer at ``target``; None when unknown."""
    if not isinstance(versions, dict) or not _s(versions.get("sysadminkit")):
        return None
    customers = versions.get("customers") or {}
    return (
        _s(versions.get("sysadminkit")) == target
        and _s(versions.get("multitenant")) == target
        and all(_s(v) == target for v in customers.values())
    )


def partial_run_evidence(versions, host, target):
    """What shows that an earlier run to ``target`` changed the host part-way (a list of sentences); [] when
    nothing does. A fully upgraded host (everything at the target) is not part-upgraded."""
    out = []
    if isinstance(versions, dict) and _s(versions.get("sysadminkit")):
        kit, mt = _s(versions.get("sysadminkit")), _s(versions.get("multitenant"))
        customers = versions.get("customers") or {}
        at = sorted(n for n, v in customers.items() if _s(v) == target)
        not_at = sorted(n for n, v in customers.items() if _s(v) != target)
        if at_target(versions, target):
            return []
        if kit != mt:
            out.append("the portal reports SysAdminKit %s but MultiTenant %s" % (kit, mt))
        if target in (kit, mt) or at:
            out.append(
                "versions mixed: SysAdminKit %s, MultiTenant %s, customers at %s: %s, not: %s"
                % (kit, mt, target, ", ".join(at) or "none", ", ".join(not_at) or "none")
            )
    if isinstance(host, dict):
        kit_file = _s(host.get("kit_version"))
        copies = [_s(c) for c in host.get("kit_copies") or []]
        if kit_file and kit_file != target:
            current_copy = "SysAdminKit_%s" % kit_file
            if any(c.lower() == current_copy.lower() for c in copies):
                out.append(
                    "wyUpdate's copy of the kit %s exists while SysAdminKit\\version.txt still says %s "
                    "(renameSysAdminKitFolder ran, the upgrade did not finish)" % (current_copy, kit_file)
                )
        if kit_file == target and isinstance(versions, dict) and at_target(versions, target) is False:
            out.append("SysAdminKit\\version.txt says %s but the portal does not report every version at it" % target)
        logs = [_s(x) for x in host.get("wyupdate_logs") or []]
        if out and logs:
            out.append("wyUpdate's logs of an earlier run: %s" % ", ".join(logs))
    return out


def snapshot_problems(snapshot, host, target, attempt="", from_version=""):
    """Why ``snapshot`` (azure_snapshot_info's fields) is not the pre-upgrade state of this host, target and
    attempt (a list of sentences; [] when it is)."""
    if not snapshot:
        return ["it does not exist in Azure"]
    tags = snapshot.get("tags") or {}
    out = []
    state = _s(snapshot.get("provisioning_state"))
    if state != SUCCEEDED:
        out.append("its provisioning state is %s, not Succeeded" % (state or "unknown"))
    want = [
        ("ump_host", host),
        ("ump_upgrade_to", target),
        ("ump_attempt", attempt),
        ("ump_upgrade_from", from_version),
    ]
    for tag, value in want:
        if _s(value) and _s(tags.get(tag)) != _s(value):
            out.append("its tag %s is %r, not %r" % (tag, _s(tags.get(tag)) or None, _s(value)))
    return out


def find_snapshot(snapshots, ref):
    """The snapshot whose ARM id or name is ``ref`` (case-insensitive), or None."""
    ref = _s(ref).lower()
    if not ref:
        return None
    for s in snapshots or []:
        if ref in (_s(s.get("id")).lower(), _s(s.get("name")).lower()):
            return s
    return None


def _candidates(snapshots, host, target):
    good = [
        s
        for s in snapshots or []
        if _s(s.get("provisioning_state")) == SUCCEEDED
        and _s((s.get("tags") or {}).get("ump_host")) == host
        and _s((s.get("tags") or {}).get("ump_upgrade_to")) == target
    ]
    return [_s(s.get("name")) for s in sorted(good, key=lambda s: _s(s.get("time_created")), reverse=True)]


def reconcile(checkpoint, host, target, snapshots, versions, host_files, changing_phases):
    """Decide how the upgrade of ``host`` to ``target`` starts, from its checkpoint and the systems.

    Returns a dict: ``action`` (proceed: as the checkpoint says | fresh: the checkpoint is stale, start a fresh
    attempt | at_target: the host is already upgraded, change nothing and record it | refuse: stop before any
    change), ``why`` (one sentence), ``evidence`` (sentences), ``candidates`` (names of Succeeded snapshots
    tagged for this host and target, newest first), ``msg`` (for refuse: the evidence and what to do).
    """
    phases = _phases(checkpoint)
    outcome = _s(_outputs(phases, "outcome").get("result"))
    attempt = _s(_outputs(phases, "attempt").get("id"))
    touched = [p for p in changing_phases if _status(phases, p)]
    snap_done = _status(phases, "snapshot") == "done"
    rollback_pending = _status(phases, "rollback") == "started"
    upgraded = at_target(versions, target)
    partial = partial_run_evidence(versions, host_files, target)
    candidates = _candidates(snapshots, host, target)
    evidence = list(partial)
    if versions is None:
        evidence.append("the installed versions could not be read from the UMP portal")
    if host_files is None:
        evidence.append("the UMP server's C:\\acs could not be read")
    if snapshots is None:
        evidence.append("the snapshots could not be listed in Azure")

    def out(action, why, msg=""):
        return {"action": action, "why": why, "evidence": evidence, "candidates": candidates, "msg": msg}

    def refuse(why):
        todo = (
            "restore its pre-upgrade snapshot with ansible-playbook playbooks/rollback.yml --limit %s "
            "-e ump_target_version=%s -e ump_rollback_snapshot=<name> (tagged for this host and target: %s), "
            "or repair the host by hand, then run the upgrade again" % (host, target, ", ".join(candidates))
            if candidates
            else "no Succeeded snapshot tagged for %s and %s exists in Azure: repair the host by hand (or restore "
            "a backup of its OS disk), then run the upgrade again" % (host, target)
        )
        return out(
            "refuse",
            why,
            "%s: %s; nothing was changed. Evidence: %s. What to do: %s."
            % (host, why, "; ".join(evidence) or "none", todo),
        )

    if rollback_pending:
        return out("proceed", "an earlier run stopped while rolling back: the rollback is finished first")

    # the snapshot the checkpoint relies on (done in this attempt) must exist in Azure and be Succeeded
    snap_ok = None
    if snap_done:
        snap_out = _outputs(phases, "snapshot")
        ref = snap_out.get("snapshot_id") or snap_out.get("snapshot_name")
        found = find_snapshot(snapshots, ref)
        problems = (
            ["Azure could not be read"]
            if snapshots is None
            else snapshot_problems(found, host, target, attempt if found else "")
        )
        snap_ok = not problems
        if not snap_ok:
            evidence.append(
                "the checkpoint's snapshot %s: %s" % (_s(snap_out.get("snapshot_name")) or _s(ref), "; ".join(problems))
            )

    if outcome == "upgraded":
        if upgraded:
            return out("proceed", "the checkpoint and the portal agree: %s is at %s" % (host, target))
        if partial or host_files is None:
            return refuse(
                "the checkpoint says upgraded but the host is not at %s and shows an earlier partial run" % target
            )
        return out(
            "fresh",
            "the checkpoint says upgraded but the portal does not report every version at %s (%s): the systems "
            "win, a fresh attempt upgrades it"
            % (
                target,
                "versions unreadable" if versions is None else "SysAdminKit %s" % _s(versions.get("sysadminkit")),
            ),
        )

    if snap_done and snap_ok:
        return out("proceed", "the checkpoint's snapshot exists in Azure and is Succeeded: resume")

    # from here on the snapshot phase would run (again) before the host changes further
    if upgraded and not touched and not snap_done and outcome != "rolled_back":
        return out("at_target", "the portal reports SysAdminKit, MultiTenant and every customer at %s" % target)
    if partial or upgraded:
        why = (
            "the checkpoint's snapshot is not usable and the host was already changed"
            if snap_done
            else "the host is part-upgraded but no pre-upgrade snapshot of this attempt is recorded"
        )
        return refuse("refusing to snapshot it: " + why)
    if host_files is None:
        return refuse("refusing to snapshot it: its disk could not be read for traces of an earlier run")
    if snap_done:
        return out(
            "fresh",
            "the checkpoint claims a snapshot that Azure does not have (a stale checkpoint): a fresh attempt takes "
            "a new one before anything changes",
        )
    return out("proceed", "no trace of an earlier run on the host" if not touched else "resume before the snapshot")


def restore_problems(snapshot, host, target, attempt, from_version, named_by_operator=False):
    """Why the rollback must not restore ``snapshot`` ([] when it may). An operator-named snapshot only has to
    exist and be Succeeded; otherwise it must be the pre-upgrade state of this attempt (its tags)."""
    if named_by_operator:
        return snapshot_problems(snapshot, "", "", "", "")
    return snapshot_problems(snapshot, host, target, attempt or "?", from_version)
