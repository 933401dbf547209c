#!/usr/bin/env bash
# Tg of Cu64Zr36 (CuZr_mm.eam.fs) from the same quench in glassmd and in
# LAMMPS: the protocol of inputs/tg (melt 10 ps at 2000 K, 100 K/ps to
# 1400 K, 20 K/ps to 300 K, NPT at 0 GPa, dt 2 fs) from the same random
# packing, and the same two-line fit (`glassmd tg`, glass 300-550 K, liquid
# 1000-1400 K) of volume and PE per atom against the thermostat's target
# temperature, written every 50 steps by both codes.
#
#   scripts/tg_vs_lammps.sh [OUTDIR] [ATOMS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-out/tg}; atoms=${2:-2000}; s=${3:-3}
mkdir -p "$out"; out=$(cd "$out" && pwd)
cargo build --release --quiet
repo=$PWD; bin=$repo/target/release/glassmd; pot=$repo/inputs/potentials/CuZr_mm.eam.fs
source scripts/lib.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd "$out"
random_packing start $atoms $s
# glassmd: the stages of inputs/tg after its packing.
{
  printf '[system]\nread_data = "start.data"\n'
  sed -n '/^\[potential\]/,$p' "$repo/inputs/tg/deck.toml" | sed "s#\.\./potentials/CuZr_mm.eam.fs#$pot#" \
    | awk 'BEGIN{skip=0} /^\[\[stage\]\]/{n++} {if (n==1) next; print}'
} > gmd.toml
$bin --threads 2 run gmd.toml > gmd.log 2>&1
{ lammps_melt start.data 5; cat <<EOI
fix 1 all npt temp 2000.0 1400.0 0.2 iso 0.0 0.0 2.0
run 3000
unfix 1
variable tt equal 1400.0-(1100.0*elapsed/27500)
fix 1 all npt temp 1400.0 300.0 0.2 iso 0.0 0.0 2.0
thermo_style custom step v_tt vol pe
thermo_modify format float %.10g
thermo 50
run 27500
EOI
} > in.lmp
mpirun --oversubscribe -np 2 lmp -in in.lmp -log lmp.log > /dev/null
python3 - lmp.log "$atoms" > lmp.csv <<'PY'
import sys
L = open(sys.argv[1]).read().splitlines(); n = int(sys.argv[2])
k = max(i for i, x in enumerate(L) if x.split()[:2] == ['Step', 'v_tt'])
print("step,temperature,volume,pe")
for x in L[k+1:]:
    t = x.split()
    if len(t) != 4 or not t[0].isdigit(): break
    print("%s,%s,%.12g,%.12g" % (t[0], t[1], float(t[2]) / n, float(t[3]) / n))
PY
echo "glassmd (tg stage of the deck):"; grep "^Tg =" gmd.log
echo "LAMMPS (same fit):"
for c in volume pe; do $bin tg lmp.csv --column $c --glass 300,550 --liquid 1000,1400; done
