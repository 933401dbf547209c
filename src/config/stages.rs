//! The stages of a deck (`[[stage]]`): one struct per kind, the tagged
//! `Stage` enum, lengths (`steps`, `time_ps` or a rate), temperature and
//! pressure targets. A new kind is a variant here, a struct with
//! `deny_unknown_fields` (and a `kind` field for the single-stage re-parse),
//! its arm in `reparse_stage` and `STAGE_KINDS`, its checks in
//! `validate.rs`, and its driver in `run::stages`.

use super::*;

pub(super) fn default_dt() -> f64 {
    0.001
}

/// One stage of a deck. The stage structs repeat their length keys
/// (`steps`, `time_ps`, rates) on purpose: serde's `flatten` would share
/// them but cannot be combined with `deny_unknown_fields`, and rejecting
/// misspelt keys matters more. Lengths are resolved by [`stage_steps`].
#[derive(Debug, Clone, Deserialize)]
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
    Deform(DeformStage),
    ChangeBox(ChangeBoxStage),
    Repeat(RepeatStage),
    Cyclic(CyclicStage),
}

/// Cyclic loading (seed 003 reviews it as a rejuvenation route), for
/// `cycles` periods of `period_ps`:
///
/// - strain-controlled (`strain_amplitude`, optionally `strain_mean`, per
///   normal axis or tilt): the component follows ε(t) = mean + A w(t) with
///   w a sine or a triangle starting at 0 and rising (LAMMPS `fix deform
///   ... wiggle` for a sine; see `fix::deform::Wave`), under Nosé–Hoover or,
///   with `pressure_gpa`, MTK NPT on the other axes;
/// - stress-controlled (`stress_amplitude_gpa` per normal axis): the
///   barostat target of that axis (its `pressure_gpa`, the mean) moves as
///   P(t) = P_mean − A w(t), so the stress σ = −P swings by ±A about
///   −P_mean, tension first.
///
/// The stress–strain loop is sampled `samples_per_cycle` times a cycle into
/// `stress_strain_file`; `cycles_file` gets one row per cycle with its loop
/// area ∮σ dε (the energy dissipated per volume), and results.json the
/// first, last and mean loop areas and the residual strain and stress.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CyclicStage {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "default_dt")]
    pub timestep: f64,
    #[serde(default = "unset_target")]
    pub temperature: Target,
    #[serde(default)]
    pub temperature_over_tg: Option<Target>,
    /// Strain amplitude per component (x, y, z, xy, xz, yz).
    #[serde(default)]
    pub strain_amplitude: Option<std::collections::BTreeMap<String, f64>>,
    /// Mean strain per component, reached over the first quarter period.
    #[serde(default)]
    pub strain_mean: Option<std::collections::BTreeMap<String, f64>>,
    /// Stress amplitude per normal axis, GPa (stress-controlled).
    #[serde(default)]
    pub stress_amplitude_gpa: Option<std::collections::BTreeMap<String, f64>>,
    pub period_ps: f64,
    pub cycles: u64,
    #[serde(default)]
    pub waveform: Waveform,
    #[serde(default)]
    pub pressure_gpa: Option<PressureSpec>,
    #[serde(default)]
    pub couple: Option<CoupleSpec>,
    /// Barostat: take the current cell as the deviatoric reference every
    /// this many steps (LAMMPS `nreset`, as on `npt`).
    #[serde(default)]
    pub nreset: Option<u64>,
    #[serde(default)]
    pub tdamp: Option<f64>,
    #[serde(default)]
    pub pdamp: Option<f64>,
    #[serde(default = "default_samples")]
    pub samples_per_cycle: u64,
    #[serde(default = "stress_strain_csv")]
    pub stress_strain_file: String,
    #[serde(default = "cycles_csv")]
    pub cycles_file: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub fix: Vec<FixSpec>,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

fn default_samples() -> u64 {
    100
}
fn cycles_csv() -> String {
    "cycles.csv".to_string()
}

/// The shape of a cycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Waveform {
    #[default]
    Sine,
    Triangle,
}

