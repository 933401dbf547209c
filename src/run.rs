//! Drivers: `glassmd run DECK` (multi-stage decks) and `glassmd forces`
//! (single-point evaluation for validation).
//!
//! A driver builds an [`Engine`] from a data file and a potential, then runs
//! stages. Output files are written on rank 0 from gathered data; every rank
//! takes part in the collective calls. A new stage kind gets a `match` arm in
//! [`run_deck`] (and a variant in `config::Stage`).

use crate::config::{Deck, PressureSpec, Stage};
use crate::domain::comm::Comm;
use crate::engine::{Barostat, Couple, Engine, EngineOptions, Ensemble, Langevin, NoseHooverChain, Npt, Nve, Nvt};
use crate::error::{Error, Result};
use crate::io::{dump, lammps_data, thermo::Thermo, thermo::ThermoFile};
use crate::minimize::{minimize, Algorithm, BoxRelax, MinParams};
use crate::potential::eam::{self, EamStyle};
use crate::potential::ForceFlags;
use crate::system::{build, Boundary};
use crate::units::{BAR_PER_GPA, MVV2E, NKTV2P};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

/// Tile a configuration nx × ny × nz (LAMMPS `replicate`): copy k gets ids
/// `id + k·max_id` and positions shifted by whole box lengths.
pub fn replicate(d: &lammps_data::DataFile, n: [usize; 3]) -> lammps_data::DataFile {
    let l = [d.hi[0] - d.lo[0], d.hi[1] - d.lo[1], d.hi[2] - d.lo[2]];
    let maxid = d.atoms.iter().map(|a| a.id).max().unwrap_or(0);
    let mut atoms = Vec::with_capacity(d.atoms.len() * n[0] * n[1] * n[2]);
    let mut k = 0u64;
    for iz in 0..n[2] {
        for iy in 0..n[1] {
            for ix in 0..n[0] {
                let off = [ix as f64 * l[0], iy as f64 * l[1], iz as f64 * l[2]];
                for a in &d.atoms {
                    let mut b = a.clone();
                    b.id = a.id + k * maxid;
                    for c in 0..3 {
                        b.x[c] = a.x[c] + off[c];
                    }
                    atoms.push(b);
                }
                k += 1;
            }
        }
    }
    let mut hi = d.hi;
    for c in 0..3 {
        hi[c] = d.lo[c] + l[c] * n[c] as f64;
    }
    lammps_data::DataFile { atoms, hi, ..d.clone() }
}

fn parse_style(s: &str, origin: &Path) -> Result<EamStyle> {
    EamStyle::parse(s).ok_or_else(|| {
        Error::input(origin, format!("unknown potential style '{}' (expected eam, eam/alloy or eam/fs)", s))
    })
}

/// Masses per type: the potential file's, as LAMMPS `pair_coeff` sets them.
fn masses_of(pot: &eam::Eam) -> Vec<f64> {
    pot.tables.masses.clone()
}

struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    total: u64,
    next_log: u64,
}

impl Progress {
    fn new(root: bool, total: u64, label: &str) -> Progress {
        let show = root && total >= 1000;
        let bar = if show && std::io::stderr().is_terminal() {
            let b = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} steps  {per_sec}  ETA {eta}",
            ) {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_prefix(label.to_string());
            Some(b)
        } else {
            None
        };
        Progress { bar, start: Instant::now(), total, next_log: if show { total / 10 } else { u64::MAX } }
    }
    fn tick(&mut self, done: u64) {
        if let Some(b) = &self.bar {
            b.set_position(done);
        } else if done >= self.next_log && done < self.total {
            // Batch logs (Slurm) get a line every 10 % with an ETA.
            let el = self.start.elapsed().as_secs_f64();
            let eta = el / done as f64 * (self.total - done) as f64;
            log::info!("{}/{} steps ({:.0}%), elapsed {:.0} s, ETA {:.0} s", done, self.total, 100.0 * done as f64 / self.total as f64, el, eta);
            self.next_log += self.total / 10;
        }
    }
    fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

