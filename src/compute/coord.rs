//! Per-atom field `coord`: the number of atoms within `[compute]
//! coord_cutoff` (Å, default 3.5) of each atom, periodic images included
//! (LAMMPS `compute coord/atom cutoff R`, one type range). The first
//! compute with its own cutoff: it declares it in `needs`, and the engine
//! hands it a [`Neighborhood`] with ghosts to that cutoff, however far
//! beyond the potential's cutoff it reaches.

use super::{Neighborhood, Needs, PerAtomCompute, Settings};
use crate::engine::Engine;

pub struct Coordination;

impl PerAtomCompute for Coordination {
    fn name(&self) -> &'static str {
        "coord"
    }
    fn columns(&self) -> &'static [&'static str] {
        &["coord"]
    }
    fn integer(&self) -> bool {
        true
    }
    fn needs(&self, s: &Settings) -> Needs {
        Needs { cutoff: Some(s.coord_cutoff), ..Needs::default() }
    }
    fn evaluate(&self, _eng: &Engine, nb: &Neighborhood) -> Vec<f64> {
        (0..nb.nlocal).map(|i| nb.of(i).len() as f64).collect()
    }
    fn row(&self, eng: &Engine, i: usize, out: &mut Vec<f64>) {
        out.push(eng.compute_values.get(self.name()).and_then(|v| v.get(i)).copied().unwrap_or(f64::NAN));
    }
}
