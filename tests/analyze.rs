//! `glassmd analyze` against the tools users trust and against known
//! structures:
//!
//! - Voronoi indices, face counts and volumes per atom against OVITO's
//!   `VoronoiAnalysisModifier` (periodic, free-surface and triclinic boxes,
//!   face and edge thresholds); the volumes fill the box;
//! - von Mises strain and D²min against OVITO's `AtomicStrainModifier`;
//! - g(r) against LAMMPS `compute rdf`, Q6 and Ŵ6 against `compute
//!   orientorder/atom ... wl/hat yes`, MSD against `compute msd` on a
//!   `rerun` of our trajectory;
//! - fcc ⟨0,12,0,0⟩ and Ŵ6 = −0.01316, bcc ⟨0,6,0,8⟩, the icosahedron's
//!   centre ⟨0,0,12,0⟩ and Ŵ6 = −0.16975; an affine strain gives D²min = 0;
//! - the same per-atom output and summaries on 1, 2 and 4 ranks and on 1
//!   and 2 threads.
//!
//! OVITO runs in the Python named by `GLASSMD_PYTHON` and LAMMPS is `lmp`;
//! without them those checks are skipped with a message, unless
//! `GLASSMD_REQUIRE_TOOLS=1` (CI).

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn required() -> bool {
    std::env::var("GLASSMD_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

fn python() -> Option<String> {
    match std::env::var("GLASSMD_PYTHON") {
        Ok(p) => Some(p),
        Err(_) if required() => panic!("GLASSMD_REQUIRE_TOOLS=1 but GLASSMD_PYTHON is not set"),
        Err(_) => {
            eprintln!("skipping the OVITO checks: set GLASSMD_PYTHON to a Python with ovito");
            None
        }
    }
}

fn lammps() -> bool {
    let ok = Command::new("sh").args(["-c", "command -v lmp"]).output().is_ok_and(|o| o.status.success());
    if !ok && required() {
        panic!("GLASSMD_REQUIRE_TOOLS=1 but lmp is not installed");
    }
    if !ok {
        eprintln!("skipping the LAMMPS checks: lmp not installed");
    }
    ok
}

fn glass() -> PathBuf {
    root().join("inputs/glasses/cu64zr36_2048.data")
}

fn run(dir: &Path, args: &[&str]) -> serde_json::Value {
    last_json(&ok(&glassmd(1, 1, args, dir)))
}

/// Header line and numeric rows of a CSV.
fn read_table(path: &Path) -> (String, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap().to_string();
    (head, lines.map(|l| l.split(',').map(|t| t.parse().unwrap()).collect()).collect())
}

/// Rows of a CSV keyed by the first column (as an integer id).
fn read_csv(path: &Path) -> (Vec<String>, BTreeMap<u64, Vec<f64>>) {
    let (head, rows) = read_table(path);
    (head.split(',').map(str::to_string).collect(), rows.into_iter().map(|v| (v[0] as u64, v)).collect())
}

/// A deck on the bundled glass with the Mendelev Cu-Zr potential, p p p,
/// and `extra` (sections and stages).
fn glass_deck(dir: &Path, extra: &str) -> PathBuf {
    write_deck(dir, &glass(), "p,p,p", "eam/fs", "CuZr_mm.eam.fs", &["Cu", "Zr"], extra)
}

/// A 200-step NVE run from 1600 K, positions every 20 steps to traj.h5.
const TRAJ_RUN: &str = "[output]\nsnapshot = { file = \"traj.h5\", every = 20, fields = [\"position\"] }\n\n\
                        [[stage]]\nkind = \"velocity\"\ntemperature = 1600.0\nseed = 5\n\
                        [[stage]]\nkind = \"nve\"\nsteps = 200\ntimestep = 0.002\n";

/// The glass with its box sheared (tilts) and optionally stretched:
/// positions mapped affinely, `noise` Å of deterministic jitter, wrapped
/// back into the new box.
fn deform_glass(out: &Path, tilt: [f64; 3], stretch: f64, noise: f64) {
    let text = std::fs::read_to_string(glass()).unwrap();
    let l = 32.48;
    let lx = l * (1.0 + stretch);
    let mut s = String::new();
    let mut atoms = false;
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if line.contains("xlo xhi") {
            s += &format!("0 {:?} xlo xhi\n", lx);
            continue;
        }
        if line.contains("zlo zhi") {
            s += &format!("{}\n{:?} {:?} {:?} xy xz yz\n", line, tilt[0], tilt[1], tilt[2]);
            continue;
        }
        if line.trim_start().starts_with("Atoms") {
            atoms = true;
        } else if line.trim_start().starts_with("Velocities") {
            atoms = false;
        }
        if atoms && w.len() >= 5 {
            let id: u64 = w[0].parse().unwrap();
            let x: Vec<f64> = w[2..5].iter().map(|t| t.parse().unwrap()).collect();
            let jit = |k: u64| noise * (((id * 7919 + k * 104729) % 1000) as f64 / 500.0 - 1.0);
            let p = [x[0] * (1.0 + stretch) + tilt[0] * x[1] / l + tilt[1] * x[2] / l + jit(1), x[1] + tilt[2] * x[2] / l + jit(2), x[2] + jit(3)];
            // Wrap in fractional coordinates of the new cell.
            let sz = (p[2] / l).rem_euclid(1.0);
            let sy = ((p[1] - tilt[2] * (p[2] / l)) / l).rem_euclid(1.0);
            let sx = ((p[0] - tilt[0] * ((p[1] - tilt[2] * (p[2] / l)) / l) - tilt[1] * (p[2] / l)) / lx).rem_euclid(1.0);
            let (px, py, pz) = (lx * sx + tilt[0] * sy + tilt[1] * sz, l * sy + tilt[2] * sz, l * sz);
            s += &format!("{} {} {:?} {:?} {:?}\n", w[0], w[1], px, py, pz);
            continue;
        }
        s += line;
        s.push('\n');
    }
    std::fs::write(out, s).unwrap();
}

/// Our Voronoi dump against OVITO's CSV: identical index (n3..n12) and
/// face count for every atom, volumes within 1e-8 relative (measured
/// ~1e-14), volumes summing to the box volume.
fn compare_voronoi(py: &str, dir: &Path, data: &Path, boundary: &str, pbc: &str, thresholds: &[&str], ovito_th: &[&str]) {
    let dump = dir.join(format!("v_{}.dump", boundary.replace(',', "")));
    let mut args = vec!["analyze", data.to_str().unwrap(), "--compute", "voronoi", "--boundary", boundary, "--max-face-order", "12", "--dump", dump.to_str().unwrap(), "--overwrite"];
    args.extend(thresholds);
    let sum = run(dir, &args);
    let csv = dir.join("ovito.csv");
    let mut cmd = Command::new(py);
    cmd.arg(root().join("scripts/ovito_analysis.py")).args(["voronoi", data.to_str().unwrap(), csv.to_str().unwrap(), "--pbc", pbc]).args(ovito_th);
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "ovito: {}", String::from_utf8_lossy(&o.stderr));
    let (_, ov) = read_csv(&csv);
    let ours = read_dump(&dump);
    assert_eq!(ov.len(), ours.len());
    let mut worst: f64 = 0.0;
    let mut total = 0.0;
    for (id, o) in &ov {
        let g = &ours[id];
        // ours: id type vol nfaces n3..n12; ovito: id vol nfaces n3..n12
        assert_eq!(g[3], o[2], "atom {}: faces {} vs OVITO {} ({} {})", id, g[3], o[2], boundary, thresholds.join(" "));
        assert_eq!(&g[4..14], &o[3..13], "atom {}: Voronoi index ({} {})", id, boundary, thresholds.join(" "));
        worst = worst.max((g[2] - o[1]).abs() / o[1]);
        total += g[2];
    }
    assert!(worst < 1e-8, "volumes differ from OVITO by {:e} relative", worst);
    let vol = sum["volume"].as_f64().unwrap();
    assert!((total - vol).abs() < 1e-10 * vol, "volumes sum to {} in a box of {}", total, vol);
    eprintln!("voronoi {} {:?}: indices identical, volumes within {:.1e}", boundary, thresholds, worst);
}

