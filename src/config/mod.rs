//! TOML input decks.
//!
//! Serde structs with `deny_unknown_fields`; every error becomes one line
//! `deck.toml: line N: message`, with N the line of the offending key. Units
//! are LAMMPS `metal` except where a key's name says otherwise (`_gpa`).
//! Paths in a deck are relative to the deck's folder ([`Deck::resolve`]).
//! A new stage kind is a new variant of [`Stage`] plus its driver in `run.rs`;
//! a new section is a new struct with `#[serde(deny_unknown_fields)]`.

pub mod locate;
pub mod validate;

use crate::error::{Error, Result};
use crate::system::Boundary;
pub use locate::Locator;
use locate::{friendly, key_on_line};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deck {
    pub system: SystemSection,
    pub potential: PotentialSection,
    #[serde(default)]
    pub neighbor: NeighborSection,
    #[serde(default)]
    pub thermo: ThermoSection,
    /// Independent samples of the whole deck (`[samples] count = 10`).
    #[serde(default)]
    pub samples: Option<SamplesSection>,
    /// Properties of the glass the protocol refers to (`[glass] tg = 700`).
    #[serde(default)]
    pub glass: GlassSection,
    /// Trajectories and checkpoints (`[output]`).
    #[serde(default)]
    pub output: OutputSection,
    #[serde(default, rename = "stage")]
    pub stages: Vec<Stage>,
    /// Guards against runaway runs (`[limits]`).
    #[serde(default)]
    pub limits: crate::engine::Limits,
    /// Where each key is in the deck's text, for messages.
    #[serde(skip)]
    pub loc: Locator,
    /// Folder of the deck file; set by [`Deck::load`].
    #[serde(skip)]
    pub dir: PathBuf,
    #[serde(skip)]
    pub path: PathBuf,
}

