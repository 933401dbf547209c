//! Load balancing (`[domain] balance = { every, threshold }`, LAMMPS
//! `balance shift` + `fix balance`) on a glass slab filling the lower 40 %
//! of a p p f box (the 2,048-atom Cu64Zr36 glass under 48.7 Å of vacuum,
//! base held): on 4 ranks the uniform grid [1, 1, 4] leaves two ranks
//! empty (max/mean atoms 2.5); balancing moves the z cuts so each rank
//! holds a quarter, the thermo is the same physics, and a run stopped and
//! restarted continues bitwise on the same rank count.
mod common;
use common::*;
use std::path::Path;

/// The slab data file: glass300 in a box 2.5 times as tall.
fn slab(dir: &Path) -> std::path::PathBuf {
    let src = std::fs::read_to_string(root().join("tests/data/lammps_min/glass300.data")).unwrap();
    let p = dir.join("slab.data");
    std::fs::write(&p, src.replace("0 32.48 zlo zhi", "0 81.2 zlo zhi")).unwrap();
    p
}

fn deck(dir: &Path, balance: &str) -> std::path::PathBuf {
    let data = slab(dir);
    write_deck(
        dir,
        &data,
        "p,p,f",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        &format!(
            "{balance}\n[thermo]\nevery = 50\nfile = \"thermo.csv\"\n\n[output]\ncheckpoint = {{ file = \"restart.h5\", every = 0 }}\n\n\
             [[group]]\nname = \"base\"\nregion = {{ z = [-inf, 5.0] }}\n\n[[group]]\nname = \"mobile\"\nnot = \"base\"\n\n\
             [[stage]]\nkind = \"nve\"\ngroup = \"mobile\"\nsteps = 400\n\n[[stage.fix]]\nkind = \"setforce\"\ngroup = \"base\"\nforce = [0.0, 0.0, 0.0]\n"
        ),
    )
}

fn timing(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("timing.json")).unwrap()).unwrap()
}

const BALANCE: &str = "[domain]\nbalance = { every = 100, threshold = 1.05 }\n";

#[test]
fn balancing_evens_the_atoms_and_keeps_the_physics() {
    let (a, b) = (tempdir(), tempdir());
    let (da, db) = (deck(a.path(), ""), deck(b.path(), BALANCE));
    ok(&glassmd(4, 1, &["run", da.to_str().unwrap()], a.path()));
    let out = ok(&glassmd(4, 1, &["run", db.to_str().unwrap()], b.path()));
    let (ta, tb) = (timing(a.path()), timing(b.path()));
    let (ia, ib) = (ta["atom_imbalance"].as_f64().unwrap(), tb["atom_imbalance"].as_f64().unwrap());
    eprintln!("atom_imbalance: uniform {ia}, balanced {ib}; loop {} s vs {} s (4 ranks on this machine's cores)", ta["loop_seconds"], tb["loop_seconds"]);
    assert!(ia > 2.3 && ib < 1.1, "uniform {ia}, balanced {ib}");
    assert!(tb["balances"].as_u64().unwrap() >= 1 && ta["balances"].as_u64().unwrap() == 0);
    assert!(out.contains("Imbalance: atoms per rank max/mean"), "the summary states the imbalance");
    // Same physics: the thermo of both runs agrees to round-off (the
    // force sums run in another order on other subdomains).
    let (ra, rb) = (read_thermo_csv(&a.path().join("thermo.csv")), read_thermo_csv(&b.path().join("thermo.csv")));
    assert_eq!(ra.len(), rb.len());
    for (x, y) in ra.iter().zip(&rb) {
        for k in ["pe", "ke", "etotal", "pzz"] {
            let scale = if k == "pzz" { x["pressure"].abs().max(1.0) } else { x[k].abs() };
            assert!((x[k] - y[k]).abs() <= 1e-9 * scale, "step {}: {} {} vs {}", x["step"], k, x[k], y[k]);
        }
    }
}

#[test]
fn balanced_restart_is_bitwise() {
    let (a, b) = (tempdir(), tempdir());
    let (da, db) = (deck(a.path(), BALANCE), deck(b.path(), BALANCE));
    ok(&glassmd(4, 1, &["run", da.to_str().unwrap()], a.path()));
    let stopped = glassmd(4, 1, &["run", db.to_str().unwrap(), "--stop-at-step", "250"], b.path());
    assert_eq!(stopped.status.code(), Some(75), "{}", String::from_utf8_lossy(&stopped.stderr));
    ok(&glassmd(4, 1, &["run", db.to_str().unwrap(), "--restart", "restart.h5"], b.path()));
    assert!(std::fs::read(a.path().join("thermo.csv")).unwrap() == std::fs::read(b.path().join("thermo.csv")).unwrap(), "thermo.csv differs after a balanced restart");
}
