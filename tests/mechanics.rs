//! Mechanics stages beyond `deform` (tests/deform.rs): `change_box` against
//! LAMMPS step by step, `repeat` blocks, and their deck checks.
mod common;
use common::*;

fn glass_deck(dir: &std::path::Path, stages: &str) -> std::path::PathBuf {
    write_deck(
        dir,
        &root().join("tests/data/lammps_min/glass300.data"),
        "p,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        &format!("[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 10\nfile = \"thermo.csv\"\n\n{stages}"),
    )
}

const NVT100: &str = "[[stage]]\nkind = \"nvt\"\ntemperature = 300.0\ntdamp = 0.1\ntimestep = 0.001\nsteps = 100\n";

/// `change_box` to free surfaces in x after 100 NVT steps, then 200 more:
/// thermo (shrink-wrapped lx and the volume included) follows LAMMPS
/// `change_box all boundary s p p` to 1e-8 relative on 1, 2 and 4 ranks.
#[test]
fn change_box_follows_lammps() {
    let nvt200 = NVT100.replace("steps = 100", "steps = 200");
    let stages = format!("{NVT100}\n[[stage]]\nkind = \"change_box\"\nboundary = [\"s\", \"p\", \"p\"]\n\n{nvt200}");
    let blocks = read_lammps_log(&root().join("tests/data/lammps_change_box/change_box.log"));
    // LAMMPS repeats the step-100 row at the start of the second run.
    let lmp: Vec<_> = blocks[0].iter().chain(blocks[1].iter().skip(1)).cloned().collect();
    for np in [1, 2, 4] {
        let dir = tempdir();
        let deck = glass_deck(dir.path(), &stages);
        let out = glassmd(np, 1, &["run", deck.to_str().unwrap()], dir.path());
        ok(&out);
        let ours = read_thermo_csv(&dir.path().join("thermo.csv"));
        let pairs: Vec<(&str, &str)> = THERMO.iter().chain(CELL.iter()).copied().collect();
        let w = follow_lammps(&ours, &lmp, &pairs, 1e-8, &format!("change_box np={np}"));
        eprintln!("change_box np={np}: worst relative deviation from LAMMPS {w:e}");
        assert!(ours.last().unwrap()["lx"] < 32.47, "x is shrink-wrapped after the change");
    }
}
