#!/usr/bin/env bash
# The 1.28-million-atom indentation set-up of inputs/nanoindentation/
# deck_1.28M.toml under `mpirun -np 2`, with and without load balancing
# (issue 12, "Scale"): speed and memory per atom.
#
#   scripts/indent_scale.sh [OUTDIR]
#
# The 2,048-atom Cu64Zr36 glass tiled 25 x 25 x 1 (1,280,000 atoms, a slab
# about 812 x 812 x 32 A), boundary p p s, base (z < 5 A) held, a Langevin
# layer (5-10 A) at 300 K, the rest NVE; a sphere of R = 40 A starting 1 A
# above the surface and moving down at 1 A/ps; STEPS steps (default 50) of
# 2 fs, skin 1 A. Run twice: uniform cuts, and [domain] balance = { every =
# 10, threshold = 1.0 } (balance at the start and every 10 steps whatever
# the imbalance, the most it can cost). Figures: atom-steps/s from glassmd's
# loop time, peak RSS summed over the ranks (/usr/bin/time) per atom, and
# timing.json's atom_imbalance and pair_imbalance.
#
# On 2 ranks that slab's grid splits x, so it is balanced already. The
# second part measures what balancing gains where the grid splits an axis
# with vacuum: the glass tiled 2 x 2 x 1 (8,192 atoms) in a p p f box 2.5
# times its height (the slab fills the lower 40 %), base held, the rest NVE,
# STEPS2 steps (default 1000): on 2 ranks the grid is [1, 1, 2], so with
# uniform cuts one rank holds every atom.
#
# Needs: mpirun, /usr/bin/time, a release build; about 3 GB and 6 minutes
# on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-indent-scale-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
NP=${NP:-2}
MPIRUN="mpirun --allow-run-as-root --oversubscribe -np $NP"
cargo build --release --quiet
bin=$PWD/target/release/glassmd
glass=$PWD/inputs/glasses/cu64zr36_2048.data
pot=$PWD/inputs/potentials/CuZr_mm.eam.fs
source scripts/lib.sh
steps=${STEPS:-50}
cd "$out"

deck() { # BALANCE_LINE
  gmd_head "$glass" | sed 's#^read_data = .*#&\nreplicate = [25, 25, 1]\nboundary = ["p", "p", "s"]#'
  cat <<EOI
[thermo]
every = 10
$1
[[group]]
name = "base"
region = { z = [-inf, 5.0] }
[[group]]
name = "layer"
region = { z = [5.0, 10.0] }
[[group]]
name = "mobile"
not = "base"
[[stage]]
kind = "nve"
name = "indent"
group = "mobile"
timestep = 0.002
steps = $steps
[[stage.fix]]
kind = "indent"
shape = "sphere"
k = 10.0
radius = 40.0
center = [406.0, 406.0, 80.0]
start_gap = 1.0
velocity = [0.0, 0.0, -1.0]
$(gmd_hold_base)
[[stage.fix]]
kind = "langevin"
group = "layer"
temperature = 300.0
damp = 0.1
EOI
}

natoms=1280000
: > summary.txt
for tag in uniform balanced; do
  mkdir -p $tag
  if [ $tag = balanced ]; then deck $'[domain]\nbalance = { every = 10, threshold = 1.0 }' > $tag/deck.toml; else deck "" > $tag/deck.toml; fi
  echo "indent-scale: $tag, 1.28M atoms, $steps steps on $NP ranks"
  (cd $tag && rss_run "$out" $tag "$bin" run deck.toml --overwrite > gmd.log 2> gmd.err)
  t=$(awk '/^Loop time/ {t=$3} END {print t}' $tag/gmd.log)
  r=$(cat rss.$tag.* | awk '{s+=$1} END {print s}')
  ai=$(python3 -c "import json; d=json.load(open('$tag/timing.json')); print(d['atom_imbalance'], d['pair_imbalance'], d['balances'])")
  grid=$(grep -o 'grid \[[0-9, ]*\]' $tag/gmd.err | head -1)
  awk -v tag=$tag -v t=$t -v n=$natoms -v s=$steps -v r=$r -v ai="$ai" -v g="$grid" -v np=$NP 'BEGIN {split(ai, a, " "); printf "%-8s: %s on %d ranks, loop %.1f s, %.3e atom-steps/s, peak RSS %.0f MiB, %.0f bytes/atom, atom_imbalance %.4f, pair_imbalance %.4f, balances %d\n", tag, g, np, t, n*s/t, r/1024, r*1024/n, a[1], a[2], a[3]}' | tee -a summary.txt
done

# Part 2: a slab under vacuum, the grid split along z.
steps2=${STEPS2:-1000}
sed 's/0 32.48 zlo zhi/0 81.2 zlo zhi/' "$glass" > slab_vacuum.data
for tag in vacuum_uniform vacuum_balanced; do
  mkdir -p $tag
  bal=""
  [ $tag = vacuum_balanced ] && bal=$'[domain]\nbalance = { every = 1000, threshold = 1.1 }'
  gmd_head ../slab_vacuum.data | sed 's#^read_data = .*#&\nreplicate = [2, 2, 1]\nboundary = ["p", "p", "f"]#' > $tag/deck.toml
  cat >> $tag/deck.toml <<EOI
[thermo]
every = 100
$bal
$(gmd_base_mobile)
[[stage]]
kind = "nve"
group = "mobile"
timestep = 0.002
steps = $steps2
$(gmd_hold_base)
EOI
  echo "indent-scale: $tag, 8,192 atoms under vacuum, $steps2 steps on $NP ranks"
  (cd $tag && $MPIRUN "$bin" run deck.toml --overwrite > gmd.log 2> gmd.err)
  t=$(awk '/^Loop time/ {t=$3} END {print t}' $tag/gmd.log)
  ai=$(python3 -c "import json; d=json.load(open('$tag/timing.json')); print(d['atom_imbalance'], d['pair_imbalance'], d['balances'])")
  grid=$(grep -o 'grid \[[0-9, ]*\]' $tag/gmd.err | head -1)
  awk -v tag=$tag -v t=$t -v n=8192 -v s=$steps2 -v ai="$ai" -v g="$grid" -v np=$NP 'BEGIN {split(ai, a, " "); printf "%-15s: %s on %d ranks, loop %.2f s, %.3e atom-steps/s, atom_imbalance %.4f, pair_imbalance %.4f, balances %d\n", tag, g, np, t, n*s/t, a[1], a[2], a[3]}' | tee -a summary.txt
done
