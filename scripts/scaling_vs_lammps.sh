#!/usr/bin/env bash
# Strong and weak scaling of glassmd and LAMMPS (`lmp -sf opt`) side by side,
# on one machine, from the same liquid:
#
#   scripts/scaling_vs_lammps.sh DATA OUTDIR
#
# DATA is an 80,000-atom Cu64Zr36 liquid as a LAMMPS data file (20x25x40 fcc
# cells a = 4.06 A, 36 % Zr, melted at 2000 K by `lammps_liquid` of
# scripts/lib.sh; without DATA the script makes it with LAMMPS first). Both codes read it and
# tile it (glassmd `replicate`, LAMMPS `replicate`), with CuZr_mm.eam.fs,
# skin 1 A, neighbor check every step, STEPS NVE steps of 1 fs:
#
# - strong: 4x2x2 tiles = 1,280,000 atoms on each count in RANKS;
# - weak: 80,000 atoms per rank (tiles 1x1x1, 2x1x1, 2x2x1, 2x2x2, 4x2x2, ...);
# - threads: glassmd on 1 rank with each count in THREADS (1.28 M atoms);
# - hybrid: glassmd on RANKSxTHREADS layouts listed in HYBRID (1.28 M atoms).
#
# The figure is atom-steps per second from each code's own loop time (set-up
# excluded in both). Rows go to OUTDIR/scaling.csv as they are measured
# (columns mode,code,ranks,threads,atoms,steps,seconds,atom_steps_per_s), so
# a run cut short keeps what it measured; `glassmd plot-scaling` draws it.
#
# Environment: STEPS (default 20), RANKS (default "1 2 4 8 16"), THREADS
# (default "2 4 8 16"), HYBRID (default none; e.g. "8x2 4x4"), MPIRUN (default "mpirun --bind-to none -np"),
# GLASSMD (default target/release/glassmd), POT (default the bundled
# CuZr_mm.eam.fs), DEADLINE (seconds from the start after which no new run
# is started; default none), CSV (default OUTDIR/scaling.csv).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:?usage: scaling_vs_lammps.sh DATA OUTDIR}
out=${2:?usage: scaling_vs_lammps.sh DATA OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=${GLASSMD:-$here/target/release/glassmd}
pot=${POT:-$here/inputs/potentials/CuZr_mm.eam.fs}
steps=${STEPS:-20}
ranks=${RANKS:-1 2 4 8 16}
threads=${THREADS-2 4 8 16}
hybrid=${HYBRID:-}
mpirun=${MPIRUN:-mpirun --bind-to none -np}
deadline=${DEADLINE:-0}
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
start=$SECONDS
source "$here/scripts/lib.sh"
command -v lmp >/dev/null || { echo "scaling: lmp not found (apt-get install lammps)" >&2; exit 1; }
[ -x "$bin" ] || { echo "scaling: no glassmd binary at $bin" >&2; exit 1; }

if [ ! -f "$data" ]; then
  # The liquid: LAMMPS fills 20x25x40 fcc cells, sets 36 % to Zr and melts
  # it for 2 ps at 2000 K (NVT), as scripts/bench_vs_lammps.sh does at 32k.
  lammps_liquid 20 25 40 1000 "$data" > "$out/in.make"
  $mpirun 2 lmp -sf opt -in "$out/in.make" -log "$out/make.log" > /dev/null
fi
data=$(cd "$(dirname "$data")" && pwd)/$(basename "$data")
base=$(awk '/ atoms$/ {print $1; exit}' "$data")

# tiles NP: a 3-D tiling of NP copies, doubling x, then y, then z.
tiles() {
  local n=$1 t=(1 1 1) k=0
  while [ "$n" -gt 1 ]; do t[$k]=$((t[k] * 2)); n=$((n / 2)); k=$(((k + 1) % 3)); done
  echo "${t[0]} ${t[1]} ${t[2]}"
}
deck() { # deck NX NY NZ
  gmd_head "$data" "replicate = [$1, $2, $3]"
  cat <<EOI
[thermo]
every = $steps
[[stage]]
kind = "nve"
steps = $steps
timestep = 0.001
EOI
}
late() { [ "$deadline" -gt 0 ] && [ $((SECONDS - start)) -ge "$deadline" ]; }
csv=${CSV:-$out/scaling.csv}
[ -f "$csv" ] || echo "mode,code,ranks,threads,atoms,steps,seconds,atom_steps_per_s" > "$csv"
row() { # row MODE CODE NP NT ATOMS SECONDS
  awk -v m=$1 -v c=$2 -v np=$3 -v nt=$4 -v a=$5 -v s=$steps -v t=$6 'BEGIN { printf "%s,%s,%d,%d,%d,%d,%.4f,%.4e\n", m, c, np, nt, a, s, t, a * s / t }' | tee -a "$csv"
}
launch() { # launch NP COMMAND...: on 1 rank without mpirun, else through it
  local np=$1; shift
  if [ "$np" = 1 ]; then "$@"; else $mpirun "$np" "$@"; fi
}
run_pair() { # run_pair MODE NP NT NX NY NZ [glassmd-only]
  local mode=$1 np=$2 nt=$3 nx=$4 ny=$5 nz=$6 only=${7:-}
  local atoms=$((base * nx * ny * nz)) tag=$1.$2.$3
  late && { echo "scaling: deadline reached, skipping $tag" >&2; return 0; }
  deck "$nx" "$ny" "$nz" > "$out/deck.$tag.toml"
  launch "$np" "$bin" --threads "$nt" run "$out/deck.$tag.toml" > "$out/gmd.$tag.log" 2>&1 || true
  local t; t=$(awk '/^Loop time/ {print $3}' "$out/gmd.$tag.log" | tail -1)
  if [ -n "$t" ]; then row "$mode" glassmd "$np" "$nt" "$atoms" "$t"; else echo "scaling: glassmd $tag failed:" >&2; tail -3 "$out/gmd.$tag.log" >&2; fi
  [ -n "$only" ] && return 0
  late && { echo "scaling: deadline reached, skipping lammps $tag" >&2; return 0; }
  lammps_nve "p p p" "$data" "$steps" "$steps" "replicate $nx $ny $nz" > "$out/in.$tag"
  launch "$np" lmp -sf opt -in "$out/in.$tag" -log "$out/lmp.$tag.log" > /dev/null 2>&1 || true
  t=$(awk '/^Loop time of/ {print $4}' "$out/lmp.$tag.log" 2>/dev/null | tail -1)
  if [ -n "$t" ]; then row "$mode" lammps-opt "$np" "$nt" "$atoms" "$t"; else echo "scaling: LAMMPS $tag failed" >&2; fi
}

# Weak first (cheap), then strong from the most ranks down (the 1-rank
# points cost most), then glassmd's threads.
for np in $ranks; do run_pair weak "$np" 1 $(tiles "$np"); done
for np in $(echo $ranks | tr ' ' '\n' | sort -rn); do run_pair strong "$np" 1 4 2 2; done
for nt in $threads; do run_pair threads 1 "$nt" 4 2 2 glassmd-only; done
for h in $hybrid; do run_pair hybrid "${h%x*}" "${h#*x}" 4 2 2 glassmd-only; done
"$bin" plot-scaling "$csv" --out "${csv%.csv}.svg" || true
echo "scaling: wrote $csv and ${csv%.csv}.svg in $((SECONDS - start)) s"
