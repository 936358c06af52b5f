#!/bin/bash
# Submits a sharded trialsim run: an array of N shards and a merge that waits for all of them.
#
#   deploy/slurm/submit.sh N PARTS_DIR REPORT COMMAND ARGS...
#   deploy/slurm/submit.sh 100 parts/ power.txt power specs/almere-45plus.trial --reps 1000000
#
# Prints the array's job id and the merge's. TRIALSIM (default: `trialsim` on the PATH) is the
# binary the jobs run; extra sbatch options go in SBATCH_ARGS (e.g. "--partition=short").
set -euo pipefail
if [ $# -lt 4 ]; then
    sed -n '2,8p' "$0" >&2
    exit 2
fi
n=$1 parts=$2 report=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$parts"
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_ARGS:-} --array="0-$((n - 1))" \
    --export="ALL,SHARDS=$n" "$here/trialsim-array.sbatch" "$parts" "$@")
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_ARGS:-} --dependency="afterok:${array%%;*}" \
    "$here/trialsim-merge.sbatch" "$parts" "$report")
echo "array ${array%%;*} merge ${merge%%;*}"
