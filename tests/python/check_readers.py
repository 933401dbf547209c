"""Open glassmd's outputs with the tools users read them with, and report
what each tool sees, as one JSON line (tests/readers.rs compares the
numbers with glassmd's own).

usage: check_readers.py DIR
DIR holds traj.dump and traj.xyz (position, velocity, force, pe, stress),
traj.h5md (position, velocity, force with force_unit = kJ mol-1
Angstrom-1, pe) and conv.lammpstrj / conv.xyz (`glassmd convert` of
traj.h5md). Exits non-zero on any failure.
"""
import json
import os
import sys

import numpy as np

d = sys.argv[1]
out = {}


def first_atom(arr):
    return [float(v) for v in np.atleast_1d(arr[0])]


# --- OVITO: element names from a dump; velocities, forces, energies and
# stresses from extended XYZ; and glassmd convert's output.
from ovito.io import import_file

data = import_file(os.path.join(d, "traj.dump")).compute(0)
types = data.particles.particle_types
out["ovito_dump_types"] = sorted(t.name for t in types.types)
order = np.argsort(data.particles.identifiers)
out["ovito_dump_first_type"] = types.type_by_id(int(types[order[0]])).name

data = import_file(os.path.join(d, "traj.xyz")).compute(0)
p = data.particles
out["ovito_xyz_properties"] = sorted(p.keys())
order = np.argsort(p.identifiers)
out["ovito_xyz_velocity"] = first_atom(p.velocities[order])
out["ovito_xyz_force"] = first_atom(p.forces[order])
out["ovito_xyz_pe"] = first_atom(p["Potential Energy"][order])
out["ovito_xyz_stress"] = first_atom(p["Stress Tensor"][order])

for name in ["conv.lammpstrj", "conv.xyz"]:
    pipe = import_file(os.path.join(d, name))
    data = pipe.compute(pipe.source.num_frames - 1)
    p = data.particles
    order = np.argsort(p.identifiers)
    out["ovito_" + name] = {
        "frames": pipe.source.num_frames,
        "count": int(p.count),
        "types": sorted(t.name for t in p.particle_types.types),
        "position": first_atom(p.positions[order]),
        "force": first_atom(p.forces[order]),
    }

# --- ASE: species from a dump; velocities, forces, energies, stresses from
# extended XYZ.
import ase.io
from ase import units

atoms = ase.io.read(os.path.join(d, "traj.dump"), index=0, format="lammps-dump-text")
out["ase_dump_symbols"] = sorted(set(atoms.get_chemical_symbols()))
atoms = ase.io.read(os.path.join(d, "traj.xyz"), index=0)
ids = atoms.arrays["id"]
k = int(np.argmin(ids))
out["ase_xyz_symbol"] = atoms.get_chemical_symbols()[k]
# ASE velocities are in A per ASE time unit; in A/ps: x 1000 fs/ps.
out["ase_xyz_velocity"] = [float(v) for v in atoms.get_velocities()[k] * 1000 * units.fs]
out["ase_xyz_force"] = [float(v) for v in atoms.get_forces()[k]]
out["ase_xyz_pe"] = [float(atoms.get_potential_energies()[k])]
out["ase_xyz_stresses"] = [float(v) for v in atoms.get_stresses()[k]]

# --- MDAnalysis: an H5MD file that holds forces (force_unit), and the
# positions of extended XYZ.
import MDAnalysis as mda

h5 = os.path.join(d, "traj.h5md")
import h5py

n = h5py.File(h5, "r")["particles/all/id"].shape[0]
u = mda.Universe.empty(n)
u.load_new(h5, format="H5MD")
ts = u.trajectory[0]
out["mda_h5md_frames"] = len(u.trajectory)
out["mda_h5md_force"] = first_atom(ts.forces)
out["mda_h5md_position"] = first_atom(ts.positions)
u = mda.Universe(os.path.join(d, "traj.xyz"), format="XYZ")
out["mda_xyz_position"] = first_atom(u.trajectory[0].positions)
out["mda_xyz_names"] = sorted(set(u.atoms.names))

print(json.dumps(out))
