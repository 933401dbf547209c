//! Drivers: `glassmd run DECK` (multi-stage decks) and `glassmd forces`
//! (single-point evaluation for validation).
//!
//! A driver builds an [`Engine`] from a data file and a potential, then runs
//! stages. Output files are written on rank 0 from gathered data; every rank
//! takes part in the collective calls. A new stage kind gets a `match` arm in
//! [`run_deck`] (and a variant in `config::Stage`).

use crate::config::{resolve_in, Deck, InherentStructures, MinimizeStage, PressureSpec, Stage, TgStage};
use crate::domain::comm::{agree, Comm};
use crate::engine::{Barostat, Couple, Engine, EngineOptions, Ensemble, Langevin, NoseHooverChain, Npt, Nve, Nvt, ThermostatState};
use crate::io::checkpoint;
use crate::error::{Error, Result};
use crate::io::frames::{FrameInfo, FrameWriter, Fields, TextFormat, TextTrajectory};
use crate::io::h5md::{ForceUnit, H5md, CHUNK_ROWS};
use crate::io::rundir::RunDir;
use crate::io::{dump, lammps_data, thermo::Thermo, thermo::ThermoFile, write_atomic};
use crate::protocol::{sample_dir, summarize, IsSampler, Results, Row};
use crate::minimize::{minimize, Algorithm, BoxRelax, MinParams};
use crate::potential::eam::{self, EamStyle};
use crate::potential::ForceFlags;
use crate::system::{build, Boundary};
use crate::units::BAR_PER_GPA;
use crate::console::{self, Progress};
use std::path::{Path, PathBuf};
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

/// A per-atom trajectory of the deck's `[output]`.
struct Trajectory {
    every: u64,
    fields: Fields,
    target: PathBuf,
    /// H5MD (`None`) or a text format.
    format: Option<TextFormat>,
    compression: u8,
    /// Unit of H5MD forces.
    force_unit: ForceUnit,
    /// Rank 0 only.
    writer: Option<Box<dyn FrameWriter>>,
    /// Step of the last frame, so a step is never written twice.
    last_step: Option<u64>,
}

impl Trajectory {
    /// Open the writer on rank 0: a new part file, or the part file of an
    /// interrupted run continued from `resume` (its [`FrameWriter::mark`]).
    fn open(&mut self, eng: &Engine, resume: Option<u64>) -> Result<()> {
        if !eng.comm.is_root() {
            return Ok(());
        }
        let w: Box<dyn FrameWriter> = match (self.format, resume) {
            (None, None) => Box::new(H5md::create(&self.target, eng.natoms, self.fields, &eng.masses, eng.bx.boundary, self.compression, self.force_unit)?),
            (None, Some(frames)) => Box::new(H5md::resume(&self.target, eng.natoms, self.fields, &eng.masses, frames, self.force_unit)?),
            (Some(format), r) => Box::new(TextTrajectory::open(&self.target, self.fields, format, r)?),
        };
        self.writer = Some(w);
        Ok(())
    }
}

/// Where a run's output goes: the thermo log and CSV (rank 0), the rows of
/// the current stage kept for analysis, the results, and trajectories.
struct Output {
    root: bool,
    thermo_file: Option<ThermoFile>,
    rows: Vec<Row>,
    results: Results,
    dir: PathBuf,
    trajectories: Vec<Trajectory>,
    /// Element name of each atom type (may be empty).
    elements: Vec<String>,
    /// Checkpoint file and interval (0: on signals only).
    checkpoint: Option<(PathBuf, u64)>,
    /// Kinds of the deck's stages and threads per rank, for checkpoints.
    stage_names: Vec<String>,
    nthreads: usize,
    stop_at: Option<u64>,
    /// Volume when the current MD stage began (checkpointed).
    stage_volume0: Option<f64>,
    /// 1-based stage running now (0: set-up), for the thermo rows.
    stage: usize,
}

impl Output {
    /// Write the frames due at the current step (collective): per-atom
    /// rows stream to rank 0 in id order, one block at a time.
    fn frames(&mut self, eng: &mut Engine) -> Result<()> {
        let step = eng.step;
        let due: Vec<usize> = (0..self.trajectories.len()).filter(|&k| step % self.trajectories[k].every == 0 && self.trajectories[k].last_step != Some(step)).collect();
        if due.is_empty() {
            return Ok(());
        }
        let t0 = Instant::now();
        if due.iter().any(|&k| self.trajectories[k].fields.needs_per_atom()) {
            eng.compute_per_atom();
        }
        let thermo = eng.thermo();
        let mut first_err = None;
        for k in due {
            let tr = &mut self.trajectories[k];
            tr.last_step = Some(step);
            let info = FrameInfo { step, time: eng.time, lo: eng.bx.lo, hi: eng.bx.hi, boundary: eng.bx.boundary, natoms: eng.natoms, thermo: &thermo, elements: &self.elements, masses: &eng.masses };
            let mut ok = match tr.writer.as_mut().map(|w| w.begin(&info)) {
                Some(Err(e)) => {
                    first_err.get_or_insert(e);
                    false
                }
                _ => true,
            };
            let f = tr.fields;
            let e: &Engine = eng;
            let res = e.stream_rows(f.width(), CHUNK_ROWS, |i, out| frame_row(e, f, i, out), |b| match tr.writer.as_mut() {
                Some(w) if ok => w.rows(b),
                _ => Ok(()),
            });
            if let Err(err) = res {
                ok = false;
                first_err.get_or_insert(err);
            }
            if let (Some(w), true) = (tr.writer.as_mut(), ok) {
                if let Err(err) = w.end() {
                    first_err.get_or_insert(err);
                }
                log::debug!("frame at step {} written to {} in {:.3} s", step, tr.target.display(), t0.elapsed().as_secs_f64());
            }
        }
        eng.timers.output += t0.elapsed().as_secs_f64();
        first_err.map_or(Ok(()), Err)
    }

    /// Has any rank been asked to stop (collective, only when the deck
    /// writes checkpoints: otherwise signals keep their default action)?
    fn signalled(&self, eng: &Engine) -> bool {
        self.checkpoint.is_some() && eng.global_max(self.signal_flag()) > 0.0
    }

