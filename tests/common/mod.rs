//! Shared helpers for the integration tests: paths to the reference data,
//! running the `glassmd` binary (optionally under mpirun), and parsing
//! LAMMPS dumps, logs and our thermo CSV.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
pub fn reference(case: &str) -> PathBuf {
    root().join("tests/data/reference").join(case)
}
pub fn potential(name: &str) -> PathBuf {
    root().join("inputs/potentials").join(name)
}
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_glassmd"))
}

/// The four LAMMPS reference cases: (folder, style, potential, boundary, elements).
pub const CASES: &[(&str, &str, &str, &str, &[&str])] = &[
    ("cuzr_fs_ppp", "eam/fs", "CuZr_mm.eam.fs", "p,p,p", &["Cu", "Zr"]),
    ("cuzr_fs_spp", "eam/fs", "CuZr_mm.eam.fs", "s,p,p", &["Cu", "Zr"]),
    ("cu_funcfl_ppp", "eam", "Cu_u3.eam", "p,p,p", &[]),
    ("cuni_setfl_ppp", "eam/alloy", "CuNi.eam.alloy", "p,p,p", &["Cu", "Ni"]),
    ("cuzr_tri_ppp", "eam/fs", "CuZr_mm.eam.fs", "p,p,p", &["Cu", "Zr"]),
    ("cuzr_tri_spp", "eam/fs", "CuZr_mm.eam.fs", "s,p,p", &["Cu", "Zr"]),
];

/// Run glassmd with `args` on `np` ranks (np = 1: no mpirun) and `threads` threads.
pub fn glassmd(np: usize, threads: usize, args: &[&str], dir: &Path) -> Output {
    launch(np > 1, np, threads, args, dir)
}

/// Run glassmd under mpirun on `np` ranks, np = 1 included.
pub fn glassmd_mpirun(np: usize, args: &[&str], dir: &Path) -> Output {
    launch(true, np, 1, args, dir)
}

/// A fresh folder to hold one mpirun's session directory, for as long as
/// the returned guard lives. Open MPI 4.1 creates `<base>/ompi.<host>.<uid>`
/// by checking and then calling mkdir, so two mpiruns started at the same
/// moment on one machine can both see it missing and one fails with "A call
/// to mkdir was unable to create the desired directory ... File exists"
/// (open-mpi/ompi#8510). Tests run side by side, so each launch gets its own
/// base through `OMPI_MCA_orte_tmpdir_base`. The prefix is short because
/// the session directory holds Unix sockets, whose paths are limited to
/// 108 bytes.
fn mpi_session_base(cmd: &mut Command) -> tempfile::TempDir {
    let base = tempfile::Builder::new().prefix("ompi").tempdir().expect("cannot create a temporary folder");
    cmd.env("OMPI_MCA_orte_tmpdir_base", base.path());
    base
}

/// `mpirun` on `np` ranks of the glassmd binary, as every test launches it,
/// with the guard of its own session folder (`mpi_session_base`), to hold
/// until the command has ended.
pub fn mpirun_command(np: usize) -> (Command, tempfile::TempDir) {
    let mut c = Command::new("mpirun");
    c.args(["--allow-run-as-root", "--oversubscribe", "-np", &np.to_string()]).arg(bin());
    c.env("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
    let session = mpi_session_base(&mut c);
    (c, session)
}

fn launch(mpirun: bool, np: usize, threads: usize, args: &[&str], dir: &Path) -> Output {
    let (mut cmd, _session) = if mpirun {
        let (c, s) = mpirun_command(np);
        (c, Some(s))
    } else {
        (Command::new(bin()), None)
    };
    cmd.arg("--threads").arg(threads.to_string()).args(args).current_dir(dir);
    cmd.output().expect("failed to start glassmd (is mpirun installed?)")
}

pub fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "glassmd failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Rows of a LAMMPS custom dump keyed by id: column name → value.
pub fn read_dump(path: &Path) -> BTreeMap<u64, Vec<f64>> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let k = lines.iter().position(|l| l.starts_with("ITEM: ATOMS")).unwrap();
    lines[k + 1..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|t| t.parse().unwrap()).collect();
            (v[0] as u64, v)
        })
        .collect()
}

/// Thermo blocks of a LAMMPS log: each block is a list of column → value maps.
pub fn read_lammps_log(path: &Path) -> Vec<Vec<BTreeMap<String, f64>>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut blocks = Vec::new();
    let mut header: Option<Vec<String>> = None;
    for l in text.lines() {
        let t: Vec<&str> = l.split_whitespace().collect();
        if t.first() == Some(&"Step") {
            header = Some(t.iter().map(|s| s.to_string()).collect());
            blocks.push(Vec::new());
            continue;
        }
        if let Some(h) = &header {
            if t.len() == h.len() && t.iter().all(|s| s.parse::<f64>().is_ok()) {
                blocks.last_mut().unwrap().push(h.iter().cloned().zip(t.iter().map(|s| s.parse().unwrap())).collect());
            } else {
                header = None;
            }
        }
    }
    blocks
}

/// A CSV with a header line (our thermo, inherent structures): list of
/// column → value maps.
pub fn read_thermo_csv(path: &Path) -> Vec<BTreeMap<String, f64>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head: Vec<String> = lines.next().unwrap().split(',').map(|s| s.to_string()).collect();
    lines.map(|l| head.iter().cloned().zip(l.split(',').map(|s| s.parse().unwrap())).collect()).collect()
}