fn default_boundary() -> [Boundary; 3] {
    [Boundary::Periodic; 3]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSection {
    /// LAMMPS data file (atom_style atomic); or `create`.
    #[serde(default)]
    pub read_data: Option<String>,
    /// Build the system instead of reading it.
    #[serde(default)]
    pub create: Option<CreateSection>,
    #[serde(default)]
    pub boundary: Option<[Boundary; 3]>,
    /// Tile the configuration nx × ny × nz (LAMMPS `replicate`).
    #[serde(default)]
    pub replicate: Option<[usize; 3]>,
}

impl SystemSection {
    /// The boundary, given here or in `create` (default periodic).
    pub fn boundary(&self) -> [Boundary; 3] {
        self.boundary.or(self.create.as_ref().and_then(|c| c.boundary)).unwrap_or_else(default_boundary)
    }
}

/// `[system.create]`: a random alloy at a number density (`atoms`,
/// `number_density`, `aspect`) or a lattice with random species (`lattice`,
/// `a`, `cells`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSection {
    /// Element → relative amount, e.g. { Cu = 64, Zr = 36 }.
    pub composition: std::collections::BTreeMap<String, f64>,
    pub seed: u64,
    #[serde(default)]
    pub atoms: Option<u64>,
    /// Atoms per Å³.
    #[serde(default)]
    pub number_density: Option<f64>,
    /// Box edge ratios, e.g. [1, 2, 1].
    #[serde(default = "default_aspect")]
    pub aspect: [f64; 3],
    /// No two random atoms closer than this, Å.
    #[serde(default = "default_min_distance")]
    pub min_distance: f64,
    /// "sc", "bcc" or "fcc".
    #[serde(default)]
    pub lattice: Option<String>,
    /// Lattice constant, Å.
    #[serde(default)]
    pub a: Option<f64>,
    #[serde(default)]
    pub cells: Option<[usize; 3]>,
    #[serde(default)]
    pub boundary: Option<[Boundary; 3]>,
}
fn default_aspect() -> [f64; 3] {
    [1.0, 1.0, 1.0]
}
fn default_min_distance() -> f64 {
    1.8
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PotentialSection {
    /// `eam` (funcfl), `eam/alloy` (setfl) or `eam/fs`.
    pub style: String,
    pub file: String,
    /// Element of each LAMMPS atom type, in type order (not for `eam`).
    #[serde(default)]
    pub elements: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighborSection {
    /// Verlet skin in Å (LAMMPS metal default 2.0).
    #[serde(default = "default_skin")]
    pub skin: f64,
    /// Spatial re-sort interval in steps (LAMMPS `atom_modify sort`); 0 = never.
    #[serde(default = "default_sort")]
    pub sort_every: u64,
}
fn default_skin() -> f64 {
    2.0
}
fn default_sort() -> u64 {
    1000
}
impl Default for NeighborSection {
    fn default() -> Self {
        NeighborSection { skin: default_skin(), sort_every: default_sort() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThermoSection {
    #[serde(default = "default_thermo_every")]
    pub every: u64,
    /// CSV file of thermo lines (optional).
    #[serde(default)]
    pub file: Option<String>,
}
fn default_thermo_every() -> u64 {
    100
}
impl Default for ThermoSection {
    fn default() -> Self {
        ThermoSection { every: default_thermo_every(), file: None }
    }
}

/// `[output]`: per-atom trajectories at intervals and checkpoints.
/// Trajectories grow as `FILE.part` and are renamed to `FILE` when the run
/// ends. A run refuses to start if one of its trajectory or checkpoint files
/// exists, unless `overwrite = true` (or `glassmd run --overwrite`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// H5MD (HDF5) snapshots.
    #[serde(default)]
    pub snapshot: Option<TrajectorySpec>,
    /// LAMMPS `dump custom` text trajectory.
    #[serde(default)]
    pub dump: Option<TrajectorySpec>,
    /// Extended XYZ text trajectory.
    #[serde(default)]
    pub xyz: Option<TrajectorySpec>,
    #[serde(default)]
    pub checkpoint: Option<CheckpointSpec>,
    #[serde(default)]
    pub overwrite: bool,
}

/// `{ file = "traj.h5", every = 1000, fields = ["position", "velocity"] }`.
/// Frames are written at the start of the run and whenever the step is a
/// multiple of `every` during MD stages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrajectorySpec {
    pub file: String,
    pub every: u64,
    /// Some of position (with image flags), velocity, force, pe, stress.
    #[serde(default = "default_fields")]
    pub fields: Vec<String>,
    /// Deflate level 0-9 of the H5MD per-atom datasets (0: none).
    #[serde(default)]
    pub compression: u8,
    /// Unit of the H5MD force element: "eV Angstrom-1" (default) or
    /// "kJ mol-1 Angstrom-1" (values converted; MDAnalysis reads it).
    #[serde(default)]
    pub force_unit: Option<String>,
}
fn default_fields() -> Vec<String> {
    vec!["position".into(), "velocity".into()]
}

/// `{ file = "restart.h5", every = 10000 }`: the complete state every
/// `every` MD steps (0: only on SIGTERM/SIGUSR1), written atomically.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSpec {
    pub file: String,
    #[serde(default)]
    pub every: u64,
}

fn default_dt() -> f64 {
    0.001
}

/// `[samples]`: run the deck `count` times with every seed of the deck
/// shifted by the sample index times `seed_stride`, each sample writing into
/// `sample_NN/` beside the deck; then summarise `results.json` of all
/// samples as mean ± standard error (`samples.json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplesSection {
    pub count: u64,
    #[serde(default = "default_seed_stride")]
    pub seed_stride: u64,
}
fn default_seed_stride() -> u64 {
    1
}

/// `[glass]`: the glass transition temperature that `temperature_over_tg`
/// keys of the stages refer to, K.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlassSection {
    #[serde(default)]
    pub tg: Option<f64>,
}

/// One stage of a deck. The stage structs repeat their length keys
/// (`steps`, `time_ps`, rates) on purpose: serde's `flatten` would share
/// them but cannot be combined with `deny_unknown_fields`, and rejecting
/// misspelt keys matters more. Lengths are resolved by [`stage_steps`].
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stage {
    Velocity(VelocityStage),
    Nve(NveStage),
    Nvt(NvtStage),
    Npt(NptStage),
    Langevin(LangevinStage),
    Minimize(MinimizeStage),
    WriteData(WriteDataStage),
    Record(RecordStage),
    Tg(TgStage),
}

/// Record the state under a name in `results.json`: potential energy per
/// atom (eV), density (g/cm³), volume per atom (Å³), pressure (GPa) and
/// temperature (K); with `relative_to`, also the differences from that
/// earlier record (`delta_pe_per_atom`, `delta_density`, ...).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordStage {
    pub name: String,
    #[serde(default)]
    pub relative_to: Option<String>,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