#[test]
fn voronoi_matches_ovito() {
    let Some(py) = python() else { return };
    let d = tempdir();
    let g = glass();
    compare_voronoi(&py, d.path(), &g, "p,p,p", "1,1,1", &[], &[]);
    compare_voronoi(&py, d.path(), &g, "p,p,f", "1,1,0", &[], &[]);
    compare_voronoi(&py, d.path(), &g, "f,f,f", "0,0,0", &[], &[]);
    compare_voronoi(&py, d.path(), &g, "p,p,p", "1,1,1", &["--relative-face-threshold", "0.01", "--edge-threshold", "0.1"], &["--rel", "0.01", "--edge", "0.1"]);
    compare_voronoi(&py, d.path(), &g, "p,p,p", "1,1,1", &["--face-threshold", "0.5"], &["--face", "0.5"]);
    let tri = d.path().join("tri.data");
    deform_glass(&tri, [5.0, -3.0, 2.5], 0.0, 0.0);
    compare_voronoi(&py, d.path(), &tri, "p,p,p", "1,1,1", &[], &[]);
    let trixy = d.path().join("trixy.data");
    deform_glass(&trixy, [6.0, 0.0, 0.0], 0.0, 0.0);
    compare_voronoi(&py, d.path(), &trixy, "p,p,f", "1,1,0", &[], &[]);
}

#[test]
fn strain_and_d2min_match_ovito() {
    let Some(py) = python() else { return };
    let d = tempdir();
    let cur = d.path().join("strained.data");
    deform_glass(&cur, [1.3, -0.8, 0.6], 0.03, 0.1);
    let dump = d.path().join("s.dump");
    let sum = run(d.path(), &["analyze", cur.to_str().unwrap(), "--reference", glass().to_str().unwrap(), "--compute", "strain,d2min", "--cutoff", "5.0", "--dump", dump.to_str().unwrap()]);
    assert_eq!(sum["strain"]["atoms_without_3d_neighbors"].as_f64(), Some(0.0));
    let csv = d.path().join("ovito.csv");
    let o = Command::new(&py)
        .arg(root().join("scripts/ovito_analysis.py"))
        .args(["strain", cur.to_str().unwrap(), glass().to_str().unwrap(), csv.to_str().unwrap(), "--cutoff", "5.0"])
        .output()
        .unwrap();
    assert!(o.status.success(), "ovito: {}", String::from_utf8_lossy(&o.stderr));
    let (_, ov) = read_csv(&csv);
    let ours = read_dump(&dump);
    let (mut w1, mut w2): (f64, f64) = (0.0, 0.0);
    for (id, o) in &ov {
        let g = &ours[id];
        w1 = w1.max((g[2] - o[1]).abs() / o[1].abs());
        w2 = w2.max((g[3] - o[2]).abs() / o[2].abs());
    }
    eprintln!("strain vs OVITO: von Mises {:e}, D2min {:e} relative", w1, w2);
    assert!(w1 < 1e-6 && w2 < 1e-6, "von Mises {:e}, D2min {:e}", w1, w2);
}

#[test]
fn affine_strain_has_no_nonaffine_part() {
    let d = tempdir();
    let cur = d.path().join("affine.data");
    // x' = 1.03 x + (1.3/L) y − (0.8/L) z, y' = y + (0.6/L) z, z' = z.
    let l = 32.48;
    let (a, b, c, e) = (1.03, 1.3 / l, -0.8 / l, 0.6 / l);
    deform_glass(&cur, [1.3, -0.8, 0.6], 0.03, 0.0);
    let dump = d.path().join("s.dump");
    run(d.path(), &["analyze", cur.to_str().unwrap(), "--reference", glass().to_str().unwrap(), "--compute", "strain,d2min", "--cutoff", "4.0", "--dump", dump.to_str().unwrap()]);
    // F (column vectors) = [[a, b, c], [0, 1, e], [0, 0, 1]]; E = ½(FᵀF − I).
    let f = [[a, b, c], [0.0, 1.0, e], [0.0, 0.0, 1.0]];
    let mut m = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = 0.5 * ((0..3).map(|k| f[k][i] * f[k][j]).sum::<f64>() - if i == j { 1.0 } else { 0.0 });
        }
    }
    let vm = (m[0][1].powi(2) + m[0][2].powi(2) + m[1][2].powi(2) + ((m[0][0] - m[1][1]).powi(2) + (m[0][0] - m[2][2]).powi(2) + (m[1][1] - m[2][2]).powi(2)) / 6.0).sqrt();
    for (id, r) in read_dump(&dump) {
        assert!((r[2] - vm).abs() < 1e-10 * vm, "atom {}: von Mises {} vs applied {}", id, r[2], vm);
        assert!(r[3].abs() < 1e-18, "atom {}: D2min {} of an affine map", id, r[3]);
    }
}

/// A data file of a cubic lattice (basis in cell units), n cells a side.
fn lattice(path: &Path, a: f64, basis: &[[f64; 3]], n: usize) {
    let mut s = format!("lattice\n\n{} atoms\n1 atom types\n\n", basis.len() * n * n * n);
    for ax in ["x", "y", "z"] {
        s += &format!("0 {} {ax}lo {ax}hi\n", a * n as f64);
    }
    s += "\nAtoms # atomic\n\n";
    let mut id = 1;
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                for b in basis {
                    s += &format!("{} 1 {} {} {}\n", id, a * (i as f64 + b[0]), a * (j as f64 + b[1]), a * (k as f64 + b[2]));
                    id += 1;
                }
            }
        }
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn known_structures() {
    let d = tempdir();
    let fcc = d.path().join("fcc.data");
    lattice(&fcc, 3.615, &[[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]], 4);
    let dump = d.path().join("fcc.dump");
    let s = run(d.path(), &["analyze", fcc.to_str().unwrap(), "--compute", "voronoi,w6", "--cutoff", "3.0", "--dump", dump.to_str().unwrap()]);
    for (id, r) in read_dump(&dump) {
        assert_eq!(&r[3..8], &[12.0, 0.0, 12.0, 0.0, 0.0], "fcc atom {}: faces and index", id);
        assert!((r[9] + 0.013161).abs() < 1e-5, "fcc atom {}: W6 {}", id, r[9]);
    }
    assert_eq!(s["voronoi"]["index_fractions"]["all"][0]["index"], "<0,12,0,0>");
    let bcc = d.path().join("bcc.data");
    lattice(&bcc, 2.87, &[[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]], 4);
    let dump = d.path().join("bcc.dump");
    run(d.path(), &["analyze", bcc.to_str().unwrap(), "--compute", "voronoi", "--dump", dump.to_str().unwrap()]);
    for (id, r) in read_dump(&dump) {
        assert_eq!(&r[3..8], &[14.0, 0.0, 6.0, 0.0, 8.0], "bcc atom {}", id);
    }
    // A 13-atom icosahedron (edge 2.6 Å) in a closed box: its centre.
    let g = (1.0 + 5f64.sqrt()) / 2.0;
    let scale = 1.3;
    let mut pts = vec![[0.0; 3]];
    for a in [-1.0, 1.0] {
        for b in [-g, g] {
            pts.extend([[0.0, a, b], [a, b, 0.0], [b, 0.0, a]]);
        }
    }
    let mut s = format!("icosahedron\n\n13 atoms\n1 atom types\n\n-10 10 xlo xhi\n-10 10 ylo yhi\n-10 10 zlo zhi\n\nAtoms # atomic\n\n");
    for (k, p) in pts.iter().enumerate() {
        s += &format!("{} 1 {} {} {}\n", k + 1, p[0] * scale, p[1] * scale, p[2] * scale);
    }
    let ico = d.path().join("ico.data");
    std::fs::write(&ico, s).unwrap();
    let dump = d.path().join("ico.dump");
    let sum = run(d.path(), &["analyze", ico.to_str().unwrap(), "--boundary", "f,f,f", "--compute", "voronoi,w6", "--cutoff", "3.0", "--dump", dump.to_str().unwrap()]);
    let c = &read_dump(&dump)[&1];
    assert_eq!(&c[3..8], &[12.0, 0.0, 0.0, 12.0, 0.0], "icosahedron centre");
    assert!((c[9] + 0.169754).abs() < 1e-5, "icosahedron W6 {}", c[9]);
    assert_eq!(sum["icosahedral_clusters"]["centres"], 1);
}

