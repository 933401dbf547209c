//! Atoms and the simulation box.
//!
//! [`Atoms`] is structure-of-arrays storage for one rank: owned atoms occupy
//! indices `0..nlocal`, ghosts (periodic images and copies of neighbouring
//! ranks' atoms) follow at `nlocal..nall`. Every atom carries a global `id`
//! (1-based, as in LAMMPS data files) that survives sorting and migration, and
//! a 0-based `type` index (`LAMMPS type - 1`). Per-atom quantities that later
//! features need (per-atom energy, stress, strain, Voronoi index) live beside
//! these arrays in the owner of the feature, indexed the same way; a new owned
//! per-atom array must be added to [`Atoms::permute`] and to the migration
//! packing in `domain::halo` so that it follows its atom — or, simpler,
//! declared as a named column (`columns`), which does all of that and, if
//! persistent, goes into checkpoints too.
//!
//! `build`: random alloys and lattices with random species. `columns`: the
//! named per-atom store. `group`: named sets of atoms (masks in a column).
//!
//! [`SimBox`] is the orthogonal global box with a LAMMPS boundary style per
//! axis. Triclinic boxes will add tilt factors here; code that needs box
//! geometry asks the box (lengths, volume, wrapping) rather than reading lo/hi.

pub mod build;
pub mod columns;
pub mod group;

pub use columns::{Col, Columns};

/// LAMMPS boundary style of one box face pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
pub enum Boundary {
    /// `p`: periodic.
    #[serde(rename = "p")]
    Periodic,
    /// `s`: non-periodic, shrink-wrapped to the atoms (free surfaces).
    #[serde(rename = "s")]
    Shrink,
    /// `f`: non-periodic, fixed; atoms leaving it are lost.
    #[serde(rename = "f")]
    Fixed,
}

impl Boundary {
    pub fn parse(s: &str) -> Option<Boundary> {
        match s {
            "p" => Some(Boundary::Periodic),
            "s" => Some(Boundary::Shrink),
            "f" => Some(Boundary::Fixed),
            _ => None,
        }
    }
    pub fn letter(self) -> char {
        match self {
            Boundary::Periodic => 'p',
            Boundary::Shrink => 's',
            Boundary::Fixed => 'f',
        }
    }
    pub fn is_periodic(self) -> bool {
        self == Boundary::Periodic
    }
}

/// LAMMPS pads shrink-wrapped faces by `SMALL` times the initial box length
/// (`Domain::set_initial_box`), so the volume it reports includes this margin.
pub const SHRINK_SMALL: f64 = 1.0e-4;

/// Largest image flag magnitude an atom may reach (2^30 box lengths); a
/// coordinate further from the box is refused rather than wrapped into an
/// overflowing flag.
pub const MAX_IMAGE: i32 = 1 << 30;

/// Orthogonal simulation box.
#[derive(Clone, Debug)]
pub struct SimBox {
    pub lo: [f64; 3],
    pub hi: [f64; 3],
    pub boundary: [Boundary; 3],
    /// Shrink-wrap padding per axis (LAMMPS `Domain::small`).
    pub small: [f64; 3],
}