    /// 1 if this rank was asked to stop and the deck can checkpoint, else 0.
    fn signal_flag(&self) -> f64 {
        if self.checkpoint.is_some() && SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
            1.0
        } else {
            0.0
        }
    }

    /// Every [`SIGNAL_CHECK_STEPS`] MD steps (collective, one reduction):
    /// has a rank been asked to stop, and is the run still sound? A kinetic
    /// temperature above `limits.max_temperature` or a volume that grew or
    /// shrank by `limits.max_volume_ratio` since the stage began (`v0`) is a
    /// blow-up and an error, on every rank alike.
    fn health(&self, eng: &Engine, v0: f64) -> Result<bool> {
        let (flag, t) = eng.flag_and_temperature(self.signal_flag());
        let lim = &eng.limits;
        if !(t <= lim.max_temperature) {
            return Err(Error::runtime(format!(
                "at step {}: the temperature reached {:.4e} K, above limits.max_temperature = {} K: the system blew up; the timestep may be too large",
                eng.step, t, lim.max_temperature
            )));
        }
        let ratio = eng.bx.volume() / v0;
        if !(ratio <= lim.max_volume_ratio && ratio >= 1.0 / lim.max_volume_ratio) {
            return Err(Error::runtime(format!(
                "at step {}: the volume changed by a factor {:.4} since the stage began (limits.max_volume_ratio = {}): the box ran away; check the pressure target and pdamp",
                eng.step, ratio, lim.max_volume_ratio
            )));
        }
        Ok(flag > 0.0)
    }

    fn checkpoint_due(&self, step: u64) -> bool {
        matches!(&self.checkpoint, Some((_, every)) if *every > 0 && step % every == 0)
    }

    /// Write the checkpoint (collective): the run is at MD step `done` of
    /// stage `stage` (0-based; `done` = 0 means the stage has not begun).
    fn checkpoint(&mut self, eng: &mut Engine, stage: usize, done: u64, thermostat: ThermostatState, stage_rows: &[Vec<Row>], is_rows: Vec<[f64; 10]>) -> Result<()> {
        let Some((path, _)) = self.checkpoint.clone() else {
            return Ok(());
        };
        let t0 = Instant::now();
        let thermo_mark = match self.thermo_file.as_mut() {
            Some(f) => Some(f.mark()?),
            None => None,
        };
        let mut trajectories = Vec::new();
        for tr in &mut self.trajectories {
            let m = match tr.writer.as_mut() {
                Some(w) => w.mark()?,
                None => 0,
            };
            trajectories.push((m, tr.last_step));
        }
        let (hold, last_sort) = eng.neighbor_state();
        let st = RunState {
            stages: self.stage_names.clone(),
            natoms: eng.natoms,
            nranks: eng.comm.size(),
            nthreads: self.nthreads,
            step: eng.step,
            time: eng.time,
            lo: eng.bx.lo,
            hi: eng.bx.hi,
            hold_lo: hold.0,
            hold_hi: hold.1,
            last_sort,
            stage,
            stage_done: done,
            thermostat,
            results: self.results.values.clone(),
            rows: self.rows.clone(),
            stage_rows: stage_rows.to_vec(),
            is_rows,
            thermo_mark,
            trajectories,
            stage_volume0: self.stage_volume0,
        };
        let json = serde_json::to_string(&st).map_err(|e| Error::runtime(format!("checkpoint state: {}", e)))?;
        checkpoint::write(eng.comm, &path, &json, &eng.save_local())?;
        if self.root {
            let mb = std::fs::metadata(&path).map(|m| m.len() as f64 / 1e6).unwrap_or(f64::NAN);
            log::info!("checkpoint at step {} (stage {}, step {} of it) written to {} ({:.1} MB) in {:.3} s", eng.step, stage + 1, done, path.display(), mb, t0.elapsed().as_secs_f64());
        }
        eng.timers.output += t0.elapsed().as_secs_f64();
        Ok(())
    }

    fn interrupted(&self) -> Error {
        Error::Interrupted(self.checkpoint.as_ref().map(|c| c.0.clone()).unwrap_or_default())
    }

    /// End of the run: rename every part file onto its target (rank 0).
    fn finish(&mut self) -> Result<()> {
        for tr in &mut self.trajectories {
            if let Some(w) = tr.writer.take() {
                w.finish()?;
            }
        }
        if let Some(f) = self.thermo_file.take() {
            f.commit()?;
        }
        Ok(())
    }

    /// A thermo line; `target` is the ensemble's target temperature.
    /// Values that are not finite stop the run (every rank sees the same
    /// global values, so all stop together).
    fn emit(&mut self, eng: &mut Engine, mut t: Thermo, target: Option<f64>) -> Result<()> {
        let t0 = Instant::now();
        t.stage = self.stage;
        t.target_temperature = target.unwrap_or(f64::NAN);
        if let Some((name, v)) = [("temperature", t.temperature), ("potential energy", t.pe), ("pressure", t.pressure)].into_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::runtime(format!("at step {}: the {} is {}: the system blew up", t.step, name, v)));
        }
        if self.root {
            // The CSV row first (flushed): a row on the screen is on disk.
            if let Some(f) = self.thermo_file.as_mut() {
                f.write(&t)?;
            }
            console::line(&t.log_line());
        }
        let n = eng.natoms.max(1) as f64;
        self.rows.push(Row { temperature: target.unwrap_or(t.temperature), volume_per_atom: t.volume / n, pe_per_atom: t.pe / n });
        eng.timers.output += t0.elapsed().as_secs_f64();
        Ok(())
    }
    fn path(&self, file: &str) -> PathBuf {
        resolve_in(&self.dir, file)
    }
}

/// The values of owned atom `i` for the fields `f`, in [`Fields`] order.
fn frame_row(eng: &Engine, f: Fields, i: usize, out: &mut Vec<f64>) {
    if f.position {
        // Between reneighborings an atom may sit just outside the box; the
        // file holds the wrapped position, the same whenever the last
        // reneighboring was.
        let (mut x, mut im) = (eng.atoms.x[i], eng.atoms.image[i]);
        // Positions are finite and near the box here (the step's guard).
        let _ = eng.bx.wrap(&mut x, &mut im);
        out.extend([x[0], x[1], x[2], im[0] as f64, im[1] as f64, im[2] as f64]);
    }
    if f.velocity {
        out.extend(eng.atoms.v[i]);
    }
    if f.force {
        out.extend(eng.atoms.f[i]);
    }
    if f.pe {
        out.push(eng.per_atom.energy[i]);
    }
    if f.stress {
        out.extend(eng.stress_atom(i));
    }
}

/// Where an MD stage stands, for checkpoints: the stage, the steps of it
/// already done (a resumed stage starts after them), and the thermostat
/// and barostat as they were when the stage began (the ensemble overlays
/// the ones it drives, see [`Ensemble::save`]).
struct StageCtx<'a> {
    stage: usize,
    start: u64,
    idle: ThermostatState,
    stage_rows: &'a [Vec<Row>],
    /// MD steps of the stages after this one (the deck's ETA).
    after: u64,
}