/// Glass transition temperature from the kink of volume and potential
/// energy per atom against the target temperature of an earlier MD stage
/// (default: the last one), by a two-line fit. Windows [T0, T1] in K for
/// the glass and liquid lines, or automatic. Writes `file` (JSON) and the
/// results `tg_volume`, `tg_pe`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TgStage {
    /// 1-based index of the MD stage whose thermo rows are fitted.
    #[serde(default)]
    pub stage: Option<usize>,
    #[serde(default)]
    pub glass: Option<[f64; 2]>,
    #[serde(default)]
    pub liquid: Option<[f64; 2]>,
    #[serde(default = "default_min_points")]
    pub min_points: usize,
    #[serde(default = "default_tg_file")]
    pub file: String,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}
fn default_min_points() -> usize {
    5
}
fn default_tg_file() -> String {
    "tg.json".into()
}

/// Inherent structures along a quench (key `inherent_structures` of an nvt
/// or npt stage): every `every_k` kelvin of the target temperature, and at
/// the start and end of the stage, a copy of the configuration is minimised
/// at fixed box, then unloaded to zero pressure with box relaxation and
/// minimised again; one row per point goes to `file` (CSV). The MD carries
/// on from the unminimised configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InherentStructures {
    pub every_k: f64,
    #[serde(default = "default_is_file")]
    pub file: String,
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    #[serde(default = "default_ftol")]
    pub ftol: f64,
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u64,
}
fn default_is_file() -> String {
    "inherent_structures.csv".into()
}

/// Langevin dynamics at a (possibly ramped) temperature; lengths as for nvt.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangevinStage {
    /// K; or give `temperature_over_tg` (× `[glass] tg`).
    #[serde(default = "unset_target")]
    pub temperature: Target,
    #[serde(default)]
    pub temperature_over_tg: Option<Target>,
    pub seed: u64,
    #[serde(default = "default_dt")]
    pub timestep: f64,
    #[serde(default)]
    pub steps: Option<u64>,
    #[serde(default)]
    pub time_ps: Option<f64>,
    #[serde(default)]
    pub rate_k_per_ps: Option<f64>,
    /// Damping time, ps (default 100 timesteps).
    #[serde(default)]
    pub damp: Option<f64>,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

impl LangevinStage {
    pub fn damp(&self) -> f64 {
        self.damp.unwrap_or(100.0 * self.timestep)
    }
    pub fn steps(&self) -> std::result::Result<u64, String> {
        let dt = (self.temperature.stop() - self.temperature.start()).abs();
        stage_steps(self.timestep, self.steps, self.time_ps, &[(self.rate_k_per_ps, dt, "rate_k_per_ps", "temperature")])
    }
}

/// Energy minimisation (fixed box).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimizeStage {
    /// "sd", "cg" or "fire".
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    /// Largest per-atom force at convergence, eV/Å (0 disables).
    #[serde(default = "default_ftol")]
    pub ftol: f64,
    /// Relative energy change at convergence (0 disables).
    #[serde(default)]
    pub etol: f64,
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u64,
    /// Largest trial displacement of any atom, Å.
    #[serde(default = "default_dmax")]
    pub dmax: f64,
    /// Relax the box as well, to this pressure in GPa: a number relaxes the
    /// three axes together (isotropic, LAMMPS `fix box/relax iso`); a table
    /// `{ x = 0.0, y = 0.0, z = 0.0 }` relaxes each named axis on its own
    /// (`aniso`; axes left out keep their length). Omit for a fixed box.
    #[serde(default)]
    pub box_pressure_gpa: Option<PressureSpec>,
    /// Axes of a per-axis table that move together: "none" (default),
    /// "xyz", "xy", "yz", "xz".
    #[serde(default)]
    pub couple: Option<String>,
    /// Tolerance on each relaxed pressure, GPa.
    #[serde(default = "default_ptol")]
    pub ptol_gpa: f64,
    /// Largest strain of a box axis in one move.
    #[serde(default = "default_vmax")]
    pub vmax: f64,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}
fn default_algorithm() -> String {
    "cg".into()
}
fn default_ftol() -> f64 {
    1e-6
}
fn default_max_iterations() -> u64 {
    10_000
}
fn default_dmax() -> f64 {
    0.1
}
fn default_ptol() -> f64 {
    1e-4
}
fn default_vmax() -> f64 {
    0.001
}

