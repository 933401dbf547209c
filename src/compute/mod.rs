//! Computes: named quantities that outputs read (LAMMPS `compute`).
//!
//! - **Per-atom** computes ([`PerAtomCompute`]) give columns for every atom:
//!   the deck names them in an output's `fields` (`dump`, `xyz`, H5MD
//!   `snapshot`) next to the built-in fields (position, velocity, force,
//!   pe, stress), and each writer lays out their columns (dump columns,
//!   extended-XYZ properties, an H5MD element `/particles/all/<name>`).
//! - **Global** computes ([`Scalar`]) are thermo columns the deck asks for
//!   in `thermo.extra` (`temp_<group>`, values fixes offer); they go to the
//!   thermo CSV, and a `record` stage stores them in `results.json`.
//!
//! A compute declares what it needs ([`Needs`]): the per-atom energy or
//! virial of the potential (the engine runs a force pass that tallies
//! them before the frame), or neighbors within its own cutoff. For the
//! latter the engine builds a [`Neighborhood`] before the frame — ghosts
//! out to that cutoff (plus the skin, since atoms have moved since the last
//! reneighboring), however far beyond the potential's they reach, and a
//! full neighbor list — and calls [`PerAtomCompute::evaluate`] once; `row`
//! then reads the values it left (`Engine::compute_values`). `coord`
//! (coordination number) is the first such compute. `voronoi` and `w6`
//! (`order.rs`) build their own neighborhoods (`Needs::alone`: a
//! tessellation grows its neighborhood until every cell closes) with the
//! code of `glassmd analyze`. `strain` and `d2min` (`strain.rs`) measure
//! local strain against a reference the engine keeps in a persistent
//! column (`Engine::local_strain`).
//!
//! To add a per-atom quantity: one file here implementing
//! [`PerAtomCompute`], and its entry in [`PER_ATOM`]; a setting it takes
//! is a field of [`Settings`] (the deck's `[compute]` table). Nothing else
//! changes: deck validation, every writer, `glassmd convert` and the docs'
//! field list read the registry.

pub mod coord;
pub mod groups;
pub mod ke;
pub mod order;
pub mod strain;

use crate::engine::Engine;
use crate::system::group::Sel;

/// What a compute needs before it can give values.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Needs {
    /// Per-atom potential energy (a force pass with tallies).
    pub energy_atom: bool,
    /// Per-atom virial (a force pass with tallies).
    pub virial_atom: bool,
    /// Every neighbor within this distance (Å) of each atom: ghosts to
    /// it and a full list ([`Neighborhood`]).
    pub cutoff: Option<f64>,
    /// The compute builds what it needs itself (a Voronoi tessellation
    /// grows its own neighborhood): [`PerAtomCompute::evaluate_alone`].
    pub alone: bool,
}

impl Needs {
    /// A force pass with per-atom tallies.
    pub fn force_pass(&self) -> bool {
        self.energy_atom || self.virial_atom
    }
}

/// Settings of computes, the deck's `[compute]` table.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Cutoff of the `coord` field, Å (LAMMPS `compute coord/atom cutoff`).
    #[serde(default = "default_coord_cutoff")]
    pub coord_cutoff: f64,
    /// Bonds of the `w6` field within this cutoff (Å); absent: the
    /// Voronoi neighbors.
    #[serde(default)]
    pub w6_cutoff: Option<f64>,
    /// Voronoi face-area threshold of the `voronoi` field (Å², OVITO's
    /// `face_threshold`).
    #[serde(default)]
    pub voronoi_face_threshold: f64,
    /// Relative face-area threshold (OVITO's `relative_face_threshold`).
    #[serde(default)]
    pub voronoi_relative_face_threshold: f64,
    /// Edge-length threshold (Å, OVITO's `edge_threshold`).
    #[serde(default)]
    pub voronoi_edge_threshold: f64,
    /// Wave number of the `fs_*` thermo columns (1/Å; the first S(q) peak
    /// of the glass, e.g. from `glassmd analyze --compute sq`).
    #[serde(default)]
    pub fs_q: Option<f64>,
    /// Neighbor cutoff in the reference of the `strain` and `d2min`
    /// fields and analyses (Å; OVITO's `cutoff` of the atomic strain).
    #[serde(default)]
    pub strain_cutoff: Option<f64>,
    /// The named stage (`record`, `minimize` or `nve` with a `name`) whose
    /// final configuration is the local-strain reference; it is kept in
    /// the persistent column `strain_reference`, so restarts keep it.
    #[serde(default)]
    pub strain_reference: Option<String>,
    /// Or a file (LAMMPS data, dump or H5MD; path relative to the deck)
    /// whose configuration is the reference from the run's start.
    #[serde(default)]
    pub strain_reference_file: Option<String>,
}

