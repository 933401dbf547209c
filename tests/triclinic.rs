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

#[test]
fn nve_follows_lammps_on_ranks_and_threads() {
    for (case, b) in [("cuzr_tri_ppp", "p,p,p"), ("cuzr_tri_spp", "s,p,p")] {
        let lmp = &read_lammps_log(&reference(case).join("ref.log"))[1];
        for (np, nt) in RUNS {
            let dir = tempdir();
            let deck = tri_deck(dir.path(), case, b, "[[stage]]\nkind = \"nve\"\nsteps = 200\ntimestep = 0.001\n");
            ok(&glassmd(np, nt, &["run", deck.to_str().unwrap()], dir.path()));
            let ours = read_thermo_csv(&dir.path().join("thermo.csv"));
            let w = follow_lammps(&ours, lmp, &[("pe", "PotEng"), ("etotal", "TotEng"), ("pressure", "Press"), ("pxy", "Pxy")], 1e-8, &format!("{case} nve np={np} threads={nt}"));
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
        let w = follow_lammps(&ours, lmp, &pairs, 1e-8, &format!("npt tri np={np} threads={nt}"));
        eprintln!("NPT tri np={np} threads={nt}: worst {w:e}");
    }
}

/// Per-component targets on the tilted cell (the deck form of the issue:
/// a table with tilt keys): x at 0.1 GPa, y and z at 0, xz at 0.05 GPa, xy
/// at 0, yz free (it scales with lz). This is LAMMPS `fix npt ... x y z xy
/// xz` with the deviatoric force of the tilted reference cell.
#[test]
fn npt_per_component_targets_follow_lammps() {
    let lmp = &read_lammps_log(&reference("cuzr_tri_ppp").join("npt_aniso.log"))[0];
    let pairs: Vec<(&str, &str)> = THERMO.iter().chain(CELL.iter()).copied().collect();
    for (np, nt) in [(1, 1), (2, 1)] {
        let dir = tempdir();
        let deck = tri_deck(
            dir.path(),
            "cuzr_tri_ppp",
            "p,p,p",
            "[[stage]]\nkind = \"npt\"\ntemperature = 1500.0\npressure_gpa = { x = 0.1, y = 0.0, z = 0.0, xy = 0.0, xz = 0.05 }\ntdamp = 0.1\npdamp = 0.5\nsteps = 300\ntimestep = 0.001\n",
        );
        ok(&glassmd(np, nt, &["run", deck.to_str().unwrap()], dir.path()));
        let ours = read_thermo_csv(&dir.path().join("thermo.csv"));
        let w = follow_lammps(&ours, lmp, &pairs, 1e-8, &format!("npt x y z xy xz np={np} threads={nt}"));
        eprintln!("NPT per component on a tilted cell np={np} threads={nt}: worst {w:e}");
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
        let w = follow_lammps(&ours, lmp, &pairs, 1e-8, &format!("shear np={np} threads={nt}"));
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
        let opts = EngineOptions { skin: 1.0, ..Default::default() };
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

/// Last thermo line of the LAMMPS minimisation (columns step pe press pxx
/// pyy pzz vol lx ly lz xy xz yz fmax).
fn lammps_min_final() -> Vec<f64> {
    let text = std::fs::read_to_string(reference("cuzr_tri_ppp").join("min.log")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let end = lines.iter().position(|l| l.starts_with("Loop time")).unwrap();
    lines[end - 1].split_whitespace().map(|x| x.parse().unwrap()).collect()
}

/// LAMMPS's CG minima of the tilted liquid: the reference run (min.log)
/// and eight runs from starts displaced by at most 1e-10 Å
/// (in.min_spread, min_spread.csv): (mean, sample standard deviation) of
/// the final energies, eV.
fn lammps_min_spread() -> (f64, f64) {
    let text = std::fs::read_to_string(reference("cuzr_tri_ppp").join("min_spread.csv")).unwrap();
    let mut e: Vec<f64> = text.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
    assert_eq!(e.len(), 8);
    e.push(lammps_min_final()[1]);
    let n = e.len() as f64;
    let mean = e.iter().sum::<f64>() / n;
    (mean, (e.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
}

/// CG on the tilted cell reaches an inherent structure from LAMMPS's own
/// spread (fixed cell, 1 and 2 ranks): within 3 standard deviations of the
/// mean of LAMMPS's minima from this start and from starts displaced by
/// 1e-10 Å. From a 1500 K liquid, CG paths that differ by round-off end in
/// neighbouring minima ~1e3 iterations later. LAMMPS alone spreads them
/// over 4.4 meV/atom (s.d. 1.5 meV/atom), so one LAMMPS minimum is no
/// target to 1 meV/atom: glassmd was −0.58 meV/atom from it on 1 rank and
/// +0.73 on 2, and any change in the order of the force sums (a new atom
/// order) moves it by as much. Box relaxation of the normal components moves the cell
/// by pure normal strains (every edge vector's x components scale with
/// ε_xx, and so on: xy/lx, xz/lx and yz/ly are kept), so σxx, σyy and σzz
/// reach their targets within ptol and the written configuration has no
/// force above ftol. (LAMMPS `fix box/relax` scales tilts with their second
/// axis instead, which mixes shear stress into each normal direction; on
/// this cell it stops with |f| = 0.14 eV/Å and 100 bar left, so it is not a
/// reference here.)
#[test]
fn minimisation_on_a_tilted_cell() {
    let n = 2048.0;
    let lmp_fixed = lammps_min_final();
    let (mean, sd) = lammps_min_spread();
    eprintln!("LAMMPS CG minima: E/N mean {:.8}, s.d. {:.2e} eV/atom (9 runs)", mean / n, sd / n);
    // The spread is real and small: minima of one basin, not a failed fit.
    assert!(sd / n > 1e-4 && sd / n < 3e-3, "LAMMPS's spread {} eV/atom", sd / n);
    for np in [1, 2] {
        let dir = tempdir();
        let deck = tri_deck(dir.path(), "cuzr_tri_ppp", "p,p,p", "[[stage]]\nkind = \"minimize\"\nalgorithm = \"cg\"\nftol = 1e-6\nmax_iterations = 100000\n");
        ok(&glassmd(np, 1, &["run", deck.to_str().unwrap()], dir.path()));
        let last = read_thermo_csv(&dir.path().join("thermo.csv")).pop().unwrap();
        let de = (last["pe"] - lmp_fixed[1]) / n;
        let z = (last["pe"] - mean) / sd;
        eprintln!("tilted cell, fixed box, {np} rank(s): E/N {:.10} vs LAMMPS {:.10} ({de:.2e} eV/atom), {z:.2} s.d. from LAMMPS's mean", last["pe"] / n, lmp_fixed[1] / n);
        assert!(z.abs() < 3.0, "fixed-cell CG on {np} ranks: {} eV, {z:.2} s.d. from the mean of LAMMPS's minima {mean} (s.d. {sd})", last["pe"]);
        assert!((last["xy"] - 14.5).abs() < 1e-12, "the fixed cell changed");
    }
    let ptol = 1e-4;
    for (alg, target) in [("cg", [0.0, 0.0, 0.0]), ("fire", [1.0, 0.0, -0.5])] {
        let dir = tempdir();
        let deck = tri_deck(
            dir.path(),
            "cuzr_tri_ppp",
            "p,p,p",
            &format!(
                "[[stage]]\nkind = \"minimize\"\nalgorithm = \"{alg}\"\nftol = 1e-6\nmax_iterations = 100000\nbox_pressure_gpa = {{ x = {:?}, y = {:?}, z = {:?} }}\nptol_gpa = {ptol}\n\
                 [[stage]]\nkind = \"write_data\"\nfile = \"min.data\"\n",
                target[0], target[1], target[2]
            ),
        );
        let out = ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path()));
        let _ = out;
        let t = read_thermo_csv(&dir.path().join("thermo.csv"));
        let (first, last) = (&t[0], t.last().unwrap());
        for (d, k) in ["pxx", "pyy", "pzz"].iter().enumerate() {
            assert!((last[*k] / 1e4 - target[d]).abs() <= ptol, "{alg}: {k} = {} GPa after box relaxation, target {}", last[*k] / 1e4, target[d]);
        }
        for (tilt, len) in [("xy", "lx"), ("xz", "lx"), ("yz", "ly")] {
            let (r0, r1) = (first[tilt] / first[len], last[tilt] / last[len]);
            assert!((r1 / r0 - 1.0).abs() < 1e-12, "{alg}: {tilt}/{len} went from {r0} to {r1}");
        }
        assert!((last["lx"] / first["lx"] - 1.0).abs() > 1e-4, "{alg}: the box did not relax");
        let pot = potential("CuZr_mm.eam.fs");
        let f = ok(&glassmd(1, 1, &["forces", "--data", "min.data", "--potential", pot.to_str().unwrap(), "--style", "eam/fs", "--elements", "Cu", "Zr", "--dump", "min.dump"], dir.path()));
        let fmax = read_dump(&dir.path().join("min.dump")).values().map(|r| (r[2] * r[2] + r[3] * r[3] + r[4] * r[4]).sqrt()).fold(0.0, f64::max);
        let p = last_json(&f);
        eprintln!("tilted cell, {alg} box relaxation to {target:?} GPa: E/N {:.8}, P {:?} GPa, max |f| {fmax:e}", last["pe"] / n, [last["pxx"] / 1e4, last["pyy"] / 1e4, last["pzz"] / 1e4]);
        assert!(fmax < 1e-6, "{alg}: max force {fmax:e} in the relaxed configuration");
        assert!((p["pe"].as_f64().unwrap() - last["pe"]).abs() < 1e-9 * n, "{alg}: the written configuration has another energy");
    }
}

/// fcc Cu as n×n×n primitive rhombohedral cells in LAMMPS's restricted
/// form (a1 along x, xy = lx/2: the largest tilt LAMMPS allows): with
/// n = 2 the cell is 5.1 Å wide, thinner than the 5.95 Å ghost cutoff, so
/// every atom sees several periodic images of itself, and on 2 and 4 ranks
/// the subdomains are thinner still. Energy per atom and pressure must be
/// those of the conventional cubic cell, and every force zero.
#[test]
fn thin_tilted_cells_see_every_image() {
    use std::fmt::Write;
    let a = 3.615;
    let b = a / 2f64.sqrt();
    let v = [[b, 0.0, 0.0], [0.5 * b, 0.5 * 3f64.sqrt() * b, 0.0], [0.5 * b, b / (2.0 * 3f64.sqrt()), (2.0 / 3.0f64).sqrt() * b]];
    let dir = tempdir();
    let cubic = dir.path().join("cubic.data");
    crystal(&cubic, 3);
    let pot = potential("Cu_u3.eam");
    let run = |data: &std::path::Path, np: usize| {
        let out = glassmd(np, 1, &["forces", "--data", data.to_str().unwrap(), "--potential", pot.to_str().unwrap(), "--style", "eam", "--dump", "f.dump"], dir.path());
        (last_json(&ok(&out)), read_dump(&dir.path().join("f.dump")))
    };
    let (want, _) = run(&cubic, 1);
    let e0 = want["pe"].as_f64().unwrap() / want["natoms"].as_f64().unwrap();
    let p0 = want["press"].as_f64().unwrap();
    for n in [2usize, 3] {
        let nf = n as f64;
        let mut s = format!("fcc Cu, {n}^3 primitive cells\n\n{} atoms\n1 atom types\n\n", n * n * n);
        writeln!(s, "0 {:?} xlo xhi\n0 {:?} ylo yhi\n0 {:?} zlo zhi\n{:?} {:?} {:?} xy xz yz\n", nf * v[0][0], nf * v[1][1], nf * v[2][2], nf * v[1][0], nf * v[2][0], nf * v[2][1]).unwrap();
        s.push_str("Masses\n\n1 63.55\n\nAtoms # atomic\n\n");
        let mut id = 1;
        for i in 0..n {
            for j in 0..n {
                for k in 0..n {
                    let (fi, fj, fk) = (i as f64, j as f64, k as f64);
                    let x: Vec<f64> = (0..3).map(|c| fi * v[0][c] + fj * v[1][c] + fk * v[2][c]).collect();
                    writeln!(s, "{id} 1 {:?} {:?} {:?}", x[0], x[1], x[2]).unwrap();
                    id += 1;
                }
            }
        }
        let data = dir.path().join(format!("prim{n}.data"));
        std::fs::write(&data, s).unwrap();
        for np in [1, 2, 4] {
            let (got, dump) = run(&data, np);
            let e = got["pe"].as_f64().unwrap() / (n * n * n) as f64;
            let p = got["press"].as_f64().unwrap();
            let fmax = dump.values().flat_map(|r| r[2..5].to_vec()).fold(0.0f64, |m, f| m.max(f.abs()));
            eprintln!("fcc {n}^3 primitive cells, {np} rank(s): E/N {e} (cubic {e0}), P {p} (cubic {p0}), max |f| {fmax:e}");
            assert!((e - e0).abs() < 1e-12 * e0.abs(), "n = {n}, {np} ranks: energy per atom {e} vs cubic {e0}");
            assert!((p - p0).abs() < 1e-9 * p0.abs().max(1.0), "n = {n}, {np} ranks: pressure {p} vs cubic {p0}");
            assert!(fmax < 1e-10, "n = {n}, {np} ranks: force {fmax:e} on a perfect lattice");
        }
    }
}

/// The deck form the extension-points issue quotes, as written (with fewer
/// steps): a triclinic data file, groups by region, complement and type,
/// `temp_mobile` in the thermo CSV, NVT on a group with `setforce` on the
/// base, and NPT with every cell component as a target.
#[test]
fn the_issue_deck_form_runs_on_a_tilted_cell() {
    let dir = tempdir();
    std::fs::copy(reference("cuzr_tri_ppp").join("config.data"), dir.path().join("tilted.data")).unwrap();
    let deck = format!(
        r#"[system]
read_data = "tilted.data"        # a triclinic data file (xy xz yz line)
boundary = ["p", "p", "p"]

[potential]
style = "eam/fs"
file = "{pot}"
elements = ["Cu", "Zr"]

[[group]]
name = "base"
region = {{ z = [-inf, 5.0] }}     # Å, box coordinates; absent axes unbounded

[[group]]
name = "mobile"
not = "base"

[[group]]
name = "copper"
types = [1]

[thermo]
every = 10
file = "thermo.csv"
extra = ["temp_mobile"]          # temperature of group "mobile" as a column named temp_mobile

[[stage]]
kind = "nvt"
group = "mobile"                 # integrate only these atoms
temperature = 300.0
steps = 100
timestep = 0.001

[[stage.fix]]
kind = "setforce"
group = "base"
force = [0.0, 0.0, 0.0]

[[stage]]
kind = "npt"
timestep = 0.001
steps = 100
temperature = 300.0
pressure_gpa = {{ x = 0.0, y = 0.0, z = 0.0, xy = 0.0, xz = 0.0, yz = 0.0 }}
"#,
        pot = potential("CuZr_mm.eam.fs").display()
    );
    std::fs::write(dir.path().join("deck.toml"), deck).unwrap();
    ok(&glassmd(2, 1, &["run", "deck.toml"], dir.path()));
    let t = read_thermo_csv(&dir.path().join("thermo.csv"));
    assert_eq!(t.last().unwrap()["step"], 200.0);
    let nvt_end = t.iter().find(|r| r["step"] == 100.0).unwrap();
    assert!(nvt_end["temp_mobile"].is_finite() && nvt_end["temp_mobile"] > 0.0);
    assert_eq!((nvt_end["xy"], nvt_end["xz"], nvt_end["yz"]), (14.5, 4.0, -5.0), "NVT kept the cell");
    let last = t.last().unwrap();
    assert!(last["temp_mobile"] > 0.0, "temp_mobile in the NPT stage");
    for k in ["lx", "xy", "xz", "yz"] {
        assert!((last[k] - nvt_end[k]).abs() > 1e-6, "NPT on every component left {k} at {}", last[k]);
    }
}
