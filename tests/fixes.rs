//! Fixes and groups in decks against LAMMPS (tests/data/lammps_fix), on the
//! 2,048-atom Cu64Zr36 glass at 300 K, 300 steps of 1 fs:
//!
//! - `setforce`: `nvt` on group "mobile" (not "base") with `setforce 0 0 0`
//!   on "base" (z ≤ 5 Å) follows LAMMPS `fix nvt` (group) + `fix setforce`
//!   to 1e-8: temperature, energies, pressures, the group temperatures
//!   (`compute temp` on "mobile" and on type 1), the force removed from the
//!   base (`f_2[1..3]`) and the thermostat energy (`f_1`), on 1 and 2 ranks
//!   and 2 threads;
//! - `deform`: `npt` on x and y with `deform` z at 0.01/ps follows LAMMPS
//!   `fix npt x y` + `fix deform z erate remap x`, box included;
//! - `addforce` with its energy and virial (`fix_modify energy yes virial
//!   yes`) follows LAMMPS, pe and the pressure tensor included;
//! - two fixes on one box component are refused; base atoms do not move;
//! - fixes act inside minimisations: setforce with CG and FIRE reaches
//!   LAMMPS `minimize` with the same fix, and addforce's energy enters the
//!   objective.
mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

fn glass_deck(dir: &Path, body: &str) -> std::path::PathBuf {
    write_deck(dir, &root().join("tests/data/lammps_min/glass300.data"), "p,p,p", "eam/fs", "CuZr_mm.eam.fs", &["Cu", "Zr"], &format!("[neighbor]\nskin = 1.0\n\n{body}"))
}

/// Compare our thermo rows to a LAMMPS log: `pairs` maps our column to
/// LAMMPS's; each value within `tol` relative to `scale(row, column)`.
/// Thermo columns every comparison checks: ours → LAMMPS's.
const BASIC: [(&str, &str); 8] = [
    ("temperature", "Temp"),
    ("pe", "PotEng"),
    ("ke", "KinEng"),
    ("etotal", "TotEng"),
    ("pressure", "Press"),
    ("pxx", "Pxx"),
    ("pyy", "Pyy"),
    ("pzz", "Pzz"),
];

/// Our step-0 row precedes the stage and its fixes (fix columns are NaN
/// there, and a fix's energy is not in its pe): `from` is the first step
/// compared.
fn follow(ours: &[BTreeMap<String, f64>], lmp: &str, pairs: &[(&str, &str)], tol: f64, from: f64) -> f64 {
    let lmp = &read_lammps_log(&root().join("tests/data/lammps_fix").join(lmp))[0];
    let mut worst = 0.0f64;
    let mut compared = 0;
    for row in lmp.iter().filter(|r| r["Step"] >= from) {
        let step = row["Step"];
        let Some(o) = ours.iter().find(|r| r["step"] == step) else { panic!("no thermo row at step {step}") };
        let pscale = ["Press", "Pxx", "Pyy", "Pzz"].iter().filter_map(|k| row.get(*k)).map(|v| v.abs()).fold(1.0, f64::max);
        for (mine, theirs) in pairs {
            let (a, b) = (o[*mine], row[*theirs]);
            if a.is_nan() && step == 0.0 {
                continue;
            }
            let scale = if theirs.starts_with('P') { pscale } else { b.abs().max(1e-3) };
            let rel = (a - b).abs() / scale;
            worst = worst.max(rel);
            assert!(rel < tol, "step {step}: {mine} = {a} vs LAMMPS {theirs} = {b} (rel {rel:e})");
            compared += 1;
        }
    }
    assert!(compared >= 30 * pairs.len(), "only {compared} values compared");
    worst
}

const SETFORCE: &str = r#"
[[group]]
name = "base"
region = { z = [-inf, 5.0] }

[[group]]
name = "mobile"
not = "base"

[[group]]
name = "copper"
types = [1]

[thermo]
every = 10
file = "thermo.csv"
extra = ["temp_mobile", "temp_copper", "setforce_fx", "setforce_fy", "setforce_fz", "nvt_energy"]

[[stage]]
kind = "nvt"
group = "mobile"
temperature = 300.0
steps = 300
timestep = 0.001
tdamp = 0.1

[[stage.fix]]
kind = "setforce"
group = "base"
force = [0.0, 0.0, 0.0]

[[stage]]
kind = "write_data"
file = "end.data"
"#;