impl MinimizeStage {
    /// Box relaxation targets per axis in GPa (None: axis fixed), and
    /// whether all targeted axes move together; None for a fixed box.
    pub fn box_targets(&self) -> std::result::Result<Option<([Option<f64>; 3], bool)>, String> {
        let Some(spec) = &self.box_pressure_gpa else {
            if self.couple.is_some() {
                return Err("couple needs box_pressure_gpa".into());
            }
            return Ok(None);
        };
        let constant = |t: Target| match t {
            Target::Const(v) => Ok(v),
            Target::Ramp(_) => Err("box_pressure_gpa takes constant targets (ramp pressure in an npt stage)".to_string()),
        };
        let mut out = [None; 3];
        for (d, t) in spec.axes("box_pressure_gpa")?.into_iter().enumerate() {
            out[d] = t.map(constant).transpose()?;
        }
        let couple = match spec {
            PressureSpec::Iso(_) => {
                if self.couple.is_some() {
                    return Err("couple applies to a per-axis box_pressure_gpa table".into());
                }
                true
            }
            PressureSpec::Axes(_) => match couple_axes(self.couple.as_deref())? {
                None => false,
                Some(axes) => {
                    let c = self.couple.as_deref().unwrap_or_default();
                    if axes.iter().any(|&a| out[a].is_none()) || (0..3).any(|a| out[a].is_some() && !axes.contains(&a)) {
                        return Err(format!("couple = \"{}\" must name exactly the axes of box_pressure_gpa", c));
                    }
                    if axes.iter().any(|&a| out[a] != out[axes[0]]) {
                        return Err(format!("coupled axes {} need equal targets", c));
                    }
                    true
                }
            },
        };
        Ok(Some((out, couple)))
    }
}

/// Marks a temperature not given in the deck (filled in from
/// `temperature_over_tg` after parsing).
fn unset_target() -> Target {
    Target::Const(f64::NAN)
}

/// A target that is either constant or ramps linearly over a stage.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum Target {
    Const(f64),
    Ramp([f64; 2]),
}

impl Target {
    pub fn start(&self) -> f64 {
        match self {
            Target::Const(v) => *v,
            Target::Ramp(r) => r[0],
        }
    }
    pub fn stop(&self) -> f64 {
        match self {
            Target::Const(v) => *v,
            Target::Ramp(r) => r[1],
        }
    }
}

/// Nosé–Hoover chain dynamics at a (possibly ramped) temperature, K.
/// Length: exactly one of `steps`, `time_ps`, or `rate_k_per_ps` (a ramp's
/// |ΔT| divided by the rate).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NvtStage {
    /// K; or give `temperature_over_tg` (× `[glass] tg`).
    #[serde(default = "unset_target")]
    pub temperature: Target,
    #[serde(default)]
    pub temperature_over_tg: Option<Target>,
    /// ps
    #[serde(default = "default_dt")]
    pub timestep: f64,
    #[serde(default)]
    pub steps: Option<u64>,
    #[serde(default)]
    pub time_ps: Option<f64>,
    #[serde(default)]
    pub rate_k_per_ps: Option<f64>,
    /// Thermostat damping time, ps (default 100 timesteps, as LAMMPS advises).
    #[serde(default)]
    pub tdamp: Option<f64>,
    /// Inherent structures along this stage (a quench).
    #[serde(default)]
    pub inherent_structures: Option<InherentStructures>,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

impl NvtStage {
    pub fn tdamp(&self) -> f64 {
        self.tdamp.unwrap_or(100.0 * self.timestep)
    }
    /// Number of steps, from whichever length was given.
    pub fn steps(&self) -> std::result::Result<u64, String> {
        let dt = (self.temperature.stop() - self.temperature.start()).abs();
        stage_steps(self.timestep, self.steps, self.time_ps, &[(self.rate_k_per_ps, dt, "rate_k_per_ps", "temperature")])
    }
}

/// Steps of a stage given by exactly one of `steps`, `time_ps`, or a rate
/// (each rate with the size of its ramp, its key and what ramps).
pub fn stage_steps(timestep: f64, steps: Option<u64>, time_ps: Option<f64>, rates: &[(Option<f64>, f64, &str, &str)]) -> std::result::Result<u64, String> {
    let mut keys = vec!["steps", "time_ps"];
    keys.extend(rates.iter().map(|r| r.2));
    let given = [steps.is_some(), time_ps.is_some()].into_iter().chain(rates.iter().map(|r| r.0.is_some())).filter(|&g| g).count();
    if given != 1 {
        return Err(format!("give exactly one of {}", keys.join(", ")));
    }
    if let Some(n) = steps {
        return Ok(n);
    }
    let time = if let Some(t) = time_ps {
        if !(t > 0.0) {
            return Err(format!("time_ps must be > 0, got {}", t));
        }
        t
    } else {
        let (rate, delta, key, what) = rates.iter().find(|r| r.0.is_some()).map(|r| (r.0.unwrap(), r.1, r.2, r.3)).unwrap();
        if !(rate > 0.0) || !rate.is_finite() {
            return Err(format!("{} must be > 0, got {} (a ramp needs a non-zero rate)", key, rate));
        }
        if delta == 0.0 {
            return Err(format!("{} needs a {} ramp [start, stop] with start != stop", key, what));
        }
        delta / rate
    };
    let n = (time / timestep).round();
    if n < 1.0 {
        return Err(format!("the stage lasts {} ps, less than one timestep", time));
    }
    if n > validate::MAX_STEPS as f64 {
        return Err(format!("the stage lasts {:e} steps, more than {} (check the timestep and the length)", n, validate::MAX_STEPS));
    }
    Ok(n as u64)
}

