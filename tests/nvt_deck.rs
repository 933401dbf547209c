//! NVT stages in decks: canonical sampling at 300 K, a ramp given by its
//! rate on 1 and 2 ranks, and clear errors for bad stage parameters.
mod common;
use common::*;
use std::path::Path;

#[test]
fn nvt_samples_the_canonical_ensemble_at_300k() {
    let dir = tempdir();
    let data = dir.path().join("cu.data");
    crystal(&data, 4); // 256 atoms
    let deck = write_deck(
        dir.path(),
        &data,
        "p,p,p",
        "eam",
        "Cu_u3.eam",
        &[],
        "[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 20\nfile = \"thermo.csv\"\n\n\
         [[stage]]\nkind = \"velocity\"\ntemperature = 600.0\nseed = 99\n\n\
         [[stage]]\nkind = \"nvt\"\ntemperature = 300.0\ntime_ps = 55.0\ntimestep = 0.001\ntdamp = 0.1\n",
    );
    ok(&glassmd(1, 2, &["run", deck.to_str().unwrap()], dir.path()));
    let t = read_thermo_csv(&dir.path().join("thermo.csv"));
    assert_eq!(t.last().unwrap()["step"], 55000.0);
    // Discard the first 5 ps (equilibration), keep 50 ps.
    let temps: Vec<f64> = t.iter().filter(|r| r["time"] > 5.0 + 1e-9).map(|r| r["temperature"]).collect();
    let n = temps.len() as f64;
    let mean = temps.iter().sum::<f64>() / n;
    let var = temps.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    // Canonical: Var(T)/T² = 2/N_f with N_f = 3N − 3.
    let nf = 3.0 * 256.0 - 3.0;
    let ratio = var / (mean * mean) / (2.0 / nf);
    eprintln!("NVT 300 K, 50 ps: mean T {mean:.2} K, Var(T) / canonical = {ratio:.3} ({n} samples)");
    assert!((mean - 300.0).abs() < 3.0, "mean temperature {mean}");
    // ~2,500 samples with a correlation time of a few tenths of a ps: the
    // ratio is known to ±15 % or so. A Berendsen or isokinetic thermostat
    // gives a ratio near 0, a thermostat that overheats fluctuations > 1.5.
    assert!((0.75..1.25).contains(&ratio), "Var(T)/canonical = {ratio}");
}

fn ramp_deck(dir: &Path) -> std::path::PathBuf {
    write_deck(
        dir,
        &reference("cuzr_fs_ppp").join("config.data"),
        "p,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        "[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 50\nfile = \"thermo.csv\"\n\n\
         [[stage]]\nkind = \"nvt\"\ntemperature = [1500.0, 1300.0]\nrate_k_per_ps = 1000.0\ntimestep = 0.001\ntdamp = 0.05\n\n\
         [[stage]]\nkind = \"nvt\"\ntemperature = 1300.0\nsteps = 100\ntimestep = 0.001\ntdamp = 0.05\n",
    )
}

#[test]
fn nvt_ramp_by_rate_agrees_on_one_and_two_ranks() {
    let (d1, d2) = (tempdir(), tempdir());
    ok(&glassmd(1, 1, &["run", ramp_deck(d1.path()).to_str().unwrap()], d1.path()));
    ok(&glassmd(2, 1, &["run", ramp_deck(d2.path()).to_str().unwrap()], d2.path()));
    let (a, b) = (read_thermo_csv(&d1.path().join("thermo.csv")), read_thermo_csv(&d2.path().join("thermo.csv")));
    // 200 K at 1000 K/ps = 0.2 ps = 200 steps, then 100 more.
    assert_eq!(a.last().unwrap()["step"], 300.0);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        for k in ["temperature", "pe", "etotal"] {
            assert!((x[k] - y[k]).abs() <= 1e-8 * x[k].abs(), "step {}: {k} {} vs {}", x["step"], x[k], y[k]);
        }
    }
    // The thermostat has followed the ramp down (1500 K liquid, Tdamp 50 fs).
    let last = a.last().unwrap()["temperature"];
    assert!((last - 1300.0).abs() < 100.0, "final temperature {last}");
}

fn stage_error(stage: &str, words: &[&str]) {
    let dir = tempdir();
    let deck = write_deck(dir.path(), &reference("cuzr_fs_ppp").join("config.data"), "p,p,p", "eam/fs", "CuZr_mm.eam.fs", &["Cu", "Zr"], stage);
    let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && !err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("deck.toml"), "{err}");
    for w in words {
        assert!(err.contains(w), "'{w}' missing from: {err}");
    }
}

#[test]
fn bad_nvt_stages_are_explained() {
    stage_error("[[stage]]\nkind = \"nvt\"\ntemperature = [2000.0, 300.0]\nrate_k_per_ps = 0.0\n", &["stage 1 (nvt)", "rate_k_per_ps must be > 0"]);
    stage_error("[[stage]]\nkind = \"nvt\"\ntemperature = 300.0\nrate_k_per_ps = 10.0\n", &["needs a temperature ramp"]);
    stage_error("[[stage]]\nkind = \"nvt\"\ntemperature = -5.0\nsteps = 10\n", &["temperature must be > 0 K"]);
    stage_error("[[stage]]\nkind = \"nvt\"\ntemperature = 300.0\nsteps = 10\ntime_ps = 1.0\n", &["exactly one of"]);
    stage_error("[[stage]]\nkind = \"nvt\"\ntemperature = 300.0\n", &["exactly one of"]);
    stage_error("[[stage]]\nkind = \"nvt\"\ntemperature = 300.0\nsteps = 10\ntdamp = 0.0\n", &["tdamp must be > 0"]);
    stage_error("[[stage]]\nkind = \"nvt\"\ntemperature = \"hot\"\nsteps = 10\n", &["temperature"]);
}