#[test]
fn setforce_on_a_base_under_group_nvt_follows_lammps() {
    let pairs = [
        BASIC.as_slice(),
        &[
            ("temp_mobile", "c_tm"),
            ("temp_copper", "c_tc"),
            ("setforce_fx", "f_2[1]"),
            ("setforce_fy", "f_2[2]"),
            ("setforce_fz", "f_2[3]"),
            ("nvt_energy", "f_1"),
        ],
    ]
    .concat();
    let data = lammps_data_positions(&root().join("tests/data/lammps_min/glass300.data"));
    for (np, threads) in [(1, 1), (2, 1), (1, 2)] {
        let dir = tempdir();
        let deck = glass_deck(dir.path(), SETFORCE);
        ok(&glassmd(np, threads, &["run", deck.to_str().unwrap()], dir.path()));
        let rows = read_thermo_csv(&dir.path().join("thermo.csv"));
        let worst = follow(&rows, "setforce.log", &pairs, 1e-8, 0.0);
        eprintln!("setforce + nvt(mobile) vs LAMMPS, {np} rank(s) x {threads} thread(s): worst {worst:e}");
        // The base (z <= 5 A at the start) has not moved at all; the rest has.
        let end = lammps_data_positions(&dir.path().join("end.data"));
        let (mut held, mut moved) = (0, 0);
        for (id, x0) in &data {
            let x = &end[id];
            let d: f64 = (0..3).map(|k| (x[k] - x0[k]).abs()).fold(0.0, f64::max);
            if x0[2] <= 5.0 {
                assert_eq!(d, 0.0, "base atom {id} moved by {d} A");
                held += 1;
            } else if d > 1e-3 {
                moved += 1;
            }
        }
        assert!(held > 100 && moved > 1500, "held {held}, moved {moved}");
    }
}

/// Positions by id from a LAMMPS data file.
fn lammps_data_positions(path: &Path) -> BTreeMap<u64, [f64; 3]> {
    read_data_atoms(path).into_iter().map(|a| (a.id, a.x)).collect()
}

#[test]
fn deform_z_with_npt_on_x_and_y_follows_lammps() {
    let body = r#"
[thermo]
every = 10
file = "thermo.csv"

[[stage]]
kind = "npt"
temperature = 300.0
pressure_gpa = { x = 0.0, y = 0.0 }
steps = 300
timestep = 0.001
tdamp = 0.1
pdamp = 1.0

[[stage.fix]]
kind = "deform"
erate = { z = 0.01 }
"#;
    let pairs = [
        ("temperature", "Temp"),
        ("pe", "PotEng"),
        ("etotal", "TotEng"),
        ("pressure", "Press"),
        ("pxx", "Pxx"),
        ("pyy", "Pyy"),
        ("pzz", "Pzz"),
        ("volume", "Volume"),
        ("lx", "Lx"),
        ("ly", "Ly"),
        ("lz", "Lz"),
    ];
    for np in [1, 2] {
        let dir = tempdir();
        let deck = glass_deck(dir.path(), body);
        ok(&glassmd(np, 1, &["run", deck.to_str().unwrap()], dir.path()));
        let rows = read_thermo_csv(&dir.path().join("thermo.csv"));
        let worst = follow(&rows, "deform.log", &pairs, 1e-8, 0.0);
        let last = rows.last().unwrap();
        // 300 fs at 0.01/ps: Lz = 32.48 (1 + 0.003).
        assert!((last["lz"] - 32.48 * 1.003).abs() < 1e-9, "lz {}", last["lz"]);
        eprintln!("npt(x,y) + deform z vs LAMMPS on {np} rank(s): worst {worst:e}");
    }
}

#[test]
fn addforce_with_energy_and_virial_follows_lammps() {
    let body = r#"
[[group]]
name = "copper"
types = [1]

[thermo]
every = 10
file = "thermo.csv"
extra = ["addforce_energy", "addforce_fx", "addforce_fy", "addforce_fz"]

[[stage]]
kind = "nve"
steps = 300
timestep = 0.001

[[stage.fix]]
kind = "addforce"
group = "copper"
force = [0.01, -0.02, 0.005]
energy = true
virial = true
"#;
    let pairs = [
        BASIC.as_slice(),
        &[
            ("pxy", "Pxy"),
            ("pxz", "Pxz"),
            ("pyz", "Pyz"),
            ("addforce_energy", "f_2"),
            ("addforce_fx", "f_2[1]"),
            ("addforce_fy", "f_2[2]"),
            ("addforce_fz", "f_2[3]"),
        ],
    ]
    .concat();
    let dir = tempdir();
    let deck = glass_deck(dir.path(), body);
    ok(&glassmd(2, 1, &["run", deck.to_str().unwrap()], dir.path()));
    let rows = read_thermo_csv(&dir.path().join("thermo.csv"));
    let worst = follow(&rows, "addforce.log", &pairs, 1e-8, 10.0);
    eprintln!("nve + addforce (energy, virial) vs LAMMPS: worst {worst:e}");
}