/// g(r) and Q6/Ŵ6 against LAMMPS on the glass.
#[test]
fn rdf_and_orientorder_match_lammps() {
    if !lammps() {
        return;
    }
    let d = tempdir();
    let g = glass();
    let input = format!(
        "units metal\natom_style atomic\nboundary p p p\nread_data {}\nmass * 1.0\npair_style zero 10.0\npair_coeff * *\nneighbor 1.0 bin\n\
         compute r all rdf 200 * * 1 1 1 2 2 2 cutoff 10.0\nfix r all ave/time 1 1 1 c_r[*] file lmp_rdf.txt mode vector format \" %.17g\"\n\
         compute o all orientorder/atom degrees 3 4 6 8 wl/hat yes nnn NULL cutoff 3.7\ndump d all custom 1 lmp_oo.dump id c_o[*]\ndump_modify d sort id format float %.17g\nrun 0\n",
        g.display()
    );
    std::fs::write(d.path().join("in.lmp"), input).unwrap();
    let o = Command::new("lmp").args(["-in", "in.lmp", "-log", "none"]).current_dir(d.path()).output().unwrap();
    assert!(o.status.success(), "lmp: {}", String::from_utf8_lossy(&o.stdout));
    run(d.path(), &["analyze", g.to_str().unwrap(), "--elements", "Cu", "Zr", "--compute", "rdf", "--rmax", "10", "--bins", "200", "--out", "rdf.csv"]);
    let (head, ours) = read_table(&d.path().join("rdf.csv"));
    assert_eq!(head, "r,g_total,g_1_1,g_1_2,g_2_2");
    let lmp: Vec<Vec<f64>> = std::fs::read_to_string(d.path().join("lmp_rdf.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().map(|t| t.parse().unwrap()).collect::<Vec<f64>>())
        .filter(|v| v.len() > 3)
        .collect();
    assert_eq!(ours.len(), lmp.len());
    let mut worst: f64 = 0.0;
    for (a, b) in ours.iter().zip(&lmp) {
        assert_eq!(a[0], b[1]);
        for (k, c) in [(1, 2), (2, 4), (3, 6), (4, 8)] {
            worst = worst.max((a[k] - b[c]).abs() / b[c].abs().max(1e-300));
        }
    }
    eprintln!("g(r) vs LAMMPS: {:e} relative", worst);
    assert!(worst < 1e-12);
    run(d.path(), &["analyze", g.to_str().unwrap(), "--compute", "w6", "--cutoff", "3.7", "--degrees", "4,8", "--dump", "w6.dump"]);
    let (ours, lmp) = (read_dump(&d.path().join("w6.dump")), read_dump(&d.path().join("lmp_oo.dump")));
    let mut worst: f64 = 0.0;
    for (id, r) in &ours {
        // ours: id type q6 w6 q4 w4 q8 w8; LAMMPS: id Q4 Q6 Q8 W4^ W6^ W8^.
        let l = &lmp[id];
        for (a, b) in [(2, 2), (3, 5), (4, 1), (5, 4), (6, 3), (7, 6)] {
            worst = worst.max((r[a] - l[b]).abs());
        }
    }
    eprintln!("Q4, Q6, Q8, W4, W6, W8 vs LAMMPS: {:e}", worst);
    assert!(worst < 1e-13);
}

/// Per-atom output, summaries and g(r) identical on 1, 2 and 4 ranks and
/// on 1 and 2 threads: icosahedral clusters cross subdomain and periodic
/// boundaries in this glass (the largest has 17 centres).
#[test]
fn same_results_on_any_rank_count() {
    let d = tempdir();
    let g = glass();
    let gs = g.to_str().unwrap();
    let cur = d.path().join("strained.data");
    deform_glass(&cur, [1.3, -0.8, 0.6], 0.03, 0.1);
    let mut first: Option<(String, String, String, String)> = None;
    for (np, th) in [(1, 1), (1, 2), (2, 1), (4, 1)] {
        let tag = format!("{}x{}", np, th);
        let (dump, sdump, rdf) = (format!("v{}.dump", tag), format!("s{}.dump", tag), format!("rdf{}.csv", tag));
        let out = ok(&glassmd(np, th, &["analyze", gs, "--elements", "Cu", "Zr", "--compute", "voronoi,cn,w6", "--cutoff", "3.7", "--dump", &dump], d.path()));
        let mut sum = last_json(&out);
        sum.as_object_mut().unwrap().remove("file");
        ok(&glassmd(np, th, &["analyze", cur.to_str().unwrap(), "--reference", gs, "--compute", "strain,d2min", "--cutoff", "5", "--dump", &sdump], d.path()));
        ok(&glassmd(np, th, &["analyze", gs, "--compute", "rdf", "--out", &rdf], d.path()));
        let rd = |f: &str| std::fs::read_to_string(d.path().join(f)).unwrap();
        let now = (rd(&dump), sum.to_string(), rd(&sdump), rd(&rdf));
        let clusters = &sum["icosahedral_clusters"];
        assert!(clusters["largest"].as_u64().unwrap() > 5, "{}", clusters);
        match &first {
            None => first = Some(now),
            Some(f) => {
                assert!(f.0 == now.0, "Voronoi/cn/w6 dump differs on {}", tag);
                assert!(f.1 == now.1, "summary differs on {}:\n{}\n{}", tag, f.1, now.1);
                assert!(f.2 == now.2, "strain dump differs on {}", tag);
                assert!(f.3 == now.3, "g(r) differs on {}", tag);
            }
        }
    }
}

/// MSD from our H5MD trajectory (multiple origins off) against LAMMPS
/// `compute msd` on a `rerun` of the same frames; F_s starts at 1 and
/// decays; the same numbers on 1 and 3 ranks.
#[test]
fn msd_matches_lammps_rerun() {
    let d = tempdir();
    let deck = glass_deck(d.path(), TRAJ_RUN);
    ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], d.path()));
    let s1 = last_json(&ok(&glassmd(1, 1, &["analyze", "traj.h5", "--elements", "Cu", "Zr", "--compute", "msd,fs", "--q", "2.7", "--origin-stride", "0", "--out", "dyn1.csv"], d.path())));
    let s3 = last_json(&ok(&glassmd(3, 1, &["analyze", "traj.h5", "--elements", "Cu", "Zr", "--compute", "msd,fs", "--q", "2.7", "--origin-stride", "0", "--out", "dyn3.csv"], d.path())));
    assert_eq!(std::fs::read_to_string(d.path().join("dyn1.csv")).unwrap(), std::fs::read_to_string(d.path().join("dyn3.csv")).unwrap());
    assert_eq!(s1["diffusion_A2_per_ps"], s3["diffusion_A2_per_ps"]);
    let (head, rows) = read_table(&d.path().join("dyn1.csv"));
    assert_eq!(head, "time,msd_all,msd_Cu,msd_Zr,fs_all,fs_Cu,fs_Zr");
    assert_eq!(rows.len(), 11);
    assert_eq!(rows[0][1], 0.0);
    assert_eq!(rows[0][4], 1.0);
    assert!(rows[10][4] < rows[1][4] && rows[10][1] > rows[1][1]);
    for fs in [false, true] {
        let mut args = vec!["plot", "dynamics", "dyn1.csv", "--out", "d.svg"];
        if fs {
            args.push("--fs");
        }
        assert!(ok(&glassmd(1, 1, &args, d.path())).contains("wrote d.svg"));
    }
    if !lammps() {
        return;
    }
    ok(&glassmd(1, 1, &["convert", "traj.h5", "--to", "dump", "--out", "traj.dump"], d.path()));
    let input = format!(
        "units metal\natom_style atomic\nboundary p p p\nread_data {}\nmass * 1.0\npair_style zero 5.0\npair_coeff * *\n\
         group cu type 1\ngroup zr type 2\ncompute m all msd\ncompute mc cu msd\ncompute mz zr msd\n\
         thermo_style custom step c_m[4] c_mc[4] c_mz[4]\nthermo_modify format float %.17g\nthermo 20\n\
         rerun traj.dump dump x y z ix iy iz box yes\n",
        d.path().join("first.data").display()
    );
    // The rerun's first frame defines the origin: a data file of frame 0.
    write_frame0(d.path());
    std::fs::write(d.path().join("in.lmp"), input).unwrap();
    let o = Command::new("lmp").args(["-in", "in.lmp", "-log", "log.lmp"]).current_dir(d.path()).output().unwrap();
    assert!(o.status.success(), "lmp: {}", String::from_utf8_lossy(&o.stdout));
    let log = read_lammps_log(&d.path().join("log.lmp"));
    let rows_l: Vec<&BTreeMap<String, f64>> = log.iter().flatten().collect();
    assert_eq!(rows_l.len(), 11, "LAMMPS rerun frames");
    let mut worst: f64 = 0.0;
    for (k, l) in rows_l.iter().enumerate().skip(1) {
        for (c, name) in [(1, "c_m[4]"), (2, "c_mc[4]"), (3, "c_mz[4]")] {
            worst = worst.max((rows[k][c] - l[name]).abs() / l[name]);
        }
    }
    eprintln!("MSD vs LAMMPS rerun: {:e} relative", worst);
    assert!(worst < 1e-12, "MSD differs from LAMMPS by {:e}", worst);
}

