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

/// The load, hold and unload schedule of the deck form (no
/// `steps`: the schedule sets the stage's length), with a thermostat
/// layer (`langevin` as a stage fix) above the held base.
fn schedule_deck(dir: &std::path::Path, extra_fix: &str) -> std::path::PathBuf {
    write_deck(
        dir,
        &root().join("tests/data/lammps_min/glass300.data"),
        "p,p,s",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        &format!(
            "[thermo]\nevery = 50\nfile = \"thermo.csv\"\nextra = [\"indent_fz\"]\n\n[output]\ncheckpoint = {{ file = \"restart.h5\", every = 0 }}\n\n\
             [[group]]\nname = \"base\"\nregion = {{ z = [-inf, 5.0] }}\n\n[[group]]\nname = \"layer\"\nregion = {{ z = [5.0, 9.0] }}\n\n\
             [[group]]\nname = \"mobile\"\nnot = \"base\"\n\n\
             [[stage]]\nkind = \"nve\"\nname = \"indent\"\ngroup = \"mobile\"\ntimestep = 0.002\n\n\
             [[stage.fix]]\nkind = \"indent\"\nshape = \"sphere\"\nk = 10.0\nradius = 20.0\ncenter = [16.24, 16.24, 53.0]\nspeed = 5.0\nmax_depth = 3.0\nhold_ps = 0.2\n{extra_fix}\n\n\
             [[stage.fix]]\nkind = \"setforce\"\ngroup = \"base\"\nforce = [0.0, 0.0, 0.0]\n\n\
             [[stage.fix]]\nkind = \"langevin\"\ngroup = \"layer\"\ntemperature = 300.0\ndamp = 0.1\n"
        ),
    )
}

/// Rows of indent.csv: (step, time, tip z, depth, load nN, load µN, contact radius, contacts, phase).
fn read_indent(path: &std::path::Path) -> Vec<(Vec<f64>, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "step,time_ps,tip_z,depth,load_nN,load_uN,contact_radius,contact_atoms,phase");
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[..8].iter().map(|v| v.parse::<f64>().unwrap()).collect(), f[8].to_string())
        })
        .collect()
}

