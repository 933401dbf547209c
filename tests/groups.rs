//! Groups and persistent per-atom columns, checked atom by atom:
//!
//! - membership of groups by region (block with unbounded axes, sphere),
//!   type, id range and set operations is what the definition says for
//!   every atom, identical on 1, 2 and 4 ranks (the `groups` field of a dump);
//! - the group masks (a persistent per-atom column) follow their atoms
//!   through hot MD with frequent spatial sorting and migration between
//!   ranks, a minimisation, a checkpoint and a restart on another rank
//!   count: at the end every atom still carries the membership of its
//!   starting position, although many atoms have left their region.
mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

const GROUPS: &str = r#"
[[group]]
name = "base"
region = { z = [-inf, 6.0] }

[[group]]
name = "ball"
region = { center = [16.0, 16.0, 16.0], radius = 7.5 }

[[group]]
name = "copper"
types = [1]

[[group]]
name = "first"
ids = [100, 599]

[[group]]
name = "slab"
region = { x = [4.0, 12.0], y = [-inf, 20.0] }

[[group]]
name = "cu_ball"
and = ["ball", "copper"]

[[group]]
name = "either"
or = ["base", "first"]

[[group]]
name = "rest"
not = "either"
"#;

/// (id, type, x, y, z) of the glass.
fn atoms() -> Vec<(u64, u32, [f64; 3])> {
    let out: Vec<_> = read_data_atoms(&root().join("tests/data/lammps_min/glass300.data")).into_iter().map(|a| (a.id, a.typ, a.x)).collect();
    assert_eq!(out.len(), 2048);
    out
}

/// The mask each atom must have, from the definitions above.
fn expected() -> BTreeMap<u64, u64> {
    let inside = |x: f64, lo: f64, hi: f64| x >= lo && x <= hi;
    atoms()
        .into_iter()
        .map(|(id, t, x)| {
            let base = inside(x[2], f64::NEG_INFINITY, 6.0);
            let ball = (x[0] - 16.0).powi(2) + (x[1] - 16.0).powi(2) + (x[2] - 16.0).powi(2) <= 7.5 * 7.5;
            let copper = t == 1;
            let first = (100..=599).contains(&id);
            let slab = inside(x[0], 4.0, 12.0) && x[1] <= 20.0;
            let either = base || first;
            let bits = [base, ball, copper, first, slab, ball && copper, either, !either];
            (id, bits.iter().enumerate().map(|(k, &b)| (b as u64) << k).sum())
        })
        .collect()
}

/// id → groups column of the last frame of a dump with fields position, groups.
fn masks(dump: &Path) -> BTreeMap<u64, u64> {
    let text = std::fs::read_to_string(dump).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let k = lines.iter().rposition(|l| l.starts_with("ITEM: ATOMS")).unwrap();
    let head: Vec<&str> = lines[k].split_whitespace().skip(2).collect();
    let col = head.iter().position(|c| *c == "groups").expect("groups column");
    lines[k + 1..]
        .iter()
        .map(|l| {
            let v: Vec<&str> = l.split_whitespace().collect();
            (v[0].parse().unwrap(), v[col].parse().unwrap())
        })
        .collect()
}

fn deck(dir: &Path, stages: &str) -> std::path::PathBuf {
    write_deck(
        dir,
        &root().join("tests/data/lammps_min/glass300.data"),
        "p,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        &format!("[neighbor]\nskin = 1.0\nsort_every = 5\n\n[thermo]\nevery = 50\nfile = \"thermo.csv\"\n{GROUPS}\n{stages}"),
    )
}

#[test]
fn membership_is_the_definition_on_1_2_and_4_ranks() {
    let want = expected();
    for k in 0..8 {
        let n = want.values().filter(|m| *m & (1 << k) != 0).count();
        assert!(n > 20 && n < 2048, "group {k} has {n} atoms: the test would not discriminate");
    }
    for np in [1, 2, 4] {
        let dir = tempdir();
        let d = deck(dir.path(), "[output]\ndump = { file = \"g.dump\", every = 1000, fields = [\"position\", \"groups\"] }\n\n[[stage]]\nkind = \"nve\"\nsteps = 1\n");
        let out = glassmd(np, 1, &["run", d.to_str().unwrap()], dir.path());
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        ok(&out);
        assert!(err.contains(&format!("group base: {} atoms", want.values().filter(|m| *m & 1 != 0).count())), "{err}");
        let got = masks(&dir.path().join("g.dump"));
        assert_eq!(got, want, "group membership on {np} rank(s)");
    }
}

#[test]
fn masks_follow_atoms_through_md_minimisation_and_restart_on_other_ranks() {
    let want = expected();
    let stages = "[output]\ncheckpoint = { file = \"restart.h5\" }\ndump = { file = \"g.dump\", every = 600, fields = [\"position\", \"groups\"] }\n\n\
        [[stage]]\nkind = \"velocity\"\ntemperature = 2500\nseed = 3\n\
        [[stage]]\nkind = \"nvt\"\ntemperature = 2500\nsteps = 400\ntimestep = 0.002\n\
        [[stage]]\nkind = \"minimize\"\nftol = 1e-3\nmax_iterations = 200\n\
        [[stage]]\nkind = \"nvt\"\ntemperature = 2500\nsteps = 200\ntimestep = 0.002\n\
        [[stage]]\nkind = \"write_data\"\nfile = \"end.data\"\n";
    for (first, second) in [(2, 1), (1, 4)] {
        let dir = tempdir();
        let d = deck(dir.path(), stages);
        let d = d.to_str().unwrap();
        let stopped = glassmd(first, 1, &["run", d, "--stop-at-step", "500"], dir.path());
        assert_eq!(stopped.status.code(), Some(75), "{}", String::from_utf8_lossy(&stopped.stderr));
        let out = glassmd(second, 1, &["run", d, "--restart", "restart.h5"], dir.path());
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        ok(&out);
        assert!(err.contains("redistributed"), "{err}");
        // The final frame comes from the run's end (step 600).
        let got = masks(&dir.path().join("g.dump"));
        assert_eq!(got, want, "masks after {first} -> {second} ranks");
        // Many atoms have left their starting region: recomputing the
        // regions from the final positions would give other groups.
        let start: BTreeMap<u64, [f64; 3]> = atoms().into_iter().map(|(id, _, x)| (id, x)).collect();
        // Unwrapped z (image flags) against the starting z.
        let left = read_data_atoms(&dir.path().join("end.data"))
            .iter()
            .filter(|a| (start[&a.id][2] <= 6.0) != (a.x[2] + a.image[2] as f64 * 32.48 <= 6.0))
            .count();
        assert!(left > 20, "only {left} atoms crossed the base boundary");
    }
}
