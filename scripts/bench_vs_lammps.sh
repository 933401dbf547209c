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
# GEOMETRY=slab or GEOMETRY=triclinic runs the same comparison on the same
# atoms in another box (issue 15 asks for the same ratios there): `slab`
# opens z (boundary p p f) with 20 A of vacuum below and above the liquid,
# so that both faces are free surfaces; `triclinic` tilts the periodic box
# by xy = 20, xz = 10, yz = 10 A (LAMMPS change_box ... remap). LAMMPS makes
# the converted data file and both codes read it. The memory part runs for
# the cube only.
#
# COMPACT=1 runs glassmd with `[neighbor] compact = true` (the list stored
# as varint gaps: less memory, a slower step); its rows are labelled
# glassmd-compact in speed.csv. MEMORY_ONLY=1 skips the speed runs.
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
  lammps_liquid 20 20 20 $melt_steps liquid32k.data > in.make
  echo "bench: melting the 32,000-atom liquid with LAMMPS ($melt_steps steps)"
  $MPIRUN 2 lmp -sf opt -in in.make -log make.log > /dev/null
fi

geom=${GEOMETRY:-cube}
data=liquid32k.data; lbound="p p p"; gbound='["p", "p", "p"]'
case $geom in
  cube) ;;
  slab)
    data=slab32k.data; lbound="p p f"; gbound='["p", "p", "f"]'
    printf '%s\n' "units metal" "atom_style atomic" "read_data liquid32k.data" \
      "change_box all boundary p p f" "change_box all z delta -20.0 20.0 units box" "write_data $data" > in.geom ;;
  triclinic)
    data=tri32k.data
    printf '%s\n' "units metal" "atom_style atomic" "read_data liquid32k.data" "change_box all triclinic" \
      "change_box all xy final 20.0 xz final 10.0 yz final 10.0 remap units box" "write_data $data" > in.geom ;;
  *) echo "bench: GEOMETRY must be cube, slab or triclinic" >&2; exit 2 ;;
esac
if [ ! -f $data ]; then lmp -in in.geom -log geom.log > /dev/null; fi
echo "bench: geometry $geom ($data, boundary $lbound)"

compact_line=""; gname=glassmd
if [ "${COMPACT:-0}" = 1 ]; then compact_line="compact = true"; gname=glassmd-compact; fi
lammps_nve "$lbound" $data 50 100 > in.bench
cat > deck.toml <<EOI
[system]
read_data = "$data"
boundary = $gbound
[potential]
style = "eam/fs"
file = "$pot"
elements = ["Cu", "Zr"]
[neighbor]
skin = 1.0
$compact_line
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
csv=speed.csv; [ "$geom" = cube ] || csv=speed_$geom.csv
echo "code,ranks,run,atom_steps_per_s" > $csv
ranks="1 2"; [ "${MEMORY_ONLY:-0}" = 1 ] && ranks=""
for np in $ranks; do
  L=""; G=""
  for k in $(seq "$repeat"); do
    # Alternate the two codes so slow phases of a shared machine hit both.
    if [ $np = 1 ]; then lmp -sf opt -in in.bench -log lmp.$np.log > /dev/null; else $MPIRUN $np lmp -sf opt -in in.bench -log lmp.$np.log > /dev/null; fi
    if [ $np = 1 ]; then $bin run deck.toml > gmd.$np.log 2>/dev/null; else $MPIRUN $np $bin run deck.toml > gmd.$np.log 2>/dev/null; fi
    l=$(lmp_rate lmp.$np.log); g=$(gmd_rate gmd.$np.log)
    echo "lammps-opt,$np,$k,$l" >> $csv
    echo "$gname,$np,$k,$g" >> $csv
    L="$L $l"; G="$G $g"
  done
  read lb lm <<< "$(echo $L | stats)"
  read gb gm <<< "$(echo $G | stats)"
  awk -v lb=$lb -v lm=$lm -v gb=$gb -v gm=$gm -v np=$np -v n=$repeat 'BEGIN {
    printf "%d rank(s), %d runs each: LAMMPS -sf opt best %.4e median %.4e atom-steps/s; glassmd best %.4e median %.4e; ratio glassmd/LAMMPS best %.3f median %.3f\n", np, n, lb, lm, gb, gm, gb/lb, gm/lm }'
done

# The same run in both codes: total energy after the 100 steps on 1 rank.
[ -n "$ranks" ] && {
le=$(awk '$1 == "100" && NF == 6 {e = $5} END {print e}' lmp.1.log)
ge=$(awk '$1 == "100" && NF >= 6 {e = $6} END {print e}' gmd.1.log)
echo "TotEng at step 100 (1 rank): LAMMPS $le eV, glassmd $ge eV"
}

# Memory at 1.28 million atoms.
[ "$geom" = cube ] || exit 0
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
