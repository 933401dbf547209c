#!/usr/bin/env bash
# Install the system packages glassmd needs on Debian/Ubuntu (run as root or
# with sudo available). Safe to run repeatedly: installs only what is missing.
set -euo pipefail
pkgs="libopenmpi-dev openmpi-bin libclang-dev pkg-config"
# Benchmarks against LAMMPS also want: lammps (set GLASSMD_WITH_LAMMPS=1).
if [ "${GLASSMD_WITH_LAMMPS:-0}" = 1 ]; then pkgs="$pkgs lammps"; fi
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq $missing
fi
command -v cargo >/dev/null || { echo "setup.sh: cargo not found; install Rust from rustup.rs" >&2; exit 1; }
