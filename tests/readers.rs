//! Our files in the tools users read them with (the venv `.ci/run` makes
//! holds OVITO, ASE, MDAnalysis and h5py; `GLASSMD_PYTHON` names it):
//!
//! * OVITO names the species of a dump (`element` column) and finds
//!   velocities, forces, per-atom energies and stresses in extended XYZ;
//! * ASE reads species from a dump, and velocities, forces, per-atom
//!   energies and stresses from extended XYZ;
//! * MDAnalysis reads an H5MD file holding forces (written with
//!   `force_unit = "kJ mol-1 Angstrom-1"`) and extended XYZ positions;
//! * `glassmd convert` output (dump and xyz) opens in OVITO.
//!
//! Every number a tool reports is compared with glassmd's own dump.
//! Skipped with a message when the tools are missing, unless
//! `GLASSMD_REQUIRE_TOOLS=1`.

mod common;
use common::*;
use std::process::Command;

fn python() -> Option<String> {
    match std::env::var("GLASSMD_PYTHON") {
        Ok(p) => Some(p),
        Err(_) if std::env::var("GLASSMD_REQUIRE_TOOLS").is_ok_and(|v| v == "1") => panic!("GLASSMD_REQUIRE_TOOLS=1 but GLASSMD_PYTHON is not set"),
        Err(_) => {
            eprintln!("skipping the reader checks: set GLASSMD_PYTHON to a Python with ovito, ase, MDAnalysis and h5py");
            None
        }
    }
}

fn close(a: &serde_json::Value, b: &[f64], tol: f64, what: &str) {
    let a: Vec<f64> = a.as_array().unwrap_or_else(|| panic!("{}: {}", what, a)).iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(a.len(), b.len(), "{}: {:?} vs {:?}", what, a, b);
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * y.abs().max(1.0), "{}: {:?} vs glassmd's {:?}", what, a, b);
    }
}