/// Pressure targets of an NPT stage, GPa: isotropic (a number or a ramp) or
/// per axis (`{ x = 1.0, y = 0.0, z = [0.0, 2.0] }`; axes left out are free).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PressureSpec {
    Iso(Target),
    Axes(std::collections::BTreeMap<String, Target>),
}

impl PressureSpec {
    /// The target of each axis (None: free); `key` names the deck key in
    /// messages.
    pub fn axes(&self, key: &str) -> std::result::Result<[Option<Target>; 3], String> {
        match self {
            PressureSpec::Iso(t) => Ok([Some(*t); 3]),
            PressureSpec::Axes(m) => {
                let mut out = [None; 3];
                for (k, t) in m {
                    let d = ["x", "y", "z"].iter().position(|a| a == k).ok_or_else(|| format!("{} axis '{}' (expected x, y or z)", key, k))?;
                    out[d] = Some(*t);
                }
                if out.iter().all(|o| o.is_none()) {
                    return Err(format!("{} names no axis", key));
                }
                Ok(out)
            }
        }
    }
}

/// The axes a `couple` key names; None for "none" or no key.
fn couple_axes(couple: Option<&str>) -> std::result::Result<Option<Vec<usize>>, String> {
    match couple {
        None | Some("none") => Ok(None),
        Some(c @ ("xyz" | "xy" | "yz" | "xz")) => Ok(Some(c.chars().map(|a| "xyz".find(a).unwrap_or(0)).collect())),
        Some(c) => Err(format!("unknown couple '{}' (expected none, xyz, xy, yz or xz)", c)),
    }
}

/// The first axis that has a pressure target but is not periodic.
fn nonperiodic_target<T>(targets: &[Option<T>; 3], b: [Boundary; 3]) -> Option<usize> {
    (0..3).find(|&d| targets[d].is_some() && !b[d].is_periodic())
}

/// MTK NPT (LAMMPS fix npt) at a (possibly ramped) temperature and pressure.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NptStage {
    /// K; or give `temperature_over_tg` (× `[glass] tg`).
    #[serde(default = "unset_target")]
    pub temperature: Target,
    #[serde(default)]
    pub temperature_over_tg: Option<Target>,
    pub pressure_gpa: PressureSpec,
    #[serde(default = "default_dt")]
    pub timestep: f64,
    #[serde(default)]
    pub steps: Option<u64>,
    #[serde(default)]
    pub time_ps: Option<f64>,
    #[serde(default)]
    pub rate_k_per_ps: Option<f64>,
    #[serde(default)]
    pub rate_gpa_per_ps: Option<f64>,
    /// Thermostat damping, ps (default 100 timesteps).
    #[serde(default)]
    pub tdamp: Option<f64>,
    /// Barostat damping, ps (default 1000 timesteps).
    #[serde(default)]
    pub pdamp: Option<f64>,
    /// Coupled axes for per-axis targets: "none" (default), "xyz", "xy", "yz", "xz".
    #[serde(default)]
    pub couple: Option<String>,
    /// Inherent structures along this stage (a quench).
    #[serde(default)]
    pub inherent_structures: Option<InherentStructures>,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

