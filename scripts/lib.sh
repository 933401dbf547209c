# Shared pieces of the comparison scripts; source after setting $bin
# (glassmd) and $pot (CuZr_mm.eam.fs).

# random_packing NAME ATOMS SEED: a random Cu64Zr36 packing at 0.060 atoms/A^3,
# FIRE-minimised by glassmd (ftol 1e-2), written to NAME.data in the current
# folder, so that glassmd and LAMMPS start from the same configuration.
random_packing() {
  local name=$1 atoms=$2 seed=$3
  cat > "$name.toml" <<EOI
[system.create]
composition = { Cu = 64, Zr = 36 }
atoms = $atoms
number_density = 0.060
seed = $seed
[potential]
style = "eam/fs"
file = "$pot"
elements = ["Cu", "Zr"]
[[stage]]
kind = "minimize"
algorithm = "fire"
ftol = 1e-2
max_iterations = 2000
[[stage]]
kind = "write_data"
file = "$name.data"
EOI
  "$bin" run "$name.toml" > /dev/null 2>&1
}

# lammps_melt DATA VSEED: the start of a LAMMPS input that reads DATA with
# CuZr_mm.eam.fs, draws velocities at 2000 K with seed VSEED and holds the
# melt at 2000 K and P = 0 for 5000 steps of 2 fs (fix npt, as the glassmd
# decks do); the caller appends its quench.
lammps_melt() {
  cat <<EOI
units metal
atom_style atomic
boundary p p p
read_data $1
pair_style eam/fs
pair_coeff * * $pot Cu Zr
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.002
velocity all create 2000.0 $2 mom yes dist gaussian
fix 1 all npt temp 2000.0 2000.0 0.2 iso 0.0 0.0 2.0
run 5000
unfix 1
EOI
}

# lammps_fcc_cuzr NX NY NZ SEED: the start of a LAMMPS input that fills an
# NX x NY x NZ block of fcc cells (a = 4.06 A, 4 atoms each) with Cu and sets
# 36 % of them to Zr at random (seed SEED), with CuZr_mm.eam.fs and a 1 A
# skin; the caller appends its melt and quench.
lammps_fcc_cuzr() {
  cat <<EOI
units metal
atom_style atomic
boundary p p p
lattice fcc 4.06
region box block 0 $1 0 $2 0 $3
create_box 2 box
create_atoms 1 box
set type 1 type/fraction 2 0.36 $4
mass 1 63.546
mass 2 91.224
pair_style eam/fs
pair_coeff * * $pot Cu Zr
neighbor 1.0 bin
EOI
}

# lammps_liquid NX NY NZ STEPS DATA: a LAMMPS input that melts the fcc
# block of lammps_fcc_cuzr at 2000 K (NVT, STEPS steps of 2 fs) and writes
# DATA: the liquid of the speed comparisons.
lammps_liquid() {
  lammps_fcc_cuzr "$1" "$2" "$3" 5171
  cat <<EOI
velocity all create 2000 8271 loop geom
fix 1 all nvt temp 2000 2000 0.1
timestep 0.002
thermo 200
run $4
unfix 1
reset_timestep 0
write_data $5
EOI
}

# lammps_nve BOUNDARY DATA THERMO STEPS [LINE]: a LAMMPS input that reads
# DATA (LINE, e.g. `replicate 2 2 2`, after it) with CuZr_mm.eam.fs, a 1 A
# skin checked every step, and runs STEPS NVE steps of 1 fs: the timed run
# of the speed comparisons.
lammps_nve() {
  cat <<EOI
units metal
atom_style atomic
boundary $1
read_data $2
${5:-}
pair_style eam/fs
pair_coeff * * $pot Cu Zr
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.001
fix 1 all nve
thermo $3
run $4
EOI
}

# gmd_head DATA [SYSTEM_LINE]: the start of a glassmd deck reading DATA with
# CuZr_mm.eam.fs and a 1 A skin (SYSTEM_LINE, e.g. `replicate = [2, 2, 2]`,
# goes into [system]); the caller appends thermo and stages.
gmd_head() {
  cat <<EOI
[system]
read_data = "$1"
${2:-}
[potential]
style = "eam/fs"
file = "$pot"
elements = ["Cu", "Zr"]
[neighbor]
skin = 1.0
EOI
}

# glass4000 LAUNCH...: make glass4000.data in the current folder, unless it
# is there: the 4,000-atom Cu64Zr36 glass of the comparison scripts (fcc
# cells a = 4.06 A, 10x10x10, 36 % Zr at random, 10 ps at 2000 K and 0 bar,
# cooled to 300 K at 100 K/ps, 5 ps at 300 K, all fix npt), with LAMMPS run
# by LAUNCH (e.g. `lmp`, or `mpirun -np 2 lmp`).
glass4000() {
  [ -f glass4000.data ] && return 0
  { lammps_fcc_cuzr 10 10 10 5171; cat <<EOI
timestep 0.002
velocity all create 2000 8271 dist gaussian
fix 1 all npt temp 2000 2000 0.1 iso 0 0 1
thermo 500
run 5000
unfix 1
fix 1 all npt temp 2000 300 0.1 iso 0 0 1
run 8500
unfix 1
fix 1 all npt temp 300 300 0.1 iso 0 0 1
run 2500
reset_timestep 0
write_data glass4000.data
EOI
  } > in.glass
  echo "making the 4,000-atom glass with LAMMPS"
  "$@" -in in.glass -log glass.log > /dev/null
}

# rss_run OUT TAG COMMAND...: run COMMAND under $MPIRUN with each rank's
# peak RSS (KiB, /usr/bin/time) written to OUT/rss.TAG.RANK.
rss_run() {
  local out=$1 tag=$2; shift 2
  rm -f "$out"/rss.$tag.*
  $MPIRUN sh -c "exec /usr/bin/time -f %M -o $out/rss.$tag.\$OMPI_COMM_WORLD_RANK $*"
}

# gmd_base_mobile: the [[group]] tables of a glassmd slab deck: the base
# (z < 5 A) and the mobile rest.
gmd_base_mobile() {
  cat <<EOI
[[group]]
name = "base"
region = { z = [-inf, 5.0] }
[[group]]
name = "mobile"
not = "base"
EOI
}

# gmd_hold_base: the stage fix that holds the base (LAMMPS fix setforce 0 0 0).
gmd_hold_base() {
  cat <<EOI
[[stage.fix]]
kind = "setforce"
group = "base"
force = [0.0, 0.0, 0.0]
EOI
}