impl CyclicStage {
    pub fn tdamp(&self) -> f64 {
        self.tdamp.unwrap_or(100.0 * self.timestep)
    }
    pub fn pdamp(&self) -> f64 {
        self.pdamp.unwrap_or(1000.0 * self.timestep)
    }
    /// Steps per cycle (the period must be a whole number of timesteps).
    pub fn steps_per_cycle(&self) -> std::result::Result<u64, String> {
        let n = self.period_ps / self.timestep;
        if !(self.period_ps > 0.0) || !n.is_finite() || n.round() < 4.0 {
            return Err(format!("period_ps = {} must be > 0 and at least 4 timesteps", self.period_ps));
        }
        if (n - n.round()).abs() > 1e-6 * n {
            return Err(format!("period_ps = {} is {} timesteps of {} ps: give a whole number of timesteps", self.period_ps, n, self.timestep));
        }
        Ok(n.round() as u64)
    }
    pub fn steps(&self) -> std::result::Result<u64, String> {
        if self.cycles == 0 {
            return Err("cycles must be at least 1".into());
        }
        let n = self.steps_per_cycle()?.saturating_mul(self.cycles);
        if n > validate::MAX_STEPS {
            return Err(format!("the stage lasts {} steps, more than {}", n, validate::MAX_STEPS));
        }
        Ok(n)
    }
    /// Steps between two samples of the loop: the largest divisor of a
    /// cycle's steps that still gives `samples_per_cycle` samples, so every
    /// cycle starts and ends on a sample.
    pub fn sample_every(&self) -> std::result::Result<u64, String> {
        let spc = self.steps_per_cycle()?;
        if self.samples_per_cycle < 4 || self.samples_per_cycle > spc {
            return Err(format!("samples_per_cycle = {} must be at least 4 and at most the {} steps of a cycle", self.samples_per_cycle, spc));
        }
        Ok((1..=spc / self.samples_per_cycle).rev().find(|d| spc % d == 0).unwrap_or(1))
    }
    fn wave(&self, amplitude: f64, mean: f64) -> crate::fix::deform::Wave {
        crate::fix::deform::Wave { amplitude, mean, period: self.period_ps, triangle: self.waveform == Waveform::Triangle }
    }
    /// Strain waves per component (x, y, z, xy, xz, yz), as the deform
    /// fix takes them; all None for a stress-controlled stage.
    pub fn motions(&self) -> std::result::Result<[Option<crate::fix::deform::Motion>; 6], (&'static str, String)> {
        const NAMES: [&str; 6] = ["x", "y", "z", "xy", "xz", "yz"];
        let mut out = [None; 6];
        let empty = std::collections::BTreeMap::new();
        let means = self.strain_mean.as_ref().unwrap_or(&empty);
        if let Some(c) = means.keys().find(|c| !self.strain_amplitude.as_ref().is_some_and(|a| a.contains_key(*c))) {
            return Err(("strain_mean", format!("strain_mean.{} has no strain_amplitude.{}", c, c)));
        }
        for (c, &a) in self.strain_amplitude.iter().flatten() {
            let k = NAMES.iter().position(|n| n == c).ok_or_else(|| ("strain_amplitude", format!("component '{}' (expected x, y, z, xy, xz or yz)", c)))?;
            let m = means.get(c).copied().unwrap_or(0.0);
            if !(a >= 0.0 && a <= 10.0) || !(m.abs() <= 10.0) {
                return Err(("strain_amplitude", format!("strain_amplitude.{} = {} must be >= 0 (and the mean within +-10)", c, a)));
            }
            // The box would turn inside out at 1 + mean − A ≤ 0.
            if k < 3 && 1.0 + m - a <= 0.05 {
                return Err(("strain_amplitude", format!("strain_amplitude.{} = {} with mean {} would shrink axis {} to {:.3} of its length (inverting the box); keep mean - amplitude above -0.95", c, a, m, c, 1.0 + m - a)));
            }
            out[k] = Some(crate::fix::deform::Motion::Wave(self.wave(a, m)));
        }
        Ok(out)
    }
    /// Stress amplitudes per normal axis, bar (stress-controlled).
    pub fn stress_amplitudes(&self) -> std::result::Result<[Option<f64>; 3], String> {
        let mut out = [None; 3];
        for (c, &a) in self.stress_amplitude_gpa.iter().flatten() {
            let d = ["x", "y", "z"].iter().position(|n| n == c).ok_or_else(|| format!("stress_amplitude_gpa component '{}' (expected x, y or z: the barostat drives normal axes)", c))?;
            if !(a >= 0.0 && a <= validate::MAX_PRESSURE_GPA) {
                return Err(format!("stress_amplitude_gpa.{} = {} must be >= 0 and at most {} GPa", c, a, validate::MAX_PRESSURE_GPA));
            }
            out[d] = Some(a * crate::units::BAR_PER_GPA);
        }
        Ok(out)
    }
    /// The waveform of a stress-controlled stage (unit amplitude).
    pub fn unit_wave(&self) -> crate::fix::deform::Wave {
        self.wave(1.0, 0.0)
    }
    /// Barostat targets of the normal axes (start, stop) in GPa.
    pub fn axis_targets(&self) -> std::result::Result<[Option<(f64, f64)>; 3], String> {
        optional_axis_targets(&self.pressure_gpa)
    }
    pub fn tilt_targets(&self) -> [Option<(f64, f64)>; 3] {
        optional_tilt_targets(&self.pressure_gpa)
    }
    /// The deformed components as a deform fix's deck form (names only,
    /// for the box-change and boundary checks).
    pub fn spec(&self) -> crate::config::fix::DeformSpec {
        crate::config::fix::DeformSpec { name: Some("deform".into()), erate: self.strain_amplitude.iter().flatten().map(|(c, _)| (c.clone(), 0.0)).collect() }
    }
}

