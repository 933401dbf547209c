//! The `deform` stage against LAMMPS step by step (tests/data/lammps_deform):
//! from the 2,048-atom Cu64Zr36 glass with its 300 K velocities, 300 steps
//! of 1 fs, the thermo (box lengths and tilts included) follows LAMMPS to
//! 1e-8 relative on 1 and 2 ranks for
//!
//! - tension: `erate = { z = 0.05 }` with `pressure_gpa = { x = 0.0, y = 0.0 }`
//!   (LAMMPS `fix npt ... x 0 0 1 y 0 0 1` + `fix deform 1 z erate`);
//! - compression: the same at −0.05;
//! - simple shear: `erate = { xy = 0.05 }` under Nosé–Hoover (LAMMPS `fix
//!   nvt` + `fix deform 1 xy erate remap x` on a box made triclinic);
//! - shear flow: the same with `remap = "v"` (LAMMPS `remap v`: atoms stay,
//!   and take their image's velocity when wrapped across the sheared face);
//! - true rate: `trate = { z = 0.05 }` with the lateral barostat (LAMMPS
//!   `fix deform 1 z trate 0.05`);
//! - final values: `final = { x = 34.1, xy = 2.0 }` under Nosé–Hoover (LAMMPS
//!   `x final -0.81 33.29 xy final 2.0`, the same length about the centre);
//!
//! and a stage given by `strain` runs strain/|rate| of time; a stage with
//! `until_pressure_gpa` stops when the stress reaches its target.
mod common;
use common::*;

fn run_case(case: &str, stage: &str, np: usize) -> f64 {
    let dir = tempdir();
    let deck = write_deck(
        dir.path(),
        &root().join("tests/data/lammps_min/glass300.data"),
        "p,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        &format!(
            "[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 10\nfile = \"thermo.csv\"\n\n[[stage]]\nkind = \"deform\"\nname = \"{case}\"\ntimestep = 0.001\ntemperature = 300.0\ntdamp = 0.1\nsteps = 300\n{}{stage}\n",
            if stage.contains("remap") { "" } else { "remap = \"x\"\n" }
        ),
    );
    ok(&glassmd(np, 1, &["run", deck.to_str().unwrap()], dir.path()));
    let ours = read_thermo_csv(&dir.path().join("thermo.csv"));
    let lmp = &read_lammps_log(&root().join(format!("tests/data/lammps_deform/{case}.log")))[0];
    let pairs: Vec<(&str, &str)> = THERMO.iter().chain(CELL.iter()).copied().collect();
    follow_lammps(&ours, lmp, &pairs, 1e-8, &format!("{case} np={np}"))
}

#[test]
fn deform_stages_follow_lammps() {
    let cases = [
        ("tension", "erate = { z = 0.05 }\npressure_gpa = { x = 0.0, y = 0.0 }\npdamp = 1.0"),
        ("compression", "erate = { z = -0.05 }\npressure_gpa = { x = 0.0, y = 0.0 }\npdamp = 1.0"),
        ("shear", "erate = { xy = 0.05 }"),
        ("shear_v", "erate = { xy = 0.05 }\nremap = \"v\""),
        ("trate", "trate = { z = 0.05 }\npressure_gpa = { x = 0.0, y = 0.0 }\npdamp = 1.0"),
        ("final", "final = { x = 34.1, xy = 2.0 }"),
    ];
    for (case, stage) in cases {
        for np in [1, 2] {
            let w = run_case(case, stage, np);
            eprintln!("deform {case} np={np}: worst relative deviation from LAMMPS {w:e}");
        }
    }
}

#[test]
fn strain_sets_the_length_of_the_stage() {
    let dir = tempdir();
    small_deck(dir.path(), 50, "", "[[stage]]\nkind = \"deform\"\ntemperature = 300.0\ntimestep = 0.002\nerate = { z = 0.1 }\nstrain = 0.02\n");
    ok(&glassmd(1, 1, &["run", "deck.toml"], dir.path()));
    let t = read_thermo_csv(&dir.path().join("thermo.csv"));
    let (first, last) = (&t[0], t.last().unwrap());
    // 0.02 / 0.1 per ps = 0.2 ps = 100 steps of 2 fs; lz grew by 2 %.
    assert_eq!(last["step"], 100.0);
    assert!((last["lz"] / first["lz"] - 1.02).abs() < 1e-12, "lz {} -> {}", first["lz"], last["lz"]);
    assert_eq!((last["lx"], last["ly"]), (first["lx"], first["ly"]), "axes without a rate or a target keep their length");
}

