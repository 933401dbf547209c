//! Set force components on a group (LAMMPS `fix setforce`), e.g. to hold a
//! base layer still under an indenter or during tension (`force = [0, 0,
//! 0]`), or to let it slide in-plane (`force = ["NULL", "NULL", 0.0]`:
//! components given as `"NULL"` are left alone). Acts after the forces are
//! computed, in MD and in minimisation. It does not change the energy or
//! the virial (as LAMMPS). Thermo values `<id>_fx`, `_fy`, `_fz`: the total
//! force on the group before it was set (LAMMPS `f_ID[1..3]`).

use super::Fix;
use crate::engine::Engine;
use crate::system::group::{Members, Sel};

pub const COLUMNS: [&str; 3] = ["fx", "fy", "fz"];

pub struct SetForce {
    id: String,
    group: Sel,
    force: [Option<f64>; 3],
    /// This rank's sum of the group's forces before they were set.
    original: [f64; 3],
}

impl SetForce {
    pub fn new(id: &str, group: Sel, force: [Option<f64>; 3]) -> SetForce {
        SetForce { id: id.to_string(), group, force, original: [0.0; 3] }
    }
    fn apply(&mut self, eng: &mut Engine) {
        let n = eng.atoms.nlocal;
        let crate::system::Atoms { f, cols, .. } = &mut eng.atoms;
        let m = Members::new(cols, self.group);
        self.original = [0.0; 3];
        for i in (0..n).filter(|&i| m.has(i)) {
            for d in 0..3 {
                self.original[d] += f[i][d];
                if let Some(v) = self.force[d] {
                    f[i][d] = v;
                }
            }
        }
    }
}

impl Fix for SetForce {
    fn id(&self) -> &str {
        &self.id
    }
    fn setup_forces(&mut self, eng: &mut Engine) {
        self.apply(eng);
    }
    fn post_force(&mut self, eng: &mut Engine, _dt: f64) {
        self.apply(eng);
    }
    fn min_post_force(&mut self, eng: &mut Engine) {
        self.apply(eng);
    }
    fn thermo_names(&self) -> Vec<&'static str> {
        COLUMNS.to_vec()
    }
    fn thermo_local(&self, _eng: &Engine) -> Vec<f64> {
        self.original.to_vec()
    }
}
