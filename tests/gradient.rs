//! Forces are the negative gradient of the energy: central finite
//! differences of the total energy against the analytic forces, for each EAM
//! flavour (funcfl, setfl, Finnis–Sinclair), with free surfaces as well.
mod common;
use common::*;
use glassmd::domain::comm::SerialComm;
use glassmd::engine::{Engine, EngineOptions};
use glassmd::io::lammps_data;
use glassmd::potential::{eam, ForceFlags};
use glassmd::system::Boundary;
use std::path::Path;

fn check(case: &str, style: &str, pot: &str, boundary: &str, elements: &[&str]) -> f64 {
    let comm = SerialComm;
    let data_path = reference(case).join("config.data");
    let data = lammps_data::read(&data_path).unwrap();
    let els: Vec<String> = elements.iter().map(|s| s.to_string()).collect();
    let style = eam::EamStyle::parse(style).unwrap();
    let p = eam::load(style, &potential(pot), if els.is_empty() { None } else { Some(&els) }, data.ntypes, &data_path, Path::new("test")).unwrap();
    let masses = p.tables.masses.clone();
    let b: Vec<Boundary> = boundary.split(',').map(|s| Boundary::parse(s).unwrap()).collect();
    let opts = EngineOptions { skin: 1.0, sort_every: 0, ..Default::default() };
    let mut eng = Engine::new(&comm, &data, &data_path, [b[0], b[1], b[2]], Box::new(p), masses, opts).unwrap();
    eng.setup(ForceFlags::default()).unwrap();
    let h = 1e-5;
    let mut worst = 0.0f64;
    let n = eng.atoms.nlocal;
    for &i in &[0, 1, n / 3, n / 2, n - 1] {
        let f = eng.atoms.f[i];
        let x0 = eng.atoms.x[i];
        for d in 0..3 {
            let mut e = [0.0; 2];
            for (k, s) in [1.0, -1.0].iter().enumerate() {
                eng.atoms.x[i] = x0;
                eng.atoms.x[i][d] += s * h;
                eng.setup(ForceFlags::default()).unwrap();
                e[k] = eng.thermo().pe;
            }
            eng.atoms.x[i] = x0;
            let fd = -(e[0] - e[1]) / (2.0 * h);
            let err = (fd - f[d]).abs();
            worst = worst.max(err);
            // Round-off in E (~1e-12 eV of ~1e4 eV) over 2h gives ~1e-7;
            // the cubic-spline truncation term is far smaller at h = 1e-5.
            assert!(err < 2e-6, "{case}: atom {} axis {d}: analytic {} vs finite difference {fd} (error {err:e})", eng.atoms.id[i], f[d]);
        }
    }
    worst
}

#[test]
fn forces_are_energy_gradients() {
    for (case, style, pot, b, els) in CASES {
        let w = check(case, style, pot, b, els);
        eprintln!("{case}: worst |F + dE/dx| = {w:e} eV/A");
    }
}
