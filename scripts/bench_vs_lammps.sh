#!/usr/bin/env bash
# Speed and memory of glassmd against LAMMPS (`lmp -sf opt`) on the same input.
#
#   scripts/bench_vs_lammps.sh [OUTDIR]
#
# Input: a 32,000-atom Cu64Zr36 liquid made by LAMMPS (fcc lattice a = 4.06 Å,
# 20x20x20 cells, 36 % of sites set to Zr at random, melted at 2000 K with a
# Nose-Hoover thermostat), CuZr_mm.eam.fs, skin 1.0 Å, neighbor check every
# step. Both codes run 100 NVE steps at 1 fs on 1 core and on 2 MPI ranks;
# the figure is atom-steps per second from each code's own loop time (set-up
# excluded in both). Then peak memory per atom at 1.28 million atoms (the
# liquid tiled 4x5x2, 10 steps on 1 rank).
#
# Needs: `lmp` (Debian package lammps), mpirun, a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN="mpirun --oversubscribe -np"
command -v lmp >/dev/null || { echo "bench: lmp not found (apt-get install lammps)" >&2; exit 1; }
cargo build --release --quiet
bin=$PWD/target/release/glassmd
pot=$PWD/inputs/potentials/CuZr_mm.eam.fs
source scripts/lib.sh
melt_steps=${MELT_STEPS:-1000}
cd "$out"

if [ ! -f liquid32k.data ]; then
  { lammps_fcc_cuzr 20 20 20 5171; cat <<EOI
velocity all create 2000 8271 loop geom
fix 1 all nvt temp 2000 2000 0.1
timestep 0.002
thermo 200
run $melt_steps
unfix 1
reset_timestep 0
write_data liquid32k.data
EOI
  } > in.make
  echo "bench: melting the 32,000-atom liquid with LAMMPS ($melt_steps steps)"
  $MPIRUN 2 lmp -sf opt -in in.make -log make.log > /dev/null
fi

cat > in.bench <<EOI
units metal
atom_style atomic
boundary p p p
read_data liquid32k.data
pair_style eam/fs
pair_coeff * * $pot Cu Zr
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.001
fix 1 all nve
thermo 50
run 100
EOI
cat > deck.toml <<EOI
[system]
read_data = "liquid32k.data"
[potential]
style = "eam/fs"
file = "$pot"
elements = ["Cu", "Zr"]
[neighbor]
skin = 1.0
[thermo]
every = 50
[[stage]]
kind = "nve"
steps = 100
timestep = 0.001
EOI

lmp_rate() { awk '/^Loop time of/ {t=$4; n=$9; a=$12} END {printf "%.4e", a*n/t}' "$1"; }
gmd_rate() { awk '/^Loop time/ {t=$3} END {printf "%.4e", 32000*100/t}' "$1"; }
# best and median of a list of rates
stats() { tr ' ' '\n' | sort -g | awk '{v[NR]=$1} END {printf "%s %s", v[NR], v[int((NR+1)/2)]}'; }

repeat=${REPEAT:-3}
echo "code,ranks,run,atom_steps_per_s" > speed.csv
for np in 1 2; do
  L=""; G=""
  for k in $(seq "$repeat"); do
    # Alternate the two codes so slow phases of a shared machine hit both.
    if [ $np = 1 ]; then lmp -sf opt -in in.bench -log lmp.$np.log > /dev/null; else $MPIRUN $np lmp -sf opt -in in.bench -log lmp.$np.log > /dev/null; fi
    if [ $np = 1 ]; then $bin run deck.toml > gmd.$np.log 2>/dev/null; else $MPIRUN $np $bin run deck.toml > gmd.$np.log 2>/dev/null; fi
    l=$(lmp_rate lmp.$np.log); g=$(gmd_rate gmd.$np.log)
    echo "lammps-opt,$np,$k,$l" >> speed.csv
    echo "glassmd,$np,$k,$g" >> speed.csv
    L="$L $l"; G="$G $g"
  done
  read lb lm <<< "$(echo $L | stats)"
  read gb gm <<< "$(echo $G | stats)"
  awk -v lb=$lb -v lm=$lm -v gb=$gb -v gm=$gm -v np=$np -v n=$repeat 'BEGIN {
    printf "%d rank(s), %d runs each: LAMMPS -sf opt best %.4e median %.4e atom-steps/s; glassmd best %.4e median %.4e; ratio glassmd/LAMMPS best %.3f median %.3f\n", np, n, lb, lm, gb, gm, gb/lb, gm/lm }'
done

# Memory at 1.28 million atoms.
sed 's/^read_data = .*/read_data = "liquid32k.data"\nreplicate = [4, 5, 2]/; s/steps = 100/steps = 10/' deck.toml > deck_big.toml
$bin run deck_big.toml > gmd.big.log 2>/dev/null
grep "Peak memory" gmd.big.log | sed 's/^/glassmd 1.28M atoms: /'
sed 's/^run 100/replicate 4 5 2\nrun 10/' in.bench > in.big
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "%M" -o lmp.big.rss lmp -sf opt -in in.big -log lmp.big.log > /dev/null
  awk '{printf "LAMMPS 1.28M atoms: peak RSS %.1f MiB, %.0f bytes/atom\n", $1/1024, $1*1024/1280000}' lmp.big.rss
else
  grep "Per MPI rank memory" lmp.big.log | tail -1 | sed 's/^/LAMMPS 1.28M atoms (its own estimate): /'
fi
