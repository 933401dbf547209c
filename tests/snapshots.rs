//! Trajectories and interchange: H5MD snapshots written on 1, 2 and 4 ranks
//! hold the same data and are read by h5py and MDAnalysis; LAMMPS dump and
//! extended XYZ frames at intervals; LAMMPS reads our data file back with
//! the same energy, and re-runs our dump frames to our energies.
//!
//! The Python readers run in the interpreter named by `GLASSMD_PYTHON`
//! (CI's `.ci/run` makes a virtual environment with h5py and MDAnalysis);
//! LAMMPS is `lmp` (Debian's `lammps`). Where they are missing the checks are
//! skipped with a message, unless `GLASSMD_REQUIRE_TOOLS=1` (set in CI).

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

fn deck(dir: &Path, steps: u64) {
    let output = "snapshot = { file = \"traj.h5\", every = 50, fields = [\"position\", \"velocity\", \"force\", \"pe\", \"stress\"], compression = 4 }\n\
                  dump = { file = \"traj.lammpstrj\", every = 50, fields = [\"position\", \"velocity\", \"pe\"] }\n\
                  xyz = { file = \"traj.xyz\", every = 100, fields = [\"position\", \"velocity\"] }";
    let stages = format!("[[stage]]\nkind = \"nvt\"\ntemperature = 1200\nsteps = {}\n[[stage]]\nkind = \"write_data\"\nfile = \"final.data\"\n", steps);
    small_deck(dir, 50, output, &stages);
}

