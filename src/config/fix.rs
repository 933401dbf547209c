//! Deck forms of fixes (`[[stage.fix]]`) — see `crate::fix` for what each
//! does. A new fix is a variant of [`FixSpec`] with its struct here, its
//! checks in [`FixSpec::check`], and its builder in `crate::fix::build`.

use serde::Deserialize;

/// One `[[stage.fix]]` table; `kind` picks the fix.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FixSpec {
    Setforce(SetforceSpec),
    Addforce(AddforceSpec),
    Deform(DeformSpec),
    Indent(IndentSpec),
    Langevin(LangevinFixSpec),
    Nvt(NvtFixSpec),
}

/// `kind = "nvt"` as a stage fix of an `nve` stage: a Nosé–Hoover chain
/// on a group only (LAMMPS `fix nvt` on a thermostat layer beside `fix
/// nve` on the rest); the groups must not overlap.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NvtFixSpec {
    #[serde(default)]
    pub name: Option<String>,
    pub group: String,
    /// K
    pub temperature: f64,
    /// ps (LAMMPS Tdamp); default 0.1.
    #[serde(default = "default_langevin_damp")]
    pub tdamp: f64,
}

/// `kind = "langevin"` as a stage fix: Langevin forces on a group only
/// (LAMMPS `fix langevin` beside the stage's `fix nve`), e.g. the
/// thermostat layer of an indentation slab.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangevinFixSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "all")]
    pub group: String,
    /// K
    pub temperature: f64,
    /// ps (LAMMPS damp); default 0.1.
    #[serde(default = "default_langevin_damp")]
    pub damp: f64,
    #[serde(default = "default_langevin_seed")]
    pub seed: u64,
}

fn default_langevin_damp() -> f64 {
    0.1
}
fn default_langevin_seed() -> u64 {
    48279
}

fn all() -> String {
    "all".to_string()
}

/// A force component: a number (eV/Å) or `"NULL"` (leave it alone), as in
/// LAMMPS `fix setforce`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum Component {
    Value(f64),
    Keep(Null),
}

/// The string `"NULL"`.
#[derive(Debug, Clone, Copy)]
pub struct Null;

impl<'de> Deserialize<'de> for Null {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Null, D::Error> {
        let s = String::deserialize(d)?;
        if s == "NULL" {
            Ok(Null)
        } else {
            Err(serde::de::Error::custom(format!("expected a number or \"NULL\", got \"{}\"", s)))
        }
    }
}

/// LAMMPS `fix ID group setforce fx fy fz`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetforceSpec {
    /// The fix's id (thermo columns `<name>_fx`...); default `setforce`.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "all")]
    pub group: String,
    /// eV/Å per component, or "NULL".
    pub force: [Component; 3],
}

impl SetforceSpec {
    pub fn components(&self) -> [Option<f64>; 3] {
        self.force.map(|c| match c {
            Component::Value(v) => Some(v),
            Component::Keep(_) => None,
        })
    }
}

/// LAMMPS `fix ID group addforce fx fy fz` (+ `fix_modify energy/virial yes`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddforceSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "all")]
    pub group: String,
    /// eV/Å, added to each atom of the group.
    pub force: [f64; 3],
    /// Add −Σ F·x to pe and the minimiser's objective.
    #[serde(default)]
    pub energy: bool,
    /// Add the force's virial to the pressure.
    #[serde(default)]
    pub virial: bool,
}

/// LAMMPS `fix ID all deform 1 x erate R remap x` per component: normal
/// axes x, y, z (strain rate) and tilts xy, xz, yz (shear rate, tilt
/// growing by R·L0 of the second axis per ps; the box becomes triclinic).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeformSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// Engineering strain rate per component, 1/ps: `{ z = 0.001 }`,
    /// `{ xy = 0.01 }`.
    pub erate: std::collections::BTreeMap<String, f64>,
}

