//! Computes: named quantities that outputs read (LAMMPS `compute`).
//!
//! - **Per-atom** computes ([`PerAtomCompute`]) give columns for every atom:
//!   the deck names them in an output's `fields` (`dump`, `xyz`, H5MD
//!   `snapshot`) next to the built-in fields (position, velocity, force,
//!   pe, stress), and each writer lays out their columns (dump columns,
//!   extended-XYZ properties, an H5MD element `/particles/all/<name>`).
//! - **Global** computes ([`Scalar`]) are thermo columns the deck asks for
//!   in `thermo.extra` (`temp_<group>`, values fixes offer); they go to the
//!   thermo CSV, and a `record` stage stores them in `results.json`.
//!
//! A compute declares what it needs ([`Needs`]): the per-atom energy or
//! virial of the potential (the engine runs a force pass that tallies
//! them before the frame). Computes that need neighbors at their own
//! cutoff (Voronoi, g(r), order parameters) will add a cutoff here; the
//! engine then extends ghosts and builds a list to it.
//!
//! To add a per-atom quantity: one file here implementing
//! [`PerAtomCompute`], and its entry in [`PER_ATOM`]. Nothing else changes:
//! deck validation, every writer, `glassmd convert` and the docs' field
//! list read the registry.

pub mod groups;
pub mod ke;

use crate::engine::Engine;
use crate::system::group::Sel;

/// What a compute needs from the force pass before it can give values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Per-atom potential energy.
    pub energy_atom: bool,
    /// Per-atom virial.
    pub virial_atom: bool,
}

/// A per-atom quantity for trajectories.
pub trait PerAtomCompute: Sync {
    /// The name a deck's `fields` uses, and the H5MD element's name.
    fn name(&self) -> &'static str;
    /// Column names in dumps and extended XYZ (one per value).
    fn columns(&self) -> &'static [&'static str];
    /// Whole numbers (written without a decimal point, H5MD integers).
    fn integer(&self) -> bool {
        false
    }
    /// Unit for H5MD (`None`: dimensionless).
    fn unit(&self) -> Option<&'static str> {
        None
    }
    fn needs(&self) -> Needs {
        Needs::default()
    }
    /// Append the values of owned atom `i` (as many as `columns`).
    fn row(&self, eng: &Engine, i: usize, out: &mut Vec<f64>);
}

/// Every per-atom compute, in the order their columns follow the
/// built-in fields. At most 32 (a bit each in `io::frames::Fields`).
pub static PER_ATOM: &[&dyn PerAtomCompute] = &[&groups::GroupMask, &ke::KineticEnergy];

/// Index of the per-atom compute called `name`.
pub fn find(name: &str) -> Option<usize> {
    PER_ATOM.iter().position(|c| c.name() == name)
}

/// A global value as a thermo column (deck `thermo.extra`).
#[derive(Clone, Debug)]
pub enum Scalar {
    /// `temp_<group>`: the group's kinetic temperature (LAMMPS `compute
    /// temp` on the group: 3N_g − 3 degrees of freedom).
    Temp(Sel),
    /// `<fix id>_<name>`: a value a fix of the running stage offers (NaN
    /// while no fix offers it).
    Fix(String),
}

impl Scalar {
    /// The scalar a `thermo.extra` name asks for (names were checked when
    /// the deck was validated): `temp_<group>`, else a fix value.
    pub fn parse(name: &str, groups: &crate::system::group::Groups) -> Scalar {
        match name.strip_prefix("temp_").and_then(|g| groups.sel(g)) {
            Some(g) => Scalar::Temp(g),
            None => Scalar::Fix(name.to_string()),
        }
    }
}