/// A LAMMPS data file of the current state (collective): wrapped positions
/// with image flags, then velocities, each streamed to rank 0 in id order.
fn write_data(eng: &Engine, path: &Path) -> Result<()> {
    let title = format!("LAMMPS data file written by glassmd {}, step {}", env!("CARGO_PKG_VERSION"), eng.step);
    let mut w = match eng.comm.is_root() {
        true => Some(lammps_data::DataWriter::create(path, &title, eng.natoms, eng.masses.len(), eng.bx.lo, eng.bx.hi, &eng.masses)?),
        false => None,
    };
    let f = Fields { position: true, ..Fields::default() };
    eng.stream_rows(6, CHUNK_ROWS, |i, out| frame_row(eng, f, i, out), |b| match w.as_mut() {
        Some(w) => (0..b.len()).try_for_each(|k| {
            let r = b.row(k);
            w.atom(b.ids[k], b.types[k], [r[0], r[1], r[2]], [r[3] as i32, r[4] as i32, r[5] as i32])
        }),
        None => Ok(()),
    })?;
    if let Some(w) = w.as_mut() {
        w.begin_velocities()?;
    }
    eng.stream_rows(3, CHUNK_ROWS, |i, out| out.extend(eng.atoms.v[i]), |b| match w.as_mut() {
        Some(w) => (0..b.len()).try_for_each(|k| {
            let r = b.row(k);
            w.velocity(b.ids[k], [r[0], r[1], r[2]])
        }),
        None => Ok(()),
    })?;
    match w {
        Some(w) => w.commit(),
        None => Ok(()),
    }
}

/// Run `steps` MD steps under an ensemble, with thermo output and progress.
/// `ramp` is the (start, stop) target temperature, if the ensemble has one;
/// `is` samples inherent structures along the way. Checkpoints are written
/// every `checkpoint.every` steps and when a signal asks for one.
#[allow(clippy::too_many_arguments)]
fn md_stage(
    eng: &mut Engine,
    steps: u64,
    dt: f64,
    ens: &mut dyn Ensemble,
    every: u64,
    label: &str,
    ramp: Option<(f64, f64)>,
    out: &mut Output,
    mut is: Option<&mut IsSampler>,
    ctx: &StageCtx,
) -> Result<()> {
    let target = |s: u64| ramp.map(|(a, b)| a + (b - a) * s as f64 / steps as f64);
    if let (Some(is), 0) = (is.as_deref_mut(), ctx.start) {
        is.sample(eng, target(0).unwrap_or(f64::NAN))?;
    }
    let mut prog = Progress::new(eng.comm.is_root(), steps, label, ctx.start, ctx.after);
    // The volume the stage began with (a resumed stage has it from its checkpoint).
    let v0 = *out.stage_volume0.get_or_insert_with(|| eng.bx.volume());
    for s in ctx.start + 1..=steps {
        eng.md_step(dt, ens)?;
        if eng.step % every == 0 || s == steps {
            let t = eng.thermo();
            out.emit(eng, t, target(s))?;
        }
        out.frames(eng)?;
        if let Some(is) = is.as_deref_mut() {
            if s % is.every == 0 || s == steps {
                is.sample(eng, target(s).unwrap_or(f64::NAN))?;
            }
        }
        // The reduction that makes the ranks agree on a signal runs only
        // every SIGNAL_CHECK_STEPS steps, not in every step.
        let signalled = (eng.step % SIGNAL_CHECK_STEPS == 0 && out.health(eng, v0)?) || out.stop_at == Some(eng.step);
        if signalled || out.checkpoint_due(eng.step) {
            let mut th = ctx.idle.clone();
            ens.save(&mut th);
            let is_rows = is.as_deref().map(|i| i.rows.clone()).unwrap_or_default();
            out.checkpoint(eng, ctx.stage, s, th, ctx.stage_rows, is_rows)?;
            if signalled {
                return Err(out.interrupted());
            }
        }
        prog.tick(s);
    }
    prog.finish();
    Ok(())
}

/// The state of a run that a checkpoint carries besides the atoms.
#[derive(serde::Serialize, serde::Deserialize)]
struct RunState {
    /// Stage kinds of the deck that wrote it (a restart must match).
    stages: Vec<String>,
    natoms: u64,
    nranks: usize,
    nthreads: usize,
    step: u64,
    time: f64,
    lo: [f64; 3],
    hi: [f64; 3],
    hold_lo: [f64; 3],
    hold_hi: [f64; 3],
    last_sort: Option<u64>,
    /// The stage to continue (0-based) and its MD steps done (0: from its start).
    stage: usize,
    stage_done: u64,
    thermostat: ThermostatState,
    results: std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>,
    rows: Vec<Row>,
    stage_rows: Vec<Vec<Row>>,
    is_rows: Vec<[f64; 10]>,
    /// Where the thermo CSV and each trajectory continue, and the step of
    /// each trajectory's last frame.
    thermo_mark: Option<u64>,
    trajectories: Vec<(u64, Option<u64>)>,
    /// Volume when the current stage began.
    #[serde(default)]
    stage_volume0: Option<f64>,
}

/// Steps between checks for a signal: a stop request is honoured within
/// this many steps of its arrival.
const SIGNAL_CHECK_STEPS: u64 = 10;

/// Set by SIGTERM or SIGUSR1 (Slurm's warning before a time limit).
static SIGNALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The handlers of [`catch_signals`], kept so [`release_signals`] can undo them.
static HANDLERS: std::sync::Mutex<Vec<signal_hook::SigId>> = std::sync::Mutex::new(Vec::new());

/// Ask for a checkpoint and a clean stop on SIGTERM and SIGUSR1. Called at
/// the very start of `glassmd run`, before MPI starts, so that Slurm's
/// warning (which may come early: its timing has a resolution of up to a
/// minute) is never lost to the signal's default action. A second SIGTERM
/// while the first is being handled terminates at once.
pub fn catch_signals() {
    use signal_hook::consts::{SIGTERM, SIGUSR1};
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mark = || SIGNALLED.store(true, std::sync::atomic::Ordering::SeqCst);
    let r = (|| -> std::io::Result<Vec<signal_hook::SigId>> {
        Ok(vec![
            signal_hook::flag::register_conditional_shutdown(SIGTERM, 1, flag.clone())?,
            signal_hook::flag::register(SIGTERM, flag.clone())?,
            unsafe { signal_hook::low_level::register(SIGTERM, mark)? },
            unsafe { signal_hook::low_level::register(SIGUSR1, mark)? },
        ])
    })();
    match r {
        Ok(ids) => *HANDLERS.lock().unwrap_or_else(|e| e.into_inner()) = ids,
        Err(e) => log::warn!("cannot catch SIGTERM/SIGUSR1 ({}); a signal will stop the run without a checkpoint", e),
    }
}

/// A deck without a checkpoint has nothing to save: SIGTERM and SIGUSR1
/// end the process at once again (exit status 128 + signal, as their
/// default action reports through a shell), also for one that already
/// arrived.
fn release_signals() {
    use signal_hook::consts::{SIGTERM, SIGUSR1};
    let ids = std::mem::take(&mut *HANDLERS.lock().unwrap_or_else(|e| e.into_inner()));
    for id in ids {
        signal_hook::low_level::unregister(id);
    }
    if SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
        std::process::exit(128 + SIGTERM);
    }
    for sig in [SIGTERM, SIGUSR1] {
        // `_exit` is async-signal-safe.
        if let Err(e) = unsafe { signal_hook::low_level::register(sig, move || signal_hook::low_level::exit(128 + sig)) } {
            log::warn!("cannot restore the action of signal {}: {}", sig, e);
        }
    }
}