#[test]
fn ovito_ase_and_mdanalysis_read_our_files() {
    let Some(py) = python() else { return };
    let d = tempdir();
    let all = "[\"position\", \"velocity\", \"force\", \"pe\", \"stress\"]";
    small_deck(
        d.path(),
        10,
        &format!(
            "dump = {{ file = \"traj.dump\", every = 10, fields = {all} }}\nxyz = {{ file = \"traj.xyz\", every = 10, fields = {all} }}\n\
             snapshot = {{ file = \"traj.h5md\", every = 10, fields = [\"position\", \"velocity\", \"force\", \"pe\"], force_unit = \"kJ mol-1 Angstrom-1\" }}"
        ),
        "[[stage]]\nkind = \"nvt\"\ntemperature = 1200\nsteps = 20\n",
    );
    ok(&glassmd(1, 1, &["run", "deck.toml"], d.path()));
    ok(&glassmd(1, 1, &["convert", "traj.h5md", "--to", "dump", "--out", "conv.lammpstrj"], d.path()));
    ok(&glassmd(1, 1, &["convert", "traj.h5md", "--to", "xyz", "--out", "conv.xyz", "--frames", "0:3"], d.path()));
    let out = Command::new(&py).arg(root().join("tests/python/check_readers.py")).arg(d.path()).output().unwrap();
    assert!(out.status.success(), "python readers failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();

    // glassmd's own frame 0, atom id 1: id type element x y z ix iy iz vx vy vz fx fy fz pe sxx..syz.
    let text = std::fs::read_to_string(d.path().join("traj.dump")).unwrap();
    let head = text.lines().find(|l| l.starts_with("ITEM: ATOMS")).unwrap();
    assert_eq!(head, "ITEM: ATOMS id type element x y z ix iy iz vx vy vz fx fy fz pe sxx syy szz sxy sxz syz");
    let row: Vec<&str> = text.lines().skip_while(|l| !l.starts_with("ITEM: ATOMS")).nth(1).unwrap().split(' ').collect();
    assert_eq!(row[0], "1");
    let num = |k: usize| row[k].parse::<f64>().unwrap();
    let (element, x, vel, f, pe) = (row[2], [num(3), num(4), num(5)], [num(9), num(10), num(11)], [num(12), num(13), num(14)], num(15));
    let s: Vec<f64> = (16..22).map(num).collect();

    // OVITO.
    assert_eq!(v["ovito_dump_types"], serde_json::json!(["Cu", "Zr"]));
    assert_eq!(v["ovito_dump_first_type"], element);
    close(&v["ovito_xyz_velocity"], &vel, 1e-12, "OVITO xyz velocity");
    close(&v["ovito_xyz_force"], &f, 1e-12, "OVITO xyz force");
    close(&v["ovito_xyz_pe"], &[pe], 1e-12, "OVITO xyz potential energy");
    close(&v["ovito_xyz_stress"], &s, 1e-12, "OVITO xyz stress tensor");
    for name in ["ovito_conv.lammpstrj", "ovito_conv.xyz"] {
        let c = &v[name];
        assert_eq!(c["frames"], 3, "{}", name);
        assert_eq!(c["count"], 500, "{}", name);
        assert_eq!(c["types"], serde_json::json!(["Cu", "Zr"]), "{}", name);
    }
    // The converted last frame (step 20) against glassmd's dump at step 20.
    let last = text.lines().rev().take_while(|l| !l.starts_with("ITEM: ATOMS")).collect::<Vec<_>>();
    let r20: Vec<f64> = last.iter().find(|l| l.starts_with("1 ")).unwrap().split(' ').skip(3).filter_map(|t| t.parse().ok()).collect();
    for name in ["ovito_conv.lammpstrj", "ovito_conv.xyz"] {
        close(&v[name]["position"], &r20[0..3], 1e-12, name);
        // Forces went through kJ/mol/A and back.
        close(&v[name]["force"], &r20[9..12], 1e-12, name);
    }

    // ASE.
    assert_eq!(v["ase_dump_symbols"], serde_json::json!(["Cu", "Zr"]));
    assert_eq!(v["ase_xyz_symbol"], element);
    close(&v["ase_xyz_velocity"], &vel, 1e-9, "ASE xyz velocities (from momenta and masses)");
    close(&v["ase_xyz_force"], &f, 1e-12, "ASE xyz forces");
    close(&v["ase_xyz_pe"], &[pe], 1e-12, "ASE xyz per-atom energies");
    // ASE stresses: Voigt xx yy zz yz xz xy, stress × volume in eV (1 bar·Å³ = 6.2415e-7 eV).
    let ev = 1e5 * 1e-30 / 1.602176634e-19;
    let voigt = [s[0] * ev, s[1] * ev, s[2] * ev, s[5] * ev, s[4] * ev, s[3] * ev];
    close(&v["ase_xyz_stresses"], &voigt, 1e-12, "ASE xyz per-atom stresses");

    // MDAnalysis: forces in its kJ/(mol·A), positions (float32).
    assert_eq!(v["mda_h5md_frames"], 3);
    let kj = 96.485_332_123_310_018;
    close(&v["mda_h5md_force"], &[f[0] * kj, f[1] * kj, f[2] * kj], 1e-6, "MDAnalysis H5MD forces");
    close(&v["mda_h5md_position"], &x, 1e-5, "MDAnalysis H5MD positions");
    close(&v["mda_xyz_position"], &x, 1e-5, "MDAnalysis XYZ positions");
    assert_eq!(v["mda_xyz_names"], serde_json::json!(["Cu", "Zr"]));
}

/// The per-atom computes `groups` and `ke` in dump, extended XYZ and H5MD,
/// as OVITO, ASE and h5py read them, agree with glassmd's dump for every
/// atom.
#[test]
fn readers_see_per_atom_computes() {
    let Some(py) = python() else { return };
    let d = tempdir();
    let f = "[\"position\", \"groups\", \"ke\"]";
    small_deck(
        d.path(),
        10,
        &format!("dump = {{ file = \"c.dump\", every = 10, fields = {f} }}\nxyz = {{ file = \"c.xyz\", every = 10, fields = {f} }}\nsnapshot = {{ file = \"c.h5md\", every = 10, fields = {f} }}"),
        "[[group]]\nname = \"low\"\nregion = { z = [-inf, 8.0] }\n[[group]]\nname = \"cu\"\ntypes = [1]\n[[stage]]\nkind = \"nve\"\nsteps = 10\n",
    );
    ok(&glassmd(1, 1, &["run", "deck.toml"], d.path()));
    let out = Command::new(&py).arg(root().join("tests/python/check_computes.py")).arg(d.path()).output().unwrap();
    assert!(out.status.success(), "python readers failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    // glassmd's dump, frame 0: id type element x y z ix iy iz groups ke.
    let text = std::fs::read_to_string(d.path().join("c.dump")).unwrap();
    let head = text.lines().find(|l| l.starts_with("ITEM: ATOMS")).unwrap();
    assert_eq!(head, "ITEM: ATOMS id type element x y z ix iy iz groups ke");
    let rows: Vec<Vec<&str>> = text.lines().skip_while(|l| !l.starts_with("ITEM: ATOMS")).skip(1).take(500).map(|l| l.split(' ').collect()).collect();
    let (mut low, mut cu) = (0, 0);
    for r in &rows {
        let (id, typ, z, g, ke) = (r[0], r[1], r[5].parse::<f64>().unwrap(), r[9].parse::<u64>().unwrap(), r[10].parse::<f64>().unwrap());
        assert_eq!(g & 1 != 0, z <= 8.0, "atom {id}: groups {g}, z {z}");
        assert_eq!(g & 2 != 0, typ == "1", "atom {id}: groups {g}, type {typ}");
        low += (g & 1) as usize;
        cu += ((g >> 1) & 1) as usize;
        for reader in ["ovito_c.dump", "ovito_c.xyz", "ase_xyz", "h5py"] {
            let e = &v[reader][id];
            assert_eq!(e[0].as_u64(), Some(g), "{reader} groups of atom {id}");
            let k = e[1].as_f64().unwrap();
            assert!((k - ke).abs() <= 1e-12 * ke.abs().max(1e-3), "{reader} ke of atom {id}: {k} vs {ke}");
        }
    }
    assert!(low > 50 && cu > 200, "low {low}, cu {cu}");
    assert!(v["ase_xyz_groups_dtype"].as_str().unwrap().starts_with("int"), "{}", v["ase_xyz_groups_dtype"]);
    assert_eq!(v["h5py_ke_unit"], "eV");
}

/// A triclinic cell (the tilted Cu64Zr36 liquid of the LAMMPS references)
/// as OVITO, ASE and MDAnalysis read it from our dump, extended XYZ, H5MD
/// and `glassmd convert` output: the same edge vectors, a = (lx, 0, 0),
/// b = (xy, ly, 0), c = (xz, yz, lz), and the same positions.
#[test]
fn readers_see_a_triclinic_cell() {
    let Some(py) = python() else { return };
    let d = tempdir();
    write_deck(
        d.path(),
        &root().join("tests/data/reference/cuzr_tri_ppp/config.data"),
        "p,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        "[thermo]\nevery = 10\nfile = \"thermo.csv\"\n\n[output]\n\
         dump = { file = \"traj.dump\", every = 10, fields = [\"position\"] }\n\
         xyz = { file = \"traj.xyz\", every = 10, fields = [\"position\"] }\n\
         snapshot = { file = \"traj.h5md\", every = 10, fields = [\"position\"] }\n\n\
         [[stage]]\nkind = \"nve\"\nsteps = 10\ntimestep = 0.001\n",
    );
    ok(&glassmd(1, 1, &["run", "deck.toml"], d.path()));
    ok(&glassmd(1, 1, &["convert", "traj.h5md", "--to", "dump", "--out", "conv.lammpstrj"], d.path()));
    ok(&glassmd(1, 1, &["convert", "traj.h5md", "--to", "xyz", "--out", "conv.xyz"], d.path()));
    let out = Command::new(&py).arg(root().join("tests/python/check_cell.py")).arg(d.path()).output().unwrap();
    assert!(out.status.success(), "python readers failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    let t = &read_thermo_csv(&d.path().join("thermo.csv"))[0];
    assert!((t["xy"] - 14.5).abs() < 1e-12 && (t["xz"] - 4.0).abs() < 1e-12 && (t["yz"] + 5.0).abs() < 1e-12, "thermo tilts {} {} {}", t["xy"], t["xz"], t["yz"]);
    let want = [[t["lx"], 0.0, 0.0], [t["xy"], t["ly"], 0.0], [t["xz"], t["yz"], t["lz"]]];
    let text = std::fs::read_to_string(d.path().join("traj.dump")).unwrap();
    let row: Vec<f64> = text.lines().skip_while(|l| !l.starts_with("ITEM: ATOMS")).nth(1).unwrap().split(' ').skip(2).filter_map(|s| s.parse().ok()).collect();
    for name in ["ovito_traj.dump", "ovito_traj.xyz", "ovito_conv.lammpstrj", "ovito_conv.xyz", "ase_traj.dump", "ase_traj.xyz", "mda_h5md"] {
        let tol = if name.starts_with("mda") { 1e-5 } else { 1e-10 };
        for k in 0..3 {
            close(&v[name]["cell"][k], &want[k], tol, &format!("{name} edge vector {k}"));
        }
        if name.starts_with("ovito") {
            close(&v[name]["origin"], &[0.0, 0.0, 0.0], 1e-10, &format!("{name} origin"));
            close(&v[name]["position"], &row[0..3], 1e-10, &format!("{name} position of atom 1"));
        }
    }
}
