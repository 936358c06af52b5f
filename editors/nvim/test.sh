#!/usr/bin/env bash
# Runs Neovim headless against `trialsim lsp` on a shipped spec with one mistake in it, and
# checks that diagnostics, hover and go-to-definition arrive. Needs `nvim` (0.7 or later) and a
# built `trialsim` (TRIALSIM=path, default target/debug/trialsim).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
trialsim="${TRIALSIM:-$root/target/debug/trialsim}"
[ -x "$trialsim" ] || { echo "no trialsim binary at $trialsim (cargo build first)"; exit 2; }
command -v nvim >/dev/null || { echo "nvim is not installed"; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The shipped spec, with the control arm misspelt in the primary analysis.
sed 's/compare work_12m: experiment vs control/compare work_12m: experiment vs contrl/' \
  "$root/specs/almere-45plus.trial" > "$work/almere.trial"
grep -q "vs contrl" "$work/almere.trial"
TRIALSIM="$trialsim" SPEC="$work/almere.trial" RTP="$here" \
  timeout 60 nvim --headless -u NONE -i NONE -n -c "luafile $here/test.lua"
