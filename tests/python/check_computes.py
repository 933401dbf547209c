"""Per-atom computes (fields `groups` and `ke`) as OVITO, ASE and h5py see
them in glassmd's dump, extended XYZ and H5MD files: one JSON line mapping
each reader to {id: [groups, ke]} for the first frame.

usage: check_computes.py DIR   (DIR holds c.dump, c.xyz, c.h5md)
"""
import json
import os
import sys

import numpy as np

d = sys.argv[1]
out = {}


def table(ids, groups, ke):
    return {str(int(i)): [int(g), float(e)] for i, g, e in zip(ids, groups, ke)}


from ovito.io import import_file

for name in ["c.dump", "c.xyz"]:
    p = import_file(os.path.join(d, name)).compute(0).particles
    out["ovito_" + name] = table(p.identifiers, p["groups"], p["ke"])

import ase.io

a = ase.io.read(os.path.join(d, "c.xyz"), index=0)
out["ase_xyz"] = table(a.arrays["id"], a.arrays["groups"], a.arrays["ke"])
out["ase_xyz_groups_dtype"] = str(a.arrays["groups"].dtype)

import h5py

f = h5py.File(os.path.join(d, "c.h5md"), "r")
allp = f["particles/all"]
out["h5py"] = table(allp["id"][:], allp["groups/value"][0], allp["ke/value"][0])
out["h5py_ke_unit"] = allp["ke/value"].attrs["unit"].decode() if isinstance(allp["ke/value"].attrs["unit"], bytes) else str(allp["ke/value"].attrs["unit"])
print(json.dumps(out))
