//! The indenters (`[[stage.fix]] kind = "indent"`) against LAMMPS
//! step by step (tests/data/lammps_indent): the 2,048-atom Cu64Zr36 glass
//! as a slab (z shrink-wrapped), its base (z < 5 Å) held by `setforce 0 0
//! 0`, the rest under NVE, and a sphere of R = 20 Å, K = 10 eV/Å³ whose
//! centre starts 0.6 Å above the highest atom and moves down at
//! 15 Å/ps (LAMMPS `fix indent 10 sphere 16.24 16.24 v_zc 20` with
//! `fix_modify energy yes`). Over 300 steps of 1 fs the thermo (pe with
//! the indenter's energy) and the indenter's energy and force follow
//! LAMMPS to 1e-8 relative on 1 and 2 ranks (from step 10: the step-0 row
//! is the state before the stage).
mod common;
use common::*;

/// The deck body of an indenter run like tests/data/lammps_indent/in.*:
/// `fix` is the indent fix's shape lines.
fn indent_deck(fix: &str) -> String {
    format!(
        "[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 10\nfile = \"thermo.csv\"\nextra = [\"indent_energy\", \"indent_fx\", \"indent_fy\", \"indent_fz\"]\n\n\
         [[group]]\nname = \"base\"\nregion = {{ z = [-inf, 5.0] }}\n\n[[group]]\nname = \"mobile\"\nnot = \"base\"\n\n\
         [[stage]]\nkind = \"nve\"\nname = \"indent\"\ngroup = \"mobile\"\ntimestep = 0.001\nsteps = 300\n\n\
         [[stage.fix]]\nkind = \"indent\"\nk = 10.0\n{fix}\n\n\
         [[stage.fix]]\nkind = \"setforce\"\ngroup = \"base\"\nforce = [0.0, 0.0, 0.0]\n"
    )
}

/// Sphere (in.indent), cylinder along y (in.cylinder: `cylinder y 16.24
/// v_zc 20`, same motion) and plane (in.plane: `plane z v_zp hi`, from
/// z = 33 down at 5 Å/ps).
#[test]
fn indenters_follow_lammps() {
    let cases = [
        ("indent.log", "shape = \"sphere\"\nradius = 20.0\ncenter = [16.24, 16.24, 53.0]\nvelocity = [0.0, 0.0, -15.0]", 50.0),
        ("cylinder.log", "shape = \"cylinder\"\naxis = \"y\"\nradius = 20.0\ncenter = [16.24, 0.0, 53.0]\nvelocity = [0.0, 0.0, -15.0]", 100.0),
        ("plane.log", "shape = \"plane\"\ncenter = [0.0, 0.0, 33.0]\nvelocity = [0.0, 0.0, -5.0]", 5.0),
    ];
    for (log, fix, final_load) in cases {
        let lmp = &read_lammps_log(&root().join("tests/data/lammps_indent").join(log))[0];
        let mut pairs: Vec<(&str, &str)> = THERMO.to_vec();
        pairs.extend([("lx", "Lx"), ("ly", "Ly"), ("lz", "Lz"), ("indent_energy", "f_3"), ("indent_fx", "f_3[1]"), ("indent_fy", "f_3[2]"), ("indent_fz", "f_3[3]")]);
        for np in [1, 2] {
            let dir = tempdir();
            let deck = write_deck(dir.path(), &root().join("tests/data/lammps_min/glass300.data"), "p,p,s", "eam/fs", "CuZr_mm.eam.fs", &["Cu", "Zr"], &indent_deck(fix));
            ok(&glassmd(np, 1, &["run", deck.to_str().unwrap()], dir.path()));
            let ours = read_thermo_csv(&dir.path().join("thermo.csv"));
            // The step-0 row is the state before the stage (its fixes not yet
            // on, as in tests/fixes.rs); LAMMPS's comes after the run's set-up.
            let w = follow_lammps(&ours[1..], &lmp[1..], &pairs, 1e-8, &format!("{log} np={np}"));
            eprintln!("{log} np={np}: worst relative deviation from LAMMPS {w:e}");
            assert!(ours[1]["indent_fz"] == 0.0 && ours.last().unwrap()["indent_fz"] > final_load, "the indenter starts clear of the slab and ends pressing on it");
        }
    }
}
