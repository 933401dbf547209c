"""Open glassmd's outputs of a triclinic run and report the cell each tool
sees (rows = edge vectors a, b, c) and the position of the atom with the
smallest id, as one JSON line (tests/readers.rs compares them with the
run's thermo and glassmd's own dump).

usage: check_cell.py DIR
DIR holds traj.dump, traj.xyz, traj.h5md and conv.lammpstrj / conv.xyz
(`glassmd convert` of traj.h5md). Exits non-zero on any failure.
"""
import json
import os
import sys

import numpy as np

d = sys.argv[1]
out = {}


def rows(m):
    return [[float(v) for v in r] for r in np.asarray(m)[:3, :3]]


from ovito.io import import_file

for name in ["traj.dump", "traj.xyz", "conv.lammpstrj", "conv.xyz"]:
    data = import_file(os.path.join(d, name)).compute(0)
    # OVITO's cell matrix has the edge vectors as columns (then the origin).
    cell = np.asarray(data.cell)
    p = data.particles
    k = int(np.argmin(p.identifiers))
    out["ovito_" + name] = {"cell": rows(cell[:, :3].T), "origin": [float(v) for v in cell[:, 3]], "position": [float(v) for v in p.positions[k]]}

import ase.io

for name, fmt in [("traj.dump", "lammps-dump-text"), ("traj.xyz", None)]:
    atoms = ase.io.read(os.path.join(d, name), index=0, format=fmt) if fmt else ase.io.read(os.path.join(d, name), index=0)
    out["ase_" + name] = {"cell": rows(atoms.cell.array), "pbc": [bool(b) for b in atoms.pbc]}

import h5py
import MDAnalysis as mda

h5 = os.path.join(d, "traj.h5md")
u = mda.Universe.empty(h5py.File(h5, "r")["particles/all/id"].shape[0])
u.load_new(h5, format="H5MD")
out["mda_h5md"] = {"cell": rows(u.trajectory[0].triclinic_dimensions)}

print(json.dumps(out))
