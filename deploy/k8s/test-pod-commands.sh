#!/bin/bash
# Runs the shell command of every pod of shards.yaml and of merge.yaml on this machine, with
# JOB_COMPLETION_INDEX set as Kubernetes sets it, and compares the merged report with one
# process. It tests the manifests' command lines and the shard/merge path, not a cluster: the
# image, the volume and the scheduling are Kubernetes' part (see README.md).
#
#   deploy/k8s/test-pod-commands.sh [TRIALSIM] [REPS]   (defaults: target/debug/trialsim, 2000)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
trialsim=$(realpath "${1:-$root/target/debug/trialsim}")
reps=${2:-2000}
dir=$(mktemp -d /tmp/trialsim-k8s.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/bin" "$dir/parts"
ln -s "$trialsim" "$dir/bin/trialsim"
# The folded `args` of each manifest, with the image's paths (/specs, /parts) mapped here.
command_of() {
    awk '/^ *args:/{f=1; next} f && /^ *(resources|volumeMounts):/{exit} f' "$1" |
        sed -e 's/^ *- >-//' -e 's/^ *- //' | tr '\n' ' ' |
        sed -e "s#/specs/#$root/specs/#g" -e "s#/parts#$dir/parts#g" \
            -e "s#--reps [0-9]*#--reps $reps#"
}
shards=$(awk '/^ *completions:/{print $2; exit}' deploy/k8s/shards.yaml)
shard_command=$(command_of deploy/k8s/shards.yaml)
merge_command=$(command_of deploy/k8s/merge.yaml)
for i in $(seq 0 $((shards - 1))); do
    PATH="$dir/bin:$PATH" JOB_COMPLETION_INDEX=$i SHARDS=$shards sh -c "$shard_command"
done
PATH="$dir/bin:$PATH" sh -c "$merge_command" >"$dir/merged.txt"
one=$(echo "$shard_command" | sed -e 's/--shard .*//' -e 's/^ *exec //')
PATH="$dir/bin:$PATH" sh -c "$one" >"$dir/one.txt" || true
if cmp -s "$dir/one.txt" "$dir/merged.txt"; then
    echo "test-pod-commands: $shards pods merged = one process ($(wc -c <"$dir/one.txt") bytes)"
else
    echo "test-pod-commands: the merged report differs" >&2
    diff "$dir/one.txt" "$dir/merged.txt" >&2 || true
    exit 1
fi