/// Change the boundary styles mid-deck (LAMMPS `change_box all boundary
/// s p p`): seed 001 relaxes its glass fully periodic, then opens free
/// surfaces in x before tension. A periodic axis that becomes `s` or `f`
/// keeps the atoms where they are (wrapped into the box) with their image
/// flags along it reset to 0, as LAMMPS resets them; an `s` axis is then
/// shrink-wrapped to the atoms. A non-periodic axis that becomes periodic
/// keeps its current length.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeBoxStage {
    pub boundary: [Boundary; 3],
    /// Å of empty space added above the top face (z hi), for a slab with
    /// vacuum (a fixed or periodic z; a shrink-wrapped face follows the
    /// atoms and needs none).
    #[serde(default)]
    pub vacuum_z: Option<f64>,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

/// Run the inner stages (`[[stage.stage]]`) `count` times: cryogenic
/// thermal cycling (300 K → 77 K → 300 K, 10 to 100 times; seed 003's
/// Table 1), load–unload sequences. A deck's repeat blocks are expanded
/// into one flat list of stages when the deck is read (see
/// [`Deck::origin`]), so checkpoints, restarts, progress and thermo treat
/// each pass of each inner stage as a stage of its own, and a run stopped
/// mid-block restarts where it stopped. Names and output files of the
/// inner stages get the pass number in pass c (`tension_3` in
/// results.json, `stress_strain_3.csv`), so no pass overwrites another.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatStage {
    pub count: u64,
    /// The stages of one pass, in order.
    #[serde(default)]
    pub stage: Vec<Stage>,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

/// Most stages a deck may expand to (repeat blocks included).
pub const MAX_EXPANDED_STAGES: u64 = 100_000;

/// Where a stage of the expanded list comes from: the deck's stage
/// `index` (0-based), and for a stage inside a repeat block its position
/// in the block (0-based), the pass (1-based) and the block's count.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Origin {
    pub index: usize,
    pub inner: Option<(usize, u64, u64)>,
}

impl Origin {
    /// "3", or "3.2" for the second inner stage of repeat stage 3.
    pub fn number(&self) -> String {
        match self.inner {
            None => format!("{}", self.index + 1),
            Some((j, _, _)) => format!("{}.{}", self.index + 1, j + 1),
        }
    }
    /// The key of the locator for `key` of this stage (`stage[j].key`
    /// inside a repeat block).
    pub fn key(&self, key: Option<&str>) -> Option<String> {
        match (self.inner, key) {
            (None, k) => k.map(|k| k.to_string()),
            (Some((j, _, _)), Some(k)) => Some(format!("stage[{}].{}", j, k)),
            (Some((j, _, _)), None) => Some(format!("stage[{}]", j)),
        }
    }
}

/// Box components a loading stage (`deform`, `cyclic`) changes: its
/// barostatted components and its deformed ones.
fn loading_box_change(p: &Option<PressureSpec>, spec: crate::config::fix::DeformSpec) -> crate::fix::BoxChange {
    optional_axis_targets(p)
        .map_or(crate::fix::BoxChange::default(), |t| crate::fix::BoxChange::axes(t.map(|a| a.is_some())))
        .union(crate::fix::BoxChange::tilts(optional_tilt_targets(p).map(|a| a.is_some())))
        .union(FixSpec::Deform(spec).box_change())
}

/// `file` with `_N` before its extension (`stress_strain.csv` →
/// `stress_strain_3.csv`).
pub fn with_pass(file: &str, pass: u64) -> String {
    let p = std::path::Path::new(file);
    match (p.file_stem().and_then(|s| s.to_str()), p.extension().and_then(|e| e.to_str())) {
        (Some(stem), Some(ext)) => p.with_file_name(format!("{}_{}.{}", stem, pass, ext)).to_string_lossy().into_owned(),
        _ => format!("{}_{}", file, pass),
    }
}