/// How `glassmd run` was asked to run a deck.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Worker threads per rank.
    pub nthreads: usize,
    /// Only this sample of a `[samples]` deck.
    pub sample: Option<u64>,
    /// Replace existing trajectory and checkpoint files.
    pub overwrite: bool,
    /// Continue from this checkpoint.
    pub restart: Option<PathBuf>,
    /// Write a checkpoint and stop when an MD step reaches this step (as a
    /// signal would; for chunked batch jobs and tests).
    pub stop_at: Option<u64>,
    /// Continue from the deck's own checkpoint if it exists (requeued jobs).
    pub resume: bool,
    /// Deck variables (`--var name=value`).
    pub vars: Vec<(String, String)>,
    /// Folder for the outputs (default: the deck's folder).
    pub dir: Option<PathBuf>,
}

/// Run a deck: once, or for each of its `[samples]` (all of them, or only
/// `sample` as one job of an array), then summarise the samples.
pub fn run_deck(comm: &dyn Comm, deck_path: &Path, opts: &RunOptions) -> Result<()> {
    let deck = Deck::load_with(deck_path, &opts.vars)?;
    if (opts.restart.is_some() || opts.resume) && deck.samples.is_some() && opts.sample.is_none() {
        return Err(Error::input(&deck.path, "--restart/--resume of a deck with [samples] needs --sample I (one checkpoint per sample)"));
    }
    if opts.resume && opts.restart.is_some() {
        return Err(Error::input("command line", "give --restart CKPT or --resume, not both"));
    }
    let out_dir = opts.dir.clone().unwrap_or_else(|| deck.dir.clone());
    make_dir(comm, &out_dir)?;
    match (&deck.samples, opts.sample) {
        (None, None) => run_once(comm, &deck, &out_dir, 0, opts),
        (None, Some(_)) => Err(Error::input(&deck.path, "--sample needs a [samples] section in the deck")),
        (Some(s), Some(i)) if i >= s.count => Err(Error::input(&deck.path, format!("--sample {} is out of range: samples.count = {}", i, s.count))),
        (Some(s), Some(i)) => run_sample(comm, &deck, &out_dir, i, s.seed_stride, opts),
        (Some(s), None) => {
            // The whole set in one job: the top folder is this run's too.
            let _top = RunDir::lock(comm, &out_dir, &deck.path, opts.nthreads)?;
            for i in 0..s.count {
                run_sample(comm, &deck, &out_dir, i, s.seed_stride, opts)?;
            }
            if comm.is_root() {
                print!("{}", summarize(&out_dir, s.count)?);
            }
            Ok(())
        }
    }
}

/// Create a folder on rank 0; every rank learns whether that worked.
fn make_dir(comm: &dyn Comm, dir: &Path) -> Result<()> {
    let r = if comm.is_root() { std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e)) } else { Ok(()) };
    crate::domain::comm::agree(comm, r)
}

fn run_sample(comm: &dyn Comm, deck: &Deck, out_dir: &Path, i: u64, stride: u64, opts: &RunOptions) -> Result<()> {
    let dir = sample_dir(out_dir, i);
    make_dir(comm, &dir)?;
    if comm.is_root() {
        log::info!("sample {} in {} (seeds + {})", i, dir.display(), i * stride);
    }
    run_once(comm, deck, &dir, i * stride, opts)
}

/// How a run starts in its folder (decided on rank 0, see [`plan`]).
enum Plan {
    /// From the deck's beginning.
    Fresh,
    /// From the checkpoint [`restart_path`] names.
    Restart,
    /// `--resume` of a run that already finished: nothing to do.
    Complete(String),
}

/// The same file? (For outputs that do not exist yet: the same name in
/// the same folder.)
fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| -> Option<PathBuf> {
        p.canonicalize().ok().or_else(|| {
            let parent = p.parent().filter(|x| !x.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some(parent.canonicalize().ok()?.join(p.file_name()?))
        })
    };
    matches!((canon(a), canon(b)), (Some(x), Some(y)) if x == y)
}