/// Frame 0 of traj.h5 as a data file (with image flags), through the dump.
fn write_frame0(dir: &Path) {
    ok(&glassmd(1, 1, &["convert", "traj.h5", "--to", "dump", "--frames", "0", "--out", "f0.dump"], dir));
    let text = std::fs::read_to_string(dir.join("f0.dump")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let n: usize = lines[3].trim().parse().unwrap();
    let bounds: Vec<Vec<&str>> = lines[5..8].iter().map(|l| l.split_whitespace().collect()).collect();
    let cols: Vec<&str> = lines[8].split_whitespace().skip(2).collect();
    let at = |c: &str| cols.iter().position(|x| *x == c).unwrap();
    let mut s = format!("frame 0\n\n{} atoms\n2 atom types\n\n", n);
    for (k, ax) in ["x", "y", "z"].iter().enumerate() {
        s += &format!("{} {} {ax}lo {ax}hi\n", bounds[k][0], bounds[k][1]);
    }
    s += "\nAtoms # atomic\n\n";
    for l in &lines[9..9 + n] {
        let w: Vec<&str> = l.split_whitespace().collect();
        s += &format!("{} {} {} {} {} {} {} {}\n", w[at("id")], w[at("type")], w[at("x")], w[at("y")], w[at("z")], w[at("ix")], w[at("iy")], w[at("iz")]);
    }
    std::fs::write(dir.join("first.data"), s).unwrap();
}

/// An HDF5 file without particles/all/position gets a one-line error.
#[test]
fn h5md_without_positions_is_refused() {
    let d = tempdir();
    let p = d.path().join("empty.h5");
    {
        let f = hdf5::File::create(&p).unwrap();
        let g = f.create_group("particles/all").unwrap();
        g.new_dataset_builder().with_data(&[1i64, 2]).create("species").unwrap();
    }
    let o = glassmd(1, 1, &["analyze", p.to_str().unwrap(), "--compute", "msd"], d.path());
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err.lines().last().unwrap();
    assert!(line.ends_with("empty.h5: holds no particles/all/position: an H5MD file without positions cannot be analysed"), "{}", err);
    assert!(!err.contains("panicked"));
}

/// A run's `[analysis]`: rows every N steps and after a named stage, the
/// named stage's values in results.json, equal to `glassmd analyze` on the
/// configuration the run wrote at that point; and on 2 ranks the same file.
#[test]
fn in_situ_analysis_matches_the_command() {
    let d = tempdir();
    let extra = "[analysis]\ncompute = [\"voronoi\", \"cn\", \"w6\"]\ncutoff = 3.7\nevery = 20\nstages = [\"is\"]\n\n\
                 [[stage]]\nkind = \"velocity\"\ntemperature = 600.0\nseed = 3\n\
                 [[stage]]\nkind = \"nve\"\nsteps = 40\ntimestep = 0.002\n\
                 [[stage]]\nkind = \"minimize\"\nname = \"is\"\nalgorithm = \"cg\"\nftol = 1e-4\nmax_iterations = 200\n\
                 [[stage]]\nkind = \"write_data\"\nfile = \"is.data\"\n";
    let deck = glass_deck(d.path(), extra);
    ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], d.path()));
    let text = std::fs::read_to_string(d.path().join("analysis.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let head: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(&head[..4], &["step", "time", "stage", "label"]);
    for col in ["ico_fraction_all", "ico_fraction_Cu", "ico_cluster_largest", "cn_Cu", "cn_Cu_Zr", "w6_all", "volume_Zr"] {
        assert!(head.contains(&col), "analysis.csv lacks {}: {}", col, lines[0]);
    }
    let labels: Vec<(&str, &str)> = lines[1..].iter().map(|l| { let w: Vec<&str> = l.split(',').collect(); (w[0], w[3]) }).collect();
    assert_eq!(labels, vec![("0", "every"), ("20", "every"), ("40", "every"), ("40", "is")]);
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.path().join("results.json")).unwrap()).unwrap();
    let ours = &results["analysis_is"];
    let cmd = run(d.path(), &["analyze", "is.data", "--elements", "Cu", "Zr", "--compute", "voronoi,cn,w6", "--cutoff", "3.7"]);
    let icof = cmd["voronoi"]["icosahedral_fraction"]["Cu"].as_f64().unwrap();
    assert_eq!(ours["ico_fraction_Cu"].as_f64(), Some(icof));
    assert_eq!(ours["ico_cluster_largest"].as_f64(), cmd["icosahedral_clusters"]["largest"].as_f64());
    assert_eq!(ours["cn_Cu_Zr"].as_f64(), cmd["cn"]["partial"]["Cu-Zr"].as_f64());
    let w = cmd["w6"]["w6_mean"]["all"].as_f64().unwrap();
    assert!((ours["w6_all"].as_f64().unwrap() - w).abs() < 1e-12 * w.abs(), "{} vs {}", ours["w6_all"], w);
    let v = cmd["voronoi"]["mean_volume"]["Zr"].as_f64().unwrap();
    assert!((ours["volume_Zr"].as_f64().unwrap() - v).abs() < 1e-12 * v);
    // Two ranks: the same rows.
    let d2 = tempdir();
    let deck2 = glass_deck(d2.path(), extra);
    ok(&glassmd(2, 1, &["run", deck2.to_str().unwrap()], d2.path()));
    let t2 = std::fs::read_to_string(d2.path().join("analysis.csv")).unwrap();
    // Rows before the minimisation are bitwise equal; MD on 2 ranks
    // differs by summation round-off afterwards, so the minimised
    // structure agrees in its integer counts.
    let l2: Vec<&str> = t2.lines().collect();
    assert_eq!(l2[0], lines[0]);
    assert_eq!(l2[1], lines[1], "step-0 analysis differs on 2 ranks");
}

