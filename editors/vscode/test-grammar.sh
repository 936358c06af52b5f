#!/bin/sh
# Snapshot tests of the TextMate grammar on every `.trial` file of the repository:
# `vscode-tmgrammar-snap` tokenises each file and compares the scopes with the committed
# snapshot in test/snapshots/. `./test-grammar.sh --update` rewrites the snapshots (review the
# diff before committing). Needs node and `npm install` in this folder.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$here/.snap-work"
rm -rf "$work"
mkdir -p "$work" "$here/test/snapshots"
cd "$root"
find . -name '*.trial' -not -path './target/*' -not -path '*/node_modules/*' -not -path './editors/*' \
  | sort | while read -r f; do
    name="$(printf '%s' "${f#./}" | tr '/' '_')"
    cp "$f" "$work/$name"
    if [ -f "$here/test/snapshots/$name.snap" ]; then
      cp "$here/test/snapshots/$name.snap" "$work/$name.snap"
    fi
  done
cd "$here"
update=""
[ "${1:-}" = "--update" ] && update="--updateSnapshot"
status=0
./node_modules/.bin/vscode-tmgrammar-snap $update -g syntaxes/trial.tmLanguage.json -s source.trial \
  ".snap-work/*.trial" || status=$?
if [ -n "$update" ]; then
  rm -f test/snapshots/*.snap
  cp "$work"/*.snap test/snapshots/
fi
# A spec without a committed snapshot is a failure: every spec must be covered.
for f in "$work"/*.trial; do
  if [ ! -f "test/snapshots/$(basename "$f").snap" ]; then
    echo "no snapshot for $(basename "$f"); run ./test-grammar.sh --update"
    status=1
  fi
done
rm -rf "$work"
exit $status
