#!/bin/bash
# A real single-node Slurm cluster on this machine, for one test: munged, slurmctld and slurmd on
# localhost with a config written here (in a scratch directory, on ports of their own), then a
# sharded `power` run and a sharded `sweep` submitted as job arrays with dependent merge jobs,
# and each merged report compared byte for byte with the same command run in one process.
#
#   deploy/slurm/test-local-cluster.sh [TRIALSIM]     (default: target/debug/trialsim)
#
# Needs Debian's slurm-wlm and munge (installed with apt-get when missing) and root (slurmd
# runs jobs as their user). Where it cannot have them, it says so and exits 0 without testing.
# Exit 1 if a merged report differs or a job fails. Takes about 20 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
trialsim=${1:-$root/target/debug/trialsim}
skip() {
    echo "test-local-cluster: SKIPPED: $*" >&2
    exit 0
}
[ -x "$trialsim" ] || {
    echo "test-local-cluster: no binary at $trialsim (cargo build first)" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || skip "needs root to start slurmd and munged"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    command -v apt-get >/dev/null || skip "slurm-wlm and munge are not installed, and there is no apt-get"
    echo "test-local-cluster: installing slurm-wlm and munge" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 ||
        skip "apt-get could not install slurm-wlm and munge"
fi

dir=$(mktemp -d /tmp/trialsim-slurm.XXXXXX)
chmod 755 "$dir"
host=$(hostname -s)
# Ports of our own, so that no other Slurm on the machine is touched.
base=$((17000 + RANDOM % 2000))
export SLURM_CONF=$dir/slurm.conf
pids=()
cleanup() {
    # Only the daemons this script started, by the pids they wrote.
    for f in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munged.pid"; do
        if [ -s "$f" ]; then kill "$(cat "$f")" 2>/dev/null || true; fi
    done
    sleep 0.5
    rm -rf "$dir"
}
trap cleanup EXIT

# munge: a key and a socket of our own.
mkdir -p "$dir/munge"
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$dir/munge"
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed" 2>"$dir/munged.err" ||
    skip "munged does not start here: $(cat "$dir/munged.err")"

mkdir -p "$dir/state" "$dir/spool" "$dir/jobs"
cpus=$(nproc)
cat >"$SLURM_CONF" <<CONF
ClusterName=trialsim-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdParameters=config_overrides
PlugStackConfig=$dir/plugstack.conf
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=10 State=UP OverSubscribe=FORCE:4
CONF
: >"$dir/plugstack.conf"
slurmctld -f "$SLURM_CONF" -i 2>"$dir/slurmctld.err" ||
    skip "slurmctld does not start here: $(cat "$dir/slurmctld.err")"
slurmd -f "$SLURM_CONF" 2>"$dir/slurmd.err" ||
    skip "slurmd does not start here: $(cat "$dir/slurmd.err")"
for _ in $(seq 1 60); do
    if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then break; fi
    sleep 0.5
done
sinfo -h -o '%t' | grep -qE '^(idle|mix|alloc)' ||
    skip "the local node did not come up: $(tail -3 "$dir/slurmd.log" 2>/dev/null)"

failed=0
run_case() {
    local name=$1 n=$2
    shift 2
    local parts=$dir/jobs/$name
    (cd "$dir/jobs" && TRIALSIM=$trialsim SBATCH_ARGS="--chdir=$root --output=$dir/jobs/%x-%A_%a.log" \
        "$root/deploy/slurm/submit.sh" "$n" "$parts" "$dir/jobs/$name.merged" "$@") >"$dir/jobs/$name.ids"
    (cd "$root" && "$trialsim" "$@" >"$dir/jobs/$name.one" 2>/dev/null) || true
}
run_case power 4 power specs/almere-45plus.trial --reps 2000
run_case sweep 3 sweep specs/almere-45plus.trial --reps 500 --vary n_per_arm=150..250:50
# Wait for every job (arrays and merges) to leave the queue.
for _ in $(seq 1 240); do
    [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
    sleep 0.5
done
[ -z "$(squeue -h -o %i)" ] || { echo "test-local-cluster: jobs still queued" >&2; squeue >&2; exit 1; }
for name in power sweep; do
    if [ -f "$dir/jobs/$name.merged" ] && cmp -s "$dir/jobs/$name.one" "$dir/jobs/$name.merged"; then
        echo "test-local-cluster: $name: $(wc -c <"$dir/jobs/$name.merged") bytes merged from the Slurm array = one process (jobs $(cat "$dir/jobs/$name.ids"))"
    else
        echo "test-local-cluster: $name: the merged report differs or is missing" >&2
        cat "$dir"/jobs/*.log >&2 2>/dev/null || true
        failed=1
    fi
done
exit "$failed"