/// Snapshot fields `voronoi` and `w6`: the step-0 frame of a run holds
/// the numbers `glassmd analyze` gives for the data file it started from.
#[test]
fn snapshot_fields_voronoi_and_w6() {
    let d = tempdir();
    let extra = "[output]\nsnapshot = { file = \"traj.h5\", every = 20, fields = [\"position\", \"voronoi\", \"w6\"] }\n\n\
                 [[stage]]\nkind = \"nve\"\nsteps = 20\ntimestep = 0.002\n";
    let deck = glass_deck(d.path(), extra);
    ok(&glassmd(2, 1, &["run", deck.to_str().unwrap()], d.path()));
    ok(&glassmd(1, 1, &["convert", "traj.h5", "--to", "dump", "--frames", "0", "--out", "f0.dump"], d.path()));
    run(d.path(), &["analyze", glass().to_str().unwrap(), "--compute", "voronoi,w6", "--dump", "cmd.dump"]);
    // The H5MD frame can be analysed directly too.
    run(d.path(), &["analyze", "traj.h5", "--frame", "0", "--compute", "voronoi,w6", "--dump", "h5.dump"]);
    let text = std::fs::read_to_string(d.path().join("f0.dump")).unwrap();
    let cols: Vec<&str> = text.lines().find(|l| l.starts_with("ITEM: ATOMS")).unwrap().split_whitespace().skip(2).collect();
    let at = |c: &str| cols.iter().position(|x| *x == c).unwrap_or_else(|| panic!("no column {} in {:?}", c, cols));
    // Rows keyed by id; the text `element` column reads as NaN.
    let snap: BTreeMap<u64, Vec<f64>> = text
        .lines()
        .skip_while(|l| !l.starts_with("ITEM: ATOMS"))
        .skip(1)
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|t| t.parse().unwrap_or(f64::NAN)).collect();
            (v[0] as u64, v)
        })
        .collect();
    for other in ["cmd.dump", "h5.dump"] {
        let cmd = read_dump(&d.path().join(other));
        for (id, r) in &cmd {
            let s = &snap[id];
            for (k, c) in ["vol", "nfaces", "n3", "n4", "n5", "n6", "q6", "w6"].iter().enumerate() {
                let (a, b) = (s[at(c)], r[2 + k]);
                assert!((a - b).abs() <= 1e-12 * b.abs().max(1e-3), "{}: atom {} {}: snapshot {} vs analyze {}", other, id, c, a, b);
            }
        }
    }
}

/// The plots of analysis outputs: g(r), S(q), MSD and F_s, index bars.
#[test]
fn analysis_plots() {
    let d = tempdir();
    let g = glass();
    let out = ok(&glassmd(1, 1, &["analyze", g.to_str().unwrap(), "--elements", "Cu", "Zr", "--compute", "rdf,sq,voronoi", "--out", "rdf.csv", "--sq-out", "sq.csv"], d.path()));
    std::fs::write(d.path().join("summary.json"), out.lines().last().unwrap()).unwrap();
    let sum = last_json(&out);
    let q1 = sum["sq"]["first_peak_q"].as_f64().unwrap();
    assert!((2.5..3.0).contains(&q1), "first S(q) peak of a CuZr glass at {} 1/Å", q1);
    assert!(std::fs::read_to_string(d.path().join("sq.csv")).unwrap().starts_with("q,s_total,s_1_1,s_1_2,s_2_2\n"));
    for args in [
        vec!["plot", "rdf", "rdf.csv", "--out", "g.svg"],
        vec!["plot", "sq", "sq.csv", "--columns", "s_total", "--out", "s.svg"],
        vec!["plot", "voronoi", "summary.json", "summary.json", "--labels", "a,b", "--species", "Cu", "--out", "v.svg"],
    ] {
        let o = ok(&glassmd(1, 1, &args, d.path()));
        assert!(o.contains("wrote"), "{}", o);
        let svg = std::fs::read_to_string(d.path().join(args[args.len() - 1])).unwrap();
        assert!(svg.starts_with("<svg") && svg.len() > 5000, "{}", args.join(" "));
    }
    let o = ok(&glassmd(1, 1, &["plot", "voronoi", "summary.json", "--species", "Cu", "--out", "v1.svg"], d.path()));
    assert!(o.contains("most common <0,0,12,0>"), "{}", o);
}

/// `[analysis] inherent_structures = true`: a row for each inherent
/// structure a quench samples, labelled by its temperature.
#[test]
fn in_situ_analysis_of_inherent_structures() {
    let d = tempdir();
    let extra = "[analysis]\ncompute = [\"voronoi\"]\ninherent_structures = true\n\n\
                 [[stage]]\nkind = \"velocity\"\ntemperature = 900.0\nseed = 3\n\
                 [[stage]]\nkind = \"nvt\"\ntimestep = 0.002\ntemperature = [900.0, 700.0]\nsteps = 40\n\
                 inherent_structures = { every_k = 100.0, file = \"is.csv\" }\n";
    let deck = glass_deck(d.path(), extra);
    ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], d.path()));
    let text = std::fs::read_to_string(d.path().join("analysis.csv")).unwrap();
    let labels: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').nth(3).unwrap()).collect();
    assert_eq!(labels, vec!["is_900K", "is_800K", "is_700K"], "{}", text);
    let is_rows = std::fs::read_to_string(d.path().join("is.csv")).unwrap().lines().count() - 1;
    assert_eq!(is_rows, 3);
}

