//! Per-atom field `groups`: the atom's group memberships as one integer,
//! bit k set for the (k+1)-th `[[group]]` of the deck (LAMMPS
//! `atom->mask`, without its bit for `all`). In OVITO, `groups & 4` selects
//! the third group's atoms.

use super::PerAtomCompute;
use crate::engine::Engine;
use crate::system::group::MASK_COLUMN;

pub struct GroupMask;

impl PerAtomCompute for GroupMask {
    fn name(&self) -> &'static str {
        "groups"
    }
    fn columns(&self) -> &'static [&'static str] {
        &["groups"]
    }
    fn integer(&self) -> bool {
        true
    }
    fn row(&self, eng: &Engine, i: usize, out: &mut Vec<f64>) {
        let a = &eng.atoms;
        out.push(a.cols.find(MASK_COLUMN).map_or(0.0, |c| a.col(c, i)[0]));
    }
}
