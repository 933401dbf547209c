#!/usr/bin/env bash
# Load-depth curves of glassmd against LAMMPS on the same glass slab
# (issue 12: "against LAMMPS, as a curve").
#
#   scripts/indent_vs_lammps.sh [OUTDIR]
#
# Glass: the 4,000-atom Cu64Zr36 glass of scripts/tension_vs_lammps.sh
# (CuZr_mm.eam.fs; LAMMPS melt of 10x10x10 fcc cells with 36 % Zr, cooled at
# 100 K/ps), relaxed to 0 bar, opened to a slab: boundary p p s, the base
# (z < 5 A) held (setforce 0 0 0, not integrated), the rest under NVE.
# Each code, three velocity seeds (its own generator, 300 K): a sphere of
# R = 20 A, K = 10 eV/A^3 at the box's centre in x and y, its tip starting
# 1 A above the highest atom and moving down at 1 A/ps (dt 2 fs) until it is
# 8 A below the surface:
#   LAMMPS:  fix indent 10 sphere x y v_z 20 units box (v_z = z0 - 1.0*elapsed*dt)
#   glassmd: [[stage.fix]] kind = "indent", velocity = [0, 0, -1]
# The surface is glassmd's (the mean z of the top surface atoms over 3 A
# columns, from results.json) for both codes; depth = surface - tip. The
# load at 2, 4, 6 and 8 A is the mean over rows within +-0.25 A of it, per
# seed; pass if the two codes' means over the seeds agree within 10 %.
# Writes ld.svg (glassmd plot load-depth of all six) and summary.txt.
#
# Needs: `lmp` (Debian package lammps), python3, a release build. About
# 10 minutes on 2 cores. SEEDS=5 for more samples.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-indent-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
command -v lmp >/dev/null || { echo "indent: lmp not found (apt-get install lammps)" >&2; exit 1; }
cargo build --release --quiet
bin=$PWD/target/release/glassmd
pot=$PWD/inputs/potentials/CuZr_mm.eam.fs
source scripts/lib.sh
seeds=${SEEDS:-3}
cd "$out"

glass4000 lmp

# Geometry from the data file: box centre in x, y; highest atom.
read -r cx cy ztop <<<"$(awk '/xlo xhi/ {cx=($1+$2)/2} /ylo yhi/ {cy=($1+$2)/2} /^Atoms/ {on=1; next} /^Velocities/ {on=0} on && NF>=5 {if ($5>z) z=$5} END {printf "%.6f %.6f %.6f\n", cx, cy, z}' glass4000.data)"
z0=$(awk -v z=$ztop 'BEGIN {printf "%.6f", z + 1.0 + 20.0}')
steps=${STEPS:-6000}

for s in $(seq 1 $seeds); do
  mkdir -p lmp_$s gmd_$s
  cat > lmp_$s/in.indent <<EOI
units metal
atom_style atomic
boundary p p s
read_data ../glass4000.data
pair_style eam/fs
pair_coeff * * $pot Cu Zr
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
region base block INF INF INF INF INF 5.0 units box
group base region base
group mobile subtract all base
velocity mobile create 300.0 $((7000 + s)) mom yes dist gaussian
timestep 0.002
fix 1 mobile nve
fix 2 base setforce 0.0 0.0 0.0
velocity base set 0.0 0.0 0.0
variable zc equal $z0-1.0*elapsed*dt
fix 3 all indent 10.0 sphere $cx $cy v_zc 20.0 units box
fix_modify 3 energy yes
thermo_style custom step time pe f_3[3]
thermo_modify format float %.10g
thermo 10
run $steps
EOI
  # The data and potential from gmd_head, with the slab's boundary.
  gmd_head ../glass4000.data | sed 's#^read_data = .*#&\nboundary = ["p", "p", "s"]#' > gmd_$s/deck.toml
  cat >> gmd_$s/deck.toml <<EOI
[thermo]
every = 500
$(gmd_base_mobile)
[[stage]]
kind = "velocity"
temperature = 300.0
seed = $((7000 + s))
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
radius = 20.0
center = [$cx, $cy, $z0]
velocity = [0.0, 0.0, -1.0]
$(gmd_hold_base)
EOI
  echo "indent: seed $s, both codes side by side"
  (cd lmp_$s && lmp -in in.indent -log lmp.log > /dev/null) &
  (cd gmd_$s && "$bin" run deck.toml --overwrite > gmd.log 2>&1) &
  wait
done

python3 - "$seeds" "$z0" <<'EOP' | tee summary.txt
import json, sys, csv
seeds, z0 = int(sys.argv[1]), float(sys.argv[2])
surf = json.load(open("gmd_1/results.json"))["indent"]["surface_z_A"]
def lammps(path):
    rows, on = [], False
    for l in open(path):
        f = l.split()
        if f[:2] == ["Step", "Time"]:
            on = True
            continue
        if on and f and f[0] == "Loop":
            break
        if on and len(f) == 4:
            t, fz = float(f[1]), float(f[3])
            rows.append((surf - (z0 - 20.0 - 1.0 * t), fz * 1.602176634))
    return rows
def ours(path):
    return [(float(r["depth"]), float(r["load_nN"])) for r in csv.DictReader(open(path))]
def at(rows, h):
    v = [p for d, p in rows if abs(d - h) <= 0.25]
    return sum(v) / len(v) if v else float("nan")
print(f"surface z = {surf:.4f} A (glassmd, mean of the top surface atoms); {seeds} seeds per code")
ok = True
for h in (2.0, 4.0, 6.0, 8.0):
    L = [at(lammps(f"lmp_{s}/lmp.log"), h) for s in range(1, seeds + 1)]
    G = [at(ours(f"gmd_{s}/indent.csv"), h) for s in range(1, seeds + 1)]
    ml, mg = sum(L) / seeds, sum(G) / seeds
    d = mg / ml - 1
    ok &= abs(d) <= 0.10
    print(f"h = {h:.0f} A: LAMMPS {ml:8.2f} nN (seeds {' '.join(f'{x:.1f}' for x in L)}), glassmd {mg:8.2f} nN (seeds {' '.join(f'{x:.1f}' for x in G)}), difference {100*d:+.1f} %")
print("PASS: within 10 % at every depth" if ok else "FAIL: beyond 10 % somewhere")
EOP
"$bin" plot load-depth gmd_*/indent.csv --out ld.svg > /dev/null
