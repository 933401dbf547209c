//! Energy conservation: 20,000 velocity-Verlet steps of the 2,048-atom
//! Cu64Zr36 liquid (Mendelev Finnis–Sinclair, 1500 K) at 1 fs. The total
//! energy must not drift by more than 1e-4 eV/atom.
mod common;
use common::*;

#[test]
fn nve_conserves_energy_over_20000_steps() {
    let dir = tempdir();
    let deck = write_deck(
        dir.path(),
        &reference("cuzr_fs_ppp").join("config.data"),
        "p,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        "[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 500\nfile = \"thermo.csv\"\n\n[[stage]]\nkind = \"nve\"\nsteps = 20000\ntimestep = 0.001\n",
    );
    ok(&glassmd(1, 2, &["run", deck.to_str().unwrap()], dir.path()));
    let t = read_thermo_csv(&dir.path().join("thermo.csv"));
    assert_eq!(t.last().unwrap()["step"], 20000.0);
    let n = 2048.0;
    let e0 = t[0]["etotal"];
    let drift = (t.last().unwrap()["etotal"] - e0).abs() / n;
    let excursion = t.iter().map(|r| (r["etotal"] - e0).abs() / n).fold(0.0, f64::max);
    eprintln!("energy drift over 20 ps: {drift:e} eV/atom, largest excursion {excursion:e} eV/atom");
    assert!(drift < 1e-4, "drift {drift:e} eV/atom");
    assert!(excursion < 1e-4, "excursion {excursion:e} eV/atom");
    // The liquid must really have moved: temperature stays liquid-like.
    let tmean = t.iter().map(|r| r["temperature"]).sum::<f64>() / t.len() as f64;
    assert!(tmean > 1000.0, "mean temperature {tmean}");
}
