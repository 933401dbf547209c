//! Time integration: the velocity-Verlet NVE update (LAMMPS `fix nve`) and
//! initial velocities. Pure per-atom arithmetic; reductions (momentum,
//! temperature) are done by the engine through the communicator.
//!
//! The update is written operation for operation as LAMMPS writes it
//! (`dtfm = dtf / m`, `v += dtfm f`, `x += dt v`; a step is kick, drift,
//! forces, kick) so trajectories agree with
//! LAMMPS to round-off. The chains and the cell (`nose_hoover`, `barostat`)
//! and the Langevin forces are driven by the fixes in `crate::fix`, which
//! act before the first and after the second half kick.

pub mod barostat;
pub mod langevin;
pub mod nose_hoover;
pub mod velocity;

use crate::units::FTM2V;

/// Half kick v += dt/2 · f/m (LAMMPS `nve_v`: `dtfm = dtf / m`, `v += dtfm f`).
pub fn kick(v: &mut [[f64; 3]], f: &[[f64; 3]], typ: &[u32], masses: &[f64], dt: f64) {
    let dtf = 0.5 * dt * FTM2V;
    for i in 0..v.len() {
        let dtfm = dtf / masses[typ[i] as usize];
        for d in 0..3 {
            v[i][d] += dtfm * f[i][d];
        }
    }
}

/// Drift x += dt · v (LAMMPS `nve_x`).
pub fn drift(x: &mut [[f64; 3]], v: &[[f64; 3]], dt: f64) {
    for (xi, vi) in x.iter_mut().zip(v) {
        for d in 0..3 {
            xi[d] += dt * vi[d];
        }
    }
}
