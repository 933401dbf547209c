//! TOML input decks.
//!
//! Serde structs with `deny_unknown_fields`; every error becomes one line
//! `deck.toml: line N: message`, with N the line of the offending key. Units
//! are LAMMPS `metal` except where a key's name says otherwise (`_gpa`).
//! Paths in a deck are relative to the deck's folder ([`Deck::resolve`]).
//! A new stage kind is a new variant of [`Stage`] plus its driver in `run.rs`;
//! a new section is a new struct with `#[serde(deny_unknown_fields)]`.

use crate::error::{Error, Result};
use crate::system::Boundary;
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
    #[serde(default, rename = "stage")]
    pub stages: Vec<Stage>,
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
    /// LAMMPS data file (atom_style atomic).
    pub read_data: String,
    #[serde(default = "default_boundary")]
    pub boundary: [Boundary; 3],
    /// Tile the data file's configuration nx × ny × nz (LAMMPS `replicate`).
    #[serde(default)]
    pub replicate: Option<[usize; 3]>,
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

fn default_dt() -> f64 {
    0.001
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Stage {
    /// Maxwell–Boltzmann velocities at `temperature` (K) from `seed`.
    Velocity { temperature: f64, seed: u64 },
    /// Constant-energy velocity-Verlet dynamics.
    Nve {
        steps: u64,
        /// ps
        #[serde(default = "default_dt")]
        timestep: f64,
    },
    /// Write the current configuration as a LAMMPS data file.
    WriteData { file: String },
}

impl Stage {
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Velocity { .. } => "velocity",
            Stage::Nve { .. } => "nve",
            Stage::WriteData { .. } => "write_data",
        }
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Turn a toml/serde error into one line naming the line of the bad key.
fn describe(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().replace('\n', " ");
    let span = e.span();
    // Serde reports unknown keys of tagged stages with the span of the whole
    // table; find the key itself inside it.
    if let Some(key) = msg.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
        let (from, to) = span.clone().map(|s| (s.start, s.end)).unwrap_or((0, text.len()));
        let region = &text[from.min(text.len())..to.min(text.len())];
        let mut off = from;
        for l in region.split_inclusive('\n') {
            let t = l.trim_start();
            if let Some(rest) = t.strip_prefix(key) {
                if rest.trim_start().starts_with('=') {
                    return format!("line {}: {}", line_of(text, off), msg);
                }
            }
            off += l.len();
        }
    }
    match span {
        Some(s) => format!("line {}: {}", line_of(text, s.start), msg),
        None => msg,
    }
}

impl Deck {
    pub fn load(path: &Path) -> Result<Deck> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Deck> {
        let mut deck: Deck = toml::from_str(text).map_err(|e| Error::input(path, describe(text, &e)))?;
        deck.path = path.to_path_buf();
        deck.dir = path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        if deck.dir.as_os_str().is_empty() {
            deck.dir = PathBuf::from(".");
        }
        deck.validate()?;
        Ok(deck)
    }

    /// A path from the deck, relative to the deck's folder.
    pub fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::input(&self.path, m));
        if !(self.neighbor.skin >= 0.0) {
            return bad(format!("neighbor.skin must be >= 0, got {}", self.neighbor.skin));
        }
        if self.thermo.every == 0 {
            return bad("thermo.every must be at least 1".into());
        }
        if let Some(r) = self.system.replicate {
            if r.iter().any(|&k| k == 0) {
                return bad(format!("system.replicate must be positive, got {:?}", r));
            }
        }
        for (k, s) in self.stages.iter().enumerate() {
            let n = k + 1;
            match s {
                Stage::Velocity { temperature, .. } if !(*temperature >= 0.0) => {
                    return bad(format!("stage {} (velocity): temperature must be >= 0 K, got {}", n, temperature))
                }
                Stage::Nve { timestep, .. } if !(*timestep > 0.0) => {
                    return bad(format!("stage {} (nve): timestep must be > 0 ps, got {}", n, timestep))
                }
                _ => {}
            }
        }
        Ok(())
    }
}