#[test]
fn two_fixes_on_one_box_component_are_refused() {
    let dir = tempdir();
    let body = "[[stage]]\nkind = \"npt\"\ntemperature = 300.0\npressure_gpa = { x = 0.0, z = 0.0 }\nsteps = 10\n\n[[stage.fix]]\nkind = \"deform\"\nname = \"pull\"\nerate = { z = 0.01 }\n";
    let deck = glass_deck(dir.path(), body);
    let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("fix pull and the npt integrator both change the box along z"), "{err}");
    assert!(err.contains("deck.toml: line "), "{err}");
}

/// Fixes act inside minimisations (`min_post_force`). With `setforce 0 0 0`
/// on the base, CG reaches LAMMPS's `minimize` with the same fix
/// (tests/data/lammps_fix/minimize.log, E = −9031.35588925839 eV) within
/// 1e-3 eV/atom, as the plain minimiser test does, and the base has not
/// moved. A pair of opposite `addforce` loads with `energy = true` puts
/// their energy −Σ F·x into the objective: the minimiser then converges on
/// the force tolerance, and pe includes it; with `energy = false` the line
/// search stalls (LAMMPS's warning for the same fix).
#[test]
fn fixes_act_inside_minimisations() {
    const LAMMPS_E: f64 = -9031.35588925839;
    let start = lammps_data_positions(&root().join("tests/data/lammps_min/glass300.data"));
    for alg in ["cg", "fire"] {
        let dir = tempdir();
        let body = format!(
            "[[group]]\nname = \"base\"\nregion = {{ z = [-inf, 5.0] }}\n\n[thermo]\nfile = \"thermo.csv\"\n\n\
             [[stage]]\nkind = \"minimize\"\nalgorithm = \"{alg}\"\nftol = 1e-6\nmax_iterations = 100000\n\n\
             [[stage.fix]]\nkind = \"setforce\"\ngroup = \"base\"\nforce = [0.0, 0.0, 0.0]\n\n\
             [[stage]]\nkind = \"write_data\"\nfile = \"min.data\"\n"
        );
        let deck = glass_deck(dir.path(), &body);
        let out = ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path()));
        let _ = out;
        let rows = read_thermo_csv(&dir.path().join("thermo.csv"));
        let e = rows.last().unwrap()["pe"];
        let d = (e - LAMMPS_E).abs() / 2048.0;
        eprintln!("{alg} with setforce on the base: E = {e} eV, |E - E_LAMMPS| = {d:e} eV/atom");
        assert!(d < 1e-3, "{alg}: {e} vs LAMMPS {LAMMPS_E}");
        let end = lammps_data_positions(&dir.path().join("min.data"));
        let held = start.iter().filter(|(_, x)| x[2] <= 5.0).inspect(|(id, x)| assert_eq!(end[*id], **x, "{alg}: base atom {id} moved")).count();
        assert!(held > 100);
    }
    let dir = tempdir();
    let body = "[[group]]\nname = \"one\"\nids = [1, 1]\n[[group]]\nname = \"two\"\nids = [2, 2]\n\n[thermo]\nfile = \"thermo.csv\"\nextra = [\"pull1_energy\", \"pull2_energy\"]\n\n\
        [[stage]]\nkind = \"minimize\"\nftol = 1e-6\nmax_iterations = 100000\n\n\
        [[stage.fix]]\nkind = \"addforce\"\nname = \"pull1\"\ngroup = \"one\"\nforce = [0.3, 0.0, 0.0]\nenergy = true\n\
        [[stage.fix]]\nkind = \"addforce\"\nname = \"pull2\"\ngroup = \"two\"\nforce = [-0.3, 0.0, 0.0]\nenergy = true\n\
        [[stage]]\nkind = \"write_data\"\nfile = \"min.data\"\n";
    let deck = glass_deck(dir.path(), body);
    let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    ok(&out);
    assert!(err.contains("force tolerance"), "{err}");
    let rows = read_thermo_csv(&dir.path().join("thermo.csv"));
    let last = rows.last().unwrap();
    // pe = the potential's energy of the final configuration (recomputed by
    // `glassmd forces`) + the loads' −Σ F·x.
    let (data, pot) = (dir.path().join("min.data"), potential("CuZr_mm.eam.fs"));
    let f = ok(&glassmd(1, 1, &["forces", "--data", data.to_str().unwrap(), "--potential", pot.to_str().unwrap(), "--style", "eam/fs", "--elements", "Cu", "Zr"], dir.path()));
    let pe_pot = last_json(&f)["pe"].as_f64().unwrap();
    let (e1, e2) = (last["pull1_energy"], last["pull2_energy"]);
    eprintln!("opposite loads: pe {} = potential {} + loads {} + {}", last["pe"], pe_pot, e1, e2);
    assert!((last["pe"] - (pe_pot + e1 + e2)).abs() < 1e-8, "pe {} vs {} + {} + {}", last["pe"], pe_pot, e1, e2);
    // The loads' energies are −F·x of the unwrapped final positions, and
    // the pair was pulled apart along x.
    // Without the loads' energy in the objective the line search stalls,
    // as LAMMPS warns for fix addforce without fix_modify energy yes.
    let dir2 = tempdir();
    let deck = glass_deck(dir2.path(), &body.replace("energy = true", "energy = false"));
    let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir2.path());
    let err2 = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err2.contains("did not converge") && err2.contains("linesearch"), "{err2}");
    let (x1, x2) = (unwrapped_x(&data, 1), unwrapped_x(&data, 2));
    let gl = root().join("tests/data/lammps_min/glass300.data");
    let (a1, a2) = (unwrapped_x(&gl, 1), unwrapped_x(&gl, 2));
    assert!((e1 + 0.3 * x1).abs() < 1e-9 && (e2 - 0.3 * x2).abs() < 1e-9, "loads' energies {e1} {e2} vs positions {x1} {x2}");
    assert!(x1 - x2 > a1 - a2 + 0.01, "the pair did not separate: {} -> {}", a1 - a2, x1 - x2);
}

