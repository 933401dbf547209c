//! Drivers: `glassmd run DECK` (multi-stage decks) and `glassmd forces`
//! (single-point evaluation for validation).
//!
//! A driver builds an [`Engine`] from a data file and a potential, then runs
//! stages. Output files are written on rank 0 from gathered data; every rank
//! takes part in the collective calls.
//!
//! - `mod.rs`: `run_deck` (samples, one run per folder: lock, plan, status);
//! - `setup.rs`: the engine from a deck (system, potential factory, groups);
//! - `stages.rs`: the stages, MD stages with their fixes;
//! - `output.rs`: thermo, trajectories, data files, checkpoints;
//! - `restart.rs`: the run state a checkpoint carries, and restoring it;
//! - `signals.rs`: SIGTERM/SIGUSR1 handling;
//! - `forces.rs`: `glassmd forces`.
//!
//! A new stage kind gets a `match` arm in `stages::run_stages` (and a
//! variant in `config::Stage`).

use crate::config::{resolve_in, CoupleSpec, Deck, InherentStructures, MinimizeStage, Stage, TgStage};
use crate::domain::comm::{agree, Comm};
use crate::engine::{Barostat, Couple, Engine, EngineOptions, NoseHooverChain, ThermostatState};
use crate::compute::Scalar;
use crate::fix::{self, Fix};
use crate::system::group::{Groups, Sel};
use crate::io::checkpoint;
use crate::error::{Error, Result};
use crate::io::frames::{FrameInfo, FrameWriter, Fields, TextFormat, TextTrajectory};
use crate::io::h5md::{ForceUnit, H5md, CHUNK_ROWS};
use crate::io::rundir::RunDir;
use crate::io::{dump, lammps_data, thermo::Thermo, thermo::ThermoFile, write_atomic};
use crate::protocol::{sample_dir, summarize, IsSampler, Results, Row};
use crate::minimize::{minimize, BoxRelax, MinParams};
use crate::potential::eam::{self, EamStyle};
use crate::potential::ForceFlags;
use crate::system::{build, Boundary};
use crate::units::BAR_PER_GPA;
use crate::console::{self, Progress};
use std::path::{Path, PathBuf};
use std::time::Instant;

mod setup;
mod forces;
mod output;
mod restart;
mod signals;
mod stages;
pub mod stress_strain;
pub mod analyze;
pub mod study;

pub use setup::replicate;
pub use forces::{forces, ForcesArgs};
pub use signals::catch_signals;
use setup::*;
use output::*;
use restart::*;
use signals::*;
use stages::*;

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
    let mut inputs = vec![("the deck".to_string(), deck.path.clone())];
    if let Some(f) = &deck.potential.file {
        inputs.push(("potential.file".to_string(), deck.resolve(f)));
    }
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
