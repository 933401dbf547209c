//! Nosé–Hoover chain NVT with a temperature ramp against LAMMPS `fix nvt
//! temp 1500 1000 0.1` (tests/data/lammps_nvt): temperature, potential and
//! total energy, and the thermostat's energy (LAMMPS f_1) agree to 1e-8
//! relative every 10 steps over 300 steps. At constant target temperature
//! the extended energy E + E_chain is conserved.
mod common;
use common::*;
use glassmd::domain::comm::SerialComm;
use glassmd::compute::Scalar;
use glassmd::engine::{Engine, EngineOptions, NoseHooverChain};
use glassmd::fix::nh::Nvt;
use glassmd::system::group::Sel;
use glassmd::io::lammps_data;
use glassmd::potential::{eam, ForceFlags};
use glassmd::system::Boundary;
use std::path::Path;

fn engine(comm: &SerialComm) -> Engine<'_> {
    let data_path = reference("cuzr_fs_ppp").join("config.data");
    let data = lammps_data::read(&data_path).unwrap();
    let els = vec!["Cu".to_string(), "Zr".to_string()];
    let pot = eam::load(eam::EamStyle::Fs, &potential("CuZr_mm.eam.fs"), Some(&els), 2, &data_path, Path::new("t")).unwrap();
    let masses = pot.tables.masses.clone();
    let opts = EngineOptions { skin: 1.0, ..Default::default() };
    let mut eng = Engine::new(comm, &data, &data_path, [Boundary::Periodic; 3], Box::new(pot), masses, opts).unwrap();
    eng.setup(ForceFlags::default()).unwrap();
    eng
}

/// Run a Nosé–Hoover NVT fix from t0 to t1 over `steps` on the engine.
fn install_nvt(eng: &mut Engine, t0: f64, t1: f64, steps: u64) {
    let nvt = Nvt { id: "nvt".into(), group: Sel::ALL, chain: NoseHooverChain::new(), t_start: t0, t_stop: t1, tdamp: 0.1, steps, done: 0, carries: true };
    eng.fixes = vec![Box::new(nvt)];
    eng.setup_fixes().unwrap();
}

/// The chain's energy (LAMMPS f_1), through the thermo column it offers.
fn chain_energy(eng: &Engine) -> f64 {
    eng.thermo_extras(&[Scalar::Fix("nvt_energy".into())])[0]
}

#[test]
fn nvt_ramp_follows_lammps_fix_nvt() {
    let comm = SerialComm;
    let mut eng = engine(&comm);
    let lmp = &read_lammps_log(&root().join("tests/data/lammps_nvt/ref_nvt.log"))[0];
    install_nvt(&mut eng, 1500.0, 1000.0, 300);
    let mut worst = 0.0f64;
    for row in lmp {
        let step = row["Step"] as u64;
        while eng.step < step {
            eng.md_step(0.001).unwrap();
        }
        let t = eng.thermo();
        for (ours, theirs) in [(t.temperature, row["Temp"]), (t.pe, row["PotEng"]), (t.etotal, row["TotEng"])] {
            let rel = (ours - theirs).abs() / theirs.abs();
            worst = worst.max(rel);
            assert!(rel < 1e-8, "step {step}: {ours} vs LAMMPS {theirs} (rel {rel:e})");
        }
        let f1 = row["f_1"];
        let e = chain_energy(&eng);
        assert!((e - f1).abs() <= 1e-8 * f1.abs().max(1.0), "step {step}: thermostat energy {e} vs LAMMPS {f1}");
    }
    assert_eq!(eng.step, 300);
    eprintln!("NVT vs LAMMPS over 300 steps: worst relative deviation {worst:e}");
}

#[test]
fn nvt_conserves_extended_energy_at_constant_temperature() {
    let comm = SerialComm;
    let mut eng = engine(&comm);
    install_nvt(&mut eng, 1200.0, 1200.0, 3000);
    let e0 = eng.thermo().etotal;
    let mut worst = 0.0f64;
    let mut tsum = 0.0;
    for _ in 0..3000 {
        eng.md_step(0.001).unwrap();
        let t = eng.thermo();
        worst = worst.max((t.etotal + chain_energy(&eng) - e0).abs() / 2048.0);
        tsum += t.temperature;
    }
    eprintln!("NVT 1200 K, 3 ps: extended energy drift {worst:e} eV/atom, mean T {}", tsum / 3000.0);
    // LAMMPS fix nvt on this same run (3000 steps, 1200 K, Tdamp 0.1 ps,
    // starting from the 1500 K liquid) gives 2.98e-5 eV/atom: the error is
    // the integrator's during the strong initial transient. Bound it by the
    // project's conservation criterion.
    assert!(worst < 1e-4, "extended energy drift {worst:e} eV/atom");
    // The thermostat has pulled the 1500 K liquid towards 1200 K.
    assert!(eng.thermo().temperature < 1400.0);
}
