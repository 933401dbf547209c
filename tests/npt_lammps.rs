//! MTK NPT against LAMMPS `fix npt` (tests/data/lammps_npt): isotropic,
//! per-axis targets (σxx = 1 GPa, σyy = σzz = 0), a temperature and pressure
//! ramp, and only y and z barostatted. Temperature, energies, pressure
//! components and box lengths follow LAMMPS every 10 steps over 300 steps.
mod common;
use common::*;
use glassmd::domain::comm::SerialComm;
use glassmd::engine::{Barostat, Couple, Engine, EngineOptions, NoseHooverChain};
use glassmd::fix::nh::Npt;
use glassmd::system::group::Sel;
use glassmd::io::lammps_data;
use glassmd::potential::{eam, ForceFlags};
use glassmd::system::Boundary;
use std::path::Path;

fn run_case(name: &str, baro: Barostat, t: (f64, f64)) -> f64 {
    let comm = SerialComm;
    let data_path = root().join("tests/data/lammps_min/glass300.data");
    let data = lammps_data::read(&data_path).unwrap();
    let els = vec!["Cu".to_string(), "Zr".to_string()];
    let pot = eam::load(eam::EamStyle::Fs, &potential("CuZr_mm.eam.fs"), Some(&els), 2, &data_path, Path::new("t")).unwrap();
    let masses = pot.tables.masses.clone();
    let opts = EngineOptions { skin: 1.0, ..Default::default() };
    let mut eng = Engine::new(&comm, &data, &data_path, [Boundary::Periodic; 3], Box::new(pot), masses, opts).unwrap();
    eng.setup(ForceFlags::default()).unwrap();
    let lmp = &read_lammps_log(&root().join(format!("tests/data/lammps_npt/{name}.log")))[0];
    let npt = Npt { id: "npt".into(), group: Sel::ALL, chain: NoseHooverChain::new(), baro, t_start: t.0, t_stop: t.1, tdamp: 0.1, steps: 300, done: 0, wave: None };
    eng.fixes = vec![Box::new(npt)];
    eng.setup_fixes().unwrap();
    let mut worst = 0.0f64;
    for row in lmp {
        let step = row["Step"] as u64;
        while eng.step < step {
            eng.md_step(0.001).unwrap();
        }
        let th = eng.thermo();
        // Pressures are compared on the scale of the largest pressure of the row.
        let pscale = ["Press", "Pxx", "Pyy", "Pzz"].iter().map(|k| row[*k].abs()).fold(1.0, f64::max);
        let checks = [
            (th.temperature, row["Temp"], row["Temp"].abs()),
            (th.pe, row["PotEng"], row["PotEng"].abs()),
            (th.etotal, row["TotEng"], row["TotEng"].abs()),
            (th.pressure, row["Press"], pscale),
            (th.ptensor[0], row["Pxx"], pscale),
            (th.ptensor[1], row["Pyy"], pscale),
            (th.ptensor[2], row["Pzz"], pscale),
            (th.volume, row["Volume"], row["Volume"]),
            (th.lengths[0], row["Lx"], row["Lx"]),
            (th.lengths[1], row["Ly"], row["Ly"]),
            (th.lengths[2], row["Lz"], row["Lz"]),
        ];
        for (k, (ours, theirs, scale)) in checks.iter().enumerate() {
            let rel = (ours - theirs).abs() / scale;
            worst = worst.max(rel);
            assert!(rel < 1e-8, "{name} step {step} quantity {k}: {ours} vs LAMMPS {theirs} (rel {rel:e})");
        }
    }
    eprintln!("{name}: worst relative deviation from LAMMPS over 300 steps {worst:e}");
    worst
}

fn iso(p0: f64, p1: f64, pdamp: f64) -> Barostat {
    Barostat::new([Some((p0, p1)); 3], pdamp, true, Couple::Xyz, false)
}

#[test]
fn npt_iso_follows_lammps() {
    run_case("iso", iso(0.0, 0.0, 1.0), (300.0, 300.0));
}

#[test]
fn npt_per_axis_targets_follow_lammps() {
    let b = Barostat::new([Some((1e4, 1e4)), Some((0.0, 0.0)), Some((0.0, 0.0))], 1.0, false, Couple::None, true);
    run_case("axes", b, (300.0, 300.0));
}

#[test]
fn npt_ramps_follow_lammps() {
    run_case("ramp", iso(0.0, 5e4, 0.5), (300.0, 400.0));
}

#[test]
fn npt_subset_of_axes_follows_lammps() {
    let b = Barostat::new([None, Some((0.0, 0.0)), Some((0.0, 0.0))], 1.0, false, Couple::None, true);
    run_case("yz", b, (300.0, 300.0));
}
