//! Velocity Verlet on a group (LAMMPS `fix nve`): half kick and drift in
//! `initial_integrate`, half kick in `final_integrate`, written operation
//! for operation as LAMMPS (`integrate::kick`/`drift`).

use super::Fix;
use crate::engine::Engine;
use crate::system::group::Sel;

pub struct Nve {
    pub id: String,
    pub group: Sel,
}

impl Fix for Nve {
    fn id(&self) -> &str {
        &self.id
    }
    fn integrates(&self) -> Option<Sel> {
        Some(self.group)
    }
    fn initial_integrate(&mut self, eng: &mut Engine, dt: f64) {
        eng.kick_group(dt, self.group);
        eng.drift_group(dt, self.group);
    }
    fn final_integrate(&mut self, eng: &mut Engine, dt: f64) {
        eng.kick_group(dt, self.group);
    }
}
