//! Triclinic boxes against LAMMPS (tests/data/reference/cuzr_tri_*: the
//! 2,048-atom Cu64Zr36 liquid at 1500 K in a cell with xy = 0.45 lx, xz = 4,
//! yz = −5 Å; made and run by LAMMPS 29 Sep 2021, see in.* there), on 1, 2
//! and 4 ranks and 1 and 2 threads:
//!
//! - 200 steps of NVE follow LAMMPS's thermo to 1e-8 (periodic and with a
//!   free x axis; forces and per-atom energies and stresses are checked
//!   with the other references in `lammps_reference.rs`);
//! - 300 steps of `fix npt ... tri` follow LAMMPS to 1e-8, the cell (lx,
//!   ly, lz, xy, xz, yz) included;
//! - 300 steps of simple shear (`fix deform xy erate` with `fix nvt`) follow
//!   LAMMPS through a tilt flip, and the flip leaves energy and forces as
//!   they were.
mod common;
use common::*;
use std::collections::BTreeMap;

const RUNS: [(usize, usize); 4] = [(1, 1), (2, 1), (4, 1), (1, 2)];

fn tri_deck(dir: &std::path::Path, case: &str, boundary: &str, body: &str) -> std::path::PathBuf {
    write_deck(
        dir,
        &reference(case).join("config.data"),
        boundary,
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        &format!("[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 10\nfile = \"thermo.csv\"\n\n{body}"),
    )
}

/// Follow a LAMMPS thermo block: every pair within `tol` relative (pressures
/// relative to the largest pressure component of the row, tilts to lx).
fn follow(ours: &[BTreeMap<String, f64>], lmp: &[BTreeMap<String, f64>], pairs: &[(&str, &str)], tol: f64, tag: &str) -> f64 {
    assert_eq!(ours.len(), lmp.len(), "{tag}: number of thermo rows");
    let mut worst = 0.0f64;
    for (o, t) in ours.iter().zip(lmp) {
        assert_eq!(o["step"], t["Step"], "{tag}: steps");
        let pscale = ["Press", "Pxx", "Pyy", "Pzz"].iter().map(|k| t[*k].abs()).fold(1.0, f64::max);
        for (a, b) in pairs {
            let scale = if b.starts_with('P') {
                pscale
            } else if ["Xy", "Xz", "Yz"].contains(b) {
                t["Lx"]
            } else {
                t[*b].abs().max(1e-3)
            };
            let rel = (o[*a] - t[*b]).abs() / scale;
            worst = worst.max(rel);
            assert!(rel <= tol, "{tag} step {}: {a} = {} vs LAMMPS {b} = {} (rel {rel:e})", t["Step"], o[*a], t[*b]);
        }
    }
    worst
}

const THERMO: [(&str, &str); 11] = [
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
];
const CELL: [(&str, &str); 6] = [("lx", "Lx"), ("ly", "Ly"), ("lz", "Lz"), ("xy", "Xy"), ("xz", "Xz"), ("yz", "Yz")];

#[test]
fn nve_follows_lammps_on_ranks_and_threads() {
    for (case, b) in [("cuzr_tri_ppp", "p,p,p"), ("cuzr_tri_spp", "s,p,p")] {
        let lmp = &read_lammps_log(&reference(case).join("ref.log"))[1];
        for (np, nt) in RUNS {
            let dir = tempdir();
            let deck = tri_deck(dir.path(), case, b, "[[stage]]\nkind = \"nve\"\nsteps = 200\ntimestep = 0.001\n");
            ok(&glassmd(np, nt, &["run", deck.to_str().unwrap()], dir.path()));
            let ours = read_thermo_csv(&dir.path().join("thermo.csv"));
            let w = follow(&ours, lmp, &[("pe", "PotEng"), ("etotal", "TotEng"), ("pressure", "Press"), ("pxy", "Pxy")], 1e-8, &format!("{case} nve np={np} threads={nt}"));
            eprintln!("{case} NVE np={np} threads={nt}: worst {w:e}");
        }
    }
}

#[test]
fn npt_tri_follows_lammps_box_included() {
    let lmp = &read_lammps_log(&reference("cuzr_tri_ppp").join("npt.log"))[0];
    let pairs: Vec<(&str, &str)> = THERMO.iter().chain(CELL.iter()).copied().collect();
    for (np, nt) in RUNS {
        let dir = tempdir();
        let deck = tri_deck(
            dir.path(),
            "cuzr_tri_ppp",
            "p,p,p",
            "[[stage]]\nkind = \"npt\"\ntemperature = 1500.0\npressure_gpa = { tri = 0.0 }\ntdamp = 0.1\npdamp = 0.5\nsteps = 300\ntimestep = 0.001\n",
        );
        ok(&glassmd(np, nt, &["run", deck.to_str().unwrap()], dir.path()));
        let ours = read_thermo_csv(&dir.path().join("thermo.csv"));
        let w = follow(&ours, lmp, &pairs, 1e-8, &format!("npt tri np={np} threads={nt}"));
        eprintln!("NPT tri np={np} threads={nt}: worst {w:e}");
    }
}