impl DeformSpec {
    /// The rate of each axis (None: not deformed); axis names are checked
    /// by [`FixSpec::check`].
    pub fn axes(&self) -> [Option<f64>; 3] {
        std::array::from_fn(|d| self.erate.get(["x", "y", "z"][d]).copied())
    }
    /// Why these rates cannot run with boundaries `b` (LAMMPS forbids a
    /// rate on a shrink-wrapped axis, and a tilt whose second axis is not
    /// periodic), if they cannot.
    pub fn boundary_problem(&self, b: [crate::system::Boundary; 3]) -> Option<String> {
        if let Some(a) = (0..3).find(|&a| self.axes()[a].is_some() && !b[a].is_periodic()) {
            return Some(format!("a rate on axis {} with boundary {}: deform needs a periodic axis (LAMMPS forbids a shrink-wrapped one too)", ["x", "y", "z"][a], b[a].letter()));
        }
        let t = (0..3).find(|&t| self.tilts()[t].is_some() && !b[crate::system::TILTS[t].2].is_periodic())?;
        let (name, _, second) = crate::system::TILTS[t];
        Some(format!("tilt {} needs a periodic {} axis (boundary {})", name, ["x", "y", "z"][second], b[second].letter()))
    }
    /// The rate of each tilt xy, xz, yz (None: not deformed).
    pub fn tilts(&self) -> [Option<f64>; 3] {
        std::array::from_fn(|k| self.erate.get(["xy", "xz", "yz"][k]).copied())
    }
}

/// `kind = "indent"`: an indenter (LAMMPS `fix indent K sphere|cylinder|
/// plane`), see `fix::indent`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndentSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "all")]
    pub group: String,
    /// "sphere", "cylinder" (with `axis`) or "plane".
    pub shape: String,
    /// The cylinder's axis, "x" or "y" (it lies in the surface).
    #[serde(default)]
    pub axis: Option<String>,
    /// Force constant K, eV/Å³.
    pub k: f64,
    /// Å (sphere, cylinder).
    #[serde(default)]
    pub radius: Option<f64>,
    /// Å, at the start of the stage (a plane: its height is center[2]).
    pub center: [f64; 3],
    /// Å/ps: centre(t) = center + velocity·t.
    #[serde(default)]
    pub velocity: Option<[f64; 3]>,
    /// Å/ps along −z while loading, +z while unloading.
    #[serde(default)]
    pub speed: Option<f64>,
    /// Å below the surface where loading ends.
    #[serde(default)]
    pub max_depth: Option<f64>,
    /// nN: loading ends when the load reaches it (max_depth still bounds it).
    #[serde(default)]
    pub max_load_nn: Option<f64>,
    /// ps at the maximum before unloading.
    #[serde(default)]
    pub hold_ps: f64,
    /// Å per minimisation in a quasi-static (`minimize`) stage.
    #[serde(default)]
    pub depth_step: Option<f64>,
    /// Å: the surface height (default: the mean z of the top surface atoms).
    #[serde(default)]
    pub surface_z: Option<f64>,
    /// Å: start the tip this far above the surface (center[2] unused).
    #[serde(default)]
    pub start_gap: Option<f64>,
    /// Å: the width of the xy columns whose highest atoms define the surface.
    #[serde(default = "default_surface_bin")]
    pub surface_bin: f64,
    /// Steps between rows of the load–depth file.
    #[serde(default = "default_indent_every")]
    pub every: u64,
    #[serde(default = "default_indent_file")]
    pub file: String,
    /// Fraction of the unloading maximum above which Oliver–Pharr fits.
    #[serde(default = "default_unload_fit")]
    pub unload_fit: f64,
    /// nN: the smallest load drop that counts as a pop-in (default 5 % of
    /// the maximum load).
    #[serde(default)]
    pub popin_drop_nn: Option<f64>,
}

fn default_surface_bin() -> f64 {
    3.0
}
fn default_indent_every() -> u64 {
    10
}
fn default_indent_file() -> String {
    "indent.csv".to_string()
}
fn default_unload_fit() -> f64 {
    0.5
}

