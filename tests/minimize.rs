//! Minimisers on a Cu64Zr36 glass quenched by LAMMPS (tests/data/lammps_min):
//! SD, CG and FIRE reach LAMMPS's inherent structure (E = -9046.3177353702 eV
//! from all three LAMMPS minimisers) to within 1e-3 eV/atom, CG reaches a
//! largest force below 1e-6 eV/Å (checked by recomputing forces on the written
//! configuration), ranks and threads agree, and non-convergence is reported.
//! With box relaxation (isotropic, per axis at 0, and σxx = 1 GPa with
//! σyy = σzz = 0), the pressures end within ptol of their targets and the
//! energies within 1e-3 eV/atom of LAMMPS `fix box/relax` + `minimize` from
//! the same glass (logs box_{iso,aniso,x1}.log in tests/data/lammps_min).
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
        ("algorithm = \"newton\"", vec!["algorithm: unknown value 'newton' (expected sd, cg, fire)"]),
        ("box_pressure_gpa = [0.0, 1.0]", vec!["constant targets"]),
        ("box_pressure_gpa = { w = 0.0 }", vec!["axis 'w'"]),
        ("box_pressure_gpa = { x = 0.0, y = 1.0 }\ncouple = \"xy\"", vec!["equal targets"]),
        ("box_pressure_gpa = 0.0\nptol_gpa = 0.0", vec!["ptol_gpa"]),
        ("couple = \"xyz\"", vec!["couple needs box_pressure_gpa"]),
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

/// Final energy and box of a LAMMPS log: the last thermo line of the run
/// (columns step pe press pxx pyy pzz vol lx ly lz fmax).
fn lammps_final(log: &str) -> (f64, [f64; 3]) {
    let text = std::fs::read_to_string(root().join("tests/data/lammps_min").join(log)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let k = lines.iter().rposition(|l| l.starts_with("Loop time")).unwrap();
    let v: Vec<f64> = lines[k - 1].split_whitespace().map(|x| x.parse().unwrap()).collect();
    (v[1], [v[7], v[8], v[9]])
}

#[test]
fn box_relaxation_meets_pressure_targets_and_lammps_energies() {
    let ptol = 1e-4; // GPa
    let cases = [
        ("cg", "box_pressure_gpa = 0.0", [0.0; 3], "box_iso.log", true),
        ("fire", "box_pressure_gpa = 0.0", [0.0; 3], "box_iso.log", true),
        ("cg", "box_pressure_gpa = { x = 0.0, y = 0.0, z = 0.0 }", [0.0; 3], "box_aniso.log", false),
        ("fire", "box_pressure_gpa = { x = 0.0, y = 0.0, z = 0.0 }", [0.0; 3], "box_aniso.log", false),
        ("cg", "box_pressure_gpa = { x = 1.0, y = 0.0, z = 0.0 }", [1.0, 0.0, 0.0], "box_x1.log", false),
    ];
    for (alg, key, target, log, iso) in cases {
        let dir = tempdir();
        let (out, e) = run_min(dir.path(), alg, &format!("{key}\nptol_gpa = {ptol}\nmax_iterations = 100000"), 1, 1);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("force tolerance") && !err.contains("did not converge"), "{alg} {key}: {err}");
        // Velocities are zeroed by a box relaxation, so the thermo pressure
        // is the virial pressure the relaxation drove to its targets.
        let t = read_thermo_csv(&dir.path().join("thermo.csv"));
        let last = t.last().unwrap();
        let p = [last["pxx"], last["pyy"], last["pzz"]].map(|b| b / 1e4);
        if iso {
            let mean = (p[0] + p[1] + p[2]) / 3.0;
            assert!(mean.abs() <= ptol, "{alg} {key}: mean pressure {mean} GPa");
            assert!((last["lx"] / last["ly"] - 1.0).abs() < 1e-12, "isotropic relaxation changed the shape");
        } else {
            for d in 0..3 {
                assert!((p[d] - target[d]).abs() <= ptol, "{alg} {key}: p[{d}] = {} GPa, target {}", p[d], target[d]);
            }
        }
        let (e_lmp, l_lmp) = lammps_final(log);
        let de = (e - e_lmp) / N;
        eprintln!("{alg} {key}: E/N {:.8} vs LAMMPS {:.8} (diff {de:.2e} eV/atom); P {p:?} GPa; L {:?} vs LAMMPS {l_lmp:?}", e / N, e_lmp / N, [last["lx"], last["ly"], last["lz"]]);
        assert!(de.abs() < 1e-3, "{alg} {key}: energy {e} vs LAMMPS {e_lmp}");
        for (d, l) in [last["lx"], last["ly"], last["lz"]].iter().enumerate() {
            assert!((l / l_lmp[d] - 1.0).abs() < 2e-3, "{alg} {key}: box {d} {l} vs LAMMPS {}", l_lmp[d]);
        }
        assert!(max_force(dir.path()) < 1e-6);
    }
}

#[test]
fn box_relaxation_agrees_across_ranks() {
    let key = "box_pressure_gpa = { x = 0.0, y = 0.0, z = 0.0 }\nmax_iterations = 200";
    let (d1, d4) = (tempdir(), tempdir());
    run_min(d1.path(), "cg", key, 1, 1);
    run_min(d4.path(), "cg", key, 4, 1);
    let (t1, t4) = (read_thermo_csv(&d1.path().join("thermo.csv")), read_thermo_csv(&d4.path().join("thermo.csv")));
    for k in ["pe", "lx", "ly", "lz", "pxx"] {
        let (a, b) = (t1.last().unwrap()[k], t4.last().unwrap()[k]);
        assert!((a - b).abs() <= 1e-8 * a.abs().max(1.0), "{k}: 1 rank {a} vs 4 ranks {b}");
    }
}

#[test]
fn box_relaxation_on_a_non_periodic_axis_is_refused() {
    let dir = tempdir();
    let deck = write_deck(
        dir.path(),
        &root().join("tests/data/lammps_min/glass300.data"),
        "s,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        "[[stage]]\nkind = \"minimize\"\nbox_pressure_gpa = { x = 0.0, y = 0.0 }\n",
    );
    let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.lines().count() == 1, "{err}");
    assert!(err.contains("deck.toml") && err.contains("non-periodic axis x"), "{err}");
}
