#!/usr/bin/env bash
# Write time and size of one H5MD snapshot and one checkpoint of a
# 1.28-million-atom system (fcc 80x80x50 cells, Cu64Zr36 at random).
#   scripts/bench_io.sh [NP] [CELLS "nx, ny, nz"]
# NP ranks under mpirun (default 1). Prints the per-frame times from the log
# and the file sizes. Needs about 1.5 GB of memory per million atoms.
set -euo pipefail
np=${1:-1}
cells=${2:-"80, 80, 50"}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/target/release/glassmd"
[ -x "$bin" ] || (cd "$root" && cargo build --release)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
launch() { if [ "$np" = 1 ]; then "$bin" "$@"; else mpirun --oversubscribe -np "$np" "$bin" "$@"; fi; }
for comp in 0 4; do
  cat > "$dir/deck.toml" <<DECK
[system.create]
composition = { Cu = 64, Zr = 36 }
lattice = "fcc"
a = 4.05
cells = [$cells]
seed = 1
[potential]
style = "eam/fs"
file = "$root/inputs/potentials/CuZr_mm.eam.fs"
elements = ["Cu", "Zr"]
[output]
snapshot = { file = "traj.h5", every = 1, fields = ["position", "velocity"], compression = $comp }
checkpoint = { file = "restart.h5" }
overwrite = true
[[stage]]
kind = "velocity"
temperature = 300
seed = 1
[[stage]]
kind = "nve"
steps = 2
DECK
  (cd "$dir" && RUST_LOG=glassmd=debug launch run deck.toml --stop-at-step 1 > log 2>&1) || [ $? = 75 ]
  echo "== snapshot deflate level $comp, $np rank(s)"
  grep -E "atoms, |frame at step|checkpoint at" "$dir/log" | sed 's/^\[[A-Z]* *[a-z:_]*\] //'
  ls -l "$dir"/traj.h5.part "$dir"/restart.h5 | awk '{printf "%s %.1f MB\n", $NF, $5/1e6}'
done
