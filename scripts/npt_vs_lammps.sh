#!/usr/bin/env bash
# NPT against LAMMPS fix npt on the same glass: mean pressure and density at
# 300 K and 0 / 5 GPa, and per-axis targets (sxx = 1 GPa, syy = szz = 0).
#
#   scripts/npt_vs_lammps.sh [OUTDIR] [TIME_PS]
#
# Both codes run the 2,048-atom Cu64Zr36 glass of tests/data/lammps_min with
# Tdamp 0.2 ps, Pdamp 0.5 ps, dt 2 fs for TIME_PS (default 20) and average
# over all but the first 5 ps. Needs `lmp` and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-out/npt}; time_ps=${2:-20}
mkdir -p "$out"; out=$(cd "$out" && pwd)
cargo build --release --quiet
bin=$PWD/target/release/glassmd; pot=$PWD/inputs/potentials/CuZr_mm.eam.fs; glass=$PWD/tests/data/lammps_min/glass300.data
steps=$(python3 -c "print(round($time_ps/0.002))")
cd "$out"
avg() { # file, columns... : mean over t > 5 ps of the named columns
  python3 - "$@" <<'PY'
import sys, csv
f, cols = sys.argv[1], sys.argv[2:]
rows = [r for r in csv.DictReader(open(f)) if float(r['time']) > 5.0]
print(" ".join("%s=%.5f" % (c, sum(float(r[c]) for r in rows) / len(rows) * (1e-4 if c.startswith('p') else 1)) for c in cols))
PY
}
for case in "p0|iso 0.0 0.0 0.5|0.0" "p5|iso 50000.0 50000.0 0.5|5.0" "axes|x 10000.0 10000.0 0.5 y 0.0 0.0 0.5 z 0.0 0.0 0.5|{ x = 1.0, y = 0.0, z = 0.0 }"; do
  IFS='|' read -r name lmpargs gmdp <<< "$case"
  cat > in.$name <<EOI
units metal
atom_style atomic
boundary p p p
read_data $glass
pair_style eam/fs
pair_coeff * * $pot Cu Zr
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.002
fix 1 all npt temp 300.0 300.0 0.2 $lmpargs
variable t equal time
thermo_style custom step v_t temp press pxx pyy pzz density
thermo_modify format float %.10g
thermo 50
run $steps
EOI
  lmp -in in.$name -log lmp.$name.log > /dev/null
  awk 'BEGIN{print "step,time,temperature,pressure,pxx,pyy,pzz,density"} /^Step/{on=1; next} /^Loop/{on=0} on && NF==8 {print $1","$2","$3","$4","$5","$6","$7","$8}' lmp.$name.log > lmp.$name.csv
  cat > $name.toml <<EOI
[system]
read_data = "$glass"
[potential]
style = "eam/fs"
file = "$pot"
elements = ["Cu", "Zr"]
[neighbor]
skin = 1.0
[thermo]
every = 50
file = "gmd.$name.csv"
[[stage]]
kind = "npt"
temperature = 300.0
pressure_gpa = $gmdp
timestep = 0.002
time_ps = $time_ps
tdamp = 0.2
pdamp = 0.5
EOI
  $bin --threads 2 run $name.toml > gmd.$name.log 2>&1
  echo "$name LAMMPS : $(avg lmp.$name.csv pressure pxx pyy pzz density)"
  echo "$name glassmd: $(avg gmd.$name.csv pressure pxx pyy pzz density)"
done