/// The stress–strain report of a tension and a compression stage on the
/// glass: `stress_strain.csv` has a row per thermo row with ε = R t, the
/// loading stress σzz = −Pzz (tension positive), and results.json holds the
/// modulus (the least-squares slope over [0, 1 %], recomputed here from the
/// CSV), the peak and the final state, as magnitudes with `sign`.
#[test]
fn stress_strain_report() {
    let mut dirs = Vec::new();
    for (rate, sign) in [(0.2, 1.0), (-0.2, -1.0)] {
        let dir = tempdir();
        let deck = write_deck(
            dir.path(),
            &root().join("tests/data/lammps_min/glass300.data"),
            "p,p,p",
            "eam/fs",
            "CuZr_mm.eam.fs",
            &["Cu", "Zr"],
            &format!(
                "[thermo]\nevery = 5\nfile = \"thermo.csv\"\n\n[[stage]]\nkind = \"deform\"\nname = \"pull\"\ntimestep = 0.002\ntemperature = 300.0\n\
                 erate = {{ z = {rate:?} }}\nstrain = 0.03\npressure_gpa = {{ x = 0.0, y = 0.0 }}\nmodulus_strain = [0.0, 0.01]\nflow_strain = [0.02, 0.03]\n"
            ),
        );
        ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path()));
        let rows = read_thermo_csv(&dir.path().join("stress_strain.csv"));
        // 0.03 / 0.2 per ps = 0.15 ps = 75 steps: rows at 0, 5, ..., 75.
        assert_eq!(rows.len(), 16);
        let thermo = read_thermo_csv(&dir.path().join("thermo.csv"));
        for r in &rows {
            let t = thermo.iter().find(|t| t["step"] == r["step"]).unwrap();
            assert!((r["strain"] - rate * r["time"]).abs() < 1e-12);
            assert!((r["lz"] / rows[0]["lz"] - 1.0 - r["strain"]).abs() < 1e-12, "strain vs box at step {}", r["step"]);
            assert!((r["szz"] + t["pzz"] / 1e4).abs() < 1e-12);
        }
        let fit: Vec<(f64, f64)> = rows.iter().map(|r| (sign * r["strain"], sign * r["szz"])).filter(|p| p.0 <= 0.01 + 1e-12).collect();
        let n = fit.len() as f64;
        let (se, ss, see, ses) = fit.iter().fold((0.0, 0.0, 0.0, 0.0), |a, &(e, s)| (a.0 + e, a.1 + s, a.2 + e * e, a.3 + e * s));
        let modulus = (n * ses - se * ss) / (n * see - se * se);
        let res: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap()).unwrap();
        let pull = &res["pull"];
        eprintln!("rate {rate}: {pull}");
        assert_eq!(pull["sign"].as_f64().unwrap(), sign);
        assert!((pull["modulus_gpa"].as_f64().unwrap() - modulus).abs() < 1e-9 * modulus.abs());
        // A metallic glass is stiff: tens of GPa even at this rate.
        assert!(modulus > 20.0 && modulus < 300.0, "modulus {modulus} GPa");
        assert!((pull["final_strain"].as_f64().unwrap() - 0.03).abs() < 1e-12);
        let peak = rows.iter().map(|r| sign * r["szz"]).fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(pull["peak_stress_gpa"].as_f64().unwrap(), peak);
        assert!(pull["flow_stress_gpa"].as_f64().unwrap() > 0.0);
        dirs.push((dir, peak * sign));
    }
    // `glassmd plot stress-strain`: tension against compression, then the
    // mean of two samples; the loaded column is found from the box.
    let (t, c) = (dirs[0].0.path().join("stress_strain.csv"), dirs[1].0.path().join("stress_strain.csv"));
    let (ts, cs) = (t.to_str().unwrap(), c.to_str().unwrap());
    let out = ok(&glassmd(1, 1, &["plot", "stress-strain", ts, cs, "--labels", "tension,compression", "--out", "ss.svg"], dirs[0].0.path()));
    let svg = std::fs::read_to_string(dirs[0].0.path().join("ss.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("tension") && svg.contains("compression") && svg.contains("szz"));
    for (k, name) in ["tension", "compression"].iter().enumerate() {
        let line = out.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no line for {name}: {out}"));
        assert!(line.contains("szz") && line.contains(&format!("peak {:.4} GPa", dirs[k].1)), "{line} (peak {})", dirs[k].1);
    }
    ok(&glassmd(1, 1, &["plot", "stress-strain", ts, ts, "--mean", "--out", "mean.svg"], dirs[0].0.path()));
    assert!(std::fs::read_to_string(dirs[0].0.path().join("mean.svg")).unwrap().contains("mean of 2"));
    // Opposite directions cannot be averaged: one line naming the file.
    let bad = glassmd(1, 1, &["plot", "stress-strain", ts, cs, "--mean", "--out", "bad.svg"], dirs[0].0.path());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && err.trim().lines().count() == 1 && err.contains("opposite directions") && err.contains("stress_strain.csv"), "{err}");
    assert!(!dirs[0].0.path().join("bad.svg").exists());
}

/// `until_pressure_gpa = { z = -4.0 }`: the glass starts at pzz ≈ −2.8 GPa
/// and tension at a high rate lowers it; the stage stops at the first check
/// (every 10 steps) where pzz has come down to −4 GPa, well before its
/// strain limit, and the thermo row before the stop is still above.
#[test]
fn until_pressure_stops_the_stage() {
    let dir = tempdir();
    let deck = write_deck(
        dir.path(),
        &root().join("tests/data/lammps_min/glass300.data"),
        "p,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        "[thermo]\nevery = 10\nfile = \"thermo.csv\"\n\n[[stage]]\nkind = \"deform\"\nname = \"load\"\ntimestep = 0.002\ntemperature = 300.0\n\
         erate = { z = 0.5 }\npressure_gpa = { x = 0.0, y = 0.0 }\nuntil_pressure_gpa = { z = -4.0 }\nstrain = 0.2\n",
    );
    ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path()));
    let t = read_thermo_csv(&dir.path().join("thermo.csv"));
    let last = t.last().unwrap();
    let gpa = |r: &std::collections::BTreeMap<String, f64>| r["pzz"] / 1e4;
    assert!(gpa(last) <= -4.0, "stopped at pzz = {} GPa", gpa(last));
    assert!(gpa(&t[t.len() - 2]) > -4.0, "the row before the stop is above the target");
    assert!(last["step"] < 200.0 && last["step"] % 10.0 == 0.0, "stopped early, at a check: step {}", last["step"]);
}
