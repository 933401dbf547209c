#!/usr/bin/env bash
# What load balancing gains on a slab under vacuum (issue 12, "Balancing"):
# the 2,048-atom Cu64Zr36 glass tiled 1 x 1 x 2 (4,096 atoms, a slab
# 32 x 32 x 65 A) in a p p f box 2.5 times its height (vacuum_z 97.4 A: the
# slab fills the lower 40 %), base (z < 5 A) held, the rest NVE, STEPS
# steps (default 2000) of 2 fs. On NP ranks the grid splits z ([1, 1, NP]
# for NP = 2, 4, 8), so uniform cuts leave the ranks above the slab idle;
# `[domain] balance = { every = 1000, threshold = 1.1 }` moves the cuts.
# Each NP runs uniform, then balanced; the figures are glassmd's loop time,
# atom-steps/s and timing.json's atom_imbalance and pair_imbalance.
#
#   scripts/balance_bench.sh [OUTDIR]      NPS="2 4" STEPS=2000 by default
#
# BIN (default target/release/glassmd, built) and MPIRUN (default
# "mpirun --allow-run-as-root --oversubscribe") may be set. Ranks beyond the
# machine's cores measure oversubscription, not balancing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-balance-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [ -z "${BIN:-}" ]; then cargo build --release --quiet; BIN=$root/target/release/glassmd; fi
MPIRUN=${MPIRUN:-mpirun --allow-run-as-root --oversubscribe}
pot=$root/inputs/potentials/CuZr_mm.eam.fs
source scripts/lib.sh
steps=${STEPS:-2000}
cd "$out"
: > summary.txt
for np in ${NPS:-2 4}; do
  for tag in uniform balanced; do
    d=np${np}_$tag
    mkdir -p $d
    bal=""
    [ $tag = balanced ] && bal=$'[domain]\nbalance = { every = 1000, threshold = 1.1 }'
    gmd_head "$root/inputs/glasses/cu64zr36_2048.data" | sed 's#^read_data = .*#&\nreplicate = [1, 1, 2]#' > $d/deck.toml
    cat >> $d/deck.toml <<EOI
[thermo]
every = 500
$bal
$(gmd_base_mobile)
[[stage]]
kind = "change_box"
boundary = ["p", "p", "f"]
vacuum_z = 97.44
[[stage]]
kind = "nve"
group = "mobile"
timestep = 0.002
steps = $steps
$(gmd_hold_base)
EOI
    echo "balance: $d"
    (cd $d && $MPIRUN -np $np "$BIN" run deck.toml --overwrite > gmd.log 2> gmd.err)
    t=$(awk '/^Loop time/ {t=$3} END {print t}' $d/gmd.log)
    ai=$(awk -F'[:,]' '/"atom_imbalance"/ {a=$2} /"pair_imbalance"/ {p=$2} /"balances"/ {b=$2} END {print a, p, b}' $d/timing.json)
    grid=$(grep -o 'grid \[[0-9, ]*\]' $d/gmd.err | head -1)
    awk -v d=$d -v t=$t -v s=$steps -v ai="$ai" -v g="$grid" 'BEGIN {split(ai, a, " "); printf "%-14s %s: loop %.2f s, %.3e atom-steps/s, atom_imbalance %.4f, pair_imbalance %.4f, balances %d\n", d, g, t, 4096*s/t, a[1], a[2], a[3]}' | tee -a summary.txt
  done
done