#[test]
fn schedule_loads_holds_unloads_and_reports() {
    let dir = tempdir();
    let deck = schedule_deck(dir.path(), "");
    let out = ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path()));
    // The surface: the mean over 3 Å columns of the highest atom of each,
    // recomputed here from the data file (the stage starts from it).
    let atoms = read_data_atoms(&root().join("tests/data/lammps_min/glass300.data"));
    let nb = (32.48f64 / 3.0).floor() as usize;
    let mut top = vec![f64::NEG_INFINITY; nb * nb];
    for a in &atoms {
        let b = |x: f64| (((x / 32.48).rem_euclid(1.0) * nb as f64) as usize).min(nb - 1);
        let c = &mut top[b(a.x[1]) * nb + b(a.x[0])];
        *c = c.max(a.x[2]);
    }
    let surface = top.iter().sum::<f64>() / top.len() as f64;
    let res: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap()).unwrap();
    let r = &res["indent"];
    assert!((r["surface_z_A"].as_f64().unwrap() - surface).abs() < 1e-9, "surface {} vs {}", r["surface_z_A"], surface);
    // Loading lasts (tip height above the surface + max_depth) / speed,
    // then the hold, then unloading at the same speed: the stage's length.
    let t1 = (33.0 - surface + 3.0) / 5.0;
    let steps = ((2.0 * t1 + 0.2) / 0.002 - 1e-9).ceil();
    let thermo = read_thermo_csv(&dir.path().join("thermo.csv"));
    assert_eq!(thermo.last().unwrap()["step"], steps, "{}", out);
    let rows = read_indent(&dir.path().join("indent.csv"));
    // Phases in order; the tip follows the schedule; depth = surface − tip.
    let phases: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let first_hold = phases.iter().position(|p| *p == "hold").unwrap();
    let first_unload = phases.iter().position(|p| *p == "unload").unwrap();
    assert!(phases[..first_hold].iter().all(|p| *p == "load") && phases[first_hold..first_unload].iter().all(|p| *p == "hold") && phases[first_unload..].iter().all(|p| *p == "unload"));
    for (r, _) in &rows {
        let t = r[1];
        let z = if t <= t1 { 33.0 - 5.0 * t } else if t <= t1 + 0.2 { 33.0 - 5.0 * t1 } else { (33.0 - 5.0 * t1 + 5.0 * (t - t1 - 0.2)).min(33.0) };
        assert!((r[2] - z).abs() < 1e-9 && (r[3] - (surface - r[2])).abs() < 1e-9, "row {:?}: tip {} expected {}", r, r[2], z);
        assert!((r[5] - r[4] * 1e-3).abs() <= 1e-12 * r[4].abs());
    }
    // The load is the thermo's indent_fz in nN on common steps.
    for (r, _) in &rows {
        if let Some(th) = thermo.iter().find(|t| t["step"] == r[0] && r[0] > 0.0) {
            assert!((r[4] - th["indent_fz"] * 1.602176634).abs() < 1e-9 * r[4].abs().max(1.0));
        }
    }
    let pmax = rows.iter().map(|r| r.0[4]).fold(0.0, f64::max);
    assert!(pmax > 20.0 && (r["max_load_nN"].as_f64().unwrap() - pmax).abs() < 1e-12 * pmax);
    assert!((r["max_depth_A"].as_f64().unwrap() - 3.0).abs() < 5.0 * 0.002 * 10.0 + 1e-9);
    // At the deepest point the contact radius is that of the cap the tip
    // cuts through the surface (within an atom's size), √(2 R h − h²).
    // The plot command overlays curves and states each one's maximum load.
    let plot = ok(&glassmd(1, 1, &["plot", "load-depth", "indent.csv", "indent.csv", "--labels", "a,b", "--out", "ld.svg"], dir.path()));
    assert!(plot.contains(&format!("a: {} rows, max load {:.4} nN", rows.len(), pmax)), "{}", plot);
    assert!(std::fs::read_to_string(dir.path().join("ld.svg")).unwrap().contains("<svg"));
    let deep = rows.iter().find(|r| r.1 == "hold").unwrap();
    let cap = (2.0 * 20.0 * deep.0[3] - deep.0[3].powi(2)).sqrt();
    assert!((deep.0[6] - cap).abs() < 3.0, "contact radius {} vs cap {}", deep.0[6], cap);
}

/// A stop mid-hold and a restart give the same indent.csv and results.
#[test]
fn schedule_restart_is_bitwise() {
    for np in [1, 2] {
        let (a, b) = (tempdir(), tempdir());
        let da = schedule_deck(a.path(), "");
        let db = schedule_deck(b.path(), "");
        ok(&glassmd(np, 1, &["run", da.to_str().unwrap()], a.path()));
        let stopped = glassmd(np, 1, &["run", db.to_str().unwrap(), "--stop-at-step", "500"], b.path());
        assert_eq!(stopped.status.code(), Some(75), "{}", String::from_utf8_lossy(&stopped.stderr));
        ok(&glassmd(np, 1, &["run", db.to_str().unwrap(), "--restart", "restart.h5"], b.path()));
        for f in ["indent.csv", "results.json", "thermo.csv"] {
            assert!(std::fs::read(a.path().join(f)).unwrap() == std::fs::read(b.path().join(f)).unwrap(), "{} differs after a restart on {} rank(s)", f, np);
        }
    }
}