/// Deformation at a constant engineering rate (LAMMPS `fix deform N dim
/// erate R remap x`) under a Nosé–Hoover thermostat (LAMMPS `fix nvt`),
/// or, with `pressure_gpa`, under MTK NPT on the barostatted components
/// (LAMMPS `fix npt ... x 0 0 P y 0 0 P` beside `fix deform z`, so lateral
/// stresses stay at their targets); normal axes without a rate or a target
/// keep their length (uniaxial strain). Tension is a positive rate,
/// compression a negative one; a tilt rate shears (tilt grows by R·L0 of
/// its second axis per ps). The stage lasts `strain` (of the fastest
/// component), `steps` or `time_ps`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeformStage {
    /// The stage's name (for its entry in results.json).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "default_dt")]
    pub timestep: f64,
    /// K; or give `temperature_over_tg` (× `[glass] tg`).
    #[serde(default = "unset_target")]
    pub temperature: Target,
    #[serde(default)]
    pub temperature_over_tg: Option<Target>,
    /// Engineering rate per component, 1/ps: `{ z = 1.0e-4 }`, `{ xy = 1.0e-3 }`.
    #[serde(default)]
    pub erate: std::collections::BTreeMap<String, f64>,
    /// True strain rate per component, 1/ps (LAMMPS `trate`): L0 exp(R t).
    #[serde(default)]
    pub trate: std::collections::BTreeMap<String, f64>,
    /// Final length (normal axes) or tilt (xy, xz, yz) in Å, reached at
    /// the end of the stage (LAMMPS `final`); give `steps` or `time_ps`.
    #[serde(default, rename = "final")]
    pub final_value: std::collections::BTreeMap<String, f64>,
    /// Strain to reach (of the component with the largest rate).
    #[serde(default)]
    pub strain: Option<f64>,
    /// Stop when a pressure component (GPa; x, y, z, xy, xz, yz) reaches
    /// its target from the side it starts on: `{ z = -1.0 }` stops a
    /// tension test at σzz = 1 GPa. Checked every 10 steps. Without
    /// strain, steps or time_ps, the stage may run to a strain of 1.
    #[serde(default)]
    pub until_pressure_gpa: Option<std::collections::BTreeMap<String, f64>>,
    #[serde(default)]
    pub steps: Option<u64>,
    #[serde(default)]
    pub time_ps: Option<f64>,
    /// Barostatted components and their targets, GPa (as `npt`).
    #[serde(default)]
    pub pressure_gpa: Option<PressureSpec>,
    #[serde(default)]
    pub couple: Option<CoupleSpec>,
    /// Barostat: take the current cell as the deviatoric reference every
    /// this many steps (LAMMPS `nreset`, as on `npt`).
    #[serde(default)]
    pub nreset: Option<u64>,
    /// Thermostat damping, ps (default 100 timesteps).
    #[serde(default)]
    pub tdamp: Option<f64>,
    /// Barostat damping, ps (default 1000 timesteps).
    #[serde(default)]
    pub pdamp: Option<f64>,
    /// How atoms follow the box: "x" (affinely, LAMMPS `remap x`) or "v"
    /// (they stay; an atom wrapped across a periodic face takes its image's
    /// velocity, LAMMPS `remap v`, for shear flow).
    #[serde(default = "remap_x")]
    pub remap: String,
    /// The stress–strain table of the stage.
    #[serde(default = "stress_strain_csv")]
    pub stress_strain_file: String,
    /// Strain window of the modulus fit.
    #[serde(default = "modulus_window")]
    pub modulus_strain: [f64; 2],
    /// Strain window of the mean flow stress.
    #[serde(default = "flow_window")]
    pub flow_strain: [f64; 2],
    /// The group this stage integrates (default all).
    #[serde(default)]
    pub group: Option<String>,
    /// More fixes acting in this stage (`[[stage.fix]]`).
    #[serde(default)]
    pub fix: Vec<FixSpec>,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

/// (start, stop) targets in GPa of the normal axes of an optional
/// `pressure_gpa` (a loading stage's barostat; None: no barostat).
fn optional_axis_targets(p: &Option<PressureSpec>) -> std::result::Result<[Option<(f64, f64)>; 3], String> {
    match p {
        Some(p) => Ok(p.axes("pressure_gpa")?.map(|t| t.map(|t| (t.start(), t.stop())))),
        None => Ok([None; 3]),
    }
}

/// The same for the tilts (xy, xz, yz).
fn optional_tilt_targets(p: &Option<PressureSpec>) -> [Option<(f64, f64)>; 3] {
    p.as_ref().map_or([None; 3], |p| p.tilts().map(|t| t.map(|t| (t.start(), t.stop()))))
}

fn remap_x() -> String {
    "x".to_string()
}
fn stress_strain_csv() -> String {
    "stress_strain.csv".to_string()
}
fn modulus_window() -> [f64; 2] {
    [0.0, 0.01]
}
fn flow_window() -> [f64; 2] {
    [0.10, 0.20]
}

