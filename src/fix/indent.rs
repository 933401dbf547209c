//! A spherical indenter (LAMMPS `fix indent K sphere x y z R`, side out):
//! every atom of the group within R of the centre is pushed out radially by
//! F(r) = K (R − r)², the repulsive core of Kelchner, Plimpton & Hamilton,
//! Phys. Rev. B 58, 11085 (1998), with energy E(r) = K (R − r)³ / 3; K in
//! eV/Å³. The energy is part of pe and of the minimisers' objective (LAMMPS
//! `fix_modify energy yes`); the indenter adds no virial (as LAMMPS).
//!
//! Thermo values `<id>_energy` and `<id>_fx`, `_fy`, `_fz` (with the id
//! `indent`: `indent_energy`, `indent_fx` ...): the energy and the force on
//! the indenter, minus the sum of its forces on the atoms (LAMMPS `f_ID`
//! and `f_ID[1..3]`); `indent_fz` > 0 is the load of an indenter pushed
//! down along −z.
//!
//! The centre moves at a constant `velocity`: c(t) = c0 + v t, t the time
//! since the stage began (LAMMPS `fix indent ... sphere x y v_z R` with
//! `v_z` = z0 − v·elapsed·dt). The displacement from the atom to the centre
//! is taken as its minimum image on periodic axes (LAMMPS
//! `Domain::minimum_image`). The indent fix acts in `min_post_force` too,
//! so a minimisation with the indenter in place relaxes against it.
//!
//! Extending: other shapes (a cylinder along an axis, a plane) are another
//! `Shape` variant with its distance and direction; a loading schedule
//! (approach, hold, unload) another way to compute the centre at time t.

use super::Fix;
use crate::engine::Engine;
use crate::system::group::{Members, Sel};

pub const COLUMNS: [&str; 4] = ["energy", "fx", "fy", "fz"];

pub struct Indent {
    id: String,
    group: Sel,
    k: f64,
    radius: f64,
    center: [f64; 3],
    velocity: [f64; 3],
    /// The step the stage began (the centre's clock), saved for restarts.
    start: u64,
    dt: f64,
    /// This rank's energy and force on the indenter from the last
    /// application.
    sums: [f64; 4],
}

impl Indent {
    pub fn new(id: &str, group: Sel, k: f64, radius: f64, center: [f64; 3], velocity: [f64; 3]) -> Indent {
        Indent { id: id.to_string(), group, k, radius, center, velocity, start: 0, dt: 0.0, sums: [0.0; 4] }
    }

    /// The centre now.
    fn centre(&self, step: u64) -> [f64; 3] {
        let t = step.saturating_sub(self.start) as f64 * self.dt;
        std::array::from_fn(|d| self.center[d] + self.velocity[d] * t)
    }

    fn apply(&mut self, eng: &mut Engine) {
        let c = self.centre(eng.step);
        let n = eng.atoms.nlocal;
        let bx = eng.bx.clone();
        let crate::system::Atoms { x, f, cols, .. } = &mut eng.atoms;
        let m = Members::new(cols, self.group);
        let (k, k3) = (self.k, self.k / 3.0);
        self.sums = [0.0; 4];
        for i in (0..n).filter(|&i| m.has(i)) {
            let d = bx.minimum_image([x[i][0] - c[0], x[i][1] - c[1], x[i][2] - c[2]]);
            let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            let dr = r - self.radius;
            if dr >= 0.0 {
                continue;
            }
            let fmag = k * dr * dr;
            let fv = [d[0] * fmag / r, d[1] * fmag / r, d[2] * fmag / r];
            for a in 0..3 {
                f[i][a] += fv[a];
                self.sums[1 + a] -= fv[a];
            }
            self.sums[0] -= k3 * dr * dr * dr;
        }
    }
}

impl Fix for Indent {
    fn id(&self) -> &str {
        &self.id
    }
    fn setup(&mut self, eng: &mut Engine) {
        // The clock starts now; set-up's forces (`setup_forces`, before
        // this) already used the start centre (no time step known yet).
        self.start = eng.step;
    }
    fn setup_forces(&mut self, eng: &mut Engine) {
        self.apply(eng);
    }
    fn post_force(&mut self, eng: &mut Engine, dt: f64) {
        self.dt = dt;
        self.apply(eng);
    }
    fn min_post_force(&mut self, eng: &mut Engine) {
        self.apply(eng);
    }
    fn energy(&self, _eng: &Engine) -> f64 {
        self.sums[0]
    }
    fn thermo_names(&self) -> Vec<&'static str> {
        COLUMNS.to_vec()
    }
    fn thermo_local(&self, _eng: &Engine) -> Vec<f64> {
        self.sums.to_vec()
    }
    fn state(&self) -> Option<serde_json::Value> {
        serde_json::to_value((self.start, self.dt)).ok()
    }
    fn restore(&mut self, v: &serde_json::Value) -> Result<(), String> {
        (self.start, self.dt) = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        Ok(())
    }
}
