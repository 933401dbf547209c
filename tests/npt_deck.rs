//! NPT stages in decks on the 2,048-atom Cu64Zr36 glass at 300 K: the mean
//! pressure reaches 0 and 5 GPa within 0.05 GPa, per-axis targets (σxx =
//! 1 GPa, σyy = σzz = 0) are each met within 0.05 GPa, stages continue one
//! barostat, and bad NPT stages are explained.
mod common;
use common::*;

fn npt_deck(dir: &std::path::Path, pressure: &str, extra_stage: &str) -> std::path::PathBuf {
    write_deck(
        dir,
        &root().join("tests/data/lammps_min/glass300.data"),
        "p,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        &format!(
            "[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 50\nfile = \"thermo.csv\"\n\n\
             [[stage]]\nkind = \"npt\"\ntemperature = 300.0\npressure_gpa = {pressure}\ntimestep = 0.002\ntime_ps = 20\npdamp = 0.5\n\n{extra_stage}"
        ),
    )
}

/// Means (GPa for pressures) over t > 5 ps.
fn means(dir: &std::path::Path) -> std::collections::BTreeMap<String, f64> {
    let t = read_thermo_csv(&dir.join("thermo.csv"));
    let rows: Vec<_> = t.iter().filter(|r| r["time"] > 5.0 && r["time"] <= 20.0 + 1e-9).collect();
    ["pressure", "pxx", "pyy", "pzz", "temperature"]
        .iter()
        .map(|k| {
            let scale = if k.starts_with('p') { 1e-4 } else { 1.0 };
            (k.to_string(), rows.iter().map(|r| r[*k]).sum::<f64>() / rows.len() as f64 * scale)
        })
        .collect()
}

#[test]
fn npt_holds_zero_and_five_gpa() {
    for target in [0.0, 5.0] {
        let dir = tempdir();
        let deck = npt_deck(dir.path(), &format!("{target:?}"), "");
        ok(&glassmd(1, 2, &["run", deck.to_str().unwrap()], dir.path()));
        let m = means(dir.path());
        eprintln!("NPT {target} GPa: mean P {:.4} GPa, T {:.1} K", m["pressure"], m["temperature"]);
        assert!((m["pressure"] - target).abs() < 0.05, "mean pressure {} vs {target}", m["pressure"]);
        assert!((m["temperature"] - 300.0).abs() < 6.0, "mean T {}", m["temperature"]);
    }
}

#[test]
fn npt_meets_per_axis_targets_and_carries_state() {
    let dir = tempdir();
    // A second, short stage continues the same barostat and thermostat.
    let deck = npt_deck(
        dir.path(),
        "{ x = 1.0, y = 0.0, z = 0.0 }",
        "[[stage]]\nkind = \"npt\"\ntemperature = 300.0\npressure_gpa = { x = 1.0, y = 0.0, z = 0.0 }\ntimestep = 0.002\nsteps = 500\npdamp = 0.5\n",
    );
    ok(&glassmd(1, 2, &["run", deck.to_str().unwrap()], dir.path()));
    let m = means(dir.path());
    eprintln!("NPT per axis: pxx {:.4} pyy {:.4} pzz {:.4} GPa", m["pxx"], m["pyy"], m["pzz"]);
    for (k, target) in [("pxx", 1.0), ("pyy", 0.0), ("pzz", 0.0)] {
        assert!((m[k] - target).abs() < 0.05, "{k} = {} vs {target}", m[k]);
    }
    // No jump where the second stage starts: the box keeps moving smoothly.
    let t = read_thermo_csv(&dir.path().join("thermo.csv"));
    let at = |time: f64| t.iter().min_by(|a, b| (a["time"] - time).abs().total_cmp(&(b["time"] - time).abs())).unwrap()["lx"];
    assert!((at(20.0) - at(20.1)).abs() < 0.05, "lx jumps between stages");
}

#[test]
fn npt_on_two_ranks_matches_one() {
    let short = |dir: &std::path::Path| {
        write_deck(
            dir,
            &root().join("tests/data/lammps_min/glass300.data"),
            "p,p,p",
            "eam/fs",
            "CuZr_mm.eam.fs",
            &["Cu", "Zr"],
            "[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 50\nfile = \"thermo.csv\"\n\n\
             [[stage]]\nkind = \"npt\"\ntemperature = [300.0, 500.0]\npressure_gpa = [0.0, 2.0]\nrate_gpa_per_ps = 10.0\ntimestep = 0.001\npdamp = 0.2\n",
        )
    };
    let (d1, d2) = (tempdir(), tempdir());
    ok(&glassmd(1, 1, &["run", short(d1.path()).to_str().unwrap()], d1.path()));
    ok(&glassmd(2, 1, &["run", short(d2.path()).to_str().unwrap()], d2.path()));
    let (a, b) = (read_thermo_csv(&d1.path().join("thermo.csv")), read_thermo_csv(&d2.path().join("thermo.csv")));
    // 2 GPa at 10 GPa/ps = 0.2 ps = 200 steps.
    assert_eq!(a.last().unwrap()["step"], 200.0);
    for (x, y) in a.iter().zip(&b) {
        for k in ["etotal", "volume", "pressure"] {
            let scale = if k == "pressure" { 1e4 } else { x[k].abs() };
            assert!((x[k] - y[k]).abs() <= 1e-8 * scale, "step {}: {k} {} vs {}", x["step"], x[k], y[k]);
        }
    }
}

#[test]
fn bad_npt_stages_are_explained() {
    let cases = [
        ("s,p,p", "pressure_gpa = 0.0\nsteps = 10", "pressure target on non-periodic axis x"),
        ("s,p,p", "pressure_gpa = { y = 0.0, z = 0.0 }\nsteps = 10", ""),
        ("p,p,p", "pressure_gpa = [0.0, 5.0]\nrate_gpa_per_ps = 0.0", "rate_gpa_per_ps must be > 0"),
        ("p,p,p", "pressure_gpa = { w = 1.0 }\nsteps = 10", "component 'w'"),
        ("p,p,p", "pressure_gpa = { x = 1.0 }\ncouple = \"xy\"\nsteps = 10", "couple"),
        ("p,p,p", "pressure_gpa = 0.0", "exactly one of"),
    ];
    for (boundary, stage, word) in cases {
        let dir = tempdir();
        let deck = write_deck(
            dir.path(),
            &reference("cuzr_fs_spp").join("config.data"),
            boundary,
            "eam/fs",
            "CuZr_mm.eam.fs",
            &["Cu", "Zr"],
            &format!("[[stage]]\nkind = \"npt\"\ntemperature = 300.0\n{stage}\n"),
        );
        let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        if word.is_empty() {
            // Barostatting only the periodic axes of a slab is allowed.
            assert!(out.status.success() || !err.contains("pressure target"), "{stage}: {err}");
            continue;
        }
        assert!(!out.status.success() && err.lines().count() == 1 && err.contains("deck.toml") && err.contains(word), "{stage}: {err}");
    }
}