impl Settings {
    pub fn voronoi_thresholds(&self) -> crate::analysis::voronoi::Thresholds {
        crate::analysis::voronoi::Thresholds { face_area: self.voronoi_face_threshold, relative_face_area: self.voronoi_relative_face_threshold, edge_length: self.voronoi_edge_threshold }
    }
}

fn default_coord_cutoff() -> f64 {
    3.5
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { coord_cutoff: default_coord_cutoff(), w6_cutoff: None, voronoi_face_threshold: 0.0, voronoi_relative_face_threshold: 0.0, voronoi_edge_threshold: 0.0, fs_q: None, strain_cutoff: None, strain_reference: None, strain_reference_file: None }
    }
}

/// Neighbors of one rank's owned atoms within a compute's cutoff: owned
/// atoms at `0..nlocal` in the engine's order, then ghosts to the cutoff
/// (periodic images and other ranks' atoms); a full list.
pub struct Neighborhood {
    pub nlocal: usize,
    pub cutoff: f64,
    /// Positions, owned then ghosts (Å).
    pub x: Vec<[f64; 3]>,
    /// 0-based types, owned then ghosts.
    pub typ: Vec<u32>,
    /// Global ids, owned then ghosts.
    pub id: Vec<u64>,
    pub list: crate::neighbor::NeighborList,
    /// The swaps that made the ghosts: `halo.forward` copies per-atom
    /// values of owned atoms to their ghosts (an analysis that needs its
    /// neighbors' results, such as icosahedral clusters).
    pub halo: crate::domain::halo::Halo,
}

impl Neighborhood {
    /// Indices (into `x`) of every atom within the cutoff of owned atom `i`.
    pub fn of(&self, i: usize) -> &[u32] {
        let c = self.list.chunks.iter().find(|c| i >= c.start && i < c.end).expect("owned atom");
        c.of(i)
    }
}

/// A per-atom quantity for trajectories.
pub trait PerAtomCompute: Sync {
    /// The name a deck's `fields` uses, and the H5MD element's name.
    fn name(&self) -> &'static str;
    /// Column names in dumps and extended XYZ (one per value).
    fn columns(&self) -> &'static [&'static str];
    /// Whole numbers (written without a decimal point, H5MD integers).
    fn integer(&self) -> bool {
        false
    }
    /// Unit for H5MD (`None`: dimensionless).
    fn unit(&self) -> Option<&'static str> {
        None
    }
    fn needs(&self, _s: &Settings) -> Needs {
        Needs::default()
    }
    /// For a compute with a cutoff: the values of every owned atom
    /// (`columns` per atom, in owned order) from its neighborhood.
    fn evaluate(&self, _eng: &Engine, _nb: &Neighborhood) -> Vec<f64> {
        Vec::new()
    }
    /// For a compute that builds its own neighborhood (`Needs::alone`):
    /// the values of every owned atom (collective).
    fn evaluate_alone(&self, _eng: &Engine) -> Vec<f64> {
        Vec::new()
    }
    /// Append the values of owned atom `i` (as many as `columns`).
    fn row(&self, eng: &Engine, i: usize, out: &mut Vec<f64>);
}

/// Every per-atom compute, in the order their columns follow the
/// built-in fields. At most 32 (a bit each in `io::frames::Fields`).
pub static PER_ATOM: &[&dyn PerAtomCompute] = &[&groups::GroupMask, &ke::KineticEnergy, &coord::Coordination, &order::Voronoi, &order::W6, &strain::Strain, &strain::D2min];

/// Index of the per-atom compute called `name`.
pub fn find(name: &str) -> Option<usize> {
    PER_ATOM.iter().position(|c| c.name() == name)
}

/// A global value as a thermo column (deck `thermo.extra`).
#[derive(Clone, Debug)]
pub enum Scalar {
    /// `temp_<group>`: the group's kinetic temperature (LAMMPS `compute
    /// temp` on the group: 3N_g − 3 degrees of freedom).
    Temp(Sel),
    /// `<fix id>_<name>`: a value a fix of the running stage offers (NaN
    /// while no fix offers it).
    Fix(String),
    /// `strain_<c>` or `strain_<c>_<record>`: engineering strain of box
    /// component c (x, y, z: L/L0 − 1; xy, xz, yz: (T − T0)/L0 of the
    /// tilt's second axis, as the deform stage measures shear) against the
    /// box the running stage began with, or the box a `record` stage of
    /// that name saw (NaN before it runs). Creep strain against time in
    /// the thermo CSV. Filled by the run's output, which keeps the boxes.
    Strain { component: usize, reference: Option<String> },
    /// `msd_all`, `msd_<element>` or `msd_<type>`: mean squared
    /// displacement (Å²) of the atoms (of one type, 0-based) from their
    /// unwrapped positions at the start of the running MD stage (LAMMPS
    /// `compute msd` defined at the stage's start; the origins live in the
    /// persistent column `msd_origin`, so restarts keep them).
    Msd(Option<u32>),
    /// `fs_all`, `fs_<element>`, `fs_<type>`: the self-intermediate
    /// scattering function F_s(q, t) = ⟨sin(q|Δr|)/(q|Δr|)⟩ (averaged over
    /// directions) against the same origins, at `[compute] fs_q` (1/Å).
    Fs(Option<u32>),
    /// `tau_alpha_all`, `tau_alpha_<element>`, `tau_alpha_<type>`: the
    /// α-relaxation time τα (ps), where that F_s first falls to 1/e in the
    /// running stage, interpolated in ln t between thermo rows as
    /// `glassmd analyze` does between frames; NaN until it happens. Filled
    /// by the run's output, which keeps the stage's rows.
    TauAlpha(Option<u32>),
    /// `diffusion_all`, `diffusion_<element>`, `diffusion_<type>`: D
    /// (Å²/ps) from a least-squares line through the second half of the
    /// running stage's rows of that MSD, MSD = 6 D t + c, as `glassmd
    /// analyze` fits a trajectory's frames. Filled by the run's output,
    /// which keeps the rows.
    Diffusion(Option<u32>),
}