/// Last line of stdout parsed as JSON.
pub fn last_json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout.lines().last().expect("no output")).expect("last line is not JSON")
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A deck running `stages` (TOML text) on a reference configuration.
pub fn write_deck(dir: &Path, data: &Path, boundary: &str, style: &str, pot: &str, elements: &[&str], extra: &str) -> PathBuf {
    let b: Vec<String> = boundary.split(',').map(|s| format!("\"{}\"", s)).collect();
    let els = if elements.is_empty() {
        String::new()
    } else {
        format!("elements = [{}]", elements.iter().map(|e| format!("\"{}\"", e)).collect::<Vec<_>>().join(", "))
    };
    let deck = format!(
        "[system]\nread_data = \"{}\"\nboundary = [{}]\n\n[potential]\nstyle = \"{}\"\nfile = \"{}\"\n{}\n\n{}\n",
        data.display(),
        b.join(", "),
        style,
        potential(pot).display(),
        els,
        extra
    );
    let p = dir.join("deck.toml");
    std::fs::write(&p, deck).unwrap();
    p
}

/// An fcc Cu crystal of n×n×n cells (Foiles Cu_u3, a = 3.615 Å).
pub fn crystal(path: &Path, n: usize) {
    use std::fmt::Write;
    let a = 3.615;
    let basis = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
    let mut s = format!("fcc Cu\n\n{} atoms\n1 atom types\n\n", 4 * n * n * n);
    for ax in ["x", "y", "z"] {
        writeln!(s, "0 {} {ax}lo {ax}hi", a * n as f64).unwrap();
    }
    s.push_str("\nMasses\n\n1 63.55\n\nAtoms # atomic\n\n");
    let mut id = 0;
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                for b in &basis {
                    id += 1;
                    writeln!(s, "{id} 1 {} {} {}", (i as f64 + b[0]) * a, (j as f64 + b[1]) * a, (k as f64 + b[2]) * a).unwrap();
                }
            }
        }
    }
    std::fs::write(path, s).unwrap();
}

/// `deck.toml` in `dir`: a 500-atom random Cu64Zr36 packing with the
/// Mendelev potential, thermo every 20 steps to `thermo.csv` (`thermo`
/// overrides the interval), the `[output]` table `output`, velocities at
/// 1500 K, then `stages` (TOML `[[stage]]` tables).
#[allow(dead_code)]
pub fn small_deck(dir: &Path, thermo: u64, output: &str, stages: &str) {
    let text = format!(
        r#"
[system.create]
composition = {{ Cu = 64, Zr = 36 }}
atoms = 500
number_density = 0.0585
seed = 3
[potential]
style = "eam/fs"
file = "{pot}"
elements = ["Cu", "Zr"]
[thermo]
every = {thermo}
file = "thermo.csv"
[output]
{output}
[[stage]]
kind = "velocity"
temperature = 1500
seed = 1
{stages}
"#,
        pot = potential("CuZr_mm.eam.fs").display()
    );
    std::fs::write(dir.join("deck.toml"), text).unwrap();
}

/// Every dataset of two HDF5 files, compared exactly.
pub fn same_h5(a: &Path, b: &Path) {
    let (fa, fb) = (hdf5::File::open(a).unwrap(), hdf5::File::open(b).unwrap());
    let mut names = Vec::new();
    collect_h5(&fa.group("/").unwrap(), "", &mut names);
    assert!(names.len() > 20, "{:?}", names);
    for n in names {
        let (da, db) = (fa.dataset(&n).unwrap(), fb.dataset(&n).unwrap());
        assert_eq!(da.shape(), db.shape(), "{}", n);
        if let (Ok(va), Ok(vb)) = (da.read_raw::<hdf5::types::VarLenUnicode>(), db.read_raw::<hdf5::types::VarLenUnicode>()) {
            assert_eq!(va, vb, "{} differs", n);
            continue;
        }
        let (va, vb) = (da.read_raw::<f64>().unwrap(), db.read_raw::<f64>().unwrap());
        assert!(va.iter().zip(&vb).all(|(x, y)| x.to_bits() == y.to_bits()), "{} differs", n);
    }
}

fn collect_h5(g: &hdf5::Group, prefix: &str, out: &mut Vec<String>) {
    for name in g.member_names().unwrap() {
        let path = format!("{}/{}", prefix, name);
        if let Ok(sub) = g.group(&name) {
            collect_h5(&sub, &path, out);
        } else {
            out.push(path);
        }
    }
}

/// An atom of a LAMMPS data file: id, type, position, image flags (0 when
/// the file has none).
pub struct DataAtom {
    pub id: u64,
    pub typ: u32,
    pub x: [f64; 3],
    pub image: [i32; 3],
}

/// The `Atoms # atomic` section of a data file, in file order.
pub fn read_data_atoms(path: &Path) -> Vec<DataAtom> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut on = false;
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with("Atoms") {
            on = true;
            continue;
        }
        if on && t.chars().next().is_some_and(|c| c.is_alphabetic()) {
            break;
        }
        let v: Vec<f64> = t.split_whitespace().filter_map(|s| s.parse().ok()).collect();
        if on && v.len() >= 5 {
            let im = |k: usize| v.get(k).map_or(0, |&x| x as i32);
            out.push(DataAtom { id: v[0] as u64, typ: v[1] as u32, x: [v[2], v[3], v[4]], image: [im(5), im(6), im(7)] });
        }
    }
    out
}

/// Follow a LAMMPS thermo block: every pair within `tol` relative (pressures
/// relative to the largest pressure component of the row, tilts to lx).
pub fn follow_lammps(ours: &[BTreeMap<String, f64>], lmp: &[BTreeMap<String, f64>], pairs: &[(&str, &str)], tol: f64, tag: &str) -> f64 {
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

pub const THERMO: [(&str, &str); 11] = [
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
pub const CELL: [(&str, &str); 6] = [("lx", "Lx"), ("ly", "Ly"), ("lz", "Lz"), ("xy", "Xy"), ("xz", "Xz"), ("yz", "Yz")];
