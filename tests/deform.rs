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
//!
//! and a stage given by `strain` runs strain/|rate| of time.
mod common;
use common::*;

const PAIRS: [(&str, &str); 17] = [
    ("temperature", "Temp"),
    ("pe", "PotEng"),
    ("etotal", "TotEng"),
    ("pressure", "Press"),
    ("pxx", "Pxx"),
    ("pyy", "Pyy"),
    ("pzz", "Pzz"),
    ("pxy", "Pxy"),
    ("pxz", "Pxz"),
    ("pyz", "Pyz"),
    ("volume", "Volume"),
    ("lx", "Lx"),
    ("ly", "Ly"),
    ("lz", "Lz"),
    ("xy", "Xy"),
    ("xz", "Xz"),
    ("yz", "Yz"),
];

fn run_case(case: &str, stage: &str, np: usize) -> f64 {
    let dir = tempdir();
    let deck = write_deck(
        dir.path(),
        &root().join("tests/data/lammps_min/glass300.data"),
        "p,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        &format!("[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 10\nfile = \"thermo.csv\"\n\n[[stage]]\nkind = \"deform\"\nname = \"{case}\"\ntimestep = 0.001\ntemperature = 300.0\ntdamp = 0.1\nsteps = 300\nremap = \"x\"\n{stage}\n"),
    );
    ok(&glassmd(np, 1, &["run", deck.to_str().unwrap()], dir.path()));
    let ours = read_thermo_csv(&dir.path().join("thermo.csv"));
    let lmp = &read_lammps_log(&root().join(format!("tests/data/lammps_deform/{case}.log")))[0];
    assert_eq!(ours.len(), lmp.len(), "{case}: thermo rows");
    let mut worst = 0.0f64;
    for (o, t) in ours.iter().zip(lmp) {
        assert_eq!(o["step"], t["Step"]);
        let pscale = ["Press", "Pxx", "Pyy", "Pzz"].iter().map(|k| t[*k].abs()).fold(1.0, f64::max);
        for (a, b) in PAIRS {
            let scale = if b.starts_with('P') { pscale } else if ["Xy", "Xz", "Yz"].contains(&b) { t["Lx"] } else { t[b].abs().max(1e-3) };
            let rel = (o[a] - t[b]).abs() / scale;
            worst = worst.max(rel);
            assert!(rel <= 1e-8, "{case} np={np} step {}: {a} = {} vs LAMMPS {b} = {} (rel {rel:e})", t["Step"], o[a], t[b]);
        }
    }
    worst
}

#[test]
fn deform_stages_follow_lammps() {
    let cases = [
        ("tension", "erate = { z = 0.05 }\npressure_gpa = { x = 0.0, y = 0.0 }\npdamp = 1.0"),
        ("compression", "erate = { z = -0.05 }\npressure_gpa = { x = 0.0, y = 0.0 }\npdamp = 1.0"),
        ("shear", "erate = { xy = 0.05 }"),
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
