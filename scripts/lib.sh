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