impl DeformStage {
    pub fn tdamp(&self) -> f64 {
        self.tdamp.unwrap_or(100.0 * self.timestep)
    }
    pub fn pdamp(&self) -> f64 {
        self.pdamp.unwrap_or(1000.0 * self.timestep)
    }
    /// The deformed components as a deform fix's deck form: `erate`
    /// rates, and 0 for components that follow `trate` or `final` (for
    /// the box-change and boundary checks, which look at names only).
    pub fn spec(&self) -> crate::config::fix::DeformSpec {
        let mut erate = self.erate.clone();
        for k in self.trate.keys().chain(self.final_value.keys()) {
            erate.entry(k.clone()).or_insert(0.0);
        }
        crate::config::fix::DeformSpec { name: Some("deform".into()), erate }
    }
    /// How each component (x, y, z, xy, xz, yz) moves over a stage of
    /// `duration` ps; a component in two styles is an error (key, message).
    pub fn motions(&self, duration: f64) -> std::result::Result<[Option<crate::fix::deform::Motion>; 6], (&'static str, String)> {
        use crate::fix::deform::Motion;
        const NAMES: [&str; 6] = ["x", "y", "z", "xy", "xz", "yz"];
        let mut out: [Option<Motion>; 6] = [None; 6];
        let styles: [(&'static str, &std::collections::BTreeMap<String, f64>); 3] = [("erate", &self.erate), ("trate", &self.trate), ("final", &self.final_value)];
        for (key, map) in styles {
            for (c, &v) in map {
                let k = NAMES.iter().position(|n| n == c).ok_or_else(|| (key, format!("component '{}' (expected x, y, z, xy, xz or yz)", c)))?;
                if out[k].is_some() {
                    return Err((key, format!("component {} is given in two of erate, trate, final; one style per component", c)));
                }
                out[k] = Some(match key {
                    "erate" => Motion::Erate(v),
                    "trate" => {
                        if !(v.abs() <= 1.0) {
                            return Err((key, format!("trate.{} = {} /ps is beyond +-1 /ps", c, v)));
                        }
                        Motion::Trate(v)
                    }
                    _ => {
                        if k < 3 && !(v > 0.0) || !(v.abs() <= 1e6) {
                            return Err((key, format!("final.{} = {} A must be a length > 0 (a tilt: any finite value) below 1e6 A", c, v)));
                        }
                        Motion::Final { value: v, duration }
                    }
                });
            }
        }
        if out.iter().all(|m| m.is_none()) {
            return Err(("erate", "names no component: give e.g. erate = { z = 1.0e-4 } (1/ps), trate or final".into()));
        }
        Ok(out)
    }
    /// The stop targets of `until_pressure_gpa` in bar, per component
    /// (thermo tensor order xx yy zz xy xz yz).
    pub fn until_bar(&self) -> std::result::Result<[Option<f64>; 6], String> {
        let mut out = [None; 6];
        for (c, &v) in self.until_pressure_gpa.iter().flatten() {
            let k = ["x", "y", "z", "xy", "xz", "yz"].iter().position(|n| n == c).ok_or_else(|| format!("until_pressure_gpa component '{}' (expected x, y, z, xy, xz or yz)", c))?;
            if !(v.abs() <= validate::MAX_PRESSURE_GPA) {
                return Err(format!("until_pressure_gpa.{} = {} GPa is beyond +-{} GPa", c, v, validate::MAX_PRESSURE_GPA));
            }
            out[k] = Some(v * crate::units::BAR_PER_GPA);
        }
        if self.until_pressure_gpa.is_some() && out.iter().all(|o| o.is_none()) {
            return Err("until_pressure_gpa names no component".into());
        }
        Ok(out)
    }
    /// Barostat targets of the normal axes (start, stop) in GPa.
    pub fn axis_targets(&self) -> std::result::Result<[Option<(f64, f64)>; 3], String> {
        optional_axis_targets(&self.pressure_gpa)
    }
    /// Barostat targets of the tilts (xy, xz, yz) in GPa.
    pub fn tilt_targets(&self) -> [Option<(f64, f64)>; 3] {
        optional_tilt_targets(&self.pressure_gpa)
    }
    /// Steps from exactly one of `strain`, `steps`, `time_ps` (with
    /// `until_pressure_gpa`, at most one: the limit, by default a strain of 1).
    pub fn steps(&self) -> std::result::Result<u64, String> {
        let fastest = self.erate.values().chain(self.trate.values()).map(|r| r.abs()).fold(0.0, f64::max);
        let given = [self.strain.is_some(), self.steps.is_some(), self.time_ps.is_some()].iter().filter(|&&g| g).count();
        if given == 0 && self.until_pressure_gpa.is_some() && fastest > 0.0 {
            return stage_steps(self.timestep, None, Some(1.0 / fastest), &[]);
        }
        if given != 1 {
            return Err("give exactly one of strain, steps, time_ps".into());
        }
        if self.strain.is_some() && !self.final_value.is_empty() {
            return Err("a stage with final lengths lasts steps or time_ps, not strain".into());
        }
        let time = match self.strain {
            Some(e) => {
                if self.steps.is_some() || self.time_ps.is_some() {
                    return Err("give exactly one of strain, steps, time_ps".into());
                }
                if !(e > 0.0) || !e.is_finite() {
                    return Err(format!("strain must be > 0, got {}", e));
                }
                if !(fastest > 0.0) {
                    return Err("strain needs a non-zero erate".into());
                }
                Some(e / fastest)
            }
            None => self.time_ps,
        };
        stage_steps(self.timestep, self.steps, time, &[])
    }
}

/// Record the state under a name in `results.json`: potential energy per
/// atom (eV), density (g/cm³), volume per atom (Å³), pressure (GPa) and
/// temperature (K); with `relative_to`, also the differences from that
/// earlier record (`delta_pe_per_atom`, `delta_density`, ...).
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
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
pub(super) fn default_min_points() -> usize {
    5
}
pub(super) fn default_tg_file() -> String {
    "tg.json".into()
}

/// Inherent structures along a quench (key `inherent_structures` of an nvt
/// or npt stage): every `every_k` kelvin of the target temperature, and at
/// the start and end of the stage, a copy of the configuration is minimised
/// at fixed box, then unloaded to zero pressure with box relaxation and
/// minimised again; one row per point goes to `file` (CSV). The MD carries
/// on from the unminimised configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InherentStructures {
    pub every_k: f64,
    #[serde(default = "default_is_file")]
    pub file: String,
    #[serde(default)]
    pub algorithm: crate::minimize::Algorithm,
    #[serde(default = "default_ftol")]
    pub ftol: f64,
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u64,
}
pub(super) fn default_is_file() -> String {
    "inherent_structures.csv".into()
}

/// Langevin dynamics at a (possibly ramped) temperature; lengths as for nvt.
#[derive(Debug, Clone, Deserialize)]
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
    /// The group this stage integrates (default all); atoms outside it
    /// do not move.
    #[serde(default)]
    pub group: Option<String>,
    /// More fixes acting in this stage (`[[stage.fix]]`).
    #[serde(default)]
    pub fix: Vec<FixSpec>,
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimizeStage {
    /// A name for the stage's entry in results.json (a quasi-static
    /// indentation's report); optional.
    #[serde(default)]
    pub name: Option<String>,
    /// "sd", "cg" or "fire".
    #[serde(default)]
    pub algorithm: crate::minimize::Algorithm,
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
    pub couple: Option<CoupleSpec>,
    /// Tolerance on each relaxed pressure, GPa.
    #[serde(default = "default_ptol")]
    pub ptol_gpa: f64,
    /// Largest strain of a box axis in one move.
    #[serde(default = "default_vmax")]
    pub vmax: f64,
    /// More fixes acting in this stage (`[[stage.fix]]`).
    #[serde(default)]
    pub fix: Vec<FixSpec>,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}
pub(super) fn default_ftol() -> f64 {
    1e-6
}
pub(super) fn default_max_iterations() -> u64 {
    10_000
}
pub(super) fn default_dmax() -> f64 {
    0.1
}
pub(super) fn default_ptol() -> f64 {
    1e-4
}
pub(super) fn default_vmax() -> f64 {
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
        for (d, t) in spec.normal_axes("box_pressure_gpa")?.into_iter().enumerate() {
            out[d] = t.map(constant).transpose()?;
        }
        let couple = match spec {
            PressureSpec::Iso(_) => {
                if self.couple.is_some() {
                    return Err("couple applies to a per-axis box_pressure_gpa table".into());
                }
                true
            }
            PressureSpec::Axes(_) => match couple_axes(self.couple)? {
                None => false,
                Some(axes) => {
                    let c = self.couple.map_or("", |c| c.name());
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
pub(super) fn unset_target() -> Target {
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
#[derive(Debug, Clone, Deserialize)]
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
    /// The group this stage integrates (default all); atoms outside it
    /// do not move.
    #[serde(default)]
    pub group: Option<String>,
    /// More fixes acting in this stage (`[[stage.fix]]`).
    #[serde(default)]
    pub fix: Vec<FixSpec>,
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
/// per component (`{ x = 1.0, y = 0.0, z = [0.0, 2.0] }`; components left
/// out are free). A triclinic cell's shear components are `xy`, `xz`, `yz`
/// (LAMMPS `fix npt ... xy`), and `{ tri = P }` is LAMMPS `tri`: x, y, z at
/// P and the three tilts at zero shear stress.
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
                if let Some(t) = m.get("tri") {
                    if m.len() > 1 {
                        return Err(format!("{}: tri sets x, y, z and the tilts; give it alone", key));
                    }
                    return Ok([Some(*t); 3]);
                }
                let mut out = [None; 3];
                for (k, t) in m {
                    if ["xy", "xz", "yz"].contains(&k.as_str()) {
                        continue;
                    }
                    let d = ["x", "y", "z"].iter().position(|a| a == k).ok_or_else(|| format!("{} component '{}' (expected x, y, z, xy, xz, yz or tri)", key, k))?;
                    out[d] = Some(*t);
                }
                if out.iter().all(|o| o.is_none()) && self.tilts().iter().all(|o| o.is_none()) {
                    return Err(format!("{} names no component", key));
                }
                Ok(out)
            }
        }
    }
    /// The targets of the normal axes only, refusing tilt components (box
    /// relaxation moves x, y and z).
    pub fn normal_axes(&self, key: &str) -> std::result::Result<[Option<Target>; 3], String> {
        if let PressureSpec::Axes(m) = self {
            if let Some(k) = m.keys().find(|k| !["x", "y", "z"].contains(&k.as_str())) {
                return Err(format!("{} axis '{}' (expected x, y or z: box relaxation moves the normal components; tilts keep their ratio to their axis)", key, k));
            }
        }
        self.axes(key)
    }
    /// Shear targets of the tilts xy, xz, yz (None: not barostatted);
    /// `tri` barostats all three to zero.
    pub fn tilts(&self) -> [Option<Target>; 3] {
        match self {
            PressureSpec::Iso(_) => [None; 3],
            PressureSpec::Axes(m) if m.contains_key("tri") => [Some(Target::Const(0.0)); 3],
            PressureSpec::Axes(m) => std::array::from_fn(|k| m.get(["xy", "xz", "yz"][k]).copied()),
        }
    }
    /// LAMMPS sets the deviatoric force for per-component targets (`x`,
    /// `xy` ...), not for `tri` or `iso`.
    pub fn deviatoric(&self) -> bool {
        matches!(self, PressureSpec::Axes(m) if !m.contains_key("tri"))
    }
}

/// Coupled axes of per-axis pressure targets (`couple = "xy"`), LAMMPS
/// `couple`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CoupleSpec {
    None,
    Xyz,
    Xy,
    Yz,
    Xz,
}

impl CoupleSpec {
    pub fn name(self) -> &'static str {
        match self {
            CoupleSpec::None => "none",
            CoupleSpec::Xyz => "xyz",
            CoupleSpec::Xy => "xy",
            CoupleSpec::Yz => "yz",
            CoupleSpec::Xz => "xz",
        }
    }
}

