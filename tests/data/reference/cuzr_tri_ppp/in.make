# A tilted Cu64Zr36 liquid: the 2,048-atom glass of ../../lammps_min,
# sheared affinely to xy = 14.5 (0.45 lx), xz = 4, yz = -5 A, then
# equilibrated at 1500 K for 2 ps in the tilted cell.
units metal
atom_style atomic
boundary p p p
read_data ../../lammps_min/glass300.data
change_box all triclinic
change_box all xy final 14.5 xz final 4.0 yz final -5.0 remap units box
pair_style eam/fs
pair_coeff * * ../../../../inputs/potentials/CuZr_mm.eam.fs Cu Zr
neighbor 1.0 bin
velocity all create 1500 4242 loop geom
fix 1 all nvt temp 1500 1500 0.1
timestep 0.002
thermo 100
run 1000
unfix 1
velocity all scale 1500.0
reset_timestep 0
write_data config.data