#[test]
fn simple_shear_flips_like_lammps() {
    let lmp = &read_lammps_log(&reference("cuzr_tri_ppp").join("shear.log"))[0];
    // The flip happened in LAMMPS's run: xy went from +0.5 lx to −0.5 lx.
    assert!(lmp.iter().any(|r| r["Xy"] < 0.0) && lmp[0]["Xy"] > 0.0);
    let pairs: Vec<(&str, &str)> = THERMO.iter().chain(CELL.iter()).copied().collect();
    for (np, nt) in RUNS {
        let dir = tempdir();
        let deck = tri_deck(
            dir.path(),
            "cuzr_tri_ppp",
            "p,p,p",
            "[[stage]]\nkind = \"nvt\"\ntemperature = 1500.0\ntdamp = 0.1\nsteps = 300\ntimestep = 0.001\n\n[[stage.fix]]\nkind = \"deform\"\nerate = { xy = 1.0 }\n",
        );
        ok(&glassmd(np, nt, &["run", deck.to_str().unwrap()], dir.path()));
        let ours = read_thermo_csv(&dir.path().join("thermo.csv"));
        let w = follow(&ours, lmp, &pairs, 1e-8, &format!("shear np={np} threads={nt}"));
        eprintln!("shear with a flip np={np} threads={nt}: worst {w:e}");
    }
}

mod flip {
    use super::*;
    use glassmd::domain::comm::SerialComm;
    use glassmd::engine::{Engine, EngineOptions};
    use glassmd::io::lammps_data;
    use glassmd::potential::{eam, ForceFlags};
    use glassmd::system::Boundary;
    use std::path::Path;

    fn engine<'c>(comm: &'c SerialComm, data: &lammps_data::DataFile) -> Engine<'c> {
        let els = vec!["Cu".to_string(), "Zr".to_string()];
        let pot = eam::load(eam::EamStyle::Fs, &potential("CuZr_mm.eam.fs"), Some(&els), 2, Path::new("d"), Path::new("t")).unwrap();
        let masses = pot.tables.masses.clone();
        let opts = EngineOptions { skin: 1.0, sort_every: 1000, nchunks: 1, triclinic: false };
        let mut e = Engine::new(comm, data, Path::new("d"), [Boundary::Periodic; 3], Box::new(pot), masses, opts).unwrap();
        e.setup(ForceFlags::default()).unwrap();
        e
    }

    /// Shear the cell past half its length, then flip xy by −lx (and, in a
    /// second case, yz by −ly, which moves xz by −xy): no atom moves, so
    /// the energy, the forces and the unwrapped positions are the same as
    /// before the flip, to round-off.
    #[test]
    fn a_flip_leaves_energy_forces_and_unwrapped_positions_alone() {
        let comm = SerialComm;
        let data = lammps_data::read(&reference("cuzr_tri_ppp").join("config.data")).unwrap();
        for (tilt, flips) in [([0.52, 0.1, -0.15], [-1, 0, 0]), ([0.2, 0.1, 0.53], [0, 0, -1])] {
            let mut e = engine(&comm, &data);
            let l = e.bx.lengths();
            let sheared = e.bx.with_shape(e.bx.lo, e.bx.hi, [tilt[0] * l[0], tilt[1] * l[0], tilt[2] * l[1]]);
            e.remap_box_to(&sheared);
            e.setup(ForceFlags::default()).unwrap();
            let before = e.potential_energy();
            let f0: BTreeMap<u64, [f64; 3]> = (0..e.atoms.nlocal).map(|i| (e.atoms.id[i], e.atoms.f[i])).collect();
            let u0: BTreeMap<u64, [f64; 3]> = (0..e.atoms.nlocal).map(|i| (e.atoms.id[i], e.atoms.unwrapped(i, &e.bx))).collect();
            let (new, f) = glassmd::integrate::barostat::flip_tilts(&e.bx, 0.5, false).expect("the tilt is past half the box");
            assert_eq!(f, flips);
            e.flip_tilts(new, f);
            e.setup(ForceFlags::default()).unwrap();
            let after = e.potential_energy();
            assert!(e.bx.tilt[0].abs() <= 0.5 * l[0] && e.bx.tilt[2].abs() <= 0.5 * l[1], "flipped tilts {:?}", e.bx.tilt);
            assert!((after - before).abs() < 1e-11 * before.abs(), "energy {before} before the flip, {after} after");
            let mut df = 0.0f64;
            let mut du = 0.0f64;
            for i in 0..e.atoms.nlocal {
                let id = e.atoms.id[i];
                let u = e.atoms.unwrapped(i, &e.bx);
                for k in 0..3 {
                    df = df.max((e.atoms.f[i][k] - f0[&id][k]).abs());
                    du = du.max((u[k] - u0[&id][k]).abs());
                }
            }
            assert!(df < 1e-10, "forces changed by {df:e} eV/A across the flip");
            assert!(du < 1e-9, "unwrapped positions changed by {du:e} A across the flip");
        }
    }
}