/// The axes a `couple` key names; None for "none" or no key.
pub(super) fn couple_axes(couple: Option<CoupleSpec>) -> std::result::Result<Option<Vec<usize>>, String> {
    Ok(match couple {
        None | Some(CoupleSpec::None) => None,
        Some(c) => Some(c.name().chars().map(|a| "xyz".find(a).unwrap_or(0)).collect()),
    })
}

/// The first axis that has a pressure target but is not periodic.
pub(super) fn nonperiodic_target<T>(targets: &[Option<T>; 3], b: [Boundary; 3]) -> Option<usize> {
    (0..3).find(|&d| targets[d].is_some() && !b[d].is_periodic())
}

/// MTK NPT (LAMMPS fix npt) at a (possibly ramped) temperature and pressure.
#[derive(Debug, Clone, Deserialize)]
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
    /// Take the current cell as the reference of the deviatoric stress
    /// every this many steps (LAMMPS `nreset`), so unequal per-axis
    /// targets stay exact while the box creeps (elastostatic holds).
    #[serde(default)]
    pub nreset: Option<u64>,
    /// Thermostat damping, ps (default 100 timesteps).
    #[serde(default)]
    pub tdamp: Option<f64>,
    /// Barostat damping, ps (default 1000 timesteps).
    #[serde(default)]
    pub pdamp: Option<f64>,
    /// Coupled axes for per-axis targets: "none" (default), "xyz", "xy", "yz", "xz".
    #[serde(default)]
    pub couple: Option<CoupleSpec>,
    /// Inherent structures along this stage (a quench).
    #[serde(default)]
    pub inherent_structures: Option<InherentStructures>,
    /// The group this stage integrates (default all); atoms outside it
    /// do not move.
    #[serde(default)]
    pub group: Option<String>,
    /// More fixes acting in this stage (`[[stage.fix]]`).
    #[serde(default)]
    pub fix: Vec<FixSpec>,
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
    /// Per-tilt (start, stop) shear targets in GPa (xy, xz, yz).
    pub fn tilt_targets(&self) -> [Option<(f64, f64)>; 3] {
        self.pressure_gpa.tilts().map(|t| t.map(|t| (t.start(), t.stop())))
    }
    pub fn is_iso(&self) -> bool {
        matches!(self.pressure_gpa, PressureSpec::Iso(_)) || self.couple == Some(CoupleSpec::Xyz)
    }
    pub fn steps(&self) -> std::result::Result<u64, String> {
        let dt = (self.temperature.stop() - self.temperature.start()).abs();
        let dp = self.axis_targets()?.iter().chain(self.tilt_targets().iter()).flatten().map(|(a, b)| (b - a).abs()).fold(0.0, f64::max);
        stage_steps(
            self.timestep,
            self.steps,
            self.time_ps,
            &[(self.rate_k_per_ps, dt, "rate_k_per_ps", "temperature"), (self.rate_gpa_per_ps, dp, "rate_gpa_per_ps", "pressure")],
        )
    }
}

