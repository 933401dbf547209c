#!/usr/bin/env python3
"""Per-atom Voronoi (and atomic strain) from OVITO, for comparison with
`glassmd analyze`. Writes a CSV sorted by id.

  ovito_analysis.py voronoi DATA OUT.csv [--pbc 1,1,0] [--face T] [--rel T] [--edge T]
  ovito_analysis.py strain  CURRENT REFERENCE OUT.csv --cutoff RC [--pbc 1,1,1]

Voronoi columns: id,vol,nfaces,n3..n12; strain: id,vm_strain,d2min.
"""
import argparse, sys
import numpy as np
from ovito.io import import_file
from ovito.modifiers import VoronoiAnalysisModifier, AtomicStrainModifier
from ovito.pipeline import FileSource

p = argparse.ArgumentParser()
p.add_argument("what", choices=["voronoi", "strain"])
p.add_argument("files", nargs="+")
p.add_argument("--pbc", default="1,1,1")
p.add_argument("--face", type=float, default=0.0)
p.add_argument("--rel", type=float, default=0.0)
p.add_argument("--edge", type=float, default=0.0)
p.add_argument("--cutoff", type=float, default=3.0)
a = p.parse_args()
pbc = [c == "1" for c in a.pbc.split(",")]

def load(path):
    pl = import_file(path, atom_style="atomic") if not path.endswith((".dump", ".lammpstrj")) else import_file(path)
    return pl

if a.what == "voronoi":
    data_path, out = a.files
    pl = load(data_path)
    def setpbc(frame, data):
        data.cell_.pbc = tuple(pbc)
    pl.modifiers.append(setpbc)
    pl.modifiers.append(VoronoiAnalysisModifier(compute_indices=True, face_threshold=a.face,
                                                relative_face_threshold=a.rel, edge_threshold=a.edge))
    d = pl.compute()
    ids = np.asarray(d.particles["Particle Identifier"])
    vol = np.asarray(d.particles["Atomic Volume"])
    cn = np.asarray(d.particles["Coordination"])
    idx = np.asarray(d.particles["Voronoi Index"])
    order = np.argsort(ids)
    with open(out, "w") as f:
        f.write("id,vol,nfaces," + ",".join(f"n{k}" for k in range(3, 13)) + "\n")
        for i in order:
            # OVITO's index array: component k counts faces with k + 1 edges.
            row = [int(idx[i][k - 1]) if k - 1 < idx.shape[1] else 0 for k in range(3, 13)]
            f.write(f"{ids[i]},{float(vol[i])!r},{cn[i]}," + ",".join(map(str, row)) + "\n")
else:
    cur, ref, out = a.files
    pl = load(cur)
    def setpbc(frame, data):
        data.cell_.pbc = tuple(pbc)
    pl.modifiers.append(setpbc)
    m = AtomicStrainModifier(cutoff=a.cutoff, output_nonaffine_squared_displacements=True)
    m.reference = FileSource()
    m.reference.load(ref, atom_style="atomic") if not ref.endswith((".dump", ".lammpstrj")) else m.reference.load(ref)
    pl.modifiers.append(m)
    d = pl.compute()
    ids = np.asarray(d.particles["Particle Identifier"])
    sh = np.asarray(d.particles["Shear Strain"])
    d2 = np.asarray(d.particles["Nonaffine Squared Displacement"])
    order = np.argsort(ids)
    with open(out, "w") as f:
        f.write("id,vm_strain,d2min\n")
        for i in order:
            f.write(f"{ids[i]},{float(sh[i])!r},{float(d2[i])!r}\n")