/// Decide how the run in `dir` starts, and refuse what would lose a file
/// (rank 0): outputs that exist (policy in `io::rundir`), an output that
/// is one of the run's inputs.
fn plan(deck: &Deck, dir: &Path, opts: &RunOptions) -> Result<Plan> {
    let outputs: Vec<(String, PathBuf)> = deck.output_files().into_iter().map(|(k, f)| (k, resolve_in(dir, &f))).collect();
    let mut inputs = vec![("the deck".to_string(), deck.path.clone()), ("potential.file".to_string(), deck.resolve(&deck.potential.file))];
    if let Some(rd) = &deck.system.read_data {
        inputs.push(("system.read_data".into(), deck.resolve(rd)));
    }
    for (key, p) in &outputs {
        if let Some((ikey, _)) = inputs.iter().find(|(_, i)| same_file(p, i)) {
            let msg = format!("'{}' is {}, an input of this run; write the output to another file", p.display(), ikey);
            return Err(deck.output_error(key, msg));
        }
    }
    // Output folders must exist: glassmd does not guess at folder names.
    for (key, p) in &outputs {
        let parent = p.parent().filter(|x| !x.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !parent.is_dir() {
            let msg = format!("the folder '{}' for '{}' does not exist; create it first", parent.display(), p.display());
            return Err(deck.output_error(key, msg));
        }
    }
    let previous = RunDir::previous(dir);
    let mut replace = deck.output.overwrite || opts.overwrite;
    if opts.restart.is_some() {
        return Ok(Plan::Restart);
    }
    if opts.resume {
        if let Some(st) = previous.as_ref().filter(|s| s.status == "complete") {
            return Ok(Plan::Complete(format!("{}: the run is complete (finished {}, step {}); nothing to do", dir.display(), st.updated, st.step)));
        }
        if restart_path(deck, dir, opts).is_some_and(|c| c.exists()) {
            return Ok(Plan::Restart);
        }
        // No checkpoint yet: start again. The outputs here, if any, belong
        // to the unfinished run being redone.
        replace |= previous.is_some();
        log::info!("--resume: no checkpoint in {}; starting the deck from its beginning", dir.display());
    }
    if !replace {
        let results = ("results".to_string(), dir.join("results.json"));
        if let Some((_, p)) = outputs.iter().chain(std::iter::once(&results)).find(|(_, p)| p.exists()) {
            return Err(Error::input(p, "exists; glassmd never replaces a finished output unless asked: set [output] overwrite = true in the deck, pass --overwrite, or give the run another --dir"));
        }
    }
    Ok(Plan::Fresh)
}

/// The checkpoint a restart reads: `--restart CKPT`, else the deck's own.
fn restart_path(deck: &Deck, dir: &Path, opts: &RunOptions) -> Option<PathBuf> {
    opts.restart.clone().or_else(|| deck.output.checkpoint.as_ref().map(|c| resolve_in(dir, &c.file)))
}

/// Run the stages of a deck once in folder `dir`, holding the folder's
/// lock and keeping its `run.json` status.
fn run_once(comm: &dyn Comm, deck: &Deck, dir: &Path, seed_offset: u64, opts: &RunOptions) -> Result<()> {
    let mut rundir = RunDir::lock(comm, dir, &deck.path, opts.nthreads)?;
    // Rank 0 decides (0 fresh, 1 restart, 2 complete); the others follow.
    let decided = agree(comm, if comm.is_root() { plan(deck, dir, opts) } else { Ok(Plan::Fresh) })?;
    let code = match &decided {
        Plan::Fresh => 0.0,
        Plan::Restart => 1.0,
        Plan::Complete(msg) => {
            log::info!("{}", msg);
            2.0
        }
    };
    let plan = match comm.sum_scalar(if comm.is_root() { code } else { 0.0 }) {
        c if c == 2.0 => return Ok(()),
        c if c == 1.0 => restart_path(deck, dir, opts),
        _ => None,
    };
    if comm.is_root() && !opts.vars.is_empty() {
        // The variables of this run, for `glassmd collect`.
        let map: serde_json::Map<String, serde_json::Value> = opts.vars.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        let text = serde_json::to_string_pretty(&map).unwrap_or_default();
        write_atomic(&dir.join("vars.json"), |w| writeln!(w, "{}", text))?;
    }
    rundir.set("running", 0, None)?;
    let mut step = 0;
    let r = run_stages(comm, deck, dir, seed_offset, opts, plan, &mut step);
    let (status, error) = match &r {
        Ok(()) => ("complete", None),
        Err(Error::Interrupted(_)) => ("stopped", None),
        Err(e) => ("failed", Some(e.to_string())),
    };
    let written = rundir.set(status, step, error);
    r.and(written)
}

/// `glassmd summarize DECK`: mean ± standard error over the deck's samples.
pub fn summarize_deck(deck_path: &Path, vars: &[(String, String)], dir: Option<&Path>) -> Result<()> {
    let deck = Deck::load_with(deck_path, vars)?;
    let Some(s) = &deck.samples else {
        return Err(Error::input(&deck.path, "the deck has no [samples] section"));
    };
    print!("{}", summarize(dir.unwrap_or(&deck.dir), s.count).map_err(|e| at_input(e, &deck.path))?);
    Ok(())
}

/// A failure of the first force evaluation is the input configuration's
/// fault (overlapping atoms): report it against that file.
fn at_input(e: Error, source: &Path) -> Error {
    match e {
        Error::Runtime(m) => Error::input(source, m),
        other => other,
    }
}

/// An input file a deck names: its path, or an error at the key's line if
/// it cannot be opened (the file's own errors name the file itself).
fn input_file(deck: &Deck, key: &str, name: &str) -> Result<PathBuf> {
    let p = deck.resolve(name);
    match std::fs::metadata(&p) {
        Ok(m) if m.is_file() => Ok(p),
        Ok(_) => Err(deck.key_error(key, format!("'{}' is not a file", p.display()))),
        Err(e) => Err(deck.key_error(key, format!("cannot open '{}': {}", p.display(), crate::error::io_reason(&e)))),
    }
}

/// Refuse a system too large for the memory of this run before building
/// it: `natoms` in `volume` Å³, the error naming `key`.
fn check_size(deck: &Deck, key: &str, natoms: f64, volume: f64, nranks: usize) -> Result<()> {
    let rc = 6.0 + deck.neighbor.skin;
    crate::memory::check(natoms, volume, nranks, rc, deck.limits.max_memory_gib).map_err(|m| deck.key_error(key, m))
}

/// Build the engine of a deck (every seed shifted by `seed_offset`).
/// Returns the engine, the element names and the file the atoms came
/// from (the data file, or the deck for a built system).
fn build_engine<'c>(comm: &'c dyn Comm, deck: &Deck, seed_offset: u64, nthreads: usize) -> Result<(Engine<'c>, Vec<String>, PathBuf)> {
    let style = parse_style(&deck.potential.style, &deck.path)?;
    let mut elements = deck.potential.elements.clone();
    let pot_path = input_file(deck, "potential.file", &deck.potential.file)?;
    let reps = deck.system.replicate.map_or(1.0, |r| r.iter().map(|&k| k as f64).product::<f64>());
    let (mut data, data_path) = match (&deck.system.read_data, &deck.system.create) {
        (Some(rd), _) => {
            let p = input_file(deck, "system.read_data", rd)?;
            let d = lammps_data::read(&p)?;
            let vol: f64 = (0..3).map(|k| d.hi[k] - d.lo[k]).product();
            let key = if reps > 1.0 { "system.replicate" } else { "system.read_data" };
            check_size(deck, key, d.atoms.len() as f64 * reps, vol * reps, comm.size())?;
            let maxid = d.atoms.iter().map(|a| a.id).max().unwrap_or(0) as f64;
            if maxid * reps > lammps_data::MAX_ID as f64 {
                return Err(deck.key_error("system.replicate", format!("the copies' atom ids would reach {:.3e}, beyond 2^53", maxid * reps)));
            }
            (d, p)
        }
        (None, Some(c)) => {
            let (n, vol) = match (&c.lattice, c.atoms, c.number_density) {
                (Some(l), _, _) => {
                    let basis = build::basis(l).map_or(1, |b| b.len()) as f64;
                    let cells = c.cells.unwrap_or([1; 3]).iter().map(|&k| k as f64).product::<f64>();
                    (cells * basis, cells * c.a.unwrap_or(0.0).powi(3))
                }
                (None, Some(n), Some(rho)) => (n as f64, n as f64 / rho),
                _ => (0.0, 0.0),
            };
            let key = if reps > 1.0 { "system.replicate" } else { "system.create" };
            check_size(deck, key, n * reps, vol * reps, comm.size())?;
            if n * reps > lammps_data::MAX_ID as f64 {
                return Err(deck.key_error(key, format!("{:.3e} atoms: atom ids would go beyond 2^53", n * reps)));
            }
            // Types follow potential.elements, else the composition's elements sorted.
            let names: Vec<String> = elements.clone().unwrap_or_else(|| c.composition.keys().cloned().collect());
            if let Some(bad) = c.composition.keys().find(|k| !names.contains(k)) {
                return Err(deck.key_error("system.create.composition", format!("names {} but potential.elements does not", bad)));
            }
            let fr: Vec<f64> = names.iter().map(|e| c.composition.get(e).copied().unwrap_or(0.0)).collect();
            let seed = c.seed.wrapping_add(seed_offset);
            let built = match (&c.lattice, c.atoms, c.number_density) {
                (Some(l), _, _) => build::lattice(&fr, l, c.a.unwrap_or(0.0), c.cells.unwrap_or([1; 3]), seed),
                (None, Some(n), Some(rho)) => build::random_alloy(&fr, n, rho, c.aspect, c.min_distance, seed),
                _ => Err("system.create is incomplete".into()),
            }
            .map_err(|m| deck.key_error("system.create", m))?;
            if style != EamStyle::Funcfl {
                elements = Some(names);
            }
            (built, deck.path.clone())
        }
        (None, None) => return Err(Error::input(&deck.path, "system: give read_data or create")),
    };
    if let Some(els) = elements.as_ref().filter(|e| e.len() < data.ntypes) {
        return Err(deck.key_error("potential.elements", format!("lists {} element(s) ({}) but the system has {} atom types", els.len(), els.join(" "), data.ntypes)));
    }
    if let Some(r) = deck.system.replicate {
        data = replicate(&data, r);
    }
    let pot = eam::load(style, &pot_path, elements.as_deref(), data.ntypes, &data_path, &deck.path)?;
    let masses = masses_of(&pot);
    let opts = EngineOptions { skin: deck.neighbor.skin, sort_every: deck.neighbor.sort_every, nchunks: nthreads };
    let mut eng = Engine::new(comm, &data, &data_path, deck.system.boundary(), Box::new(pot), masses, opts)?;
    eng.limits = deck.limits;
    Ok((eng, elements.unwrap_or_default(), data_path))
}