/// Unwrapped x of atom `id` in a data file of the 32.48 Å glass box.
fn unwrapped_x(path: &Path, id: u64) -> f64 {
    let a = read_data_atoms(path).into_iter().find(|a| a.id == id).unwrap_or_else(|| panic!("atom {id} not in {}", path.display()));
    a.x[0] + a.image[0] as f64 * 32.48
}

/// Two integrating fixes whose groups share atoms are refused when the
/// stage starts (no deck can build this today: a stage has one
/// integrator; the guard is for integrators added later). Disjoint groups
/// are accepted.
#[test]
fn overlapping_integrators_are_refused() {
    use glassmd::domain::comm::SerialComm;
    use glassmd::engine::{Engine, EngineOptions};
    use glassmd::fix::nve::Nve;
    use glassmd::io::lammps_data;
    use glassmd::potential::{eam, ForceFlags};
    use glassmd::system::group::{Groups, Rule};
    use glassmd::system::Boundary;
    let comm = SerialComm;
    let data = lammps_data::read(&root().join("tests/data/lammps_min/glass300.data")).unwrap();
    let els = vec!["Cu".to_string(), "Zr".to_string()];
    let pot = eam::load(eam::EamStyle::Fs, &potential("CuZr_mm.eam.fs"), Some(&els), 2, Path::new("d"), Path::new("t")).unwrap();
    let masses = pot.tables.masses.clone();
    let opts = EngineOptions { skin: 1.0, sort_every: 0, ..Default::default() };
    let mut e = Engine::new(&comm, &data, Path::new("d"), [Boundary::Periodic; 3], Box::new(pot), masses, opts).unwrap();
    let rules = vec![("copper".to_string(), Rule::Types(vec![0])), ("low".to_string(), Rule::Ids(1, 1000)), ("zirconium".to_string(), Rule::Types(vec![1]))];
    let g = Groups::define(&mut e.atoms, &rules);
    e.setup(ForceFlags::default()).unwrap();
    let (cu, low, zr) = (g.sel("copper").unwrap(), g.sel("low").unwrap(), g.sel("zirconium").unwrap());
    e.fixes = vec![Box::new(Nve { id: "a".into(), group: cu }), Box::new(Nve { id: "b".into(), group: low })];
    let err = e.setup_fixes().unwrap_err().to_string();
    assert!(err.contains("integrated by both fix a and fix b"), "{err}");
    e.fixes = vec![Box::new(Nve { id: "a".into(), group: cu }), Box::new(Nve { id: "b".into(), group: zr })];
    e.setup_fixes().unwrap();
}
