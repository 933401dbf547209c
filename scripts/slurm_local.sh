#!/usr/bin/env bash
# A real single-node Slurm on loopback, for testing the job scripts in slurm/:
# munged, slurmctld and slurmd (Debian's slurm-wlm and munge), run as root
# with their configuration and state under $GLASSMD_SLURM_DIR
# (default /tmp/glassmd-slurm), nothing in /etc changed.
#
#   scripts/slurm_local.sh start    # install if missing, start, wait until the node is idle
#   scripts/slurm_local.sh stop
#   scripts/slurm_local.sh status
#   eval "$(scripts/slurm_local.sh env)"   # SLURM_CONF for sbatch, squeue, sacct...
#
# One partition `debug` with this machine's cores; requeue allowed; no
# accounting (the scripts use scontrol and the job's exit status).
set -euo pipefail
dir=${GLASSMD_SLURM_DIR:-/tmp/glassmd-slurm}
conf="$dir/slurm.conf"
host=$(hostname -s)

write_conf() {
  mkdir -p "$dir/ctld" "$dir/d" "$dir/munge"
  local cpus mem
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2/1024*0.9)}' /proc/meminfo)
  cat > "$conf" <<EOF
ClusterName=glassmd-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/d
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobRequeue=1
KillWait=10
MinJobAge=600
InactiveLimit=0
SlurmdTimeout=60
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  rm -f "$dir/cgroup.conf"
}

install_missing() {
  local missing=""
  for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  install_missing
  write_conf
  export SLURM_CONF="$conf"
  if ! running "$dir/munged.pid"; then
    [ -f /etc/munge/munge.key ] || /usr/sbin/mungekey --create >/dev/null 2>&1 || /usr/sbin/create-munge-key -f >/dev/null
    munged --force --socket="$dir/munge/munge.socket" --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" 2>/dev/null \
      || munged --force --socket="$dir/munge/munge.socket" --pid-file="$dir/munged.pid" --log-file="$dir/munged.log"
  fi
  # Slurm finds munge's socket through its auth options.
  grep -q AuthInfo "$conf" || echo "AuthInfo=socket=$dir/munge/munge.socket" >> "$conf"
  running "$dir/slurmctld.pid" || slurmctld -f "$conf"
  running "$dir/slurmd.pid" || slurmd -f "$conf"
  for _ in $(seq 60); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
    case "$state" in
      idle|mix|alloc) echo "slurm up on $host ($state), SLURM_CONF=$conf"; return 0 ;;
      down*|drain*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 1
  done
  echo "slurm did not come up; see $dir/*.log" >&2
  tail -5 "$dir"/slurmctld.log "$dir"/slurmd.log >&2 || true
  return 1
}

stop() {
  for d in slurmd slurmctld munged; do
    if running "$dir/$d.pid"; then kill "$(cat "$dir/$d.pid")" 2>/dev/null || true; fi
  done
  sleep 1
  echo "slurm stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) SLURM_CONF="$conf" sinfo; SLURM_CONF="$conf" squeue ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
