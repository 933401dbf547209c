//! LAMMPS `metal` units: Å, eV, ps, amu, K, bar, g/cm³.
//!
//! The constants are the exact values LAMMPS (29 Sep 2021, `src/update.cpp`,
//! `units metal`) uses, so that temperatures, pressures and integrator steps
//! agree with LAMMPS to round-off. Unit conversions happen only at the input
//! boundary (deck keys named `_gpa` etc.); inside the engine everything is metal.
//! To add a unit system, add a module with the same constant names and select
//! it at start-up; the physics code reads only these names.

/// Boltzmann constant in eV/K.
pub const BOLTZ: f64 = 8.617343e-5;
/// m·v² (amu·Å²/ps²) to eV.
pub const MVV2E: f64 = 1.0364269e-4;
/// Force/mass (eV/Å/amu) to acceleration (Å/ps²).
pub const FTM2V: f64 = 1.0 / 1.0364269e-4;
/// N·k·T/V (eV/Å³) to pressure (bar).
pub const NKTV2P: f64 = 1.6021765e6;
/// mass/volume (amu/Å³) to density (g/cm³).
pub const MV2D: f64 = 1.0 / 0.602214129;
/// One GPa in bar, for deck keys that state pressures in GPa.
pub const BAR_PER_GPA: f64 = 1.0e4;