/// Run the stages of a deck once, writing outputs into `dir`, from the
/// beginning or from checkpoint `restart`; `step` receives the last step.
fn run_stages(comm: &dyn Comm, deck: &Deck, dir: &Path, seed_offset: u64, opts: &RunOptions, restart: Option<PathBuf>, step: &mut u64) -> Result<()> {
    let nthreads = opts.nthreads;
    let root = comm.is_root();
    let (mut eng, elements, source) = build_engine(comm, deck, seed_offset, nthreads)?;
    if root {
        log::info!(
            "{} atoms, {} types, box {:?}, grid {:?}, {} rank(s) x {} thread(s), {} CPU(s) available to rank 0",
            eng.natoms,
            eng.masses.len(),
            eng.bx.lengths(),
            eng.dom.grid,
            comm.size(),
            nthreads,
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
        );
    }
    let o = &deck.output;
    let mut trajectories = Vec::new();
    for (kind, format, spec) in [("snapshot", None, &o.snapshot), ("dump", Some(TextFormat::Dump), &o.dump), ("xyz", Some(TextFormat::ExtXyz), &o.xyz)] {
        if let Some(t) = spec {
            let fields = Fields::parse(&t.fields).map_err(|m| Error::input(&deck.path, format!("output.{}: {}", kind, m)))?;
            let force_unit = t.force_unit.as_deref().and_then(ForceUnit::parse).unwrap_or(ForceUnit::EV);
            trajectories.push(Trajectory { every: t.every, fields, target: resolve_in(dir, &t.file), format, compression: t.compression, force_unit, writer: None, last_step: None });
        }
    }
    let stage_names: Vec<String> = deck.stages.iter().map(|s| s.name().to_string()).collect();
    let checkpoint = o.checkpoint.as_ref().map(|c| (resolve_in(dir, &c.file), c.every));
    if opts.stop_at.is_some() && checkpoint.is_none() {
        return Err(Error::input(&deck.path, "--stop-at-step needs [output] checkpoint = { file = .. } in the deck"));
    }
    if checkpoint.is_none() {
        release_signals();
    }
    let mut out = Output {
        root,
        thermo_file: None,
        rows: Vec::new(),
        results: Results::new(dir.join("results.json")),
        dir: dir.to_path_buf(),
        trajectories,
        elements,
        checkpoint,
        stage_names,
        nthreads,
        stop_at: opts.stop_at,
        stage_volume0: None,
        stage: 0,
    };
    // One thermostat for the whole deck: its state carries across stages.
    let mut chain = NoseHooverChain::new();
    let mut baro: Option<Barostat> = None;
    // Analysis rows of each stage, for `tg` stages.
    let mut stage_rows: Vec<Vec<Row>> = Vec::new();
    let mut is_rows = Vec::new();
    // The step-0 thermo row and frame wait until the leading `velocity`
    // stages have drawn velocities, so they show the state the MD starts
    // from (as LAMMPS's step-0 row after `velocity create`).
    let mut initial_pending = false;
    let (first_stage, mut first_done) = match &restart {
        None => {
            for tr in &mut out.trajectories {
                tr.open(&eng, None)?;
            }
            if let (Some(f), true) = (&deck.thermo.file, root) {
                out.thermo_file = Some(ThermoFile::create(&out.path(f))?);
            }
            eng.setup(ForceFlags::default()).map_err(|e| at_input(e, &source))?;
            if root {
                console::line(&Thermo::log_header());
            }
            initial_pending = true;
            (0, 0)
        }
        Some(path) => {
            let st = resume(&mut eng, &mut out, deck, path, nthreads)?;
            chain = st.thermostat.chain;
            baro = st.thermostat.baro;
            stage_rows = st.stage_rows;
            out.rows = st.rows;
            out.results.values = st.results;
            is_rows = st.is_rows;
            out.stage_volume0 = st.stage_volume0;
            if root {
                console::line(&Thermo::log_header());
            }
            (st.stage, st.stage_done)
        }
    };
    // Like LAMMPS's "Loop time", the summary covers the stages, not set-up.
    eng.timers = crate::timing::Timers::default();
    let every = deck.thermo.every;
    for (k, stage) in deck.stages.iter().enumerate().skip(first_stage) {
        let start = std::mem::take(&mut first_done);
        if initial_pending && !matches!(stage, Stage::Velocity(_)) {
            initial_row(&mut eng, &mut out)?;
            initial_pending = false;
        }
        if start == 0 && !initial_pending && out.signalled(&eng) {
            out.checkpoint(&mut eng, k, 0, ThermostatState { chain: chain.clone(), baro: baro.clone() }, &stage_rows, Vec::new())?;
            return Err(out.interrupted());
        }
        if root {
            if start == 0 {
                log::info!("stage {} ({}) from step {}", k + 1, stage.name(), eng.step);
            } else {
                log::info!("stage {} ({}) continued from step {} of it (step {})", k + 1, stage.name(), start, eng.step);
            }
        }
        if start == 0 {
            out.rows.clear();
        }
        out.stage = k + 1;
        if start == 0 {
            out.stage_volume0 = None;
        }
        let after = deck.stages[k + 1..].iter().map(|s| s.md_steps()).sum();
        let ctx = StageCtx { stage: k, start, idle: ThermostatState { chain: chain.clone(), baro: baro.clone() }, stage_rows: &stage_rows, after };
        let label = format!("stage {} {}", k + 1, stage.name());
        // A stage's runtime failure (a blow-up, lost atoms) is reported at
        // the stage's line in the deck.
        let res = (|| -> Result<()> {
            let mut sampler = |spec: &Option<InherentStructures>, ramp: (f64, f64), steps: u64| -> Option<IsSampler> {
                spec.as_ref().map(|s| {
                    let per = (s.every_k / (ramp.1 - ramp.0).abs() * steps as f64).round() as u64;
                    let mut is = IsSampler::new(out.path(&s.file), Algorithm::parse(&s.algorithm).unwrap_or(Algorithm::Cg), s.ftol, s.max_iterations, per);
                    if start > 0 {
                        is.rows = std::mem::take(&mut is_rows);
                    }
                    is
                })
            };
            match stage {
                Stage::Velocity(v) => eng.create_velocities(v.temperature, v.seed.wrapping_add(seed_offset)),
                Stage::Nve(nve) => {
                    md_stage(&mut eng, nve.steps, nve.timestep, &mut Nve, every, &label, None, &mut out, None, &ctx)?;
                }
                Stage::Nvt(nvt) => {
                    let steps = nvt.steps().map_err(|m| Error::input(&deck.path, m))?;
                    let ramp = (nvt.temperature.start(), nvt.temperature.stop());
                    let mut is = sampler(&nvt.inherent_structures, ramp, steps);
                    let mut ens = if start == 0 {
                        Nvt::new(&eng, &mut chain, ramp.0, ramp.1, nvt.tdamp(), steps)
                    } else {
                        Nvt { chain: &mut chain, t_start: ramp.0, t_stop: ramp.1, steps, done: start }
                    };
                    md_stage(&mut eng, steps, nvt.timestep, &mut ens, every, &label, Some(ramp), &mut out, is.as_mut(), &ctx)?;
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
                    // The barostat's state carries over from earlier NPT stages
                    // (and a resumed stage has its own already).
                    let b = match baro.as_mut() {
                        Some(b) if start > 0 => b,
                        Some(b) => {
                            b.retarget(&fresh);
                            b
                        }
                        None => baro.insert(fresh),
                    };
                    let ramp = (npt.temperature.start(), npt.temperature.stop());
                    let mut is = sampler(&npt.inherent_structures, ramp, steps);
                    let mut ens = if start == 0 {
                        Npt::new(&eng, &mut chain, b, ramp, npt.tdamp(), steps)
                    } else {
                        Npt { chain: &mut chain, baro: b, t_start: ramp.0, t_stop: ramp.1, steps, done: start }
                    };
                    md_stage(&mut eng, steps, npt.timestep, &mut ens, every, &label, Some(ramp), &mut out, is.as_mut(), &ctx)?;
                }
                Stage::Langevin(l) => {
                    let steps = l.steps().map_err(|m| Error::input(&deck.path, m))?;
                    let ramp = (l.temperature.start(), l.temperature.stop());
                    let mut ens = Langevin { t_start: ramp.0, t_stop: ramp.1, damp: l.damp(), seed: l.seed.wrapping_add(seed_offset), steps, done: start };
                    md_stage(&mut eng, steps, l.timestep, &mut ens, every, &label, Some(ramp), &mut out, None, &ctx)?;
                }
                Stage::Minimize(m) => {
                    minimize_stage(&mut eng, deck, m)?;
                    let t = eng.thermo();
                    out.emit(&mut eng, t, None)?;
                }
                Stage::WriteData(w) => {
                    let t0 = Instant::now();
                    write_data(&eng, &out.path(&w.file))?;
                    eng.timers.output += t0.elapsed().as_secs_f64();
                }
                Stage::Record(r) => {
                    let t = eng.thermo();
                    let v = out.results.record(&r.name, &t, eng.natoms, r.relative_to.as_deref()).map_err(|m| Error::input(&deck.path, format!("stage {} (record): {}", k + 1, m)))?;
                    if root {
                        let list: Vec<String> = v.iter().map(|(q, x)| format!("{} = {:.8}", q, x)).collect();
                        log::info!("record {}: {}", r.name, list.join(", "));
                        out.results.write()?;
                    }
                }
                Stage::Tg(tg) => {
                    let src = tg.stage.map(|s| s - 1).or_else(|| (0..k).rev().find(|&j| deck.stages[j].is_md()));
                    let rows = src.and_then(|j| stage_rows.get(j)).filter(|r| !r.is_empty());
                    let Some(rows) = rows else {
                        return Err(Error::input(&deck.path, format!("stage {} (tg): no earlier MD stage with thermo rows to fit", k + 1)));
                    };
                    tg_stage(deck, k, &mut out, tg, rows, src.unwrap_or(0) + 1)?;
                }
            }
            Ok(())
        })();
        res.map_err(|e| deck.runtime_error(k, e))?;
        stage_rows.push(std::mem::take(&mut out.rows));
    }
    if initial_pending {
        initial_row(&mut eng, &mut out)?;
    }
    if root {
        out.finish()?;
    }
    if let Some(s) = eng.timers.report(comm, eng.natoms) {
        println!("{}", s);
    }
    *step = eng.step;
    Ok(())
}