/// Run `steps` MD steps under an ensemble, with thermo output and progress.
fn md_stage(
    eng: &mut Engine,
    steps: u64,
    dt: f64,
    ens: &mut dyn Ensemble,
    every: u64,
    label: &str,
    emit: &mut dyn FnMut(&mut Engine, Thermo) -> Result<()>,
) -> Result<()> {
    let mut prog = Progress::new(eng.comm.is_root(), steps, label);
    for s in 1..=steps {
        eng.md_step(dt, ens)?;
        if eng.step % every == 0 || s == steps {
            let t = eng.thermo();
            emit(eng, t)?;
        }
        prog.tick(s);
    }
    prog.finish();
    Ok(())
}

/// Run a deck to the end.
pub fn run_deck(comm: &dyn Comm, deck_path: &Path, nthreads: usize) -> Result<()> {
    let root = comm.is_root();
    let deck = Deck::load(deck_path)?;
    let style = parse_style(&deck.potential.style, &deck.path)?;
    let mut elements = deck.potential.elements.clone();
    let (mut data, data_path) = match (&deck.system.read_data, &deck.system.create) {
        (Some(rd), _) => {
            let p = deck.resolve(rd);
            (lammps_data::read(&p)?, p)
        }
        (None, Some(c)) => {
            // Types follow potential.elements, else the composition's elements sorted.
            let names: Vec<String> = elements.clone().unwrap_or_else(|| c.composition.keys().cloned().collect());
            if let Some(bad) = c.composition.keys().find(|k| !names.contains(k)) {
                return Err(Error::input(&deck.path, format!("system.create.composition names {} but potential.elements does not", bad)));
            }
            let fr: Vec<f64> = names.iter().map(|e| c.composition.get(e).copied().unwrap_or(0.0)).collect();
            let built = match (&c.lattice, c.atoms, c.number_density) {
                (Some(l), _, _) => build::lattice(&fr, l, c.a.unwrap_or(0.0), c.cells.unwrap_or([1; 3]), c.seed),
                (None, Some(n), Some(rho)) => build::random_alloy(&fr, n, rho, c.aspect, c.min_distance, c.seed),
                _ => Err("system.create is incomplete".into()),
            }
            .map_err(|m| Error::input(&deck.path, format!("system.create: {}", m)))?;
            if style != EamStyle::Funcfl {
                elements = Some(names);
            }
            (built, deck.path.clone())
        }
        (None, None) => return Err(Error::input(&deck.path, "system: give read_data or create")),
    };
    if let Some(r) = deck.system.replicate {
        data = replicate(&data, r);
    }
    let pot_path = deck.resolve(&deck.potential.file);
    let pot = eam::load(style, &pot_path, elements.as_deref(), data.ntypes, &data_path, &deck.path)?;
    let masses = masses_of(&pot);
    let opts = EngineOptions { skin: deck.neighbor.skin, sort_every: deck.neighbor.sort_every, nchunks: nthreads };
    let mut eng = Engine::new(comm, &data, &data_path, deck.system.boundary(), Box::new(pot), masses, opts)?;
    drop(data);
    if root {
        log::info!(
            "{} atoms, {} types, box {:?}, grid {:?}, {} rank(s) x {} thread(s)",
            eng.natoms,
            eng.masses.len(),
            eng.bx.lengths(),
            eng.dom.grid,
            comm.size(),
            nthreads
        );
    }
    let mut thermo_file = match (&deck.thermo.file, root) {
        (Some(f), true) => Some(ThermoFile::create(&deck.resolve(f))?),
        _ => None,
    };
    let mut emit = |eng: &mut Engine, t: Thermo| -> Result<()> {
        let t0 = Instant::now();
        if root {
            println!("{}", t.log_line());
            if let Some(f) = thermo_file.as_mut() {
                f.write(&t)?;
            }
        }
        eng.timers.output += t0.elapsed().as_secs_f64();
        Ok(())
    };
    eng.setup(ForceFlags::default())?;
    if root {
        println!("{}", Thermo::log_header());
    }
    let t = eng.thermo();
    emit(&mut eng, t)?;
    // Like LAMMPS's "Loop time", the summary covers the stages, not set-up.
    eng.timers = crate::timing::Timers::default();
    let every = deck.thermo.every;
    // One thermostat for the whole deck: its state carries across stages.
    let mut chain = NoseHooverChain::new();
    let mut baro: Option<Barostat> = None;
    for (k, stage) in deck.stages.iter().enumerate() {
        if root {
            log::info!("stage {} ({}) from step {}", k + 1, stage.name(), eng.step);
        }
        match stage {
            Stage::Velocity(v) => eng.create_velocities(v.temperature, v.seed),
            Stage::Nve(nve) => {
                md_stage(&mut eng, nve.steps, nve.timestep, &mut Nve, every, &format!("stage {} nve", k + 1), &mut emit)?;
            }
            Stage::Nvt(nvt) => {
                let steps = nvt.steps().map_err(|m| Error::input(&deck.path, m))?;
                let (t0, t1) = (nvt.temperature.start(), nvt.temperature.stop());
                let mut ens = Nvt::new(&eng, &mut chain, t0, t1, nvt.tdamp(), steps);
                md_stage(&mut eng, steps, nvt.timestep, &mut ens, every, &format!("stage {} nvt", k + 1), &mut emit)?;
            }
            Stage::Npt(npt) => {
                let steps = npt.steps().map_err(|m| Error::input(&deck.path, m))?;
                let gpa = npt.axis_targets().map_err(|m| Error::input(&deck.path, m))?;
                let targets = gpa.map(|t| t.map(|(a, b)| (a * BAR_PER_GPA, b * BAR_PER_GPA)));
                let couple = match npt.couple.as_deref() {
                    Some("xyz") => Couple::Xyz,
                    Some("xy") => Couple::Xy,
                    Some("yz") => Couple::Yz,
                    Some("xz") => Couple::Xz,
                    _ if npt.is_iso() => Couple::Xyz,
                    _ => Couple::None,
                };
                let per_axis = matches!(npt.pressure_gpa, PressureSpec::Axes(_));
                let fresh = Barostat::new(targets, npt.pdamp(), npt.is_iso(), couple, per_axis);
                // The barostat's state carries over from earlier NPT stages.
                let b = match baro.as_mut() {
                    Some(b) => {
                        b.retarget(&fresh);
                        b
                    }
                    None => baro.insert(fresh),
                };
                let t = (npt.temperature.start(), npt.temperature.stop());
                let mut ens = Npt::new(&eng, &mut chain, b, t, npt.tdamp(), steps);
                md_stage(&mut eng, steps, npt.timestep, &mut ens, every, &format!("stage {} npt", k + 1), &mut emit)?;
            }
            Stage::Langevin(l) => {
                let steps = l.steps().map_err(|m| Error::input(&deck.path, m))?;
                let mut ens = Langevin {
                    t_start: l.temperature.start(),
                    t_stop: l.temperature.stop(),
                    damp: l.damp(),
                    seed: l.seed,
                    steps,
                    done: 0,
                };
                md_stage(&mut eng, steps, l.timestep, &mut ens, every, &format!("stage {} langevin", k + 1), &mut emit)?;
            }
            Stage::Minimize(m) => {
                let params = MinParams {
                    algorithm: Algorithm::parse(&m.algorithm).unwrap_or(Algorithm::Cg),
                    etol: m.etol,
                    ftol: m.ftol,
                    max_iterations: m.max_iterations,
                    dmax: m.dmax,
                    fire_dt: 0.001,
                    box_relax: m.box_targets().map_err(|e| Error::input(&deck.path, e))?.map(|(t, couple)| BoxRelax {
                        target: t.map(|p| p.map(|g| g * BAR_PER_GPA)),
                        couple,
                        ptol: m.ptol_gpa * BAR_PER_GPA,
                        vmax: m.vmax,
                    }),
                };
                let r = minimize(&mut eng, &params)?;
                let natoms = eng.natoms as f64;
                let mut msg = format!(
                    "minimize ({}): {} after {} iterations, {} force evaluations; E {:.10} -> {:.10} eV ({:.8} eV/atom); max |f| {:.3e} eV/A (ftol {:e}); last dE/E {:.3e} (etol {:e})",
                    m.algorithm, r.stop.describe(), r.iterations, r.evaluations, r.e_initial, r.e_final, r.e_final / natoms, r.fmax, m.ftol, r.de_rel, m.etol
                );
                if let Some((p, miss)) = r.pressure {
                    let g = p.map(|b| b / BAR_PER_GPA);
                    msg += &format!(
                        "; box {:?} A, pressure xx/yy/zz {:.6} {:.6} {:.6} GPa, largest miss {:.2e} GPa (ptol {:e})",
                        eng.bx.lengths(), g[0], g[1], g[2], miss / BAR_PER_GPA, m.ptol_gpa
                    );
                }
                if root {
                    if r.stop.converged() {
                        log::info!("{}", msg);
                    } else {
                        log::warn!("did not converge: {}", msg);
                    }
                }
                let t = eng.thermo();
                emit(&mut eng, t)?;
            }
            Stage::WriteData(w) => {
                let file = &w.file;
                let t0 = Instant::now();
                if let Some(d) = eng.to_data() {
                    let title = format!("LAMMPS data file written by glassmd {}, step {}", env!("CARGO_PKG_VERSION"), eng.step);
                    lammps_data::write(&deck.resolve(file), &title, &d)?;
                }
                eng.timers.output += t0.elapsed().as_secs_f64();
            }
        }
    }
    if let Some(f) = thermo_file {
        f.commit()?;
    }
    if let Some(s) = eng.timers.report(comm, eng.natoms) {
        println!("{}", s);
    }
    Ok(())
}

