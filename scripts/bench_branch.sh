#!/usr/bin/env bash
# Is this working tree slower than a base commit? Builds BASE (default
# main) in a git worktree beside the repository, then runs both binaries on
# the same input, alternating, and reports each one's best and median
# atom-steps/s and the ratio, so a slower kernel is seen before it lands.
#
#   scripts/bench_branch.sh [BASE] [OUTDIR]
#   RUNS=5 NP=1 STEPS=100 SIZE=2 scripts/bench_branch.sh main
#   FAIL_BELOW=0.97 scripts/bench_branch.sh main   # exit 1 if the median ratio is below
#
# Input: the 2,048-atom Cu64Zr36 reference liquid (tests/data/reference/
# cuzr_fs_ppp) tiled SIZE^3 (16,384 atoms at SIZE=2), CuZr_mm.eam.fs,
# skin 1 Å, STEPS NVE steps at 1 fs, NP ranks (mpirun when NP > 1), one
# thread. The figure is each run's own loop time (set-up excluded), as in
# scripts/bench_vs_lammps.sh; the breakdown by phase of the last run of
# each is printed too. Only a release build is compared.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
base=${1:-main}
out=${2:-bench-branch}
runs=${RUNS:-5}
np=${NP:-1}
steps=${STEPS:-100}
size=${SIZE:-2}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# The base, built once per commit in a worktree, into this repository's
# target folder (the dependencies are compiled once for both), its binary
# kept as glassmd-<commit>.
rev=$(git rev-parse --verify "$base^{commit}")
if [ ! -x "$out/glassmd-$rev" ]; then
  wt=$out/worktree
  git worktree remove --force "$wt" 2> /dev/null || rm -rf "$wt"
  git worktree prune
  git worktree add --detach "$wt" "$rev" > /dev/null
  echo "bench: building $base ($rev)"
  (cd "$wt" && CARGO_TARGET_DIR="$repo/target" cargo build --release --quiet)
  cp target/release/glassmd "$out/glassmd-$rev"
  git worktree remove --force "$wt"
fi
echo "bench: building the working tree"
cargo build --release --quiet
cp "$out/glassmd-$rev" "$out/glassmd-base"
cp target/release/glassmd "$out/glassmd-branch"

cat > "$out/deck.toml" <<EOI
[system]
read_data = "$repo/tests/data/reference/cuzr_fs_ppp/config.data"
replicate = [$size, $size, $size]
[potential]
style = "eam/fs"
file = "$repo/inputs/potentials/CuZr_mm.eam.fs"
elements = ["Cu", "Zr"]
[neighbor]
skin = 1.0
[thermo]
every = 50
[[stage]]
kind = "velocity"
temperature = 2000.0
seed = 5
[[stage]]
kind = "nve"
steps = $steps
timestep = 0.001
EOI

cd "$out"
natoms=$((2048 * size * size * size))
rate() { awk -v n=$natoms -v s=$steps '/^Loop time/ {t=$3} END {printf "%.4e", n*s/t}' "$1"; }
stats() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{v[NR]=$1} END {printf "%s %s", v[NR], v[int((NR+1)/2)]}'; }
launch() { if [ "$np" = 1 ]; then "$@"; else mpirun --oversubscribe -np "$np" "$@"; fi; }
B=""; W=""
echo "code,run,atom_steps_per_s" > branch.csv
for k in $(seq "$runs"); do
  # Alternate, so slow phases of a shared machine hit both.
  launch ./glassmd-base --threads 1 run deck.toml --overwrite > base.log 2>&1
  launch ./glassmd-branch --threads 1 run deck.toml --overwrite > branch.log 2>&1
  b=$(rate base.log); w=$(rate branch.log)
  echo "base,$k,$b" >> branch.csv
  echo "branch,$k,$w" >> branch.csv
  B="$B $b"; W="$W $w"
done
read bb bm <<< "$(echo $B | stats)"
read wb wm <<< "$(echo $W | stats)"
echo "base $base ($rev):"
sed -n '/^Section/,/^Peak/p' base.log
echo "working tree:"
sed -n '/^Section/,/^Peak/p' branch.log
awk -v bb=$bb -v bm=$bm -v wb=$wb -v wm=$wm -v n=$natoms -v np=$np -v r=$runs 'BEGIN {
  printf "%d atoms, %d rank(s), %d runs each: base best %.4e median %.4e atom-steps/s; working tree best %.4e median %.4e; ratio best %.3f median %.3f\n", n, np, r, bb, bm, wb, wm, wb/bb, wm/bm }'
if [ -n "${FAIL_BELOW:-}" ]; then
  awk -v wm=$wm -v bm=$bm -v f="$FAIL_BELOW" 'BEGIN { if (wm/bm < f) { printf "bench: the working tree is slower than the base (median ratio %.3f < %s)\n", wm/bm, f; exit 1 } }'
fi
