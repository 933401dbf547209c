//! Boxes thinner than the cutoff along periodic axes (atoms see several of
//! their own images) and subdomains thinner than the ghost cutoff (ghosts
//! travel several hops): a perturbed Cu-Zr crystal cell of 4.06 × 4.06 ×
//! 8.12 Å (cutoff 7.6 Å) must give exactly the per-atom energies and the
//! pressure of the same cell tiled 4 × 4 × 2, computed on 1 and 4 ranks.
mod common;
use common::*;
use std::fmt::Write;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// (id, type, x) of the perturbed cell, and its box lengths.
fn cell() -> (Vec<(u64, u32, [f64; 3])>, [f64; 3]) {
    let a = 4.06;
    let basis = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
    let mut rng = Lcg(12345);
    let mut atoms = Vec::new();
    for kz in 0..2 {
        for b in &basis {
            let id = atoms.len() as u64 + 1;
            let typ = if rng.next() < 0.36 { 2 } else { 1 };
            let x = [
                (b[0]) * a + 0.15 * (rng.next() - 0.5),
                (b[1]) * a + 0.15 * (rng.next() - 0.5),
                (b[2] + kz as f64) * a + 0.15 * (rng.next() - 0.5),
            ];
            atoms.push((id, typ, x));
        }
    }
    (atoms, [a, a, 2.0 * a])
}

fn write_data(path: &std::path::Path, atoms: &[(u64, u32, [f64; 3])], l: [f64; 3]) {
    let mut s = format!("thin box test\n\n{} atoms\n2 atom types\n\n", atoms.len());
    for (d, n) in ["x", "y", "z"].iter().enumerate() {
        writeln!(s, "0 {} {n}lo {n}hi", l[d]).unwrap();
    }
    s.push_str("\nMasses\n\n1 63.546\n2 91.224\n\nAtoms # atomic\n\n");
    for (id, t, x) in atoms {
        writeln!(s, "{id} {t} {} {} {}", x[0], x[1], x[2]).unwrap();
    }
    std::fs::write(path, s).unwrap();
}

fn forces(dir: &std::path::Path, data: &std::path::Path, np: usize) -> (std::collections::BTreeMap<u64, Vec<f64>>, serde_json::Value) {
    let dump = dir.join(format!("{}.{np}.dump", data.file_stem().unwrap().to_str().unwrap()));
    let pot = potential("CuZr_mm.eam.fs");
    let out = ok(&glassmd(
        np,
        1,
        &[
            "forces", "--data", data.to_str().unwrap(), "--potential", pot.to_str().unwrap(), "--style", "eam/fs",
            "--elements", "Cu", "Zr", "--dump", dump.to_str().unwrap(),
        ],
        dir,
    ));
    (read_dump(&dump), last_json(&out))
}

#[test]
fn thin_periodic_boxes_and_thin_subdomains() {
    let dir = tempdir();
    let (small, l) = cell();
    let n = small.len() as u64;
    let reps = [4usize, 4, 2];
    let mut big = Vec::new();
    let mut copy = 0u64;
    for iz in 0..reps[2] {
        for iy in 0..reps[1] {
            for ix in 0..reps[0] {
                for (id, t, x) in &small {
                    let off = [ix as f64 * l[0], iy as f64 * l[1], iz as f64 * l[2]];
                    big.push((id + copy * n, *t, [x[0] + off[0], x[1] + off[1], x[2] + off[2]]));
                }
                copy += 1;
            }
        }
    }
    let lb = [l[0] * 4.0, l[1] * 4.0, l[2] * 2.0];
    let (ps, pb) = (dir.path().join("small.data"), dir.path().join("big.data"));
    write_data(&ps, &small, l);
    write_data(&pb, &big, lb);

    let (s1, js) = forces(dir.path(), &ps, 1);
    let (s2, js2) = forces(dir.path(), &ps, 2);
    let (b1, jb) = forces(dir.path(), &pb, 1);
    let (b4, jb4) = forces(dir.path(), &pb, 4);
    let copies = (reps[0] * reps[1] * reps[2]) as f64;
    for (id, row) in &b1 {
        let orig = &s1[&((id - 1) % n + 1)];
        for k in 2..6 {
            assert!((row[k] - orig[k]).abs() < 1e-10, "atom {id} column {k}: {} vs cell {}", row[k], orig[k]);
            assert!((row[k] - b4[id][k]).abs() < 1e-10, "atom {id} column {k}: 1 vs 4 ranks");
        }
    }
    for (id, row) in &s1 {
        for k in 2..6 {
            assert!((row[k] - s2[id][k]).abs() < 1e-10, "cell atom {id}: 1 vs 2 ranks");
        }
    }
    let pe = js["pe"].as_f64().unwrap();
    assert!((jb["pe"].as_f64().unwrap() - copies * pe).abs() < 1e-9 * copies * pe.abs());
    assert!((jb4["pe"].as_f64().unwrap() - copies * pe).abs() < 1e-9 * copies * pe.abs());
    assert!((js2["pe"].as_f64().unwrap() - pe).abs() < 1e-9 * pe.abs());
    for k in ["pxx", "pyy", "pzz", "pxy", "pxz", "pyz"] {
        let (a, b) = (js[k].as_f64().unwrap(), jb4[k].as_f64().unwrap());
        assert!((a - b).abs() < 1e-8 * js["pxx"].as_f64().unwrap().abs().max(1.0), "{k}: cell {a} vs tiled on 4 ranks {b}");
    }
}