/// Maxwell–Boltzmann velocities at `temperature` (K) from `seed`.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NveStage {
    /// A name for the stage's entry in results.json (an indentation
    /// stage's report, issue 12); optional.
    #[serde(default)]
    pub name: Option<String>,
    /// Required unless an indent fix's schedule (`speed`) sets the length.
    #[serde(default)]
    pub steps: Option<u64>,
    /// ps
    #[serde(default = "default_dt")]
    pub timestep: f64,
    /// The group this stage integrates (default all); atoms outside it
    /// do not move.
    #[serde(default)]
    pub group: Option<String>,
    /// More fixes acting in this stage (`[[stage.fix]]`).
    #[serde(default)]
    pub fix: Vec<FixSpec>,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

/// Write the current configuration as a LAMMPS data file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteDataStage {
    pub file: String,
    /// The tag; read by serde only when a stage table is parsed on its own.
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

impl Stage {
    /// This stage as pass `pass` of a repeat block runs it: names and
    /// output files get the pass number; `relative_to` of a record that
    /// names a record of the same block (`block`) follows it.
    pub fn for_pass(&mut self, pass: u64, block: &[String]) {
        let name = |n: &mut String| *n = format!("{}_{}", n, pass);
        match self {
            Stage::Record(r) => {
                name(&mut r.name);
                if let Some(rel) = r.relative_to.as_mut().filter(|rel| block.contains(rel)) {
                    name(rel);
                }
            }
            Stage::Deform(d) => {
                d.name = Some(format!("{}_{}", d.name.as_deref().unwrap_or("deform"), pass));
                d.stress_strain_file = with_pass(&d.stress_strain_file, pass);
            }
            Stage::Cyclic(c) => {
                c.name = Some(format!("{}_{}", c.name.as_deref().unwrap_or("cyclic"), pass));
                c.stress_strain_file = with_pass(&c.stress_strain_file, pass);
                c.cycles_file = with_pass(&c.cycles_file, pass);
            }
            Stage::WriteData(w) => w.file = with_pass(&w.file, pass),
            Stage::Tg(t) => t.file = with_pass(&t.file, pass),
            Stage::Nvt(NvtStage { inherent_structures: Some(i), .. }) | Stage::Npt(NptStage { inherent_structures: Some(i), .. }) => i.file = with_pass(&i.file, pass),
            _ => {}
        }
    }
    /// Does the stage run molecular dynamics (and so produce thermo rows)?
    pub fn is_md(&self) -> bool {
        matches!(self, Stage::Nve(_) | Stage::Nvt(_) | Stage::Npt(_) | Stage::Langevin(_) | Stage::Deform(_) | Stage::Cyclic(_))
    }
    /// MD steps the stage runs (0 for other stages; for progress and ETAs).
    pub fn md_steps(&self) -> u64 {
        match self {
            Stage::Nve(v) => v.steps.unwrap_or(0),
            Stage::Nvt(v) => v.steps().unwrap_or(0),
            Stage::Npt(v) => v.steps().unwrap_or(0),
            Stage::Langevin(v) => v.steps().unwrap_or(0),
            Stage::Deform(v) => v.steps().unwrap_or(0),
            Stage::Cyclic(v) => v.steps().unwrap_or(0),
            _ => 0,
        }
    }
    /// The deck's `[[stage.fix]]` entries of this stage.
    pub fn fixes(&self) -> &[FixSpec] {
        match self {
            Stage::Nve(v) => &v.fix,
            Stage::Nvt(v) => &v.fix,
            Stage::Npt(v) => &v.fix,
            Stage::Langevin(v) => &v.fix,
            Stage::Deform(v) => &v.fix,
            Stage::Cyclic(v) => &v.fix,
            Stage::Minimize(v) => &v.fix,
            _ => &[],
        }
    }
    /// The group an MD stage integrates (`all` unless given).
    pub fn group(&self) -> Option<&str> {
        let g = match self {
            Stage::Nve(v) => &v.group,
            Stage::Nvt(v) => &v.group,
            Stage::Npt(v) => &v.group,
            Stage::Langevin(v) => &v.group,
            Stage::Deform(v) => &v.group,
            Stage::Cyclic(v) => &v.group,
            _ => return None,
        };
        Some(g.as_deref().unwrap_or("all"))
    }
    /// Box components the stage's own integrator changes (an NPT stage:
    /// the axes with a pressure target).
    pub fn integrator_box_change(&self) -> crate::fix::BoxChange {
        match self {
            Stage::Npt(v) => v
                .axis_targets()
                .map_or(crate::fix::BoxChange::default(), |t| crate::fix::BoxChange::axes(t.map(|a| a.is_some())))
                .union(crate::fix::BoxChange::tilts(v.pressure_gpa.tilts().map(|a| a.is_some()))),
            Stage::Deform(v) => loading_box_change(&v.pressure_gpa, v.spec()),
            Stage::Cyclic(v) => loading_box_change(&v.pressure_gpa, v.spec()),
            _ => crate::fix::BoxChange::default(),
        }
    }
    /// The name a stage reports under: a `record` stage's, or the `name`
    /// of an `nve` or `minimize` stage.
    pub fn report_name(&self) -> Option<&str> {
        match self {
            Stage::Nve(v) => v.name.as_deref(),
            Stage::Minimize(m) => m.name.as_deref(),
            Stage::Record(r) => Some(&r.name),
            _ => None,
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
            Stage::Deform(_) => "deform",
            Stage::ChangeBox(_) => "change_box",
            Stage::Repeat(_) => "repeat",
            Stage::Cyclic(_) => "cyclic",
        }
    }
}