fn required() -> bool {
    std::env::var("GLASSMD_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

fn f64s(f: &hdf5::File, name: &str) -> Vec<f64> {
    f.dataset(name).unwrap().read_raw::<f64>().unwrap()
}

#[test]
fn snapshots_agree_across_rank_counts() {
    let dirs: Vec<_> = (0..3).map(|_| tempdir()).collect();
    for (d, np) in dirs.iter().zip([1, 2, 4]) {
        deck(d.path(), 100);
        ok(&glassmd_mpirun(np, &["run", "deck.toml"], d.path()));
    }
    let files: Vec<hdf5::File> = dirs.iter().map(|d| hdf5::File::open(d.path().join("traj.h5")).unwrap()).collect();
    let one = &files[0];
    assert_eq!(one.dataset("particles/all/position/value").unwrap().shape(), vec![3, 500, 3]);
    assert_eq!(one.dataset("particles/all/position/step").unwrap().read_raw::<i64>().unwrap(), vec![0, 50, 100]);
    let ids = one.dataset("particles/all/id").unwrap().read_raw::<i64>().unwrap();
    assert_eq!(ids, (1..=500).collect::<Vec<i64>>());
    for other in &files[1..] {
        // Identity, types, masses, box and steps: exactly the same.
        for n in ["particles/all/id", "particles/all/species", "particles/all/image/value", "particles/all/position/step"] {
            assert_eq!(one.dataset(n).unwrap().read_raw::<i64>().unwrap(), other.dataset(n).unwrap().read_raw::<i64>().unwrap(), "{}", n);
        }
        for n in ["particles/all/mass", "particles/all/box/edges/value", "particles/all/position/time"] {
            assert_eq!(f64s(one, n), f64s(other, n), "{}", n);
        }
        // The step-0 frame comes straight from the same configuration; its
        // velocities are the velocity stage's, whose momentum and
        // temperature sums are reduced across ranks (round-off only).
        let (p1, p2) = (f64s(one, "particles/all/position/value"), f64s(other, "particles/all/position/value"));
        assert_eq!(p1[..1500], p2[..1500]);
        let (v1, v2) = (f64s(one, "particles/all/velocity/value"), f64s(other, "particles/all/velocity/value"));
        assert!(v1[..1500].iter().any(|&v| v != 0.0), "frame 0 holds the drawn velocities, not the data file's zeros");
        let worst = v1[..1500].iter().zip(&v2[..1500]).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-12, "step-0 velocities differ by {:e}", worst);
        // Later frames and sums over neighbours differ only by the order
        // of floating-point additions across ranks.
        for (n, tol) in [
            ("particles/all/position/value", 1e-9),
            ("particles/all/velocity/value", 1e-8),
            ("particles/all/force/value", 1e-8),
            ("particles/all/potential_energy/value", 1e-10),
            ("particles/all/stress/value", 1e-3),
            ("observables/potential_energy/value", 1e-9),
        ] {
            let (a, b) = (f64s(one, n), f64s(other, n));
            assert_eq!(a.len(), b.len());
            let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            assert!(worst < tol, "{}: max difference {:e}", n, worst);
        }
    }
    // Per-atom energies sum to the total of the same frame.
    let pe = f64s(one, "particles/all/potential_energy/value");
    let total = f64s(one, "observables/potential_energy/value");
    for k in 0..3 {
        let s: f64 = pe[k * 500..(k + 1) * 500].iter().sum();
        assert!((s - total[k]).abs() < 1e-9 * total[k].abs(), "frame {}: {} vs {}", k, s, total[k]);
    }
    // Text trajectories: dump frames at 0, 50, 100; extxyz at 0, 100.
    let dump = std::fs::read_to_string(dirs[1].path().join("traj.lammpstrj")).unwrap();
    assert_eq!(dump.matches("ITEM: TIMESTEP").count(), 3);
    assert!(dump.contains("ITEM: ATOMS id type element x y z ix iy iz vx vy vz pe"));
    let xyz = std::fs::read_to_string(dirs[1].path().join("traj.xyz")).unwrap();
    let heads: Vec<&str> = xyz.lines().filter(|l| l.starts_with("Lattice=")).collect();
    assert_eq!(heads.len(), 2);
    assert!(heads[1].contains("Properties=species:S:1:pos:R:3:id:I:1:image:I:3:velo:R:3:masses:R:1:momenta:R:3") && heads[1].contains("step=100"), "{}", heads[1]);
    assert_eq!(xyz.lines().count(), 2 * 502);
    assert!(xyz.lines().nth(2).unwrap().starts_with("Cu ") || xyz.lines().nth(2).unwrap().starts_with("Zr "));
    // h5py and MDAnalysis read it.
    python_check(dirs[2].path());
}

/// MDAnalysis knows no eV-based force unit, so it reads files written
/// without forces: write one and read it with h5py and MDAnalysis.
fn python_check(dir: &Path) {
    let py = match std::env::var("GLASSMD_PYTHON") {
        Ok(p) => p,
        Err(_) if required() => panic!("GLASSMD_REQUIRE_TOOLS=1 but GLASSMD_PYTHON is not set"),
        Err(_) => {
            eprintln!("skipping the h5py/MDAnalysis check: set GLASSMD_PYTHON to a Python with h5py and MDAnalysis");
            return;
        }
    };
    let text = std::fs::read_to_string(dir.join("deck.toml")).unwrap();
    let text = text.replace("\"position\", \"velocity\", \"force\", \"pe\", \"stress\"", "\"position\", \"velocity\", \"pe\"").replace("traj.h5", "mda.h5");
    std::fs::write(dir.join("mda.toml"), text).unwrap();
    ok(&glassmd_mpirun(2, &["run", "mda.toml", "--overwrite"], dir));
    let out = Command::new(&py).arg(root().join("tests/python/check_h5md.py")).arg(dir.join("mda.h5")).args(["500", "3"]).output().unwrap();
    assert!(out.status.success(), "python check failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(v["frames"], 3);
    assert_eq!(v["steps"], serde_json::json!([0, 50, 100]));
    assert!((v["mda_time"].as_f64().unwrap() - 0.1).abs() < 1e-6);
    assert!(v["observables"].as_array().unwrap().iter().any(|o| o == "temperature"));
}

/// `lmp` if installed.
fn lammps() -> Option<std::path::PathBuf> {
    let found = Command::new("sh").args(["-c", "command -v lmp"]).output().ok().filter(|o| o.status.success());
    match found {
        Some(o) => Some(String::from_utf8_lossy(&o.stdout).trim().into()),
        None if required() => panic!("GLASSMD_REQUIRE_TOOLS=1 but lmp is not installed"),
        None => {
            eprintln!("skipping the LAMMPS round trip: lmp not installed (apt-get install lammps)");
            None
        }
    }
}

/// Thermo rows of a LAMMPS log: (step, pe, ke).
fn lammps_rows(log: &str) -> Vec<(u64, f64, f64)> {
    let mut rows = Vec::new();
    let mut on = false;
    for l in log.lines() {
        let t: Vec<&str> = l.split_whitespace().collect();
        if t.first() == Some(&"Step") {
            on = true;
            continue;
        }
        if on {
            match (t.first().and_then(|s| s.parse().ok()), t.get(1).and_then(|s| s.parse().ok()), t.get(2).and_then(|s| s.parse().ok())) {
                (Some(s), Some(pe), Some(ke)) => rows.push((s, pe, ke)),
                _ => on = false,
            }
        }
    }
    rows
}

#[test]
fn lammps_reads_our_data_file_and_dump_back() {
    let Some(lmp) = lammps() else { return };
    let d = tempdir();
    deck(d.path(), 100);
    ok(&glassmd(1, 1, &["run", "deck.toml"], d.path()));
    let ours = read_thermo_csv(&d.path().join("thermo.csv"));
    let input = format!(
        "units metal\natom_style atomic\nboundary p p p\nread_data final.data\npair_style eam/fs\npair_coeff * * {pot} Cu Zr\n\
         neighbor 2.0 bin\nthermo_style custom step pe ke\nthermo_modify format float %.16g\nthermo 50\nrun 0\n\
         rerun traj.lammpstrj dump x y z box yes\n",
        pot = potential("CuZr_mm.eam.fs").display()
    );
    std::fs::write(d.path().join("in.check"), input).unwrap();
    let out = Command::new(lmp).args(["-in", "in.check", "-log", "log.check", "-screen", "none"]).current_dir(d.path()).output().unwrap();
    let log = std::fs::read_to_string(d.path().join("log.check")).unwrap_or_default();
    assert!(out.status.success(), "lmp failed:\n{}\n{}", log, String::from_utf8_lossy(&out.stderr));
    let rows = lammps_rows(&log);
    // run 0 on the data file (a data file has no step: LAMMPS calls it 0;
    // ours is the state at step 100), then the rerun of frames 0, 50, 100.
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![0, 0, 50, 100], "{}", log);
    let at = |s: u64| ours.iter().find(|r| r["step"] as u64 == s).unwrap();
    let (step, pe, ke) = (100, rows[0].1, rows[0].2);
    assert!((pe - at(step)["pe"]).abs() < 1e-9 * pe.abs(), "data file: LAMMPS pe {} vs ours {}", pe, at(step)["pe"]);
    assert!((ke - at(step)["ke"]).abs() < 1e-9 * ke.abs(), "data file: LAMMPS ke {} vs ours {}", ke, at(step)["ke"]);
    for &(step, pe, _) in &rows[1..] {
        assert!((pe - at(step)["pe"]).abs() < 1e-9 * pe.abs(), "dump frame {}: LAMMPS pe {} vs ours {}", step, pe, at(step)["pe"]);
    }
}

/// A triclinic run's data file, read by LAMMPS `read_data`, gives our
/// energy, and LAMMPS `rerun` of our triclinic dump (`ITEM: BOX BOUNDS xy
/// xz yz`) gives our energy at every frame; the H5MD file holds the cell as
/// edge vectors (3×3 per frame).
#[test]
fn lammps_reads_our_triclinic_data_file_and_dump_back() {
    let Some(lmp) = lammps() else { return };
    let d = tempdir();
    let data = root().join("tests/data/reference/cuzr_tri_ppp/config.data");
    write_deck(
        d.path(),
        &data,
        "p,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        "[thermo]\nevery = 10\nfile = \"thermo.csv\"\n\n[output]\n\
         dump = { file = \"traj.lammpstrj\", every = 10, fields = [\"position\", \"velocity\"] }\n\
         snapshot = { file = \"traj.h5\", every = 10, fields = [\"position\"] }\n\n\
         [[stage]]\nkind = \"npt\"\ntemperature = 1500.0\npressure_gpa = { tri = 0.0 }\npdamp = 0.2\nsteps = 40\ntimestep = 0.001\n\
         [[stage]]\nkind = \"write_data\"\nfile = \"final.data\"\n",
    );
    ok(&glassmd(1, 1, &["run", "deck.toml"], d.path()));
    let ours = read_thermo_csv(&d.path().join("thermo.csv"));
    let text = std::fs::read_to_string(d.path().join("final.data")).unwrap();
    assert!(text.lines().any(|l| l.ends_with("xy xz yz")), "the data file has no tilt line");
    let input = format!(
        "units metal\natom_style atomic\nboundary p p p\nread_data final.data\npair_style eam/fs\npair_coeff * * {pot} Cu Zr\n\
         neighbor 2.0 bin\nthermo_style custom step pe ke xy xz yz\nthermo_modify format float %.16g\nthermo 10\nrun 0\n\
         rerun traj.lammpstrj dump x y z box yes\n",
        pot = potential("CuZr_mm.eam.fs").display()
    );
    std::fs::write(d.path().join("in.check"), input).unwrap();
    let out = Command::new(lmp).args(["-in", "in.check", "-log", "log.check", "-screen", "none"]).current_dir(d.path()).output().unwrap();
    let log = std::fs::read_to_string(d.path().join("log.check")).unwrap_or_default();
    assert!(out.status.success(), "lmp failed:\n{}\n{}", log, String::from_utf8_lossy(&out.stderr));
    let rows = lammps_rows(&log);
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![0, 0, 10, 20, 30, 40], "{}", log);
    let at = |s: u64| ours.iter().find(|r| r["step"] as u64 == s).unwrap();
    let last = at(40);
    assert!((rows[0].1 - last["pe"]).abs() < 1e-9 * last["pe"].abs(), "data file: LAMMPS pe {} vs ours {}", rows[0].1, last["pe"]);
    assert!((rows[0].2 - last["ke"]).abs() < 1e-9 * last["ke"].abs(), "data file: LAMMPS ke {} vs ours {}", rows[0].2, last["ke"]);
    for &(step, pe, _) in &rows[1..] {
        assert!((pe - at(step)["pe"]).abs() < 1e-9 * pe.abs(), "dump frame {}: LAMMPS pe {} vs ours {}", step, pe, at(step)["pe"]);
    }
    // The barostat moved the tilts; H5MD holds each frame's cell as rows
    // a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz).
    let f = hdf5::File::open(d.path().join("traj.h5")).unwrap();
    let e = f.dataset("particles/all/box/edges/value").unwrap();
    assert_eq!(e.shape(), vec![5, 3, 3]);
    let m = e.read_raw::<f64>().unwrap();
    let r = &m[4 * 9..5 * 9];
    for (k, (want, got)) in [(last["lx"], r[0]), (0.0, r[1]), (0.0, r[2]), (last["xy"], r[3]), (last["ly"], r[4]), (0.0, r[5]), (last["xz"], r[6]), (last["yz"], r[7]), (last["lz"], r[8])].iter().enumerate() {
        assert!((want - got).abs() <= 1e-9 * want.abs().max(1.0), "H5MD edge entry {k}: {got} vs thermo {want}");
    }
    assert!((last["xy"] - 14.5).abs() > 1e-6, "the tilt did not change");
}
