//! Time integration: the velocity-Verlet NVE update (LAMMPS `fix nve`) and
//! initial velocities. Pure per-atom arithmetic; reductions (momentum,
//! temperature) are done by the engine through the communicator.
//!
//! The update is written operation for operation as LAMMPS writes it
//! (`dtfm = dtf / m`, `v += dtfm f`, `x += dt v`) so trajectories agree with
//! LAMMPS to round-off. Thermostats and barostats implement
//! `engine::Ensemble` and act before the first and after the second half
//! kick (`nose_hoover` for NVT).

pub mod barostat;
pub mod langevin;
pub mod nose_hoover;
pub mod velocity;

use crate::units::FTM2V;

/// First half: v(t+dt/2) = v(t) + dt/2 · f/m; x(t+dt) = x(t) + dt · v(t+dt/2).
pub fn initial_integrate(x: &mut [[f64; 3]], v: &mut [[f64; 3]], f: &[[f64; 3]], typ: &[u32], masses: &[f64], dt: f64) {
    let dtf = 0.5 * dt * FTM2V;
    for i in 0..v.len() {
        let dtfm = dtf / masses[typ[i] as usize];
        for d in 0..3 {
            v[i][d] += dtfm * f[i][d];
            x[i][d] += dt * v[i][d];
        }
    }
}

/// Second half: v(t+dt) = v(t+dt/2) + dt/2 · f(t+dt)/m.
pub fn final_integrate(v: &mut [[f64; 3]], f: &[[f64; 3]], typ: &[u32], masses: &[f64], dt: f64) {
    let dtf = 0.5 * dt * FTM2V;
    for i in 0..v.len() {
        let dtfm = dtf / masses[typ[i] as usize];
        for d in 0..3 {
            v[i][d] += dtfm * f[i][d];
        }
    }
}