/// Arguments of `glassmd forces`.
pub struct ForcesArgs<'a> {
    pub data: &'a Path,
    pub potential: &'a Path,
    pub style: &'a str,
    pub elements: Option<&'a [String]>,
    pub boundary: [Boundary; 3],
    pub dump: Option<&'a Path>,
    pub nthreads: usize,
}

/// Single-point forces, per-atom energies and stresses, and totals, as LAMMPS
/// reports them at step 0 of `run 0` (kinetic parts included).
pub fn forces(comm: &dyn Comm, a: &ForcesArgs) -> Result<serde_json::Value> {
    let cli = Path::new("command line");
    let data = lammps_data::read(a.data)?;
    let style = parse_style(a.style, cli)?;
    let pot = eam::load(style, a.potential, a.elements, data.ntypes, a.data, cli)?;
    let masses = masses_of(&pot);
    let opts = EngineOptions { skin: 1.0, sort_every: 0, nchunks: a.nthreads };
    let mut eng = Engine::new(comm, &data, a.data, a.boundary, Box::new(pot), masses, opts)?;
    eng.setup(ForceFlags { energy_atom: true, virial_atom: true })?;
    let t = eng.thermo();
    let rows = eng.gather_rows(10, |i| {
        let (f, v) = (eng.atoms.f[i], eng.atoms.v[i]);
        let m = eng.masses[eng.atoms.typ[i] as usize] * MVV2E;
        let w = eng.per_atom.virial[i];
        // LAMMPS compute stress/atom: −(m v_a v_b + W_ab) in bar·Å³.
        let kin = [m * v[0] * v[0], m * v[1] * v[1], m * v[2] * v[2], m * v[0] * v[1], m * v[0] * v[2], m * v[1] * v[2]];
        let mut r = vec![f[0], f[1], f[2], eng.per_atom.energy[i]];
        r.extend((0..6).map(|k| -(kin[k] + w[k]) * NKTV2P));
        r
    });
    if let (Some(rows), Some(path)) = (rows, a.dump) {
        dump::write_frame(path, 0, &eng.bx, &["fx", "fy", "fz", "pe", "sxx", "syy", "szz", "sxy", "sxz", "syz"], &rows)?;
    }
    Ok(serde_json::json!({
        "natoms": eng.natoms,
        "pe": t.pe,
        "ke": t.ke,
        "etotal": t.etotal,
        "temperature": t.temperature,
        "press": t.pressure,
        "pxx": t.ptensor[0],
        "pyy": t.ptensor[1],
        "pzz": t.ptensor[2],
        "pxy": t.ptensor[3],
        "pxz": t.ptensor[4],
        "pyz": t.ptensor[5],
        "volume": t.volume,
    }))
}