/// Load-limited: loading ends at the first row whose load passes
/// max_load_nn, and the stage ends once the tip is back at its start.
#[test]
fn load_limited_schedule_turns_at_the_load() {
    let dir = tempdir();
    let deck = schedule_deck(dir.path(), "max_load_nn = 30.0\nevery = 1");
    ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path()));
    let rows = read_indent(&dir.path().join("indent.csv"));
    // The step whose load reaches the limit is the first of the hold.
    let turn = rows.iter().position(|r| r.1 == "hold").unwrap();
    assert!(rows[turn].0[4] >= 30.0 && rows[..turn].iter().all(|r| r.0[4] < 30.0 && r.1 == "load"), "turned at {:?}", rows[turn]);
    let last = rows.last().unwrap();
    assert!((last.0[2] - 33.0).abs() < 1e-9 && last.1 == "unload", "ends back at the start height: {:?}", last);
    assert!(rows.iter().map(|r| r.0[3]).fold(f64::MIN, f64::max) < 3.0, "the load limit came before the depth limit");
}

/// The relaxed slab (CG), then a sphere stepped down 0.25 Å per
/// minimisation to 2 Å (quasi-static), or driven at 1 Å/ps from 0 K (MD).
fn relaxed_slab_deck(dir: &std::path::Path, stages: &str) -> std::path::PathBuf {
    write_deck(
        dir,
        &root().join("tests/data/lammps_min/glass300.data"),
        "p,p,s",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        &format!(
            "[thermo]\nevery = 100\nfile = \"thermo.csv\"\n\n[[group]]\nname = \"base\"\nregion = {{ z = [-inf, 5.0] }}\n\n[[group]]\nname = \"mobile\"\nnot = \"base\"\n\n\
             [[stage]]\nkind = \"minimize\"\nalgorithm = \"cg\"\nftol = 1e-4\n\n{stages}\n\n\
             [[stage.fix]]\nkind = \"setforce\"\ngroup = \"base\"\nforce = [0.0, 0.0, 0.0]\n"
        ),
    )
}

fn loading_branch(path: &std::path::Path) -> Vec<(f64, f64)> {
    read_indent(path).into_iter().filter(|r| r.1 == "load").map(|r| (r.0[3], r.0[4])).collect()
}

/// Quasi-static indentation (minimize stage, depth_step) gives a
/// monotone loading curve, and slow MD from 0 K follows it: the mean load
/// over 0.5–1.95 Å agrees within 15 % (measured: MD 7 % above, the rate's
/// drag and the MD noise of ±1–2 nN at 10 nN).
#[test]
fn quasi_static_is_monotone_and_agrees_with_slow_md() {
    let fix = "[[stage.fix]]\nkind = \"indent\"\ngroup = \"mobile\"\nshape = \"sphere\"\nk = 10.0\nradius = 20.0\ncenter = [16.24, 16.24, 51.5]\nmax_depth = 2.0\n";
    let (a, b) = (tempdir(), tempdir());
    let qs = relaxed_slab_deck(a.path(), &format!("[[stage]]\nkind = \"minimize\"\nname = \"qs\"\nalgorithm = \"cg\"\nftol = 1e-3\nmax_iterations = 2000\n\n{fix}depth_step = 0.25\n"));
    let md = relaxed_slab_deck(b.path(), &format!("[[stage]]\nkind = \"velocity\"\ntemperature = 0.0\nseed = 1\n\n[[stage]]\nkind = \"nve\"\nname = \"md\"\ngroup = \"mobile\"\ntimestep = 0.002\n\n{fix}speed = 1.0\n"));
    ok(&glassmd(1, 1, &["run", qs.to_str().unwrap()], a.path()));
    ok(&glassmd(1, 1, &["run", md.to_str().unwrap()], b.path()));
    let q = loading_branch(&a.path().join("indent.csv"));
    let m = loading_branch(&b.path().join("indent.csv"));
    // Quasi-static: each increment 0.25 Å deeper, the load never falls.
    assert!(q.len() >= 9 && q.windows(2).all(|w| (w[1].0 - w[0].0 - 0.25).abs() < 1e-9 && w[1].1 >= w[0].1), "{:?}", q);
    assert!(q.last().unwrap().1 > 5.0);
    // MD rows against the quasi-static curve interpolated at their depths.
    let interp = |h: f64| {
        let k = q.windows(2).position(|w| w[1].0 >= h).unwrap();
        let (a, b) = (q[k], q[k + 1]);
        a.1 + (b.1 - a.1) * (h - a.0) / (b.0 - a.0)
    };
    let window: Vec<(f64, f64)> = m.iter().filter(|r| r.0 >= 0.5 && r.0 <= 1.95).map(|r| (r.1, interp(r.0))).collect();
    let (pm, pq) = (window.iter().map(|w| w.0).sum::<f64>(), window.iter().map(|w| w.1).sum::<f64>());
    eprintln!("mean load over 0.5-1.95 A: MD {:.3} nN, quasi-static {:.3} nN ({} rows)", pm / window.len() as f64, pq / window.len() as f64, window.len());
    assert!(window.len() > 50 && (pm / pq - 1.0).abs() < 0.15, "MD {} vs quasi-static {}", pm, pq);
    let res: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(a.path().join("results.json")).unwrap()).unwrap();
    assert!(res["qs"]["max_load_nN"].as_f64().unwrap() > 5.0, "the quasi-static report goes under the stage's name");
}

