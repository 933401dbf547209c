//! A constant force on every atom of a group (LAMMPS `fix addforce` with
//! constant components), e.g. a load on a surface layer or a gravity-like
//! body force. With `energy = true` the potential energy of the force,
//! E = −Σ_i F·x_i over unwrapped positions, is added to pe and to the
//! minimiser's objective (LAMMPS `fix_modify energy yes`; needed for a
//! consistent minimisation), and with `virial = true` its virial
//! Σ_i F_a x_b (LAMMPS's components: xx = Fx·x, yy = Fy·y, zz = Fz·z,
//! xy = Fx·y, xz = Fx·z, yz = Fy·z) is added to the pressure. Thermo
//! values `<id>_energy`, `_fx`, `_fy`, `_fz`: −Σ F·x and the group's total
//! force before the addition (LAMMPS `f_ID` and `f_ID[1..3]`).

use super::Fix;
use crate::engine::Engine;
use crate::system::group::{Members, Sel};

pub const COLUMNS: [&str; 4] = ["energy", "fx", "fy", "fz"];

pub struct AddForce {
    id: String,
    group: Sel,
    force: [f64; 3],
    energy: bool,
    virial: bool,
    /// This rank's group force sums before the addition.
    original: [f64; 3],
}

impl AddForce {
    pub fn new(id: &str, group: Sel, force: [f64; 3], energy: bool, virial: bool) -> AddForce {
        AddForce { id: id.to_string(), group, force, energy, virial, original: [0.0; 3] }
    }
    fn apply(&mut self, eng: &mut Engine) {
        let n = eng.atoms.nlocal;
        let crate::system::Atoms { f, cols, .. } = &mut eng.atoms;
        let m = Members::new(cols, self.group);
        self.original = [0.0; 3];
        for i in (0..n).filter(|&i| m.has(i)) {
            for d in 0..3 {
                self.original[d] += f[i][d];
                f[i][d] += self.force[d];
            }
        }
    }
    /// −Σ F·x over this rank's group atoms (unwrapped).
    fn work(&self, eng: &Engine) -> f64 {
        let m = Members::new(&eng.atoms.cols, self.group);
        let mut e = 0.0;
        for i in (0..eng.atoms.nlocal).filter(|&i| m.has(i)) {
            let u = eng.atoms.unwrapped(i, &eng.bx);
            e -= self.force[0] * u[0] + self.force[1] * u[1] + self.force[2] * u[2];
        }
        e
    }
}

impl Fix for AddForce {
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
    fn energy(&self, eng: &Engine) -> f64 {
        if self.energy {
            self.work(eng)
        } else {
            0.0
        }
    }
    fn virial(&self, eng: &Engine) -> Option<[f64; 6]> {
        if !self.virial {
            return None;
        }
        let m = Members::new(&eng.atoms.cols, self.group);
        let f = self.force;
        let mut w = [0.0; 6];
        for i in (0..eng.atoms.nlocal).filter(|&i| m.has(i)) {
            let u = eng.atoms.unwrapped(i, &eng.bx);
            w[0] += f[0] * u[0];
            w[1] += f[1] * u[1];
            w[2] += f[2] * u[2];
            w[3] += f[0] * u[1];
            w[4] += f[0] * u[2];
            w[5] += f[1] * u[2];
        }
        Some(w)
    }
    fn thermo_names(&self) -> Vec<&'static str> {
        COLUMNS.to_vec()
    }
    fn thermo_local(&self, eng: &Engine) -> Vec<f64> {
        vec![self.work(eng), self.original[0], self.original[1], self.original[2]]
    }
}
