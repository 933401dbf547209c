//! Deck sections other than the stages: `[system]` (with `[system.create]`),
//! `[potential]`, `[neighbor]`, `[thermo]`, `[output]`, `[samples]`,
//! `[glass]`. Each is a serde struct with `deny_unknown_fields`; its
//! values are checked in `validate.rs`.

use super::*;

pub(super) fn default_boundary() -> [Boundary; 3] {
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
pub(super) fn default_aspect() -> [f64; 3] {
    [1.0, 1.0, 1.0]
}
pub(super) fn default_min_distance() -> f64 {
    1.8
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PotentialSection {
    /// `eam` (funcfl), `eam/alloy` (setfl) or `eam/fs`.
    pub style: crate::potential::eam::EamStyle,
    /// The potential file (or `generate`).
    #[serde(default)]
    pub file: Option<String>,
    /// Tables generated from published parameters instead of a file:
    /// `zhou2004` (Zhou, Johnson & Wadley, PRB 69, 144113 (2004); style
    /// `eam/alloy`, the elements of `elements`).
    #[serde(default)]
    pub generate: Option<String>,
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
    /// Store the neighbor list as varint gaps between sorted indices
    /// (~1.2 bytes a pair instead of 4): for memory-bound runs; the forces
    /// are bit-identical, the step a little slower (docs/PERFORMANCE.md).
    #[serde(default)]
    pub compact: bool,
}
/// `[analysis]`: structure analyses during a run (the same code as
/// `glassmd analyze`): every `every` MD steps and after the named stages
/// (`record`, `minimize` or `nve` stages with a `name`), a row of summary
/// values (icosahedral fractions and clusters, mean CN, Q6/Ŵ6, volumes,
/// g(r) and S(q) peaks) goes to `file`; after a named stage the values also
/// go to results.json under `analysis_<name>`, so `summarize` averages
/// them over samples.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSection {
    /// voronoi, cn, w6, rdf, sq.
    pub compute: Vec<String>,
    #[serde(default)]
    pub every: u64,
    #[serde(default)]
    pub stages: Vec<String>,
    /// Also every inherent structure a quench stage samples
    /// (`inherent_structures` of nvt/npt stages), rows labelled `is_<T>K`.
    #[serde(default)]
    pub inherent_structures: bool,
    /// Neighbor cutoff of cn and w6 (Å); absent: cn at the partial g(r)
    /// minima, w6 over Voronoi neighbors.
    #[serde(default)]
    pub cutoff: Option<f64>,
    #[serde(default = "default_analysis_file")]
    pub file: String,
    #[serde(default)]
    pub face_threshold: f64,
    #[serde(default)]
    pub relative_face_threshold: f64,
    #[serde(default)]
    pub edge_threshold: f64,
    /// cutoff, nearest:N, voronoi, voronoi-weighted.
    #[serde(default)]
    pub bonds: Option<String>,
    #[serde(default = "default_rmax")]
    pub rmax: f64,
    #[serde(default = "default_bins")]
    pub bins: usize,
}
fn default_analysis_file() -> String {
    "analysis.csv".into()
}
fn default_rmax() -> f64 {
    8.0
}
fn default_bins() -> usize {
    200
}

/// `[domain]`: how ranks divide the box.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSection {
    /// Load balancing (LAMMPS `balance shift` / `fix balance`): absent,
    /// uniform cuts.
    #[serde(default)]
    pub balance: Option<BalanceSpec>,
}

/// `balance = { every = 1000, threshold = 1.1 }`: at the start of each MD
/// stage, and every `every` steps (0: only at stage starts), the grid's
/// cuts move to even out the atoms per slab of ranks when max/mean atoms
/// per rank exceeds `threshold`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceSpec {
    #[serde(default)]
    pub every: u64,
    #[serde(default = "default_balance_threshold")]
    pub threshold: f64,
}
fn default_balance_threshold() -> f64 {
    1.1
}

pub(super) fn default_skin() -> f64 {
    crate::engine::EngineOptions::default().skin
}
pub(super) fn default_sort() -> u64 {
    crate::engine::EngineOptions::default().sort_every
}
impl Default for NeighborSection {
    fn default() -> Self {
        let e = crate::engine::EngineOptions::default();
        NeighborSection { skin: e.skin, sort_every: e.sort_every, compact: e.compact_list }
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
    /// More columns after the standard ones: `temp_<group>` (the group's
    /// temperature, LAMMPS `compute temp` on it) and values fixes offer
    /// (`<fix id>_<name>`, e.g. `setforce_fz`); NaN while a stage lacks it.
    #[serde(default)]
    pub extra: Vec<String>,
}
pub(super) fn default_thermo_every() -> u64 {
    100
}
impl Default for ThermoSection {
    fn default() -> Self {
        ThermoSection { every: default_thermo_every(), file: None, extra: Vec::new() }
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
pub(super) fn default_fields() -> Vec<String> {
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
pub(super) fn default_seed_stride() -> u64 {
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