/// Hertz: a sphere pressed quasi-statically into an unrelaxed fcc Cu
/// (100) slab (12³ cells, Foiles Cu_u3, base held) loads elastically as
/// P = (4/3) E* √R h^1.5. The log–log slope over 0.4–2 Å is 1.5 within
/// 0.15 (measured 1.60 on 14³ cells: the first contacts are discrete
/// atoms), and E* from the h^1.5 fit is within 15 % of the isotropic
/// (Hill) average of the potential's fitted constants C11, C12, C44 =
/// 167, 124, 76 GPa (Foiles, Baskes & Daw, PRB 33, 7983 (1986)):
/// E = 124 GPa, ν = 0.35, E* = E / (1 − ν²) = 141 GPa (Cu's anisotropy
/// moves the (100) value by several %).
#[test]
fn hertzian_load_on_a_crystal() {
    let dir = tempdir();
    let data = dir.path().join("cu.data");
    crystal(&data, 12);
    let a = 3.615;
    let top = 11.5 * a;
    let deck = write_deck(
        dir.path(),
        &data,
        "p,p,s",
        "eam",
        "Cu_u3.eam",
        &[],
        &format!(
            "[thermo]\nevery = 100\n\n[[group]]\nname = \"base\"\nregion = {{ z = [-inf, 4.0] }}\n\n[[group]]\nname = \"mobile\"\nnot = \"base\"\n\n\
             [[stage]]\nkind = \"minimize\"\nname = \"hertz\"\nalgorithm = \"cg\"\nftol = 1e-4\nmax_iterations = 5000\n\n\
             [[stage.fix]]\nkind = \"indent\"\ngroup = \"mobile\"\nshape = \"sphere\"\nk = 100.0\nradius = 20.0\ncenter = [{c}, {c}, {z}]\nsurface_z = {top}\ndepth_step = 0.2\nmax_depth = 2.0\n\n\
             [[stage.fix]]\nkind = \"setforce\"\ngroup = \"base\"\nforce = [0.0, 0.0, 0.0]\n",
            c = 6.0 * a,
            z = top + 20.0,
        ),
    );
    ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path()));
    let pts: Vec<(f64, f64)> = loading_branch(&dir.path().join("indent.csv")).into_iter().filter(|p| p.0 > 0.39 && p.0 < 2.01).collect();
    assert!(pts.len() >= 8, "{:?}", pts);
    let (lx, ly): (Vec<f64>, Vec<f64>) = pts.iter().map(|p| (p.0.ln(), p.1.ln())).unzip();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let slope = lx.iter().zip(&ly).map(|(x, y)| (x - mx) * (y - my)).sum::<f64>() / lx.iter().map(|x| (x - mx).powi(2)).sum::<f64>();
    // E* from P = C h^1.5 (least squares for C), in GPa (1 nN/Å² = 100 GPa).
    let c = pts.iter().map(|p| p.1 * p.0.powf(1.5)).sum::<f64>() / pts.iter().map(|p| p.0.powi(3)).sum::<f64>();
    let e_star = c / (4.0 / 3.0 * 20f64.sqrt()) * 100.0;
    eprintln!("Hertz: slope {slope:.3}, E* {e_star:.1} GPa (Hill average 141 GPa)");
    assert!((slope - 1.5).abs() < 0.15, "log-log slope {}", slope);
    assert!((e_star / 141.0 - 1.0).abs() < 0.15, "E* {} GPa", e_star);
}

