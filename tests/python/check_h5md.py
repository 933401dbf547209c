"""Read a glassmd H5MD snapshot file with h5py and MDAnalysis and check it.

usage: check_h5md.py FILE NATOMS NFRAMES
Prints one JSON line with what was read; exits non-zero on any failure.
"""
import json
import sys

import h5py
import numpy as np
import MDAnalysis as mda

path, natoms, nframes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
f = h5py.File(path, "r")
assert list(f["h5md"].attrs["version"]) == [1, 1]
assert f["h5md/creator"].attrs["name"] == "glassmd"
assert "name" in f["h5md/author"].attrs
all_ = f["particles/all"]
pos = all_["position/value"]
assert pos.shape == (nframes, natoms, 3), pos.shape
assert pos.attrs["unit"] == "Angstrom"
assert all_["velocity/value"].attrs["unit"] == "Angstrom ps-1"
assert all_["position/time"].attrs["unit"] == "ps"
ids = all_["id"][()]
assert np.all(np.diff(ids) > 0), "rows are not in id order"
edges = all_["box/edges/value"][()]
offset = all_["box/offset/value"][()]
assert edges.shape == (nframes, 3)
x = pos[()]
assert np.all(x >= offset[:, None, :] - 1e-9) and np.all(x < offset[:, None, :] + edges[:, None, :] + 1e-9), "positions not wrapped"

u = mda.Universe.empty(natoms)
u.load_new(path, format="H5MD")
assert len(u.trajectory) == nframes, len(u.trajectory)
ts = u.trajectory[nframes - 1]
assert np.allclose(ts.positions, x[-1], atol=1e-4), "MDAnalysis positions differ"
assert np.allclose(ts.dimensions[:3], edges[-1], rtol=1e-6)
assert ts.has_velocities
print(json.dumps({"frames": len(u.trajectory), "natoms": natoms, "steps": [int(s) for s in all_["position/step"][()]],
                  "mda_time": float(ts.time), "observables": sorted(ts.data.keys())}))
