//! Criterion benchmark of one EAM force evaluation (densities, embedding,
//! pair forces, ghost sums) on the 2,048-atom Cu64Zr36 liquid tiled 2x2x2
//! (16,384 atoms), on one rank and one thread, and a neighbor-list rebuild.
//! The end-to-end comparison with LAMMPS is scripts/bench_vs_lammps.sh.
use criterion::{criterion_group, criterion_main, Criterion};
use glassmd::domain::comm::SerialComm;
use glassmd::engine::{Engine, EngineOptions};
use glassmd::io::lammps_data;
use glassmd::potential::{eam, ForceFlags};
use glassmd::system::Boundary;
use std::path::PathBuf;

fn bench(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data_path = root.join("tests/data/reference/cuzr_fs_ppp/config.data");
    let data = glassmd::run::replicate(&lammps_data::read(&data_path).unwrap(), [2, 2, 2]);
    let els = vec!["Cu".to_string(), "Zr".to_string()];
    let pot = eam::load(
        eam::EamStyle::Fs,
        &root.join("inputs/potentials/CuZr_mm.eam.fs"),
        Some(&els),
        2,
        &data_path,
        &data_path,
    )
    .unwrap();
    let masses = pot.tables.masses.clone();
    let comm = SerialComm;
    let opts = EngineOptions { skin: 1.0, ..Default::default() };
    let mut eng = Engine::new(&comm, &data, &data_path, [Boundary::Periodic; 3], Box::new(pot), masses, opts).unwrap();
    eng.setup(ForceFlags::default()).unwrap();
    let mut g = c.benchmark_group("eam_16384_atoms");
    g.sample_size(20);
    g.bench_function("forces", |b| b.iter(|| eng.compute_forces(ForceFlags::default())));
    g.bench_function("reneighbor", |b| b.iter(|| eng.reneighbor().unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
