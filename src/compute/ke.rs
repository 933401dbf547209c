//! Per-atom field `ke`: kinetic energy ½ m v² of each atom, eV (LAMMPS
//! `compute ke/atom`).

use super::PerAtomCompute;
use crate::engine::Engine;
use crate::units::MVV2E;

pub struct KineticEnergy;

impl PerAtomCompute for KineticEnergy {
    fn name(&self) -> &'static str {
        "ke"
    }
    fn columns(&self) -> &'static [&'static str] {
        &["ke"]
    }
    fn unit(&self) -> Option<&'static str> {
        Some("eV")
    }
    fn row(&self, eng: &Engine, i: usize, out: &mut Vec<f64>) {
        let v = eng.atoms.v[i];
        let m = eng.masses[eng.atoms.typ[i] as usize];
        out.push(0.5 * MVV2E * m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]));
    }
}