/// thermo.extra msd_*/fs_*: the in-situ MSD and F_s against the stage's
/// start equal `glassmd analyze` of the run's trajectory with the first
/// frame as the only origin.
#[test]
fn in_situ_msd_and_fs_match_the_trajectory() {
    let d = tempdir();
    let thermo = "[thermo]\nevery = 20\nfile = \"thermo.csv\"\nextra = [\"msd_all\", \"msd_Cu\", \"msd_2\", \"fs_all\", \"fs_Zr\"]\n\n[compute]\nfs_q = 2.7\n\n";
    let deck = glass_deck(d.path(), &format!("{}{}", thermo, TRAJ_RUN));
    ok(&glassmd(2, 1, &["run", deck.to_str().unwrap()], d.path()));
    ok(&glassmd(1, 1, &["analyze", "traj.h5", "--elements", "Cu", "Zr", "--compute", "msd,fs", "--q", "2.7", "--origin-stride", "0", "--out", "dyn.csv"], d.path()));
    let (head, rows) = read_table(&d.path().join("dyn.csv"));
    let col = |n: &str| head.split(',').position(|h| h == n).unwrap();
    let thermo = read_thermo_csv(&d.path().join("thermo.csv"));
    let md: Vec<&BTreeMap<String, f64>> = thermo.iter().filter(|r| r["step"] >= 0.0).collect();
    assert_eq!(md.len(), rows.len(), "thermo rows vs frames");
    let mut worst: f64 = 0.0;
    for (t, r) in md.iter().zip(&rows).skip(1) {
        for (ours, theirs) in [("msd_all", "msd_all"), ("msd_Cu", "msd_Cu"), ("msd_2", "msd_Zr"), ("fs_all", "fs_all"), ("fs_Zr", "fs_Zr")] {
            worst = worst.max((t[ours] - r[col(theirs)]).abs() / r[col(theirs)].abs());
        }
    }
    eprintln!("in-situ MSD/F_s vs trajectory: {:e} relative", worst);
    assert!(worst < 1e-10, "in-situ MSD/F_s differ from the trajectory's by {:e}", worst);
    assert!(md.last().unwrap()["msd_all"] > 0.1);
}

/// `--neighbors`: every face is listed from both sides with the same area,
/// and each atom has as many as its cell's faces (a periodic box has no
/// walls); the same file on 1 and 2 ranks.
#[test]
fn voronoi_neighbors_are_mutual() {
    let d = tempdir();
    let g = glass();
    ok(&glassmd(1, 1, &["analyze", g.to_str().unwrap(), "--compute", "voronoi", "--neighbors", "n1.csv", "--dump", "v.dump"], d.path()));
    ok(&glassmd(2, 1, &["analyze", g.to_str().unwrap(), "--compute", "voronoi", "--neighbors", "n2.csv"], d.path()));
    let text = std::fs::read_to_string(d.path().join("n1.csv")).unwrap();
    assert_eq!(text, std::fs::read_to_string(d.path().join("n2.csv")).unwrap());
    let mut pairs: BTreeMap<(u64, u64), f64> = BTreeMap::new();
    let mut per: BTreeMap<u64, f64> = BTreeMap::new();
    for l in text.lines().skip(1) {
        let w: Vec<&str> = l.split(',').collect();
        let (a, b, area): (u64, u64, f64) = (w[0].parse().unwrap(), w[1].parse().unwrap(), w[2].parse().unwrap());
        pairs.insert((a, b), area);
        *per.entry(a).or_default() += 1.0;
    }
    for (&(a, b), &area) in &pairs {
        let back = pairs.get(&(b, a)).unwrap_or_else(|| panic!("face {}-{} listed from one side only", a, b));
        assert!((back - area).abs() < 1e-10 * area, "face {}-{}: areas {} and {}", a, b, area, back);
    }
    for (id, r) in read_dump(&d.path().join("v.dump")) {
        assert_eq!(per[&id], r[3], "atom {}: neighbors vs faces", id);
    }
}

/// Frames of a LAMMPS custom dump: (step, column names, rows by id).
fn dump_frames(path: &Path) -> Vec<(u64, Vec<String>, BTreeMap<u64, Vec<f64>>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut k = 0;
    while k < lines.len() {
        if lines[k].starts_with("ITEM: TIMESTEP") {
            let step: u64 = lines[k + 1].trim().parse().unwrap();
            let a = k + lines[k..].iter().position(|l| l.starts_with("ITEM: ATOMS")).unwrap();
            let cols: Vec<String> = lines[a].split_whitespace().skip(2).map(str::to_string).collect();
            let mut rows = BTreeMap::new();
            k = a + 1;
            while k < lines.len() && !lines[k].starts_with("ITEM:") {
                let v: Vec<f64> = lines[k].split_whitespace().map(|t| t.parse().unwrap_or(f64::NAN)).collect();
                rows.insert(v[0] as u64, v);
                k += 1;
            }
            out.push((step, cols, rows));
        } else {
            k += 1;
        }
    }
    out
}

/// Rows of analysis.csv: (step, label, column → value).
fn analysis_rows(path: &Path) -> Vec<(u64, String, BTreeMap<String, f64>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    lines
        .map(|l| {
            let w: Vec<&str> = l.split(',').collect();
            let vals = head.iter().zip(&w).skip(4).map(|(h, v)| (h.clone(), v.parse().unwrap_or(f64::NAN))).collect();
            (w[0].parse().unwrap(), w[3].to_string(), vals)
        })
        .collect()
}

