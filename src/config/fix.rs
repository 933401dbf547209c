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

/// `kind = "indent"`: a spherical indenter (LAMMPS `fix indent K sphere`),
/// see `fix::indent`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndentSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "all")]
    pub group: String,
    /// "sphere" (cylinder and plane are not built yet).
    pub shape: String,
    /// Force constant K, eV/Å³.
    pub k: f64,
    /// Å.
    pub radius: f64,
    /// Å, at the start of the stage.
    pub center: [f64; 3],
    /// Å/ps: centre(t) = center + velocity·t.
    #[serde(default)]
    pub velocity: [f64; 3],
}

impl FixSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            FixSpec::Setforce(_) => "setforce",
            FixSpec::Addforce(_) => "addforce",
            FixSpec::Deform(_) => "deform",
            FixSpec::Indent(_) => "indent",
        }
    }
    /// The id: the deck's `name`, else the kind.
    pub fn id(&self) -> &str {
        let n = match self {
            FixSpec::Setforce(s) => &s.name,
            FixSpec::Addforce(s) => &s.name,
            FixSpec::Deform(s) => &s.name,
            FixSpec::Indent(s) => &s.name,
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
                if s.shape != "sphere" {
                    return Err(("shape", format!("shape = \"{}\": only \"sphere\" is built so far (cylinder and plane are not yet)", s.shape)));
                }
                if !(s.k > 0.0 && s.k <= big) {
                    return Err(("k", format!("k = {} eV/A^3 must be positive (LAMMPS fix indent K; typical 10)", s.k)));
                }
                if !(s.radius > 0.0 && s.radius <= big) {
                    return Err(("radius", format!("radius = {} A must be positive", s.radius)));
                }
                if let Some(v) = s.center.iter().chain(s.velocity.iter()).find(|v| bad(**v)) {
                    return Err(("center", format!("center or velocity component {} is beyond +-{:e}", v, big)));
                }
            }
        }
        Ok(())
    }
}