impl NptStage {
    pub fn tdamp(&self) -> f64 {
        self.tdamp.unwrap_or(100.0 * self.timestep)
    }
    pub fn pdamp(&self) -> f64 {
        self.pdamp.unwrap_or(1000.0 * self.timestep)
    }
    /// Per-axis (start, stop) targets in GPa; None for free axes.
    pub fn axis_targets(&self) -> std::result::Result<[Option<(f64, f64)>; 3], String> {
        Ok(self.pressure_gpa.axes("pressure_gpa")?.map(|t| t.map(|t| (t.start(), t.stop()))))
    }
    pub fn is_iso(&self) -> bool {
        matches!(self.pressure_gpa, PressureSpec::Iso(_)) || self.couple.as_deref() == Some("xyz")
    }
    pub fn steps(&self) -> std::result::Result<u64, String> {
        let dt = (self.temperature.stop() - self.temperature.start()).abs();
        let dp = self.axis_targets()?.iter().flatten().map(|(a, b)| (b - a).abs()).fold(0.0, f64::max);
        stage_steps(
            self.timestep,
            self.steps,
            self.time_ps,
            &[(self.rate_k_per_ps, dt, "rate_k_per_ps", "temperature"), (self.rate_gpa_per_ps, dp, "rate_gpa_per_ps", "pressure")],
        )
    }
}

/// Maxwell–Boltzmann velocities at `temperature` (K) from `seed`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VelocityStage {
    pub temperature: f64,
    pub seed: u64,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

/// Constant-energy velocity-Verlet dynamics.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NveStage {
    pub steps: u64,
    /// ps
    #[serde(default = "default_dt")]
    pub timestep: f64,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

/// Write the current configuration as a LAMMPS data file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteDataStage {
    pub file: String,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

impl Stage {
    /// Does the stage run molecular dynamics (and so produce thermo rows)?
    pub fn is_md(&self) -> bool {
        matches!(self, Stage::Nve(_) | Stage::Nvt(_) | Stage::Npt(_) | Stage::Langevin(_))
    }
    /// MD steps the stage runs (0 for other stages; for progress and ETAs).
    pub fn md_steps(&self) -> u64 {
        match self {
            Stage::Nve(v) => v.steps,
            Stage::Nvt(v) => v.steps().unwrap_or(0),
            Stage::Npt(v) => v.steps().unwrap_or(0),
            Stage::Langevin(v) => v.steps().unwrap_or(0),
            _ => 0,
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Velocity(_) => "velocity",
            Stage::Nve(_) => "nve",
            Stage::Nvt(_) => "nvt",
            Stage::Npt(_) => "npt",
            Stage::Langevin(_) => "langevin",
            Stage::Minimize(_) => "minimize",
            Stage::WriteData(_) => "write_data",
            Stage::Record(_) => "record",
            Stage::Tg(_) => "tg",
        }
    }
}

