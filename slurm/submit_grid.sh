#!/bin/bash
# Submit a parameter study: the grid, its job array, and the collector.
#
#   slurm/submit_grid.sh DECK.toml OUTDIR NAME=V1,V2 NAME=A..B ... [-- sbatch options]
#
# Writes OUTDIR/grid.csv (`glassmd grid`), submits slurm/glassmd.sbatch as an
# array with one task per row (task I runs `glassmd run DECK.toml --grid
# OUTDIR/grid.csv --dir OUTDIR`, which takes the deck variables ${NAME} from
# row I and writes into OUTDIR/task_IIII; each task is requeued from its
# checkpoint at the time limit like any glassmd.sbatch job), then a job that
# runs `glassmd collect OUTDIR` into OUTDIR/results.csv once every task has
# ended. Prints the two job ids.
set -euo pipefail
deck=${1:?usage: submit_grid.sh DECK.toml OUTDIR NAME=VALUES... [-- sbatch options]}
out=${2:?usage: submit_grid.sh DECK.toml OUTDIR NAME=VALUES...}
shift 2
specs=(); while [ $# -gt 0 ] && [ "$1" != -- ]; do specs+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
here=$(cd "$(dirname "$0")" && pwd)
bin=${GLASSMD:-glassmd}
mkdir -p "$out"
"$bin" grid "${specs[@]}" > "$out/grid.csv"
n=$(($(wc -l < "$out/grid.csv") - 1))
# One rank per task unless the sbatch options given after -- say otherwise.
jid=$(sbatch --parsable --array=0-$((n - 1)) --ntasks=1 --job-name=glassmd-grid --output="$out/glassmd-%A_%a.out" "$@" \
  "$here/glassmd.sbatch" "$deck" --grid "$out/grid.csv" --dir "$out")
cid=$(sbatch --parsable --dependency=afterany:"$jid" --job-name=glassmd-collect --output="$out/collect-%j.out" \
  --wrap "\"$bin\" collect \"$out\" --out \"$out/results.csv\"")
echo "$jid $cid"
