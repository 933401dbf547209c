//! Fixes: everything that acts on atoms or the box during a stage (LAMMPS
//! `Fix`). A stage runs a list of fixes — its integrator (`nve`, `nvt`,
//! `npt`, `langevin`) followed by the deck's `[[stage.fix]]` entries — and
//! the engine calls their hooks in LAMMPS's order (`Verlet::run`,
//! `Modify`):
//!
//! ```text
//! initial_integrate → post_integrate → [pre_exchange → reneighbor]
//!   → forces (zeroed once; the potential adds) → post_force
//!   → final_integrate → end_of_step
//! minimisation: forces → min_post_force; objective += Σ fix energies
//! ```
//!
//! A fix may also add an energy and a virial (included in pe, pressure and
//! the minimiser's objective), offer thermo columns (`<id>_<name>`, chosen
//! by the deck's `thermo.extra`), declare the box components it changes
//! (two fixes changing one component in a stage are refused when the deck
//! is validated), and save state that a checkpoint keeps under its id.
//!
//! To add a fix: a file here implementing [`Fix`] (default hooks do
//! nothing), its deck form in `config::fix` (a variant of `FixSpec`, with
//! its checks), and one arm in [`build`]. Physics code only: the engine
//! does the communication; reductions go through `Engine::global_sum`.

pub mod addforce;
pub mod deform;
pub mod indent;
pub mod langevin;
pub mod nh;
pub mod nve;
pub mod setforce;

use crate::config::fix::FixSpec;
use crate::engine::Engine;
use crate::system::group::{Groups, Sel};

/// Box components a fix changes (LAMMPS `box_change` bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoxChange(pub u8);