/// Parse one stage table on its own as its concrete kind, to get the exact
/// position of an error that serde reports for the whole tagged table.
fn reparse_stage(kind: &str, body: &str) -> Option<toml::de::Error> {
    fn t<T: serde::de::DeserializeOwned>(body: &str) -> Option<toml::de::Error> {
        toml::from_str::<T>(body).err()
    }
    match kind {
        "velocity" => t::<VelocityStage>(body),
        "nve" => t::<NveStage>(body),
        "nvt" => t::<NvtStage>(body),
        "npt" => t::<NptStage>(body),
        "langevin" => t::<LangevinStage>(body),
        "minimize" => t::<MinimizeStage>(body),
        "write_data" => t::<WriteDataStage>(body),
        "record" => t::<RecordStage>(body),
        "tg" => t::<TgStage>(body),
        _ => None,
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// `file` relative to `dir` (absolute paths stay as they are).
pub fn resolve_in(dir: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// Replace `${name}` by its value (see [`Deck::load_with`]).
pub fn substitute(text: &str, vars: &[(String, String)]) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut used = vec![false; vars.len()];
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            return Err(format!("line {}: unclosed ${{", line_of(text, text.len() - rest.len() + i)));
        };
        let name = &after[..j];
        match vars.iter().position(|(k, _)| k == name) {
            Some(k) => {
                used[k] = true;
                out.push_str(&vars[k].1);
            }
            None => return Err(format!("line {}: the deck uses ${{{}}} but no --var {}=VALUE was given", line_of(text, text.len() - rest.len() + i), name, name)),
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    if let Some(k) = used.iter().position(|u| !u) {
        return Err(format!("--var {} is not used by the deck (no ${{{}}} in it)", vars[k].0, vars[k].0));
    }
    Ok(out)
}

/// Stage kinds, for messages.
const STAGE_KINDS: &str = "velocity, nve, nvt, npt, langevin, minimize, write_data, record, tg";

/// The error of stage `k` (0-based) parsed on its own as its kind, as one
/// line naming the stage and the line of the bad key; None if it parses.
fn stage_error(text: &str, loc: &Locator, k: usize) -> Option<String> {
    let (head, end) = loc.stage_span(k)?;
    let lines: Vec<&str> = text.lines().collect();
    let body_lines = &lines[head.min(lines.len())..(end - 1).min(lines.len())];
    let body = body_lines.join("\n");
    let kind = body_lines.iter().filter_map(|l| l.split_once('=')).find(|(k, _)| k.trim() == "kind").map(|(_, v)| v.split('#').next().unwrap_or("").trim().trim_matches('"').to_string());
    let Some(kind) = kind else {
        return Some(format!("line {}: stage {}: missing key `kind` (one of {})", head, k + 1, STAGE_KINDS));
    };
    let Some(e) = reparse_stage(&kind, &body) else {
        if STAGE_KINDS.split(", ").any(|x| x == kind) {
            return None;
        }
        let l = loc.stage_line(k, Some("kind")).unwrap_or(head);
        return Some(format!("line {}: stage {}: unknown kind '{}' (expected one of {})", l, k + 1, kind, STAGE_KINDS));
    };
    // A missing key is a fault of the whole table: report the header.
    let missing = e.message().starts_with("missing field");
    let l = if missing { head } else { e.span().map(|sp| head + line_of(&body, sp.start)).unwrap_or(head) };
    let key = if missing { None } else { lines.get(l - 1).and_then(|t| key_on_line(t)) };
    let m = friendly(e.message(), key);
    Some(match key {
        Some(key) if !m.contains(&format!("`{}`", key)) => format!("line {}: stage {} ({}): {}: {}", l, k + 1, kind, key, m),
        _ => format!("line {}: stage {} ({}): {}", l, k + 1, kind, m),
    })
}

/// Turn a toml/serde error into one line naming the line of the bad key.
fn describe(text: &str, e: &toml::de::Error, loc: &Locator) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(span) = e.span() else { return friendly(e.message(), None) };
    let line = line_of(text, span.start);
    // Errors inside a [[stage]] table come with the span of the table (or
    // of the whole array): parse the stages one by one as their own kind to
    // find the failing one and its key.
    if let Some(k) = loc.stage_at(line) {
        for j in std::iter::once(k).chain(0..loc.stage_count()) {
            if let Some(m) = stage_error(text, loc, j) {
                return m;
            }
        }
    }
    // A missing top-level section has no line.
    if let Some(name) = e.message().strip_prefix("missing field `").and_then(|r| r.strip_suffix('`')) {
        if line == 1 && TOP_SECTIONS.contains(&name) {
            return format!("the deck has no [{}] section", name);
        }
    }
    // The key by its full dotted name (`neighbor.skin`); for an error about
    // a whole table (a missing field), the table's name.
    let dotted = loc.key_at(line).map(|k| k.to_string());
    let key = dotted.as_deref().or_else(|| lines.get(line - 1).and_then(|t| key_on_line(t)));
    let m = friendly(e.message(), key);
    match key {
        Some(k) if !m.contains(&format!("`{}`", k.rsplit('.').next().unwrap_or(k))) || m.starts_with("missing field") => format!("line {}: {}: {}", line, k, m),
        _ => format!("line {}: {}", line, m),
    }
}

/// The deck's sections, for messages about a missing one.
const TOP_SECTIONS: [&str; 2] = ["system", "potential"];

/// The first float in a parsed deck that is not finite: its dotted path
/// and value. TOML allows `inf` and `nan`, but no deck key means them.
fn non_finite(v: &toml::Value, path: &mut Vec<String>) -> Option<(Vec<String>, f64)> {
    match v {
        toml::Value::Float(f) if !f.is_finite() => Some((path.clone(), *f)),
        toml::Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| {
            path.push(format!("[{}]", i));
            let r = non_finite(x, path);
            path.pop();
            r
        }),
        toml::Value::Table(t) => t.iter().find_map(|(k, x)| {
            path.push(k.clone());
            let r = non_finite(x, path);
            path.pop();
            r
        }),
        _ => None,
    }
}

impl Deck {
    pub fn load(path: &Path) -> Result<Deck> {
        Self::load_with(path, &[])
    }