/// Local strain during a run against a named stage, through a tilt flip:
/// a simple-cubic lattice 9 Å apart (beyond the potential's 7.6 Å, so no
/// forces and no motion but the deformation's affine remap) sheared at
/// xy rate 1/ps to γ = 0.6, past the flip at γ = 0.5. Every atom's von
/// Mises strain is that of F = [[1, γ, 0], [0, 1, 0], [0, 0, 1]],
/// √(γ²/4 + γ⁴/12), and D²min vanishes — in the dump field, the
/// `[analysis]` rows and results.json; before the reference exists the
/// values are NaN. The same dump on 1 and 2 ranks.
#[test]
fn in_situ_strain_follows_an_affine_shear_through_a_flip() {
    let extra = "[compute]\nstrain_reference = \"ref\"\nstrain_cutoff = 13.0\n\n\
                 [analysis]\ncompute = [\"strain\", \"d2min\"]\nstages = [\"ref\", \"sheared\"]\nevery = 100\n\n\
                 [output]\ndump = { file = \"s.dump\", every = 100, fields = [\"position\", \"strain\", \"d2min\"] }\n\n\
                 [[stage]]\nkind = \"record\"\nname = \"ref\"\n\
                 [[stage]]\nkind = \"nve\"\ntimestep = 0.002\nsteps = 300\n\
                 [[stage.fix]]\nkind = \"deform\"\nerate = { xy = 1.0 }\n\
                 [[stage]]\nkind = \"record\"\nname = \"sheared\"\n";
    let vm = |g: f64| (g * g / 4.0 + g.powi(4) / 12.0).sqrt();
    let mut dumps = Vec::new();
    for np in [1, 2] {
        let d = tempdir();
        let data = d.path().join("sparse.data");
        lattice(&data, 9.0, &[[0.0; 3]], 5);
        let deck = write_deck(d.path(), &data, "p,p,p", "eam/fs", "CuZr_mm.eam.fs", &["Cu"], extra);
        ok(&glassmd(np, 1, &["run", deck.to_str().unwrap()], d.path()));
        let frames = dump_frames(&d.path().join("s.dump"));
        assert_eq!(frames.iter().map(|f| f.0).collect::<Vec<_>>(), vec![0, 100, 200, 300]);
        // The last frame's box has flipped: xy = 0.6 × 45 − 45 Å.
        let text = std::fs::read_to_string(d.path().join("s.dump")).unwrap();
        let bounds = text.lines().rev().collect::<Vec<_>>();
        let k = bounds.iter().position(|l| l.starts_with("ITEM: BOX BOUNDS")).unwrap();
        let xy: f64 = bounds[k - 1].split_whitespace().nth(2).unwrap().parse().unwrap();
        assert!((xy + 18.0).abs() < 1e-9, "tilt xy after the flip: {}", xy);
        let mut worst: f64 = 0.0;
        for (step, cols, rows) in &frames {
            let (cv, cd) = (cols.iter().position(|c| c == "vm_strain").unwrap(), cols.iter().position(|c| c == "d2min").unwrap());
            assert_eq!(rows.len(), 125);
            for (id, r) in rows {
                if *step == 0 {
                    assert!(r[cv].is_nan() && r[cd].is_nan(), "atom {} at step 0, before the reference: {:?}", id, r);
                    continue;
                }
                let want = vm(0.002 * *step as f64);
                worst = worst.max((r[cv] - want).abs() / want);
                assert!(r[cd].abs() < 1e-16, "step {} atom {}: D2min {} of an affine shear", step, id, r[cd]);
            }
        }
        eprintln!("{} rank(s): von Mises strain vs applied shear, worst {:e} relative", np, worst);
        assert!(worst < 1e-10, "von Mises strain off the applied shear's by {:e}", worst);
        let rows = analysis_rows(&d.path().join("analysis.csv"));
        let labels: Vec<(u64, &str)> = rows.iter().map(|r| (r.0, r.1.as_str())).collect();
        assert_eq!(labels, vec![(0, "every"), (0, "ref"), (100, "every"), (200, "every"), (300, "every"), (300, "sheared")]);
        assert!(rows[0].2["vm_strain_all"].is_nan());
        assert!(rows[1].2["vm_strain_all"].abs() < 1e-14 && rows[1].2["d2min_all"].abs() < 1e-20, "{:?}", rows[1]);
        for (step, _, r) in &rows[2..] {
            let want = vm(0.002 * *step as f64);
            assert!((r["vm_strain_Cu"] - want).abs() < 1e-10 * want, "step {}: mean {} vs {}", step, r["vm_strain_Cu"], want);
        }
        let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.path().join("results.json")).unwrap()).unwrap();
        let got = results["analysis_sheared"]["vm_strain_all"].as_f64().unwrap();
        assert!((got - vm(0.6)).abs() < 1e-10 * vm(0.6), "results.json: {} vs {}", got, vm(0.6));
        dumps.push(std::fs::read_to_string(d.path().join("s.dump")).unwrap());
    }
    assert!(dumps[0] == dumps[1], "the strain dump differs on 2 ranks");
}

/// A reference file during a run (`strain_reference_file`): the step-0
/// fields and `[analysis]` row equal `glassmd analyze --reference` on the
/// same pair, atom by atom, identical on 1, 2 and 4 ranks and 2 threads.
#[test]
fn in_situ_strain_against_a_file_matches_the_command() {
    let extra = "[compute]\nstrain_reference_file = \"strained.data\"\nstrain_cutoff = 5.0\n\n\
                 [analysis]\ncompute = [\"strain\", \"d2min\"]\nevery = 10\n\n\
                 [output]\ndump = { file = \"s.dump\", every = 10, fields = [\"strain\", \"d2min\"] }\n\n\
                 [[stage]]\nkind = \"record\"\nname = \"start\"\n";
    let mut first: Option<String> = None;
    for (np, th) in [(1, 1), (2, 1), (4, 1), (1, 2)] {
        let d = tempdir();
        deform_glass(&d.path().join("strained.data"), [1.3, -0.8, 0.6], 0.03, 0.1);
        let deck = glass_deck(d.path(), extra);
        ok(&glassmd(np, th, &["run", deck.to_str().unwrap()], d.path()));
        let text = std::fs::read_to_string(d.path().join("s.dump")).unwrap();
        match &first {
            None => {
                let cmd = run(d.path(), &["analyze", glass().to_str().unwrap(), "--reference", "strained.data", "--compute", "strain,d2min", "--cutoff", "5.0", "--dump", "cmd.dump"]);
                let theirs = read_dump(&d.path().join("cmd.dump"));
                let (_, cols, ours) = dump_frames(&d.path().join("s.dump")).remove(0);
                assert_eq!(&cols[cols.len() - 2..], &["vm_strain", "d2min"]);
                let k = cols.len() - 2;
                let mut worst: f64 = 0.0;
                for (id, t) in &theirs {
                    let o = &ours[id];
                    worst = worst.max((o[k] - t[2]).abs() / t[2]).max((o[k + 1] - t[3]).abs() / t[3]);
                }
                eprintln!("in-run strain against a file vs glassmd analyze: {:e} relative", worst);
                assert!(worst < 1e-12, "{:e}", worst);
                let rows = analysis_rows(&d.path().join("analysis.csv"));
                let mean = cmd["strain"]["vm_strain_mean"].as_f64().unwrap();
                assert!((rows[0].2["vm_strain_all"] - mean).abs() < 1e-12 * mean, "{} vs {}", rows[0].2["vm_strain_all"], mean);
                first = Some(text);
            }
            Some(f) => assert!(*f == text, "strain dump differs on {} rank(s) x {} thread(s)", np, th),
        }
    }
}

/// The strain reference survives a restart: stopped after the reference
/// stage, mid-NVT, the restarted run writes the same strain dump and
/// analysis rows byte for byte (1 and 2 ranks).
#[test]
fn strain_reference_survives_a_restart() {
    let extra = "[compute]\nstrain_reference = \"ref\"\nstrain_cutoff = 5.0\n\n\
                 [analysis]\ncompute = [\"strain\", \"d2min\"]\nevery = 20\n\n\
                 [output]\ndump = { file = \"s.dump\", every = 20, fields = [\"strain\", \"d2min\"] }\ncheckpoint = { file = \"restart.h5\", every = 0 }\n\n\
                 [[stage]]\nkind = \"velocity\"\ntemperature = 600.0\nseed = 9\n\
                 [[stage]]\nkind = \"nve\"\ntimestep = 0.002\nsteps = 20\n\
                 [[stage]]\nkind = \"record\"\nname = \"ref\"\n\
                 [[stage]]\nkind = \"nvt\"\ntemperature = 600.0\ntimestep = 0.002\nsteps = 80\n";
    for np in [1, 2] {
        let (a, b) = (tempdir(), tempdir());
        let (da, db) = (glass_deck(a.path(), extra), glass_deck(b.path(), extra));
        ok(&glassmd(np, 1, &["run", da.to_str().unwrap()], a.path()));
        let stopped = glassmd(np, 1, &["run", db.to_str().unwrap(), "--stop-at-step", "50"], b.path());
        assert_eq!(stopped.status.code(), Some(75), "{}", String::from_utf8_lossy(&stopped.stderr));
        ok(&glassmd(np, 1, &["run", db.to_str().unwrap(), "--restart", "restart.h5"], b.path()));
        for f in ["s.dump", "analysis.csv"] {
            let (x, y) = (std::fs::read_to_string(a.path().join(f)).unwrap(), std::fs::read_to_string(b.path().join(f)).unwrap());
            assert!(x == y, "{} differs after a restart on {} rank(s)", f, np);
        }
        let rows = analysis_rows(&a.path().join("analysis.csv"));
        let last = &rows.last().unwrap().2;
        assert!(last["vm_strain_all"] > 0.001 && last["d2min_all"] > 0.0, "{:?}", last);
    }
}

