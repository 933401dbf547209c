//! Langevin stages: the 256-atom Cu crystal held at 300 K has the target
//! mean temperature and canonical fluctuations, and the noise, keyed by atom
//! id and step, gives the same run on 1 and 2 ranks.
mod common;
use common::*;

fn deck(dir: &std::path::Path, time_ps: f64, every: u64) -> std::path::PathBuf {
    let data = dir.join("cu.data");
    crystal(&data, 4);
    write_deck(
        dir,
        &data,
        "p,p,p",
        "eam",
        "Cu_u3.eam",
        &[],
        &format!(
            "[neighbor]\nskin = 1.0\n\n[thermo]\nevery = {every}\nfile = \"thermo.csv\"\n\n\
             [[stage]]\nkind = \"langevin\"\ntemperature = 300.0\ntime_ps = {time_ps}\ntimestep = 0.001\ndamp = 0.1\nseed = 5\n"
        ),
    )
}

#[test]
fn langevin_holds_300k_canonically() {
    let dir = tempdir();
    let d = deck(dir.path(), 55.0, 20);
    ok(&glassmd(1, 2, &["run", d.to_str().unwrap()], dir.path()));
    let t = read_thermo_csv(&dir.path().join("thermo.csv"));
    let temps: Vec<f64> = t.iter().filter(|r| r["time"] > 5.0 + 1e-9).map(|r| r["temperature"]).collect();
    let n = temps.len() as f64;
    let mean = temps.iter().sum::<f64>() / n;
    let var = temps.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    let ratio = var / (mean * mean) / (2.0 / (3.0 * 256.0 - 3.0));
    eprintln!("Langevin 300 K, 50 ps: mean T {mean:.2} K, Var(T)/canonical {ratio:.3}");
    assert!((mean - 300.0).abs() < 3.0, "mean temperature {mean}");
    assert!((0.75..1.25).contains(&ratio), "Var(T)/canonical = {ratio}");
}

#[test]
fn langevin_noise_does_not_depend_on_rank_count() {
    let (d1, d2) = (tempdir(), tempdir());
    ok(&glassmd(1, 1, &["run", deck(d1.path(), 0.5, 100).to_str().unwrap()], d1.path()));
    ok(&glassmd(2, 1, &["run", deck(d2.path(), 0.5, 100).to_str().unwrap()], d2.path()));
    let (a, b) = (read_thermo_csv(&d1.path().join("thermo.csv")), read_thermo_csv(&d2.path().join("thermo.csv")));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x["etotal"] - y["etotal"]).abs() <= 1e-8 * x["etotal"].abs(), "step {}: {} vs {}", x["step"], x["etotal"], y["etotal"]);
    }
}
