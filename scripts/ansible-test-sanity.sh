#!/usr/bin/env bash
# ansible-test sanity on the collection, offline and without containers.
# ansible-test needs its working directory to really be .../ansible_collections/ump365/upgrade, so the
# tracked (and new, not ignored) files are copied into such a tree; the collections named in galaxy.yml
# are linked beside it from the `ansible` package; results are copied back to tests/output/.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
py="${repo}/.venv/bin/python"
work=$(mktemp -d "${TMPDIR:-/tmp}/ump365-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/ump365/upgrade"
mkdir -p "$dest"
cd "$repo"
git ls-files -z --cached --others --exclude-standard \
  | grep -zvE '^molecule$|^(\.ansible|lab|inventories|scripts|bench|molecule|extensions|awx|docs/examples)/|^tests/(integration|lab|reliability|conftest\.py|__init__\.py)' \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | xargs -0 cp --parents -t "$dest"
site=$("$py" -c 'import ansible_collections, os; print(os.path.dirname(ansible_collections.__path__[0]))')
for dep in ansible/windows community/windows awx/awx; do
  mkdir -p "$work/ansible_collections/${dep%/*}"
  ln -s "$site/ansible_collections/$dep" "$work/ansible_collections/$dep"
done
# ansible-test bootstraps pip in its venvs with a get-pip script from its CI file host, which we cannot
# reach; this stand-in does the same with ensurepip and PyPI.
pipver=$("$py" - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pipver//./_}.py"
mkdir -p "$(dirname "$cache")"
cp "$repo/scripts/get_pip_standin.py" "$cache"
cd "$dest"
rc=0
"$repo/.venv/bin/ansible-test" sanity --local --python 3.11 --color no "$@" || rc=$?
rm -rf "$repo/tests/output"
[ -d tests/output ] && cp -r tests/output "$repo/tests/output"
exit $rc