impl IndentSpec {
    /// The fix's parameters, or (key, message) of the first problem.
    pub fn params(&self) -> Result<crate::fix::indent::Params, (&'static str, String)> {
        use crate::fix::indent::{Motion, Params, Shape};
        let big = 1e6;
        let fine = |v: f64| v.abs() <= big;
        let shape = match (self.shape.as_str(), self.axis.as_deref()) {
            ("sphere", None) => Shape::Sphere,
            ("cylinder", Some("x")) => Shape::Cylinder(0),
            ("cylinder", Some("y")) => Shape::Cylinder(1),
            ("cylinder", a) => return Err(("axis", format!("a cylinder needs axis = \"x\" or \"y\" (lying in the surface; it indents along -z), got {:?}", a.unwrap_or("none")))),
            ("plane", None) => Shape::Plane,
            ("sphere" | "plane", Some(_)) => return Err(("axis", format!("axis is for a cylinder, not a {}", self.shape))),
            (s, _) => return Err(("shape", format!("shape = \"{}\" (expected \"sphere\", \"cylinder\" or \"plane\")", s))),
        };
        if !(self.k > 0.0 && self.k <= big) {
            return Err(("k", format!("k = {} eV/A^3 must be positive (LAMMPS fix indent K; typical 10)", self.k)));
        }
        let radius = match (shape, self.radius) {
            (Shape::Plane, None) => 0.0,
            (Shape::Plane, Some(_)) => return Err(("radius", "a plane has no radius".into())),
            (_, Some(r)) if r > 0.0 && r <= big => r,
            (_, Some(r)) => return Err(("radius", format!("radius = {} A must be positive", r))),
            (_, None) => return Err(("radius", format!("a {} needs a radius (A)", self.shape))),
        };
        if let Some(v) = self.center.iter().chain(self.velocity.iter().flatten()).find(|v| !fine(**v)) {
            return Err(("center", format!("center or velocity component {} is beyond +-{:e}", v, big)));
        }
        let positive = |key: &'static str, v: Option<f64>, unit: &str| match v {
            Some(x) if !(x > 0.0 && x <= big) => Err((key, format!("{} = {} {} must be positive", key, x, unit))),
            _ => Ok(()),
        };
        positive("speed", self.speed, "A/ps")?;
        positive("max_depth", self.max_depth, "A")?;
        positive("max_load_nn", self.max_load_nn, "nN")?;
        positive("depth_step", self.depth_step, "A")?;
        positive("surface_bin", Some(self.surface_bin), "A")?;
        positive("start_gap", self.start_gap, "A")?;
        positive("popin_drop_nn", self.popin_drop_nn, "nN")?;
        if !(self.hold_ps >= 0.0 && self.hold_ps <= big) {
            return Err(("hold_ps", format!("hold_ps = {} must be >= 0", self.hold_ps)));
        }
        if !(self.unload_fit > 0.0 && self.unload_fit < 1.0) {
            return Err(("unload_fit", format!("unload_fit = {} must lie between 0 and 1 (a fraction of the maximum load)", self.unload_fit)));
        }
        if self.every == 0 {
            return Err(("every", "every must be at least 1 step".into()));
        }
        let motion = match (self.velocity, self.speed, self.depth_step) {
            (Some(v), None, None) => {
                if self.max_depth.is_some() || self.max_load_nn.is_some() || self.hold_ps > 0.0 {
                    return Err(("velocity", "a constant velocity takes no max_depth, max_load_nn or hold_ps (those belong to speed)".into()));
                }
                Motion::Velocity(v)
            }
            (None, Some(speed), None) => {
                let max_depth = self.max_depth.ok_or(("max_depth", "speed needs max_depth (A below the surface; with max_load_nn it bounds the loading)".to_string()))?;
                Motion::Schedule { speed, max_depth, max_load: self.max_load_nn.map(|p| p / crate::analysis::indentation::NN_PER_EV_A), hold: self.hold_ps }
            }
            (None, None, Some(step)) => {
                let max_depth = self.max_depth.ok_or(("max_depth", "depth_step needs max_depth (A below the surface)".to_string()))?;
                if self.max_load_nn.is_some() || self.hold_ps > 0.0 {
                    return Err(("depth_step", "quasi-static indentation takes no max_load_nn or hold_ps".into()));
                }
                Motion::QuasiStatic { step, max_depth }
            }
            (None, None, None) => Motion::Velocity([0.0; 3]),
            _ => return Err(("velocity", "give one of velocity (constant), speed (load, hold, unload) or depth_step (quasi-static, in a minimize stage)".into())),
        };
        Ok(Params {
            shape,
            k: self.k,
            radius,
            center: self.center,
            motion,
            surface_z: self.surface_z,
            start_gap: self.start_gap,
            surface_bin: self.surface_bin,
            every: self.every,
            file: self.file.clone(),
            options: crate::analysis::indentation::Options { fit_fraction: self.unload_fit, popin_drop: self.popin_drop_nn },
        })
    }
}