    /// Load a deck with variables: every `${name}` in its text is replaced
    /// by the value given as `--var name=value` before parsing (LAMMPS
    /// `-var`). A `${name}` without a value, or a value the deck never uses,
    /// is an error.
    pub fn load_with(path: &Path, vars: &[(String, String)]) -> Result<Deck> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let text = substitute(&text, vars).map_err(|m| Error::input(path, m))?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Deck> {
        let loc = Locator::new(text);
        let raw: toml::Value = toml::from_str(text).map_err(|e| Error::input(path, describe(text, &e, &loc)))?;
        if let Some((p, v)) = non_finite(&raw, &mut Vec::new()) {
            // stage.[k].key → the stage's line; other keys → their own line.
            let (line, name) = match (p.first().map(|s| s.as_str()), p.get(1).and_then(|i| i.trim_matches(['[', ']']).parse::<usize>().ok())) {
                (Some("stage"), Some(k)) => {
                    let key = p[2..].iter().filter(|s| !s.starts_with('[')).cloned().collect::<Vec<_>>().join(".");
                    (loc.stage_line(k, Some(&key)), format!("stage {}: {}", k + 1, key))
                }
                _ => {
                    let key = p.iter().filter(|s| !s.starts_with('[')).cloned().collect::<Vec<_>>().join(".");
                    (loc.line(&key), key)
                }
            };
            let l = line.map(|l| format!("line {}: ", l)).unwrap_or_default();
            return Err(Error::input(path, format!("{}{} = {}: numbers in a deck must be finite", l, name, v)));
        }
        let mut deck: Deck = toml::from_str(text).map_err(|e| Error::input(path, describe(text, &e, &loc)))?;
        deck.loc = loc;
        deck.path = path.to_path_buf();
        deck.dir = path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        if deck.dir.as_os_str().is_empty() {
            deck.dir = PathBuf::from(".");
        }
        deck.resolve_temperatures()?;
        deck.validate()?;
        Ok(deck)
    }

    /// A path from the deck, relative to the deck's folder.
    pub fn resolve(&self, p: &str) -> PathBuf {
        resolve_in(&self.dir, p)
    }

    /// Turn `temperature_over_tg` into temperatures with `[glass] tg`.
    fn resolve_temperatures(&mut self) -> Result<()> {
        let tg = self.glass.tg;
        let path = self.path.clone();
        for (k, s) in self.stages.iter_mut().enumerate() {
            let kind = s.name();
            let (t, over) = match s {
                Stage::Nvt(v) => (&mut v.temperature, v.temperature_over_tg),
                Stage::Npt(v) => (&mut v.temperature, v.temperature_over_tg),
                Stage::Langevin(v) => (&mut v.temperature, v.temperature_over_tg),
                _ => continue,
            };
            let line = self.loc.stage_line(k, Some("temperature_over_tg")).map(|l| format!("line {}: ", l)).unwrap_or_default();
            let bad = |m: &str| Err(Error::input(&path, format!("{}stage {} ({}): {}", line, k + 1, kind, m)));
            let given = !matches!(t, Target::Const(x) if x.is_nan());
            match (given, over) {
                (true, Some(_)) => return bad("give temperature or temperature_over_tg, not both"),
                (false, None) => return bad("missing field `temperature` (or temperature_over_tg)"),
                (false, Some(r)) => {
                    let Some(tg) = tg.filter(|&x| x > 0.0) else {
                        return bad("temperature_over_tg needs [glass] tg = <K> in the deck");
                    };
                    *t = match r {
                        Target::Const(a) => Target::Const(a * tg),
                        Target::Ramp([a, b]) => Target::Ramp([a * tg, b * tg]),
                    };
                }
                (true, None) => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "[system]\nread_data = \"x.data\"\n[potential]\nstyle = \"eam/fs\"\nfile = \"p.fs\"\nelements = [\"Cu\", \"Zr\"]\n";

    #[test]
    fn temperature_over_tg_scales_by_glass_tg() {
        let text = format!("[glass]\ntg = 700.0\n{HEAD}[[stage]]\nkind = \"npt\"\ntemperature_over_tg = [0.5, 1.2]\nrate_k_per_ps = 49.0\npressure_gpa = 0.0\ntimestep = 0.002\n[[stage]]\nkind = \"nvt\"\ntemperature_over_tg = 1.2\nsteps = 5\n");
        let deck = Deck::parse(Path::new("deck.toml"), &text).unwrap();
        match &deck.stages[0] {
            Stage::Npt(n) => {
                assert_eq!((n.temperature.start(), n.temperature.stop()), (350.0, 840.0));
                // The rate applies to the resolved ramp: 490 K at 49 K/ps = 10 ps.
                assert_eq!(n.steps().unwrap(), 5000);
            }
            _ => panic!("npt expected"),
        }
        match &deck.stages[1] {
            Stage::Nvt(n) => assert_eq!(n.temperature.start(), 840.0),
            _ => panic!("nvt expected"),
        }
    }
}
