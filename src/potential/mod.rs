//! Interatomic potentials.
//!
//! A potential sees positions, types, a neighbor list and a [`HaloSync`]: an
//! abstract way to sum per-atom values from ghosts back to owners and to copy
//! owners' values out to ghosts. It never sees MPI or the decomposition, so
//! the same code runs on one rank or many (pattern: LAMMPS `comm->reverse_comm
//! (this)` inside `PairEAM::compute`). The engine forwards positions before
//! and reverse-sums forces (and per-atom energies/virials) after `compute`.
//!
//! To add a potential: implement [`Potential`] in a submodule, keep formula
//! and tabulation in small types, and reuse the neighbor list and chunked
//! thread layout as `eam` does. Test it against LAMMPS numbers and against
//! finite differences of its energy.

pub mod eam;

use crate::neighbor::NeighborList;

/// Ghost/owner synchronisation offered to a potential between its phases.
pub trait HaloSync {
    /// Copy values of owned atoms to their ghost copies (`width` per atom).
    fn forward(&mut self, data: &mut [f64], width: usize);
    /// Add ghost values onto their owners (`width` per atom); ghosts keep junk.
    fn reverse_sum(&mut self, data: &mut [f64], width: usize);
}

/// A sync that does nothing: a single rank whose system has no ghosts.
pub struct NoHalo;
impl HaloSync for NoHalo {
    fn forward(&mut self, _: &mut [f64], _: usize) {}
    fn reverse_sum(&mut self, _: &mut [f64], _: usize) {}
}

/// What a force call must also produce besides forces and the total energy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForceFlags {
    /// Per-atom potential energy (LAMMPS `compute pe/atom`).
    pub energy_atom: bool,
    /// Per-atom virial (LAMMPS `compute stress/atom`, before sign and units).
    pub virial_atom: bool,
}

/// Per-atom outputs, sized to owned + ghost atoms when requested.
#[derive(Clone, Debug, Default)]
pub struct PerAtom {
    pub energy: Vec<f64>,
    /// xx, yy, zz, xy, xz, yz, in eV (Σ ½ r_ij ⊗ f_ij over the atom's pairs).
    pub virial: Vec<[f64; 6]>,
}

/// Inputs of one force evaluation.
pub struct ForceInput<'a> {
    pub x: &'a [[f64; 3]],
    pub typ: &'a [u32],
    pub nlocal: usize,
    pub list: &'a NeighborList,
}

pub trait Potential: Send + Sync {
    /// Interaction cutoff (Å).
    fn cutoff(&self) -> f64;
    /// Number of atom types this potential was set up for.
    fn ntypes(&self) -> usize;
    /// Compute forces into `f` (owned + ghost, overwritten) and per-atom
    /// outputs as flagged; return this rank's share of the potential energy.
    fn compute(
        &mut self,
        input: &ForceInput,
        f: &mut [[f64; 3]],
        flags: ForceFlags,
        per_atom: &mut PerAtom,
        sync: &mut dyn HaloSync,
    ) -> f64;
}
