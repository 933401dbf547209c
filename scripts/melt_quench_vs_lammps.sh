#!/usr/bin/env bash
# Melt-quench of Cu64Zr36 (CuZr_mm.eam.fs) in glassmd and in LAMMPS over
# several seeds: mean PE per atom and density over a 5 ps hold at 300 K.
#
#   scripts/melt_quench_vs_lammps.sh [OUTDIR] [ATOMS] [SEEDS]
#
# For each seed both codes start from the same random packing (built and
# FIRE-minimised by glassmd), draw 2000 K velocities with their own
# generators, run 10 ps NPT at 2000 K / 0 GPa, quench at 100 K/ps to 300 K,
# and hold 5 ps (Tdamp 0.2 ps, Pdamp 2 ps, dt 2 fs).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-out/melt_quench}; atoms=${2:-1000}; seeds=${3:-"1 2 3"}
mkdir -p "$out"; out=$(cd "$out" && pwd)
cargo build --release --quiet
bin=$PWD/target/release/glassmd; pot=$PWD/inputs/potentials/CuZr_mm.eam.fs
source scripts/lib.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd "$out"
echo "code,seed,pe_per_atom,density" > results.csv
for s in $seeds; do
  random_packing start$s $atoms $s
  cat > gmd$s.toml <<EOI
[system]
read_data = "start$s.data"
[potential]
style = "eam/fs"
file = "$pot"
elements = ["Cu", "Zr"]
[neighbor]
skin = 1.0
[thermo]
every = 50
file = "gmd$s.csv"
[[stage]]
kind = "velocity"
temperature = 2000.0
seed = $((s + 100))
[[stage]]
kind = "npt"
timestep = 0.002
time_ps = 10
temperature = 2000.0
pressure_gpa = 0.0
tdamp = 0.2
pdamp = 2.0
[[stage]]
kind = "npt"
timestep = 0.002
temperature = [2000.0, 300.0]
rate_k_per_ps = 100.0
pressure_gpa = 0.0
tdamp = 0.2
pdamp = 2.0
[[stage]]
kind = "npt"
timestep = 0.002
time_ps = 5
temperature = 300.0
pressure_gpa = 0.0
tdamp = 0.2
pdamp = 2.0
EOI
  $bin --threads 2 run gmd$s.toml > gmd$s.log 2>&1
  { lammps_melt start$s.data $((s + 100)); cat <<EOI
fix 1 all npt temp 2000.0 300.0 0.2 iso 0.0 0.0 2.0
run 8500
unfix 1
fix 1 all npt temp 300.0 300.0 0.2 iso 0.0 0.0 2.0
thermo_style custom step pe density
thermo_modify format float %.10g
thermo 50
run 2500
EOI
  } > in.lmp$s
  mpirun --oversubscribe -np 2 lmp -in in.lmp$s -log lmp$s.log > /dev/null
  # Means over the 300 K hold (the last 2500 steps of both runs).
  python3 - "$s" "$atoms" gmd$s.csv lmp$s.log >> results.csv <<'PY'
import sys, csv
s, n, g, l = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = [r for r in csv.DictReader(open(g))]
last = int(float(rows[-1]['step'])); hold = [r for r in rows if int(float(r['step'])) > last - 2500]
print("glassmd,%s,%.6f,%.6f" % (s, sum(float(r['pe']) for r in hold) / len(hold) / n, sum(float(r['density']) for r in hold) / len(hold)))
L = open(l).read().splitlines(); k = max(i for i, x in enumerate(L) if x.split()[:3] == ['Step', 'PotEng', 'Density'])
vals = []
for x in L[k+1:]:
    t = x.split()
    if len(t) != 3 or not t[0].isdigit(): break
    if int(t[0]) > 13500: vals.append((float(t[1]), float(t[2])))
print("lammps,%s,%.6f,%.6f" % (s, sum(v[0] for v in vals) / len(vals) / n, sum(v[1] for v in vals) / len(vals)))
PY
done
python3 - results.csv <<'PY'
import sys, csv, statistics as st
rows = list(csv.DictReader(open(sys.argv[1])))
for code in ("glassmd", "lammps"):
    r = [x for x in rows if x['code'] == code]
    pe = [float(x['pe_per_atom']) for x in r]; de = [float(x['density']) for x in r]
    print("%-8s PE/atom %.4f +- %.4f (min %.4f max %.4f)  density %.4f +- %.4f (min %.4f max %.4f) g/cm3, %d seeds" % (
        code, st.mean(pe), st.stdev(pe) / len(pe) ** 0.5 if len(pe) > 1 else 0, min(pe), max(pe), st.mean(de), st.stdev(de) / len(de) ** 0.5 if len(de) > 1 else 0, min(de), max(de), len(r)))
PY