/// The thermo row and frames of the state the run starts from (collective).
fn initial_row(eng: &mut Engine, out: &mut Output) -> Result<()> {
    out.stage = 0;
    let t = eng.thermo();
    out.emit(eng, t, None)?;
    out.frames(eng)
}

/// Restore a run from checkpoint `path` (collective): the atoms (exactly on
/// the rank count that wrote it, redistributed on another), the thermo CSV
/// and trajectories continued from their marks; returns the run state.
fn resume(eng: &mut Engine, out: &mut Output, deck: &Deck, path: &Path, nthreads: usize) -> Result<RunState> {
    let reader = checkpoint::Reader::open(path)?;
    let st: RunState = serde_json::from_str(&reader.state).map_err(|e| Error::input(path, format!("not a usable glassmd checkpoint: run state: {}", e)))?;
    let names: Vec<&str> = deck.stages.iter().map(|s| s.name()).collect();
    if st.stages != names {
        return Err(Error::input(path, format!("written by a deck with stages [{}], but {} has [{}]", st.stages.join(", "), deck.path.display(), names.join(", "))));
    }
    if st.natoms != eng.natoms || reader.natoms() as u64 != eng.natoms {
        return Err(Error::input(path, format!("holds {} atoms, the deck's system {}", reader.natoms(), eng.natoms)));
    }
    let comm = eng.comm;
    if st.nranks == comm.size() {
        let r = comm.rank();
        let offset: usize = reader.rank_counts[..r].iter().sum();
        let local = agree(comm, reader.read(offset, reader.rank_counts[r]).and_then(|rows| check_rows(path, rows, eng.masses.len())))?;
        eng.restore_exact(&local, (st.lo, st.hi), (st.hold_lo, st.hold_hi), st.last_sort, st.step, st.time)?;
        if st.nthreads != nthreads && comm.is_root() {
            log::warn!("checkpoint written with {} thread(s) per rank, continuing with {}: same physics, not bitwise the same", st.nthreads, nthreads);
        }
    } else {
        if comm.is_root() {
            log::info!("checkpoint written on {} rank(s), continuing on {}: atoms redistributed (same physics, not bitwise the same)", st.nranks, comm.size());
        }
        // Each rank reads an equal slice of the file; the engine routes the
        // atoms to their owners.
        let (n, p, r) = (reader.natoms(), comm.size(), comm.rank());
        let (from, to) = (n * r / p, n * (r + 1) / p);
        let rows = agree(comm, reader.read(from, to - from).and_then(|rows| check_rows(path, rows, eng.masses.len())))?;
        eng.restore_redistribute(&rows, (st.lo, st.hi), st.step, st.time)?;
    }
    if out.root {
        if let Some(f) = &deck.thermo.file {
            let p = out.path(f);
            out.thermo_file = Some(match st.thermo_mark {
                Some(m) => ThermoFile::resume(&p, m)?,
                None => ThermoFile::create(&p)?,
            });
        }
    }
    if st.trajectories.len() != out.trajectories.len() {
        return Err(Error::input(path, format!("written with {} trajectories, the deck has {}", st.trajectories.len(), out.trajectories.len())));
    }
    for (tr, &(mark, last)) in out.trajectories.iter_mut().zip(&st.trajectories) {
        tr.open(eng, Some(mark))?;
        tr.last_step = last;
    }
    if comm.is_root() {
        log::info!("restarted from {} at step {} (stage {}, step {} of it)", path.display(), st.step, st.stage + 1, st.stage_done);
    }
    Ok(st)
}

