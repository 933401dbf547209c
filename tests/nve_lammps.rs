//! The 200-step NVE runs of the LAMMPS references (1 fs, thermo every 10
//! steps): our pe and etotal follow LAMMPS's to 1e-8 relative at every line.
mod common;
use common::*;

#[test]
fn nve_follows_lammps_thermo() {
    for (case, style, pot, b, els) in CASES {
        let dir = tempdir();
        let refdir = reference(case);
        let deck = write_deck(
            dir.path(),
            &refdir.join("config.data"),
            b,
            style,
            pot,
            els,
            "[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 10\nfile = \"thermo.csv\"\n\n[[stage]]\nkind = \"nve\"\nsteps = 200\ntimestep = 0.001\n",
        );
        ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path()));
        let ours = read_thermo_csv(&dir.path().join("thermo.csv"));
        let theirs = &read_lammps_log(&refdir.join("ref.log"))[1];
        assert_eq!(ours.len(), theirs.len(), "{case}: number of thermo lines");
        let mut worst = 0.0f64;
        for (o, t) in ours.iter().zip(theirs) {
            assert_eq!(o["step"], t["Step"], "{case}: steps");
            for (a, b) in [("pe", "PotEng"), ("etotal", "TotEng")] {
                let rel = (o[a] - t[b]).abs() / t[b].abs();
                worst = worst.max(rel);
                assert!(rel <= 1e-8, "{case} step {}: {a} {} vs LAMMPS {} (rel {rel:e})", t["Step"], o[a], t[b]);
            }
        }
        eprintln!("{case}: worst relative pe/etotal deviation from LAMMPS over 200 steps: {worst:e}");
    }
}
