//! Langevin forces on a group (LAMMPS `fix langevin`, Schneider & Stoll,
//! Phys. Rev. B 17, 1302 (1978)) with a linear temperature ramp over the
//! stage; the `langevin` stage pairs it with [`super::nve::Nve`] on the
//! same group, as LAMMPS scripts pair `fix langevin` with `fix nve`. The
//! noise is counter-based (`integrate::langevin`), so it needs no state
//! and does not depend on the rank count. The first half kick of a stage
//! uses the conservative forces (no `setup_forces`).

use super::Fix;
use crate::engine::Engine;
use crate::system::group::{Members, Sel};

pub struct Langevin {
    pub id: String,
    pub group: Sel,
    pub t_start: f64,
    pub t_stop: f64,
    pub damp: f64,
    pub seed: u64,
    pub steps: u64,
    /// Steps of the stage done (the ramp's position).
    pub done: u64,
}

impl Fix for Langevin {
    fn id(&self) -> &str {
        &self.id
    }
    fn initial_integrate(&mut self, _eng: &mut Engine, _dt: f64) {
        self.done += 1;
    }
    fn post_force(&mut self, eng: &mut Engine, dt: f64) {
        let t = self.t_start + (self.done as f64 / self.steps as f64) * (self.t_stop - self.t_start);
        let n = eng.atoms.nlocal;
        let step = eng.step;
        let crate::system::Atoms { f, v, typ, id, cols, .. } = &mut eng.atoms;
        if self.group.is_all() {
            crate::integrate::langevin::add_forces(&mut f[..n], v, &typ[..n], &id[..n], &eng.masses, t, self.damp, dt, self.seed, step);
        } else {
            let m = Members::new(cols, self.group);
            for i in (0..n).filter(|&i| m.has(i)) {
                crate::integrate::langevin::add_forces(&mut f[i..i + 1], &v[i..i + 1], &typ[i..i + 1], &id[i..i + 1], &eng.masses, t, self.damp, dt, self.seed, step);
            }
        }
    }
}
