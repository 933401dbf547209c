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
# Needs: mpirun, /usr/bin/time, a release build; about 3 GB and 5 minutes
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
steps=${STEPS:-50}
cd "$out"

deck() { # BALANCE_LINE
  cat <<EOI
[system]
read_data = "$glass"
replicate = [25, 25, 1]
boundary = ["p", "p", "s"]
[potential]
style = "eam/fs"
file = "$pot"
elements = ["Cu", "Zr"]
[neighbor]
skin = 1.0
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
[[stage.fix]]
kind = "setforce"
group = "base"
force = [0.0, 0.0, 0.0]
[[stage.fix]]
kind = "langevin"
group = "layer"
temperature = 300.0
damp = 0.1
EOI
}

rss_run() { # tag command...
  local tag=$1; shift
  rm -f rss.$tag.*
  $MPIRUN sh -c "exec /usr/bin/time -f %M -o $out/rss.$tag.\$OMPI_COMM_WORLD_RANK $*"
}
natoms=1280000
: > summary.txt
for tag in uniform balanced; do
  mkdir -p $tag
  if [ $tag = balanced ]; then deck $'[domain]\nbalance = { every = 10, threshold = 1.0 }' > $tag/deck.toml; else deck "" > $tag/deck.toml; fi
  echo "indent-scale: $tag, 1.28M atoms, $steps steps on $NP ranks"
  (cd $tag && rss_run $tag "$bin" run deck.toml --overwrite > gmd.log 2> gmd.err)
  t=$(awk '/^Loop time/ {t=$3} END {print t}' $tag/gmd.log)
  r=$(cat rss.$tag.* | awk '{s+=$1} END {print s}')
  ai=$(python3 -c "import json; d=json.load(open('$tag/timing.json')); print(d['atom_imbalance'], d['pair_imbalance'], d['balances'])")
  grid=$(grep -o 'grid \[[0-9, ]*\]' $tag/gmd.err | head -1)
  awk -v tag=$tag -v t=$t -v n=$natoms -v s=$steps -v r=$r -v ai="$ai" -v g="$grid" -v np=$NP 'BEGIN {split(ai, a, " "); printf "%-8s: %s on %d ranks, loop %.1f s, %.3e atom-steps/s, peak RSS %.0f MiB, %.0f bytes/atom, atom_imbalance %.4f, pair_imbalance %.4f, balances %d\n", tag, g, np, t, n*s/t, r/1024, r*1024/n, a[1], a[2], a[3]}' | tee -a summary.txt
done
