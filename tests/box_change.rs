//! Box changes between reneighborings (the groundwork of barostats and
//! deformation): after an affine remap of the box and atoms, ghost images
//! are shifted by the new box lengths, so forces equal those of a system
//! built from scratch in the new box; large changes trigger a rebuild
//! through LAMMPS's box-aware skin criterion.
mod common;
use common::*;
use glassmd::domain::comm::SerialComm;
use glassmd::engine::{Engine, EngineOptions};
use glassmd::io::lammps_data::{self, DataFile};
use glassmd::potential::{eam, ForceFlags};
use glassmd::system::Boundary;
use std::collections::HashMap;
use std::path::Path;

fn engine<'c>(comm: &'c SerialComm, data: &DataFile) -> Engine<'c> {
    let els = vec!["Cu".to_string(), "Zr".to_string()];
    let pot = eam::load(eam::EamStyle::Fs, &potential("CuZr_mm.eam.fs"), Some(&els), 2, Path::new("d"), Path::new("t")).unwrap();
    let masses = pot.tables.masses.clone();
    let opts = EngineOptions { skin: 1.0, ..Default::default() };
    let mut e = Engine::new(comm, data, Path::new("d"), [Boundary::Periodic; 3], Box::new(pot), masses, opts).unwrap();
    e.setup(ForceFlags::default()).unwrap();
    e
}

fn forces_by_id(e: &Engine) -> HashMap<u64, [f64; 3]> {
    (0..e.atoms.nlocal).map(|i| (e.atoms.id[i], e.atoms.f[i])).collect()
}

#[test]
fn forces_after_a_box_remap_equal_a_fresh_build() {
    let comm = SerialComm;
    let data = lammps_data::read(&root().join("tests/data/lammps_min/glass300.data")).unwrap();
    let mut a = engine(&comm, &data);
    let builds = a.list.builds;
    a.remap_box([1.004, 0.997, 1.0]);
    let e_a = a.energy_force().unwrap();
    assert_eq!(a.list.builds, builds, "a small remap should not need a rebuild");
    let fresh = engine(&comm, &a.to_data().unwrap());
    let e_b = fresh.potential_energy();
    assert!((e_a - e_b).abs() < 1e-10 * e_b.abs(), "energy {e_a} vs fresh {e_b}");
    let (fa, fb) = (forces_by_id(&a), forces_by_id(&fresh));
    let worst = fa.iter().map(|(id, f)| (0..3).map(|k| (f[k] - fb[id][k]).abs()).fold(0.0, f64::max)).fold(0.0, f64::max);
    assert!(worst < 1e-10, "max force difference {worst:e}");
    // The box really changed: the pressure responds.
    assert!((a.bx.length(0) / fresh.bx.length(0) - 1.0).abs() < 1e-15);
}

#[test]
fn a_large_remap_triggers_a_rebuild() {
    let comm = SerialComm;
    let data = lammps_data::read(&root().join("tests/data/lammps_min/glass300.data")).unwrap();
    let mut a = engine(&comm, &data);
    let builds = a.list.builds;
    a.remap_box([0.97, 0.97, 0.97]);
    let e_a = a.energy_force().unwrap();
    assert!(a.list.builds > builds);
    let fresh = engine(&comm, &a.to_data().unwrap());
    assert!((e_a - fresh.potential_energy()).abs() < 1e-10 * e_a.abs());
}