impl BoxChange {
    pub const NAMES: [&'static str; 6] = ["x", "y", "z", "xy", "xz", "yz"];
    pub fn axis(d: usize) -> BoxChange {
        BoxChange(1 << d)
    }
    /// The normal components of the axes that are set.
    pub fn axes(on: [bool; 3]) -> BoxChange {
        BoxChange((0..3).filter(|&d| on[d]).fold(0, |b, d| b | 1 << d))
    }
    /// The tilt components that are set (xy, xz, yz).
    pub fn tilts(on: [bool; 3]) -> BoxChange {
        BoxChange((0..3).filter(|&k| on[k]).fold(0, |b, k| b | 1 << (3 + k)))
    }
    pub fn union(self, o: BoxChange) -> BoxChange {
        BoxChange(self.0 | o.0)
    }
    pub fn overlap(self, o: BoxChange) -> BoxChange {
        BoxChange(self.0 & o.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The components, as the deck names them (`x`, `xy`, ...).
    pub fn names(self) -> Vec<&'static str> {
        (0..6).filter(|k| self.0 & (1 << k) != 0).map(|k| Self::NAMES[k]).collect()
    }
}

/// One fix of a stage. Every hook has a do-nothing default.
pub trait Fix: Send {
    /// The fix's id: its deck `name`, else its kind. Thermo columns and
    /// checkpointed state are keyed by it.
    fn id(&self) -> &str;
    /// The group this fix time-integrates, if it integrates. Atoms outside
    /// every integrating fix do not move.
    fn integrates(&self) -> Option<Sel> {
        None
    }
    /// Box components this fix changes.
    fn box_change(&self) -> BoxChange {
        BoxChange::default()
    }
    /// Start of a stage (not of a restart within it): forces are current.
    /// An error (the fix cannot start from this state) stops the run.
    fn setup(&mut self, _eng: &mut Engine) -> Result<(), String> {
        Ok(())
    }
    /// After forces were computed afresh outside a step (stage start, a
    /// restart on another rank count, after an inherent-structure sample):
    /// re-apply what `post_force` does to them (LAMMPS `Fix::setup`).
    fn setup_forces(&mut self, _eng: &mut Engine) {}
    fn initial_integrate(&mut self, _eng: &mut Engine, _dt: f64) {}
    fn post_integrate(&mut self, _eng: &mut Engine, _dt: f64) {}
    /// Before atoms migrate, on steps that reneighbor.
    fn pre_exchange(&mut self, _eng: &mut Engine) {}
    fn post_force(&mut self, _eng: &mut Engine, _dt: f64) {}
    fn final_integrate(&mut self, _eng: &mut Engine, _dt: f64) {}
    fn end_of_step(&mut self, _eng: &mut Engine, _dt: f64) {}
    /// After each force evaluation of a minimisation.
    fn min_post_force(&mut self, _eng: &mut Engine) {}
    /// This rank's share of the fix's energy (eV), added to pe.
    fn energy(&self, _eng: &Engine) -> f64 {
        0.0
    }
    /// This rank's share of the fix's virial (eV, xx yy zz xy xz yz), added
    /// to the pressure.
    fn virial(&self, _eng: &Engine) -> Option<[f64; 6]> {
        None
    }
    /// Names of the thermo values the fix offers (without the id prefix).
    fn thermo_names(&self) -> Vec<&'static str> {
        Vec::new()
    }
    /// This rank's share of each thermo value (summed over ranks; a value
    /// every rank knows whole is given by rank 0 alone, 0 elsewhere).
    fn thermo_local(&self, _eng: &Engine) -> Vec<f64> {
        Vec::new()
    }
    /// State a checkpoint keeps (JSON, floats round-trip exactly).
    fn state(&self) -> Option<serde_json::Value> {
        None
    }
    fn restore(&mut self, _state: &serde_json::Value) -> Result<(), String> {
        Ok(())
    }
    /// After each minimisation of a quasi-static stage (collective):
    /// record what the fix measures.
    fn min_record(&mut self, _eng: &mut Engine) {}
    /// Move to the next increment of a quasi-static schedule (a
    /// `minimize` stage minimises again after each); false when the fix
    /// has none or it is done.
    fn quasi_static_next(&mut self) -> bool {
        false
    }
    /// The stage's length in steps of `dt`, when the fix's schedule sets
    /// it (after `setup` or `restore`).
    fn stage_steps(&self, _dt: f64) -> Option<u64> {
        None
    }
    /// Has the fix's schedule ended the stage early (every rank agrees)?
    fn finished(&self, _eng: &Engine) -> bool {
        false
    }
    /// A file and results.json values the fix reports at the end of its
    /// stage.
    fn output(&self) -> Option<FixOutput> {
        None
    }
    /// Hand the thermostat/barostat state on to the next stage.
    fn carry(&self, _s: &mut crate::engine::ThermostatState) {}
}

/// What a fix reports at the end of its stage: a file in the run folder
/// and values for results.json under the stage's name.
pub struct FixOutput {
    pub file: String,
    pub text: String,
    pub results: Vec<(String, f64)>,
    /// What makes the results doubtful (logged).
    pub warnings: Vec<String>,
}

/// Thermo names a stage's integrator offers: `nvt_energy`, the
/// Nosé–Hoover chain's energy (LAMMPS `f_ID` of `fix nvt`; E + this is
/// conserved at a constant target).
pub fn integrator_columns(kind: &str) -> Vec<String> {
    match kind {
        "nvt" => vec!["nvt_energy".to_string()],
        _ => Vec::new(),
    }
}

/// Thermo names a fix spec of the deck offers (`<id>_<name>`), for
/// validating `thermo.extra` before anything runs.
pub fn offered_columns(spec: &FixSpec) -> Vec<String> {
    let names: &[&str] = match spec {
        FixSpec::Setforce(_) => &setforce::COLUMNS,
        FixSpec::Addforce(_) => &addforce::COLUMNS,
        FixSpec::Deform(_) => &[],
        FixSpec::Indent(_) => &indent::COLUMNS,
        FixSpec::Langevin(_) => &[],
        FixSpec::Nvt(_) => &["energy"],
    };
    names.iter().map(|n| format!("{}_{}", spec.id(), n)).collect()
}

/// Build the fix a deck's `[[stage.fix]]` describes (groups were checked
/// when the deck was validated).
pub fn build(spec: &FixSpec, groups: &Groups) -> Result<Box<dyn Fix>, String> {
    let sel = |name: &str| groups.sel(name).ok_or_else(|| format!("unknown group '{}'", name));
    Ok(match spec {
        FixSpec::Setforce(s) => Box::new(setforce::SetForce::new(spec.id(), sel(&s.group)?, s.components())),
        FixSpec::Addforce(s) => Box::new(addforce::AddForce::new(spec.id(), sel(&s.group)?, s.force, s.energy, s.virial)),
        FixSpec::Deform(s) => Box::new(deform::Deform::erates(spec.id(), s.axes(), s.tilts())),
        FixSpec::Langevin(s) => Box::new(langevin::Langevin { id: spec.id().to_string(), group: sel(&s.group)?, t_start: s.temperature, t_stop: s.temperature, damp: s.damp, seed: s.seed, steps: 1, done: 0 }),
        FixSpec::Nvt(s) => Box::new(nh::Nvt {
            id: spec.id().to_string(),
            group: sel(&s.group)?,
            chain: crate::integrate::nose_hoover::NoseHooverChain::new(),
            t_start: s.temperature,
            t_stop: s.temperature,
            tdamp: s.tdamp,
            steps: 1,
            done: 0,
            carries: false,
        }),
        FixSpec::Indent(s) => Box::new(indent::Indent::new(spec.id(), sel(&s.group)?, s.params().map_err(|(_, m)| m)?)),
    })
}