/// Atoms read from a checkpoint must fit the deck: a type the potential
/// has, finite positions and velocities, ids from 1.
fn check_rows(path: &Path, rows: Vec<f64>, ntypes: usize) -> Result<Vec<f64>> {
    for r in rows.chunks_exact(crate::engine::LOCAL_WIDTH) {
        let (id, t) = (r[0], r[1]);
        if !(t >= 0.0 && t < ntypes as f64) {
            return Err(Error::input(path, format!("atom {} has type {}, but the deck's potential maps {} atom type(s); restart with the deck that wrote the checkpoint", id, t + 1.0, ntypes)));
        }
        if !(id >= 1.0) || r[2..8].iter().chain(&r[11..14]).any(|v| !v.is_finite()) {
            return Err(Error::input(path, format!("not a usable glassmd checkpoint: atom {} holds an invalid id, position or velocity", id)));
        }
    }
    Ok(rows)
}

/// A `minimize` stage, with its report (a warning if it did not converge).
fn minimize_stage(eng: &mut Engine, deck: &Deck, m: &MinimizeStage) -> Result<()> {
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
    let r = minimize(eng, &params)?;
    let natoms = eng.natoms as f64;
    let mut msg = format!(
        "minimize ({}): {} after {} iterations, {} force evaluations; E {:.10} -> {:.10} eV ({:.8} eV/atom); max |f| {:.3e} eV/A (ftol {:e}); last dE/E {:.3e} (etol {:e})",
        m.algorithm, r.stop.describe(), r.iterations, r.evaluations, r.e_initial, r.e_final, r.e_final / natoms, r.fmax, m.ftol, r.de_rel, m.etol
    );
    if let Some((p, miss)) = r.pressure {
        let g = p.map(|b| b / BAR_PER_GPA);
        msg += &format!(
            "; box {:?} A, pressure xx/yy/zz {:.6} {:.6} {:.6} GPa, largest miss {:.2e} GPa (ptol {:e})",
            eng.bx.lengths(),
            g[0],
            g[1],
            g[2],
            miss / BAR_PER_GPA,
            m.ptol_gpa
        );
    }
    if eng.comm.is_root() {
        if r.stop.converged() {
            log::info!("{}", msg);
        } else {
            log::warn!("did not converge: {}", msg);
        }
    }
    Ok(())
}

/// A `tg` stage: two-line fits of volume and PE per atom against the target
/// temperature of stage `src` (1-based); prints and writes them (rank 0).
fn tg_stage(deck: &Deck, k: usize, out: &mut Output, tg: &TgStage, rows: &[Row], src: usize) -> Result<()> {
    use crate::analysis::tg as fit;
    if !out.root {
        return Ok(());
    }
    let t: Vec<f64> = rows.iter().map(|r| r.temperature).collect();
    fit::check_ramp(&t).map_err(|m| deck.stage_error(k, None, format!("the fit over stage {}: {}", src, m)))?;
    let mut json = serde_json::Map::new();
    for (q, y) in [("volume", rows.iter().map(|r| r.volume_per_atom).collect::<Vec<_>>()), ("pe", rows.iter().map(|r| r.pe_per_atom).collect())] {
        let f = fit::fit(&t, &y, tg.glass.zip(tg.liquid), tg.min_points)
            .map_err(|m| deck.stage_error(k, None, format!("the fit of {} over stage {}: {}", q, src, m)))?;
        println!(
            "Tg = {:.1} K from {} per atom vs target temperature of stage {}: glass fit {:.1}-{:.1} K ({} points), liquid fit {:.1}-{:.1} K ({} points)",
            f.tg, q, src, f.glass.window[0], f.glass.window[1], f.glass.points, f.liquid.window[0], f.liquid.window[1], f.liquid.points
        );
        out.results.set("tg", q, f.tg);
        json.insert(q.to_string(), serde_json::json!({ "tg": f.tg, "glass": f.glass, "liquid": f.liquid }));
    }
    json.insert("stage".into(), serde_json::json!(src));
    let rows_json: Vec<[f64; 3]> = rows.iter().map(|r| [r.temperature, r.volume_per_atom, r.pe_per_atom]).collect();
    json.insert("points".into(), serde_json::json!({ "columns": ["target_temperature", "volume_per_atom", "pe_per_atom"], "rows": rows_json }));
    let text = serde_json::to_string_pretty(&json).unwrap_or_default();
    write_atomic(&out.path(&tg.file), |w| writeln!(w, "{}", text))?;
    out.results.write()
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
    eng.setup(ForceFlags { energy_atom: true, virial_atom: true }).map_err(|e| at_input(e, a.data))?;
    let t = eng.thermo();
    let rows = eng.gather_rows(10, |i| {
        let f = eng.atoms.f[i];
        let mut r = vec![f[0], f[1], f[2], eng.per_atom.energy[i]];
        r.extend(eng.stress_atom(i));
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