impl FixSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            FixSpec::Setforce(_) => "setforce",
            FixSpec::Addforce(_) => "addforce",
            FixSpec::Deform(_) => "deform",
            FixSpec::Indent(_) => "indent",
            FixSpec::Langevin(_) => "langevin",
            FixSpec::Nvt(_) => "nvt",
        }
    }
    /// The id: the deck's `name`, else the kind.
    pub fn id(&self) -> &str {
        let n = match self {
            FixSpec::Setforce(s) => &s.name,
            FixSpec::Addforce(s) => &s.name,
            FixSpec::Deform(s) => &s.name,
            FixSpec::Indent(s) => &s.name,
            FixSpec::Langevin(s) => &s.name,
            FixSpec::Nvt(s) => &s.name,
        };
        n.as_deref().unwrap_or(self.kind())
    }
    /// The group it acts on (`deform` acts on the box and all atoms).
    pub fn group(&self) -> &str {
        match self {
            FixSpec::Setforce(s) => &s.group,
            FixSpec::Addforce(s) => &s.group,
            FixSpec::Deform(_) => "all",
            FixSpec::Indent(s) => &s.group,
            FixSpec::Langevin(s) => &s.group,
            FixSpec::Nvt(s) => &s.group,
        }
    }
    /// Box components the fix changes.
    pub fn box_change(&self) -> crate::fix::BoxChange {
        match self {
            FixSpec::Deform(s) => crate::fix::BoxChange::axes(s.axes().map(|r| r.is_some())).union(crate::fix::BoxChange::tilts(s.tilts().map(|r| r.is_some()))),
            _ => crate::fix::BoxChange::default(),
        }
    }
    /// Check the values: (key, message) of the first problem.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let big = 1e6;
        let bad = |v: f64| !(v.abs() <= big);
        match self {
            FixSpec::Setforce(s) => {
                if let Some(v) = s.components().iter().flatten().find(|v| bad(**v)) {
                    return Err(("force", format!("force component {} is beyond +-{:e} eV/A", v, big)));
                }
            }
            FixSpec::Addforce(s) => {
                if let Some(v) = s.force.iter().find(|v| bad(**v)) {
                    return Err(("force", format!("force component {} is beyond +-{:e} eV/A", v, big)));
                }
            }
            FixSpec::Deform(s) => {
                if s.erate.is_empty() {
                    return Err(("erate", "names no axis: give e.g. erate = { z = 0.001 } (1/ps)".into()));
                }
                for (a, r) in &s.erate {
                    if !["x", "y", "z", "xy", "xz", "yz"].contains(&a.as_str()) {
                        return Err(("erate", format!("component '{}' (expected x, y, z, xy, xz or yz)", a)));
                    }
                    if !(r.abs() <= 1.0) {
                        return Err(("erate", format!("erate.{} = {} /ps is beyond +-1 /ps (metallic-glass tests use 1e-5 to 1e-2)", a, r)));
                    }
                }
            }
            FixSpec::Indent(s) => {
                s.params()?;
            }
            FixSpec::Nvt(s) => {
                if !(s.temperature > 0.0 && s.temperature <= 1e5) {
                    return Err(("temperature", format!("temperature = {} K must be positive", s.temperature)));
                }
                if !(s.tdamp > 0.0 && s.tdamp <= big) {
                    return Err(("tdamp", format!("tdamp = {} ps must be positive", s.tdamp)));
                }
            }
            FixSpec::Langevin(s) => {
                if !(s.temperature >= 0.0 && s.temperature <= 1e5) {
                    return Err(("temperature", format!("temperature = {} K must be >= 0", s.temperature)));
                }
                if !(s.damp > 0.0 && s.damp <= big) {
                    return Err(("damp", format!("damp = {} ps must be positive", s.damp)));
                }
            }
        }
        Ok(())
    }
}