/// Opening free surfaces (`change_box` p → s resets the x image flags)
/// keeps the strain reference continuous: right after it, atoms farther
/// than the cutoff from the new x faces have no strain (1e-7 ps of motion
/// only), though many crossed the periodic x face since the reference.
#[test]
fn strain_reference_survives_opening_surfaces() {
    let d = tempdir();
    let extra = "[compute]\nstrain_reference = \"ref\"\nstrain_cutoff = 5.0\n\n\
                 [output]\ndump = { file = \"s.dump\", every = 201, fields = [\"position\", \"strain\", \"d2min\"] }\n\n\
                 [[stage]]\nkind = \"velocity\"\ntemperature = 2000.0\nseed = 4\n\
                 [[stage]]\nkind = \"nve\"\ntimestep = 0.002\nsteps = 200\n\
                 [[stage]]\nkind = \"record\"\nname = \"ref\"\n\
                 [[stage]]\nkind = \"change_box\"\nboundary = [\"s\", \"p\", \"p\"]\n\
                 [[stage]]\nkind = \"nve\"\ntimestep = 1e-7\nsteps = 1\n";
    let deck = glass_deck(d.path(), extra);
    ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], d.path()));
    let (step, cols, rows) = dump_frames(&d.path().join("s.dump")).pop().unwrap();
    assert_eq!(step, 201);
    let at = |c: &str| cols.iter().position(|x| x == c).unwrap();
    let (lo, hi) = rows.values().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| (a.min(r[at("x")]), b.max(r[at("x")])));
    let mut inner = 0;
    for (id, r) in &rows {
        let x = r[at("x")];
        if x - lo > 5.5 && hi - x > 5.5 {
            inner += 1;
            assert!(r[at("vm_strain")] < 1e-5 && r[at("d2min")] < 1e-8, "atom {} at x = {}: strain {} D2min {}", id, x, r[at("vm_strain")], r[at("d2min")]);
        }
    }
    assert!(inner > 1000, "{} inner atoms", inner);
}

/// thermo.extra tau_alpha_*: NaN while F_s(q, t) is above 1/e, then the
/// τα that `glassmd analyze` finds in the run's trajectory (the same rows,
/// the same interpolation in ln t); diffusion_*: the D of the same fit;
/// a liquid from 5000 K, 1 ps of NVE; the same CSV after a restart.
#[test]
fn in_situ_tau_alpha_and_diffusion_match_the_trajectory() {
    let d = tempdir();
    let extra = "[thermo]\nevery = 20\nfile = \"thermo.csv\"\nextra = [\"fs_all\", \"fs_Zr\", \"tau_alpha_all\", \"tau_alpha_Zr\", \"diffusion_all\", \"diffusion_Cu\"]\n\n[compute]\nfs_q = 2.7\n\n\
                 [output]\nsnapshot = { file = \"traj.h5\", every = 20, fields = [\"position\"] }\n\n\
                 [[stage]]\nkind = \"velocity\"\ntemperature = 5000.0\nseed = 5\n\
                 [[stage]]\nkind = \"nve\"\nsteps = 500\ntimestep = 0.002\n\
                 [[stage]]\nkind = \"record\"\nname = \"liquid\"\n";
    let deck = glass_deck(d.path(), extra);
    ok(&glassmd(2, 1, &["run", deck.to_str().unwrap()], d.path()));
    let sum = last_json(&ok(&glassmd(1, 1, &["analyze", "traj.h5", "--elements", "Cu", "Zr", "--compute", "msd,fs", "--q", "2.7", "--origin-stride", "0", "--out", "dyn.csv"], d.path())));
    let thermo = read_thermo_csv(&d.path().join("thermo.csv"));
    let md: Vec<&BTreeMap<String, f64>> = thermo.iter().filter(|r| r["step"] >= 0.0).collect();
    // D: the same line through the second half of the MSD (the origins'
    // row at t = 0 included, as the trajectory's first frame).
    for (ours, sp) in [("diffusion_all", "all"), ("diffusion_Cu", "Cu")] {
        let theirs = sum["diffusion_A2_per_ps"][sp].as_f64().unwrap();
        let last = md.last().unwrap()[ours];
        eprintln!("{}: in situ {} A^2/ps, trajectory {}", ours, last, theirs);
        assert!((last - theirs).abs() < 1e-10 * theirs, "{}: {} vs {}", ours, last, theirs);
    }
    for (ours, sp) in [("tau_alpha_all", "all"), ("tau_alpha_Zr", "Zr")] {
        let theirs = sum["tau_alpha_ps"][sp].as_f64().unwrap_or_else(|| panic!("no tau_alpha_ps {} in {}", sp, sum));
        let fs = if sp == "all" { "fs_all" } else { "fs_Zr" };
        // NaN until the first row with F_s at or below 1/e, finite from it.
        let mut crossed = false;
        for t in &md {
            crossed |= t[fs] <= (-1.0f64).exp();
            assert_eq!(t[ours].is_finite(), crossed, "step {}: {} = {} with F_s = {}", t["step"], ours, t[ours], t[fs]);
        }
        let last = md.last().unwrap()[ours];
        eprintln!("{}: in situ {} ps, trajectory {} ps", ours, last, theirs);
        assert!((last - theirs).abs() < 1e-10 * theirs, "{}: {} vs {}", ours, last, theirs);
    }
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.path().join("results.json")).unwrap()).unwrap();
    assert_eq!(results["liquid"]["tau_alpha_all"].as_f64(), Some(md.last().unwrap()["tau_alpha_all"]));
    assert_eq!(results["liquid"]["diffusion_Cu"].as_f64(), Some(md.last().unwrap()["diffusion_Cu"]));
    // Stopped at step 130, between the rows (120, 140) where F_s crosses
    // 1/e, and restarted: the
    // checkpoint carries the last row and the origins' time, so the
    // thermo CSV is the same byte for byte.
    let b = tempdir();
    let deck_b = glass_deck(b.path(), &extra.replace("[output]\n", "[output]\ncheckpoint = { file = \"restart.h5\", every = 0 }\n"));
    let stopped = glassmd(2, 1, &["run", deck_b.to_str().unwrap(), "--stop-at-step", "130"], b.path());
    assert_eq!(stopped.status.code(), Some(75), "{}", String::from_utf8_lossy(&stopped.stderr));
    ok(&glassmd(2, 1, &["run", deck_b.to_str().unwrap(), "--restart", "restart.h5"], b.path()));
    let (x, y) = (std::fs::read_to_string(d.path().join("thermo.csv")).unwrap(), std::fs::read_to_string(b.path().join("thermo.csv")).unwrap());
    assert!(x == y, "thermo.csv with tau_alpha differs after a restart");
}
