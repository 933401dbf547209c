#!/usr/bin/env bash
# Science check of the structure analyses (issue 13):
#  1. inputs/melt_quench glasses made at two cooling rates (FAST and SLOW
#     K/ps, SEEDS seeds each, ATOMS atoms): the slower glass should have
#     more Cu-centred <0,0,12,0> and a lower inherent-structure energy;
#  2. inputs/rejuvenation with an [analysis] after its record stages: the
#     rejuvenated glass should have fewer icosahedra than its as-quenched
#     parent (and a higher energy).
# Prints one line per run and the means.
#   scripts/structure_science.sh [FAST SLOW SEEDS ATOMS]   (defaults 100 10 2 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
FAST=${1:-100}; SLOW=${2:-10}; SEEDS=${3:-2}; ATOMS=${4:-2000}
G=$PWD/target/release/glassmd
W=${WORK:-$(mktemp -d /tmp/science.XXXX)}
echo "work folder: $W"
POT=$PWD/inputs/potentials/CuZr_mm.eam.fs
for rate in $FAST $SLOW; do
  for s in $(seq 1 "$SEEDS"); do
    d=$W/quench_${rate}_$s; mkdir -p "$d"
    sed -e "s|rate_k_per_ps = 100.0|rate_k_per_ps = $rate.0|" -e "s|^atoms = 1000|atoms = $ATOMS|" \
        -e "s|^seed = 7|seed = $((7 + 100 * s))|" -e "s|^seed = 11|seed = $((11 + 100 * s))|" \
        -e "s|\.\./potentials/CuZr_mm.eam.fs|$POT|" inputs/melt_quench/deck.toml > "$d/deck.toml"
    (cd "$d" && "$G" run deck.toml > run.log 2>&1)
    pe=$("$G" forces --data "$d/glass.data" --potential "$POT" --style eam/fs --elements Cu Zr | tail -1 | python3 -c "import json,sys; j=json.loads(sys.stdin.read()); print(j['pe']/j['natoms'])")
    "$G" analyze "$d/glass.data" --elements Cu Zr --compute voronoi | tail -1 > "$d/voronoi.json"
    python3 - "$d/voronoi.json" "$rate" "$s" "$pe" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); v = j["voronoi"]["icosahedral_fraction"]; c = j["icosahedral_clusters"]
print(f"quench {sys.argv[2]:>5} K/ps seed {sys.argv[3]}: PE {float(sys.argv[4]):.5f} eV/atom, <0,0,12,0> Cu {v['Cu']:.4f} all {v['all']:.4f}, largest cluster {c['largest']}")
PY
  done
done
python3 - "$W" "$FAST" "$SLOW" <<'PY'
import json, glob, sys, statistics as st
w, fast, slow = sys.argv[1:]
for r in (fast, slow):
    f = [json.load(open(p))["voronoi"]["icosahedral_fraction"]["Cu"] for p in sorted(glob.glob(f"{w}/quench_{r}_*/voronoi.json"))]
    print(f"mean Cu-centred <0,0,12,0> at {r} K/ps: {st.mean(f):.4f} over {len(f)} seeds")
PY
d=$W/rejuvenation; mkdir -p "$d"
sed -e "s|\.\./potentials/CuZr_mm.eam.fs|$POT|" inputs/rejuvenation/deck.toml > "$d/deck.toml"
grep -q '^\[analysis\]' "$d/deck.toml" || cat >> "$d/deck.toml" <<'TOML'

[analysis]
compute = ["voronoi"]
stages = ["as_quenched", "rejuvenated"]
TOML
(cd "$d" && "$G" run deck.toml > run.log 2>&1)
python3 - "$d/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("as_quenched", "rejuvenated"):
    a = r["analysis_" + k]
    print(f"{k}: PE {r[k]['pe_per_atom']:.5f} eV/atom, <0,0,12,0> all {a['ico_fraction_all']:.4f} Cu {a['ico_fraction_Cu']:.4f}, largest cluster {a['ico_cluster_largest']:.0f}")
PY
