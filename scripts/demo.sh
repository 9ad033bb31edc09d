#!/usr/bin/env bash
# make demo: start the UMP lab, run the full upgrade against it, say where the report is, stop the lab
# whatever happens.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
lab_dir="${LAB_DIR:-$repo/.lab}"
hosts="${DEMO_HOSTS:-2}"
scale="${DEMO_SCALE:-0.002}"
py="$repo/.venv/bin/python"
export UMPLAB_STATE_DIR="$lab_dir"
"$py" -m umplab down --state-dir "$lab_dir" >/dev/null 2>&1 || true
"$py" -m umplab up --state-dir "$lab_dir" --hosts "$hosts" --scale "$scale"
trap '"$py" -m umplab down --state-dir "$lab_dir"' EXIT
if [ -n "${DEMO_FAULT:-}" ]; then
  # e.g. DEMO_FAULT="wyupdate.fail_step step=RunSqlScripts host=ump02": watch that host roll back
  read -r -a fault <<<"$DEMO_FAULT"
  "$py" -m umplab fault add "${fault[@]}" --state-dir "$lab_dir" >/dev/null
  echo "lab fault injected: $DEMO_FAULT"
fi
rm -rf "$lab_dir/checkpoints" "$lab_dir/reports"
rc=0
"$repo/.venv/bin/ansible-playbook" -i inventories/lab playbooks/upgrade.yml "$@" || rc=$?
echo
if compgen -G "$lab_dir/reports/*.html" >/dev/null; then
  echo "Run report: $(ls -t "$lab_dir"/reports/*.html | head -1)"
  echo "            (JSON and JUnit beside it in $lab_dir/reports/)"
else
  echo "Checkpoints: $lab_dir/checkpoints/"
fi
exit $rc
