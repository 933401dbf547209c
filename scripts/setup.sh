#!/usr/bin/env bash
# Install the system packages glassmd needs on Debian/Ubuntu (run as root or
# with sudo available). Safe to run repeatedly: installs only what is missing.
#   GLASSMD_WITH_LAMMPS=1  also Debian's lammps (benchmarks, round-trip tests)
#   GLASSMD_WITH_SLURM=1   also slurm-wlm and munge (scripts/slurm_local.sh
#                          runs them on loopback for tests/slurm.rs)
#   GLASSMD_WITH_PYTHON=1  also a virtual environment with h5py and
#                          MDAnalysis at $GLASSMD_PYENV (default
#                          ~/.cache/glassmd/pyenv), for the H5MD reader tests
set -euo pipefail
pkgs="libopenmpi-dev openmpi-bin libhdf5-dev libclang-dev pkg-config"
if [ "${GLASSMD_WITH_LAMMPS:-0}" = 1 ]; then pkgs="$pkgs lammps"; fi
if [ "${GLASSMD_WITH_PYTHON:-0}" = 1 ]; then pkgs="$pkgs python3-venv python3-pip"; fi
if [ "${GLASSMD_WITH_SLURM:-0}" = 1 ]; then pkgs="$pkgs slurm-wlm munge"; fi
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq $missing
fi
if [ "${GLASSMD_WITH_PYTHON:-0}" = 1 ]; then
  env="${GLASSMD_PYENV:-$HOME/.cache/glassmd/pyenv}"
  if ! "$env/bin/python" -c "import h5py, MDAnalysis, ase, ovito" >/dev/null 2>&1; then
    python3 -m venv "$env"
    "$env/bin/pip" install -q h5py MDAnalysis ase ovito
  fi
fi
command -v cargo >/dev/null || { echo "setup.sh: cargo not found; install Rust from rustup.rs" >&2; exit 1; }
