//! glassmd: molecular dynamics for metallic-glass research.
//!
//! Map of the crate (see docs/ARCHITECTURE.md for the full picture):
//! `config` decks → `run` drivers → `engine` (one rank's state and the phases
//! of a step) using `system` (atoms, box), `domain` (process grid, halo,
//! communicators; the only place MPI lives), `neighbor` (bins, Verlet lists),
//! `potential` (EAM), `integrate` (velocity Verlet, velocities), `io` (data,
//! dump, thermo files), `timing`, `units`.

pub mod analysis;
pub mod cli;
pub mod compute;
pub mod config;
pub mod console;
pub mod domain;
pub mod engine;
pub mod error;
pub mod fix;
pub mod integrate;
pub mod io;
pub mod memory;
pub mod minimize;
pub mod neighbor;
pub mod potential;
pub mod protocol;
pub mod run;
pub mod system;
pub mod timing;
pub mod units;