impl SimBox {
    pub fn new(lo: [f64; 3], hi: [f64; 3], boundary: [Boundary; 3]) -> SimBox {
        let mut small = [0.0; 3];
        for d in 0..3 {
            small[d] = SHRINK_SMALL * (hi[d] - lo[d]);
        }
        SimBox { lo, hi, boundary, small }
    }
    /// The same box (boundaries, shrink padding) with other bounds.
    pub fn with_bounds(&self, lo: [f64; 3], hi: [f64; 3]) -> SimBox {
        SimBox { lo, hi, ..self.clone() }
    }
    pub fn length(&self, d: usize) -> f64 {
        self.hi[d] - self.lo[d]
    }
    pub fn lengths(&self) -> [f64; 3] {
        [self.length(0), self.length(1), self.length(2)]
    }
    pub fn volume(&self) -> f64 {
        self.length(0) * self.length(1) * self.length(2)
    }
    pub fn periodic(&self, d: usize) -> bool {
        self.boundary[d].is_periodic()
    }
    /// Wrap a position into the periodic box, updating its image flags the way
    /// LAMMPS `Domain::remap` does. An atom within one box length of the box
    /// (the only case in a sound run) moves by exactly one length, as LAMMPS
    /// does; one further away moves by a whole number of lengths computed with
    /// `floor`, never by a loop, so a huge or infinite coordinate cannot hang
    /// the run. Returns `false` (leaving `x` as it was on that axis) when a
    /// coordinate is not finite or its image flag would leave the range
    /// [`MAX_IMAGE`]: the caller reports that as bad input or a blow-up.
    #[must_use]
    pub fn wrap(&self, x: &mut [f64; 3], image: &mut [i32; 3]) -> bool {
        let mut ok = true;
        for d in 0..3 {
            if !x[d].is_finite() {
                ok = false;
                continue;
            }
            if !self.periodic(d) {
                continue;
            }
            let len = self.length(d);
            if x[d] < self.lo[d] && x[d] >= self.lo[d] - len {
                x[d] += len;
                image[d] -= 1;
            } else if x[d] >= self.hi[d] && x[d] < self.hi[d] + len {
                x[d] -= len;
                image[d] += 1;
            } else if x[d] < self.lo[d] || x[d] >= self.hi[d] {
                let k = ((x[d] - self.lo[d]) / len).floor();
                let new_image = image[d] as f64 + k;
                if !k.is_finite() || new_image.abs() > MAX_IMAGE as f64 {
                    ok = false;
                    continue;
                }
                x[d] -= k * len;
                image[d] = new_image as i32;
            }
            // x ± len can round to exactly hi (or just below lo).
            if x[d] >= self.hi[d] || x[d] < self.lo[d] {
                x[d] = self.lo[d];
            }
        }
        ok
    }
    /// Whether a position lies inside the box along every non-periodic axis.
    pub fn contains_nonperiodic(&self, x: &[f64; 3]) -> bool {
        (0..3).all(|d| self.periodic(d) || (x[d] >= self.lo[d] && x[d] <= self.hi[d]))
    }
    /// LAMMPS dump header letters, e.g. `pp pp ss`.
    pub fn boundary_string(&self) -> String {
        self.boundary
            .iter()
            .map(|b| format!("{0}{0}", b.letter()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Per-rank atom storage: owned atoms first, ghosts after.
#[derive(Clone, Debug, Default)]
pub struct Atoms {
    /// Number of owned atoms; ghosts are `nlocal..x.len()`.
    pub nlocal: usize,
    /// Positions, owned and ghost (Å).
    pub x: Vec<[f64; 3]>,
    /// Velocities of owned atoms (Å/ps).
    pub v: Vec<[f64; 3]>,
    /// Forces, owned and ghost (eV/Å); ghost entries are summed back to owners.
    pub f: Vec<[f64; 3]>,
    /// 0-based type index, owned and ghost.
    pub typ: Vec<u32>,
    /// Global 1-based id, owned and ghost.
    pub id: Vec<u64>,
    /// Periodic image flags of owned atoms.
    pub image: Vec<[i32; 3]>,
    /// Named per-atom columns of owned atoms that follow their atom through
    /// sorting and migration (group masks, a minimiser's search direction).
    pub cols: Columns,
}

impl Atoms {
    pub fn nall(&self) -> usize {
        self.x.len()
    }
    pub fn nghost(&self) -> usize {
        self.x.len() - self.nlocal
    }
    /// Drop all ghosts, keeping owned atoms.
    pub fn clear_ghosts(&mut self) {
        let n = self.nlocal;
        self.x.truncate(n);
        self.f.truncate(n);
        self.typ.truncate(n);
        self.id.truncate(n);
    }
    /// Declare a named per-atom column (see [`columns`]); values start at 0.
    pub fn declare_column(&mut self, name: &str, width: usize, persistent: bool) -> Result<Col, String> {
        self.cols.declare(name, width, persistent, self.nlocal)
    }
    /// Remove a column; the others keep their values.
    pub fn remove_column(&mut self, name: &str) {
        self.cols.remove(name, self.nlocal)
    }
    /// Values of column `c` for owned atom `i`.
    pub fn col(&self, c: Col, i: usize) -> &[f64] {
        self.cols.get(c, i)
    }
    pub fn col_mut(&mut self, c: Col, i: usize) -> &mut [f64] {
        self.cols.get_mut(c, i)
    }
    /// Append an owned atom (only valid while there are no ghosts).
    pub fn push_owned(&mut self, id: u64, typ: u32, x: [f64; 3], v: [f64; 3], image: [i32; 3]) {
        debug_assert_eq!(self.nlocal, self.x.len());
        self.id.push(id);
        self.typ.push(typ);
        self.x.push(x);
        self.v.push(v);
        self.f.push([0.0; 3]);
        self.image.push(image);
        self.cols.push_zero();
        self.nlocal += 1;
    }
    /// Remove owned atom `i` by swapping the last owned atom into its place
    /// (only valid while there are no ghosts).
    pub fn swap_remove_owned(&mut self, i: usize) {
        self.id.swap_remove(i);
        self.typ.swap_remove(i);
        self.x.swap_remove(i);
        self.v.swap_remove(i);
        self.f.swap_remove(i);
        self.image.swap_remove(i);
        self.cols.swap_remove(i, self.nlocal);
        self.nlocal -= 1;
    }
    /// Reorder owned atoms: new index `k` takes old atom `perm[k]`
    /// (only valid while there are no ghosts).
    pub fn permute(&mut self, perm: &[usize]) {
        fn apply<T: Copy>(v: &mut Vec<T>, perm: &[usize]) {
            let old = std::mem::take(v);
            v.extend(perm.iter().map(|&k| old[k]));
        }
        apply(&mut self.x, perm);
        apply(&mut self.v, perm);
        apply(&mut self.f, perm);
        apply(&mut self.typ, perm);
        apply(&mut self.id, perm);
        apply(&mut self.image, perm);
        self.cols.permute(perm);
    }
    /// Unwrapped position of owned atom `i`.
    pub fn unwrapped(&self, i: usize, bx: &SimBox) -> [f64; 3] {
        let l = bx.lengths();
        let mut u = self.x[i];
        for d in 0..3 {
            u[d] += self.image[i][d] as f64 * l[d];
        }
        u
    }
}