/// The dynamic thermo columns: `msd_`, `fs_`, `tau_alpha_`, `diffusion_`
/// prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dynamic {
    Msd,
    Fs,
    TauAlpha,
    Diffusion,
}

/// `msd_<species>`, `fs_<species>`, `tau_alpha_<species>`,
/// `diffusion_<species>`: the kind and
/// the type (None: all), species by element name or 1-based type number.
pub fn parse_dynamic(name: &str, elements: &[String], ntypes: usize) -> Option<(Dynamic, Option<u32>)> {
    let (kind, rest) = [("msd_", Dynamic::Msd), ("fs_", Dynamic::Fs), ("tau_alpha_", Dynamic::TauAlpha), ("diffusion_", Dynamic::Diffusion)].into_iter().find_map(|(p, k)| name.strip_prefix(p).map(|r| (k, r)))?;
    if rest == "all" {
        return Some((kind, None));
    }
    if let Some(t) = elements.iter().position(|e| e == rest) {
        return Some((kind, Some(t as u32)));
    }
    match rest.parse::<usize>() {
        Ok(t) if t >= 1 && t <= ntypes => Some((kind, Some(t as u32 - 1))),
        _ => None,
    }
}

/// Box components in thermo order: x, y, z, xy, xz, yz.
pub const STRAIN_COMPONENTS: [&str; 6] = ["x", "y", "z", "xy", "xz", "yz"];

/// Parse `strain_<c>[_<record>]` into (component, record name).
pub fn parse_strain(name: &str) -> Option<(usize, Option<&str>)> {
    let rest = name.strip_prefix("strain_")?;
    // Two-letter components first, so `strain_xy` is the tilt.
    let mut order: Vec<usize> = (0..6).collect();
    order.sort_by_key(|&c| std::cmp::Reverse(STRAIN_COMPONENTS[c].len()));
    order.into_iter().find_map(|c| {
        let tail = rest.strip_prefix(STRAIN_COMPONENTS[c])?;
        match tail {
            "" => Some((c, None)),
            t => t.strip_prefix('_').filter(|r| !r.is_empty()).map(|r| (c, Some(r))),
        }
    })
}

/// The engineering strain of component c of a box (lengths, tilts)
/// against a reference box (lx, ly, lz, xy, xz, yz).
pub fn box_strain(c: usize, lengths: [f64; 3], tilt: [f64; 3], reference: [f64; 6]) -> f64 {
    if c < 3 {
        lengths[c] / reference[c] - 1.0
    } else {
        let second = crate::system::TILTS[c - 3].2;
        (tilt[c - 3] - reference[c]) / reference[second]
    }
}

impl Scalar {
    /// The scalar a `thermo.extra` name asks for (names were checked when
    /// the deck was validated): `temp_<group>`, else a fix value.
    pub fn parse(name: &str, groups: &crate::system::group::Groups, elements: &[String], ntypes: usize) -> Scalar {
        if let Some((component, reference)) = parse_strain(name) {
            return Scalar::Strain { component, reference: reference.map(str::to_string) };
        }
        if let Some((kind, t)) = parse_dynamic(name, elements, ntypes) {
            return match kind {
                Dynamic::Msd => Scalar::Msd(t),
                Dynamic::Fs => Scalar::Fs(t),
                Dynamic::TauAlpha => Scalar::TauAlpha(t),
                Dynamic::Diffusion => Scalar::Diffusion(t),
            };
        }
        match name.strip_prefix("temp_").and_then(|g| groups.sel(g)) {
            Some(g) => Scalar::Temp(g),
            None => Scalar::Fix(name.to_string()),
        }
    }
}
