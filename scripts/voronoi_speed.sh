#!/usr/bin/env bash
# Voronoi analysis speed: `glassmd analyze --compute voronoi` against
# OVITO's VoronoiAnalysisModifier on the same file, 1 and 2 cores.
# The file is the bundled 2048-atom Cu64Zr36 glass replicated
# NX x NY x NZ times (default 5 x 5 x 25 = 1,280,000 atoms).
#   scripts/voronoi_speed.sh [NX NY NZ]   (GLASSMD_PYTHON: a Python with ovito)
set -euo pipefail
cd "$(dirname "$0")/.."
NX=${1:-5}; NY=${2:-5}; NZ=${3:-25}
PY=${GLASSMD_PYTHON:-$HOME/.cache/glassmd/pyenv/bin/python}
G=$PWD/target/release/glassmd
W=$(mktemp -d /tmp/vspeed.XXXX)
trap 'rm -rf "$W"' EXIT
"$PY" - "$W/big.data" "$NX" "$NY" "$NZ" <<'PYEOF'
import sys, numpy as np
out, nx, ny, nz = sys.argv[1], *map(int, sys.argv[2:])
lines = open("inputs/glasses/cu64zr36_2048.data").read().splitlines()
k = next(i for i, l in enumerate(lines) if l.strip().startswith("Atoms"))
rows = []
for l in lines[k + 1:]:
    w = l.split()
    if not w:
        if rows: break
        continue
    if not w[0].isdigit(): break
    rows.append([float(v) for v in w[:5]])
a = np.array(rows); L = 32.48; n = len(a)
with open(out, "w") as f:
    f.write(f"replicated glass\n\n{n*nx*ny*nz} atoms\n2 atom types\n\n0 {L*nx} xlo xhi\n0 {L*ny} ylo yhi\n0 {L*nz} zlo zhi\n\nAtoms # atomic\n\n")
    c = 0
    for i in range(nx):
        for j in range(ny):
            for kk in range(nz):
                b = a.copy(); b[:, 2] += i * L; b[:, 3] += j * L; b[:, 4] += kk * L
                b[:, 0] += c * n; c += 1
                np.savetxt(f, b, fmt="%d %d %.10f %.10f %.10f")
PYEOF
N=$(sed -n 3p "$W/big.data" | cut -d' ' -f1)
echo "atoms: $N"
t() { local s=$(date +%s.%N); "$@" > /dev/null; echo "$(date +%s.%N) - $s" | bc; }
cat > "$W/ov.py" <<'PYEOF'
import sys, time
from ovito.io import import_file
from ovito.modifiers import VoronoiAnalysisModifier
import ovito
pl = import_file(sys.argv[1], atom_style="atomic")
pl.modifiers.append(VoronoiAnalysisModifier(compute_indices=True))
t0 = time.time(); pl.source.compute(); t1 = time.time()
pl.compute(); t2 = time.time()
print(f"{t2-t0:.2f}")
PYEOF
# One core each: pinned to CPU 0, OVITO limited to one thread. Runs
# alternate so drifts of the machine hit both alike. glassmd's time is the
# whole process (read included); OVITO's is read + Voronoi inside Python
# (its start-up and import excluded).
REPEAT=${REPEAT:-5}
g1=(); o1=()
for k in $(seq 1 "$REPEAT"); do
  g1+=("$(t taskset -c 0 $G analyze "$W/big.data" --compute voronoi --threads 1)")
  o1+=("$(OVITO_THREAD_COUNT=1 taskset -c 0 "$PY" "$W/ov.py" "$W/big.data")")
done
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "best %.2f s, median %.2f s over %d runs", v[1], m, NR}'; }
echo "glassmd 1 core: $(stats "${g1[@]}")"
echo "OVITO   1 core: $(stats "${o1[@]}")"
echo "glassmd 2 threads: $(t $G analyze "$W/big.data" --compute voronoi --threads 2) s"
echo "glassmd 2 ranks: $(t mpirun --allow-run-as-root --oversubscribe -np 2 $G analyze "$W/big.data" --compute voronoi --threads 1) s"
echo "OVITO 2 cores: $(OVITO_THREAD_COUNT=2 "$PY" "$W/ov.py" "$W/big.data") s"
