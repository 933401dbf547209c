//! Minimisers on a Cu64Zr36 glass quenched by LAMMPS (tests/data/lammps_min):
//! SD, CG and FIRE reach LAMMPS's inherent structure (E = -9046.3177353702 eV
//! from all three LAMMPS minimisers) to within 1e-3 eV/atom, CG reaches a
//! largest force below 1e-6 eV/Å (checked by recomputing forces on the written
//! configuration), ranks and threads agree, and non-convergence is reported.
mod common;
use common::*;
use std::path::Path;

const LAMMPS_E: f64 = -9046.3177353702;
const N: f64 = 2048.0;

fn run_min(dir: &Path, alg: &str, extra: &str, np: usize, threads: usize) -> (std::process::Output, f64) {
    let deck = write_deck(
        dir,
        &root().join("tests/data/lammps_min/glass300.data"),
        "p,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        &format!(
            "[neighbor]\nskin = 1.0\n\n[thermo]\nfile = \"thermo.csv\"\n\n[[stage]]\nkind = \"minimize\"\nalgorithm = \"{alg}\"\nftol = 1e-6\n{extra}\n\n[[stage]]\nkind = \"write_data\"\nfile = \"min.data\"\n"
        ),
    );
    let out = glassmd(np, threads, &["run", deck.to_str().unwrap()], dir);
    ok(&out);
    let t = read_thermo_csv(&dir.join("thermo.csv"));
    (out, t.last().unwrap()["pe"])
}

fn max_force(dir: &Path) -> f64 {
    let dump = dir.join("min.dump");
    let (data, pot) = (dir.join("min.data"), potential("CuZr_mm.eam.fs"));
    ok(&glassmd(
        1,
        1,
        &["forces", "--data", data.to_str().unwrap(), "--potential", pot.to_str().unwrap(), "--style", "eam/fs", "--elements", "Cu", "Zr", "--dump", dump.to_str().unwrap()],
        dir,
    ));
    read_dump(&dump).values().map(|r| (r[2] * r[2] + r[3] * r[3] + r[4] * r[4]).sqrt()).fold(0.0, f64::max)
}

#[test]
fn minimisers_reach_the_lammps_inherent_structure() {
    for alg in ["cg", "fire", "sd"] {
        let dir = tempdir();
        let (out, e) = run_min(dir.path(), alg, "max_iterations = 100000", 1, 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("force tolerance"), "{alg}: {err}");
        let d = (e - LAMMPS_E).abs() / N;
        eprintln!("{alg}: E = {e} eV, |E - E_LAMMPS| = {d:e} eV/atom");
        assert!(d < 1e-3, "{alg}: {e} vs LAMMPS {LAMMPS_E}");
        let fmax = max_force(dir.path());
        eprintln!("{alg}: max |f| of the written configuration {fmax:e} eV/A");
        assert!(fmax < 1e-6, "{alg}: max force {fmax}");
    }
}

#[test]
fn cg_agrees_across_ranks() {
    let (d1, d4) = (tempdir(), tempdir());
    let (_, e1) = run_min(d1.path(), "cg", "", 1, 1);
    let (_, e4) = run_min(d4.path(), "cg", "", 4, 1);
    assert!((e1 - e4).abs() / e1.abs() < 1e-9, "1 rank {e1} vs 4 ranks {e4}");
    assert!(max_force(d4.path()) < 1e-6);
}

#[test]
fn non_convergence_is_a_warning_with_reached_values() {
    let dir = tempdir();
    let (out, e) = run_min(dir.path(), "cg", "max_iterations = 5", 1, 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did not converge") && err.contains("max iterations"), "{err}");
    assert!(err.contains("max |f|") && err.contains("ftol"), "{err}");
    assert!(e < -8961.86, "energy went down: {e}");
}

#[test]
fn bad_minimize_stages() {
    for (stage, words) in [
        ("algorithm = \"newton\"", vec!["unknown algorithm 'newton'"]),
        ("box_pressure_gpa = 0.0", vec!["box relaxation", "not implemented yet"]),
        ("dmax = 0.0", vec!["dmax must be > 0"]),
    ] {
        let dir = tempdir();
        let deck = write_deck(
            dir.path(),
            &root().join("tests/data/lammps_min/glass300.data"),
            "p,p,p",
            "eam/fs",
            "CuZr_mm.eam.fs",
            &["Cu", "Zr"],
            &format!("[[stage]]\nkind = \"minimize\"\n{stage}\n"),
        );
        let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.lines().count() == 1 && err.contains("deck.toml"), "{err}");
        for w in words {
            assert!(err.contains(w), "'{w}' missing: {err}");
        }
    }
}
