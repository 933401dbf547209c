//! Empty subdomains: a 4,000-atom Cu64Zr36 glass slab filling z = 0–40 Å of
//! a box from z = −10 to 100 Å (vacuum above it, as for indentation) runs
//! on 1, 3, 4 and 8 ranks with every boundary kind in z (p, f, s); on 3 and
//! 4 ranks the grid is 1 × 1 × P, so the upper ranks own nothing. Energies
//! match the 1-rank run to 1e-10 relative, every output is written (H5MD
//! snapshot, dump, extended XYZ, checkpoint, data file) with the same step-0
//! frame, and a restart from a checkpoint on 4 ranks continues bitwise.
//! (Before: 1 × 1 × 3 and 4 hung in the halo exchange; `s` on 4 ranks lost
//! atoms.)

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// The slab's data file (built once: random Cu64Zr36 at 0.0625 /Å³,
/// relaxed a little, then given vacuum).
fn slab(dir: &Path) -> PathBuf {
    let make = format!(
        "[system.create]\ncomposition = {{ Cu = 64, Zr = 36 }}\natoms = 4000\nnumber_density = 0.0625\nseed = 3\n\
         [potential]\nstyle = \"eam/fs\"\nfile = \"{}\"\nelements = [\"Cu\", \"Zr\"]\n\
         [[stage]]\nkind = \"minimize\"\nalgorithm = \"fire\"\nmax_iterations = 300\nftol = 0.1\n\
         [[stage]]\nkind = \"write_data\"\nfile = \"bulk.data\"\n",
        potential("CuZr_mm.eam.fs").display()
    );
    std::fs::write(dir.join("make.toml"), make).unwrap();
    ok(&glassmd(1, 2, &["run", "make.toml"], dir));
    let bulk = std::fs::read_to_string(dir.join("bulk.data")).unwrap();
    let zline = bulk.lines().find(|l| l.ends_with("zlo zhi")).unwrap().to_string();
    let text = bulk.replace(&zline, "-10.0 100.0 zlo zhi");
    let p = dir.join("slab.data");
    std::fs::write(&p, text).unwrap();
    p
}

fn deck(dir: &Path, data: &Path, b: &str) {
    let text = format!(
        "[system]\nread_data = \"{}\"\nboundary = [\"p\", \"p\", \"{b}\"]\n\
         [potential]\nstyle = \"eam/fs\"\nfile = \"{}\"\nelements = [\"Cu\", \"Zr\"]\n\
         [thermo]\nevery = 5\nfile = \"thermo.csv\"\n\
         [output]\nsnapshot = {{ file = \"traj.h5md\", every = 10, fields = [\"position\", \"velocity\", \"force\"] }}\n\
         dump = {{ file = \"traj.dump\", every = 10 }}\nxyz = {{ file = \"traj.xyz\", every = 20 }}\n\
         checkpoint = {{ file = \"restart.h5\", every = 10 }}\n\
         [[stage]]\nkind = \"velocity\"\ntemperature = 300\nseed = 1\n\
         [[stage]]\nkind = \"nve\"\nsteps = 20\ntimestep = 0.002\n\
         [[stage]]\nkind = \"write_data\"\nfile = \"final.data\"\n",
        data.display(),
        potential("CuZr_mm.eam.fs").display()
    );
    std::fs::write(dir.join("deck.toml"), text).unwrap();
}

/// The step-0 frame of a dump (after the header).
fn first_frame(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let n: usize = lines[3].trim().parse().unwrap();
    lines[9..9 + n].iter().map(|s| s.to_string()).collect()
}

#[test]
fn vacuum_slab_runs_on_empty_ranks_with_every_boundary() {
    let base = tempdir();
    let data = slab(base.path());
    for b in ["p", "f", "s"] {
        let mut reference: Option<(Vec<std::collections::BTreeMap<String, f64>>, Vec<String>)> = None;
        for np in [1, 3, 4, 8] {
            let d = tempdir();
            deck(d.path(), &data, b);
            let out = glassmd_mpirun(np, &["run", "deck.toml"], d.path());
            let stdout = ok(&out);
            if np == 3 || np == 4 {
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains(&format!("grid [1, 1, {}]", np)), "boundary {} on {} ranks: {}", b, np, err);
            }
            for f in ["thermo.csv", "traj.h5md", "traj.dump", "traj.xyz", "restart.h5", "final.data"] {
                assert!(d.path().join(f).is_file(), "boundary {} on {} ranks: no {} ({})", b, np, f, stdout);
            }
            let rows = read_thermo_csv(&d.path().join("thermo.csv"));
            assert_eq!(rows.len(), 5, "rows at steps 0, 5, 10, 15, 20");
            let frame = first_frame(&d.path().join("traj.dump"));
            assert_eq!(frame.len(), 4000);
            match &reference {
                None => reference = Some((rows, frame)),
                Some((r1, f1)) => {
                    for (a, c) in r1.iter().zip(&rows) {
                        for col in ["pe", "ke", "etotal", "pressure", "volume"] {
                            let (x, y) = (a[col], c[col]);
                            assert!((x - y).abs() <= 1e-10 * x.abs().max(1.0), "boundary {} on {} ranks, step {}: {} {} vs {}", b, np, a["step"], col, y, x);
                        }
                    }
                    // The step-0 frame: the same positions whatever the ranks.
                    assert_eq!(f1.iter().map(|l| l.split(' ').take(6).collect::<Vec<_>>()).collect::<Vec<_>>(), frame.iter().map(|l| l.split(' ').take(6).collect::<Vec<_>>()).collect::<Vec<_>>());
                }
            }
        }
    }
    // A checkpoint written with empty ranks restarts bitwise on them.
    let (a, r) = (tempdir(), tempdir());
    deck(a.path(), &data, "s");
    deck(r.path(), &data, "s");
    ok(&glassmd_mpirun(4, &["run", "deck.toml"], a.path()));
    assert_eq!(glassmd_mpirun(4, &["run", "deck.toml", "--stop-at-step", "10"], r.path()).status.code(), Some(75));
    ok(&glassmd_mpirun(4, &["run", "deck.toml", "--restart", "restart.h5"], r.path()));
    for f in ["thermo.csv", "traj.dump", "final.data"] {
        assert_eq!(std::fs::read(a.path().join(f)).unwrap(), std::fs::read(r.path().join(f)).unwrap(), "{} differs after the restart", f);
    }
}