/// A Nosé–Hoover thermostat layer (`[[stage.fix]] kind = "nvt"` on a group
/// beside the stage's NVE on the rest; LAMMPS fix nvt on the layer + fix
/// nve on the free atoms): from 600 K, the layer (5–10 Å above the held
/// base) settles at its 300 K target and draws heat out of the free atoms,
/// and a run stopped mid-stage restarts bitwise (the layer's chain is in
/// the checkpoint).
#[test]
fn nose_hoover_layer_thermostats_its_group() {
    let deck = |dir: &std::path::Path| {
        write_deck(
            dir,
            &root().join("tests/data/lammps_min/glass300.data"),
            "p,p,s",
            "eam/fs",
            "CuZr_mm.eam.fs",
            &["Cu", "Zr"],
            "[thermo]\nevery = 100\nfile = \"thermo.csv\"\nextra = [\"temp_layer\", \"temp_free\", \"nvt_energy\"]\n\n\
             [output]\ncheckpoint = { file = \"restart.h5\", every = 0 }\n\n\
             [[group]]\nname = \"base\"\nregion = { z = [-inf, 5.0] }\n\n[[group]]\nname = \"layer\"\nregion = { z = [5.0, 10.0] }\n\n\
             [[group]]\nname = \"held\"\nor = [\"base\", \"layer\"]\n\n[[group]]\nname = \"free\"\nnot = \"held\"\n\n\
             [[stage]]\nkind = \"velocity\"\ntemperature = 600.0\nseed = 5\n\n\
             [[stage]]\nkind = \"nve\"\ngroup = \"free\"\ntimestep = 0.002\nsteps = 2000\n\n\
             [[stage.fix]]\nkind = \"nvt\"\ngroup = \"layer\"\ntemperature = 300.0\ntdamp = 0.1\n\n\
             [[stage.fix]]\nkind = \"setforce\"\ngroup = \"base\"\nforce = [0.0, 0.0, 0.0]\n",
        )
    };
    let (a, b) = (tempdir(), tempdir());
    let (da, db) = (deck(a.path()), deck(b.path()));
    ok(&glassmd(1, 1, &["run", da.to_str().unwrap()], a.path()));
    let t = read_thermo_csv(&a.path().join("thermo.csv"));
    let late: Vec<f64> = t.iter().filter(|r| r["step"] >= 1000.0).map(|r| r["temp_layer"]).collect();
    let mean = late.iter().sum::<f64>() / late.len() as f64;
    eprintln!("layer {:.1} K over the second half; free atoms {:.1} K -> {:.1} K", mean, t[1]["temp_free"], t.last().unwrap()["temp_free"]);
    assert!((mean - 300.0).abs() < 40.0, "layer temperature {}", mean);
    assert!(t.last().unwrap()["temp_free"] < t[1]["temp_free"] - 20.0, "the free atoms lose heat to the layer");
    let stopped = glassmd(1, 1, &["run", db.to_str().unwrap(), "--stop-at-step", "1000"], b.path());
    assert_eq!(stopped.status.code(), Some(75), "{}", String::from_utf8_lossy(&stopped.stderr));
    ok(&glassmd(1, 1, &["run", db.to_str().unwrap(), "--restart", "restart.h5"], b.path()));
    assert!(std::fs::read(a.path().join("thermo.csv")).unwrap() == std::fs::read(b.path().join("thermo.csv")).unwrap(), "thermo.csv differs after a restart");
}
