//! `glassmd tg`: the two-line fit recovers a known kink from a synthetic
//! quench written in our thermo CSV format, prints Tg with its windows and
//! writes them as JSON; bad input is one line.
mod common;
use common::*;

fn synthetic_csv(path: &std::path::Path) {
    let mut s = String::from("step,time,temperature,pe,ke,etotal,pressure,pxx,pyy,pzz,pxy,pxz,pyz,volume,density,lx,ly,lz\n");
    let mut state = 9u64;
    for k in 0..=120 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let noise = ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.004;
        let t = 1500.0 - 10.0 * k as f64;
        // Volume per atom with a kink at 650 K; PE with a kink at 650 K too.
        let v = 16.0 + if t < 650.0 { 1e-4 * (t - 650.0) } else { 3e-4 * (t - 650.0) } + noise;
        let pe = -4.4 + if t < 650.0 { 2e-4 * (t - 650.0) } else { 4e-4 * (t - 650.0) };
        s.push_str(&format!("{k},{k},{t},{pe},1,0,0,0,0,0,0,0,0,{v},7,1,1,1\n"));
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn tg_command_recovers_the_kink() {
    let dir = tempdir();
    let csv = dir.path().join("quench.csv");
    synthetic_csv(&csv);
    let json = dir.path().join("tg.json");
    let out = ok(&glassmd(1, 1, &["tg", csv.to_str().unwrap(), "--out", json.to_str().unwrap()], dir.path()));
    assert!(out.starts_with("Tg = "), "{out}");
    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let tg = j["tg"].as_f64().unwrap();
    assert!((tg - 650.0).abs() < 15.0, "Tg {tg}");
    assert!(j["glass"]["window"][1].as_f64().unwrap() <= j["liquid"]["window"][0].as_f64().unwrap());
    // PE has no noise: exact.
    let out = ok(&glassmd(1, 1, &["tg", csv.to_str().unwrap(), "--column", "pe", "--glass", "300,600", "--liquid", "700,1500"], dir.path()));
    let tg: f64 = out.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!((tg - 650.0).abs() < 0.1, "{out}");
}

#[test]
fn tg_step_window_excludes_other_stages() {
    let dir = tempdir();
    let csv = dir.path().join("quench.csv");
    synthetic_csv(&csv);
    // Rows of other stages (a hold at 0 K with a wild volume) after the quench.
    let mut text = std::fs::read_to_string(&csv).unwrap();
    for k in 121..140 {
        text.push_str(&format!("{k},{k},0.0,-5,1,0,0,0,0,0,0,0,0,99.0,7,1,1,1\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let out = ok(&glassmd(1, 1, &["tg", csv.to_str().unwrap(), "--steps", "0,120"], dir.path()));
    let tg: f64 = out.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!((tg - 650.0).abs() < 15.0, "{out}");
}

#[test]
fn tg_command_bad_input() {
    let dir = tempdir();
    let csv = dir.path().join("quench.csv");
    synthetic_csv(&csv);
    for args in [vec!["--column", "nope"], vec!["--glass", "600,300", "--liquid", "700,900"], vec!["--glass", "300,600"]] {
        let mut a = vec!["tg", csv.to_str().unwrap()];
        a.extend(args.iter());
        let out = glassmd(1, 1, &a, dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.lines().count() == 1 && !err.contains("panicked"), "{args:?}: {err}");
    }
}

/// The deck's `tg` stage and `glassmd tg` on the same run's thermo CSV are
/// one method: the rows of the quench stage against their target
/// temperature, so they give the same Tg (before: 926 K and 981 K). A CSV
/// that melts and quenches is not fitted across both.
#[test]
fn tg_command_and_tg_stage_agree() {
    let dir = tempdir();
    small_deck(
        dir.path(),
        100,
        "",
        "[[stage]]\nkind = \"nvt\"\ntemperature = 1500\nsteps = 1000\n\
         [[stage]]\nkind = \"npt\"\ntemperature = [1500.0, 300.0]\npressure_gpa = 0.0\nsteps = 6000\ntimestep = 0.002\n\
         [[stage]]\nkind = \"minimize\"\nmax_iterations = 50\n\
         [[stage]]\nkind = \"tg\"\nmin_points = 5\n",
    );
    ok(&glassmd(1, 2, &["run", "deck.toml"], dir.path()));
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap()).unwrap();
    for (column, key) in [("volume", "volume"), ("pe", "pe")] {
        let stage = results["tg"][key].as_f64().unwrap();
        // Default: the last stage whose target temperature ramps (the quench).
        let out = ok(&glassmd(1, 1, &["tg", "thermo.csv", "--column", column], dir.path()));
        let cli: f64 = out.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert!((cli - stage).abs() < 0.05 + 1e-9 * stage, "{}: glassmd tg {} K, tg stage {} K", column, cli, stage);
        // Naming the stage gives the same.
        let out = ok(&glassmd(1, 1, &["tg", "thermo.csv", "--column", column, "--stage", "3"], dir.path()));
        let named: f64 = out.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert_eq!(named, cli);
    }
    // Rows of the hold and the quench together are not one ramp.
    let out = glassmd(1, 1, &["tg", "thermo.csv", "--steps", "0,7000"], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("the rows span stages 2, 3"), "{}", err);
}
