#!/usr/bin/env bash
# The seed-001 tension set-up at full size, glassmd against LAMMPS: a
# 10,000-atom glass unit tiled 8 x 1 x 16 (1.28 million atoms), free
# surfaces in x, tension along z at 1e-4 /ps with y stress-free at 300 K
# (issue 11, "Scale"; inputs/tension's procedure).
#
#   scripts/tension_scale_vs_lammps.sh [OUTDIR]
#
# Unit: 10,000-atom Cu64Zr36 (CuZr_mm.eam.fs) made by LAMMPS: fcc a = 4.06 A,
# 10 x 10 x 25 cells, 36 % Zr at random, 4 ps NPT at 2000 K, cooled to 300 K
# at 200 K/ps, 2 ps at 300 K (a fast glass: this measures speed and memory,
# not properties). Both codes then, under `mpirun -np 2`:
#   read the unit, replicate 8 1 16, change_box all boundary s p p,
#   fix npt temp 300 300 0.2 y 0 0 2 + fix deform 1 z erate 1e-4 remap x,
#   STEPS steps (default 100) of 2 fs, neighbor skin 1 A checked every step.
# Figures: atom-steps/s from each code's own loop time (set-up excluded), and
# peak resident memory summed over the two ranks (/usr/bin/time per rank)
# per atom. LAMMPS runs plain (no -sf opt), as users run `fix deform`.
#
# Needs: `lmp`, mpirun, /usr/bin/time, a release build; about 3 GB of memory
# and 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-scale-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN="mpirun --allow-run-as-root --oversubscribe -np 2"
command -v lmp >/dev/null || { echo "scale: lmp not found (apt-get install lammps)" >&2; exit 1; }
cargo build --release --quiet
bin=$PWD/target/release/glassmd
pot=$PWD/inputs/potentials/CuZr_mm.eam.fs
source scripts/lib.sh
steps=${STEPS:-100}
cd "$out"

if [ ! -f unit10k.data ]; then
  { lammps_fcc_cuzr 10 10 25 7211; cat <<EOI
timestep 0.002
velocity all create 2000 5533 dist gaussian
fix 1 all npt temp 2000 2000 0.1 iso 0 0 1
run 2000
unfix 1
fix 1 all npt temp 2000 300 0.1 iso 0 0 1
run 4250
unfix 1
fix 1 all npt temp 300 300 0.1 iso 0 0 1
run 1000
reset_timestep 0
write_data unit10k.data
EOI
  } > in.unit
  echo "scale: making the 10,000-atom unit with LAMMPS"
  $MPIRUN lmp -in in.unit -log unit.log > /dev/null
fi

cat > in.tension <<EOI
units metal
atom_style atomic
boundary p p p
read_data unit10k.data
replicate 8 1 16
change_box all boundary s p p
pair_style eam/fs
pair_coeff * * $pot Cu Zr
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.002
fix 1 all npt temp 300 300 0.2 y 0 0 2
fix 2 all deform 1 z erate 1.0e-4 remap x
thermo 50
run $steps
EOI
cat > deck.toml <<EOI
[system]
read_data = "unit10k.data"
replicate = [8, 1, 16]
[potential]
style = "eam/fs"
file = "$pot"
elements = ["Cu", "Zr"]
[neighbor]
skin = 1.0
[thermo]
every = 50
[[stage]]
kind = "change_box"
boundary = ["s", "p", "p"]
[[stage]]
kind = "deform"
name = "tension"
timestep = 0.002
temperature = 300.0
tdamp = 0.2
erate = { z = 1.0e-4 }
steps = $steps
pressure_gpa = { y = 0.0 }
pdamp = 2.0
EOI

echo "scale: LAMMPS, 1.28M atoms, $steps steps on 2 ranks"
rss_run "$out" lmp lmp -in in.tension -log lmp.log > /dev/null
echo "scale: glassmd, 1.28M atoms, $steps steps on 2 ranks"
rss_run "$out" gmd "$bin" run deck.toml --overwrite > gmd.log 2> gmd.err

natoms=1280000
lt=$(awk '/^Loop time of/ {t=$4} END {print t}' lmp.log)
gt=$(awk '/^Loop time/ {t=$3} END {print t}' gmd.log)
lr=$(cat rss.lmp.* | awk '{s+=$1} END {print s}')
gr=$(cat rss.gmd.* | awk '{s+=$1} END {print s}')
{
  echo "1.28M-atom tension set-up (8x1x16 units, s p p, deform z + npt y), $steps steps, mpirun -np 2 on $(nproc) cores"
  awk -v t=$lt -v n=$natoms -v s=$steps -v r=$lr 'BEGIN {printf "LAMMPS : loop %.1f s, %.3e atom-steps/s, peak RSS %.0f MiB (2 ranks), %.0f bytes/atom\n", t, n*s/t, r/1024, r*1024/n}'
  awk -v t=$gt -v n=$natoms -v s=$steps -v r=$gr 'BEGIN {printf "glassmd: loop %.1f s, %.3e atom-steps/s, peak RSS %.0f MiB (2 ranks), %.0f bytes/atom\n", t, n*s/t, r/1024, r*1024/n}'
  awk -v a=$lt -v b=$gt 'BEGIN {printf "speed glassmd/LAMMPS: %.2f\n", a/b}'
  grep "Peak memory" gmd.log | sed 's/^/glassmd own report: /' || true
  grep "Per MPI rank memory" lmp.log | tail -1 | sed 's/^/LAMMPS own estimate: /' || true
} | tee summary.txt
