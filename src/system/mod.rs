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
//! [`SimBox`] is the global box, orthogonal or restricted triclinic (tilt
//! factors xy, xz, yz), with a LAMMPS boundary style per axis; code that
//! needs box geometry asks the box (lengths, volume, wrapping, fractional
//! coordinates, images) rather than reading lo/hi.

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

/// The simulation box: LAMMPS's restricted triclinic cell with a boundary
/// style per axis. The edge vectors are a = (lx, 0, 0), b = (xy, ly, 0),
/// c = (xz, yz, lz) from the origin `lo`; an orthogonal box has zero tilts
/// and `triclinic == false`. Geometry goes through the upper-triangular
/// matrix h (LAMMPS `Domain::h`, Voigt order lx, ly, lz, yz, xz, xy) and
/// fractional ("lamda") coordinates λ = h⁻¹ (x − lo), in which the cell is
/// the unit cube (LAMMPS `x2lamda`/`lamda2x`). Code that needs box geometry
/// asks the box (lengths, volume, wrapping, images) rather than reading lo/hi.
#[derive(Clone, Debug)]
pub struct SimBox {
    pub lo: [f64; 3],
    pub hi: [f64; 3],
    pub boundary: [Boundary; 3],
    /// Shrink-wrap padding per axis (LAMMPS `Domain::small`).
    pub small: [f64; 3],
    /// Tilt factors xy, xz, yz (Å).
    pub tilt: [f64; 3],
    /// LAMMPS's `triclinic` flag: the box may tilt (a data file with an
    /// `xy xz yz` line, or a deck that tilts the box). Orthogonal boxes
    /// keep the exact orthogonal arithmetic everywhere.
    pub triclinic: bool,
}

/// Tilt names in [`SimBox::tilt`] order, and the axis whose length bounds
/// each (LAMMPS: |xy|, |xz| ≤ lx/2, |yz| ≤ ly/2) and the axis that must be
/// periodic for it (y for xy, z for xz and yz).
pub const TILTS: [(&str, usize, usize); 3] = [("xy", 0, 1), ("xz", 0, 2), ("yz", 1, 2)];

impl SimBox {
    pub fn new(lo: [f64; 3], hi: [f64; 3], boundary: [Boundary; 3]) -> SimBox {
        let mut small = [0.0; 3];
        for d in 0..3 {
            small[d] = SHRINK_SMALL * (hi[d] - lo[d]);
        }
        SimBox { lo, hi, boundary, small, tilt: [0.0; 3], triclinic: false }
    }
    /// A triclinic box with tilts xy, xz, yz.
    pub fn new_triclinic(lo: [f64; 3], hi: [f64; 3], tilt: [f64; 3], boundary: [Boundary; 3]) -> SimBox {
        SimBox { tilt, triclinic: true, ..SimBox::new(lo, hi, boundary) }
    }
    /// The same box (boundaries, shrink padding, triclinic flag) with other
    /// bounds and tilts.
    pub fn with_shape(&self, lo: [f64; 3], hi: [f64; 3], tilt: [f64; 3]) -> SimBox {
        SimBox { lo, hi, tilt, ..self.clone() }
    }
    /// The same box with other bounds (tilts kept).
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
    /// h in LAMMPS's Voigt order: lx, ly, lz, yz, xz, xy.
    pub fn h(&self) -> [f64; 6] {
        let l = self.lengths();
        [l[0], l[1], l[2], self.tilt[2], self.tilt[1], self.tilt[0]]
    }
    /// h⁻¹, upper triangular, same order (LAMMPS `Domain::set_global_box`).
    pub fn h_inv(&self) -> [f64; 6] {
        let h = self.h();
        [
            1.0 / h[0],
            1.0 / h[1],
            1.0 / h[2],
            -h[3] / (h[1] * h[2]),
            (h[3] * h[5] - h[1] * h[4]) / (h[0] * h[1] * h[2]),
            -h[5] / (h[0] * h[1]),
        ]
    }
    /// Fractional coordinates of a position (LAMMPS `x2lamda`).
    #[inline]
    pub fn x2lamda_with(&self, hi: &[f64; 6], x: [f64; 3]) -> [f64; 3] {
        let d = [x[0] - self.lo[0], x[1] - self.lo[1], x[2] - self.lo[2]];
        [hi[0] * d[0] + hi[5] * d[1] + hi[4] * d[2], hi[1] * d[1] + hi[3] * d[2], hi[2] * d[2]]
    }
    /// Position of fractional coordinates (LAMMPS `lamda2x`).
    #[inline]
    pub fn lamda2x_with(&self, h: &[f64; 6], l: [f64; 3]) -> [f64; 3] {
        [h[0] * l[0] + h[5] * l[1] + h[4] * l[2] + self.lo[0], h[1] * l[1] + h[3] * l[2] + self.lo[1], h[2] * l[2] + self.lo[2]]
    }
    /// Positions to fractional coordinates, in place.
    pub fn to_lamda(&self, xs: &mut [[f64; 3]]) {
        let hi = self.h_inv();
        for x in xs {
            *x = self.x2lamda_with(&hi, *x);
        }
    }
    /// Fractional coordinates to positions, in place.
    pub fn from_lamda(&self, ls: &mut [[f64; 3]]) {
        let h = self.h();
        for x in ls {
            *x = self.lamda2x_with(&h, *x);
        }
    }
    pub fn x2lamda(&self, x: [f64; 3]) -> [f64; 3] {
        self.x2lamda_with(&self.h_inv(), x)
    }
    pub fn lamda2x(&self, l: [f64; 3]) -> [f64; 3] {
        self.lamda2x_with(&self.h(), l)
    }
    /// The displacement of `n` periodic images: n_x a + n_y b + n_z c.
    #[inline]
    pub fn image_shift(&self, n: [f64; 3]) -> [f64; 3] {
        let l = self.lengths();
        if !self.triclinic {
            return [n[0] * l[0], n[1] * l[1], n[2] * l[2]];
        }
        let t = self.tilt;
        [n[0] * l[0] + n[1] * t[0] + n[2] * t[1], n[1] * l[1] + n[2] * t[2], n[2] * l[2]]
    }
    /// The box in which the domain decomposition and the halo work: the box
    /// itself when orthogonal, the unit cube of fractional coordinates when
    /// triclinic (LAMMPS decomposes triclinic boxes in lamda space).
    pub fn decomposition_box(&self) -> SimBox {
        if self.triclinic {
            SimBox { lo: [0.0; 3], hi: [1.0; 3], boundary: self.boundary, small: [0.0; 3], tilt: [0.0; 3], triclinic: false }
        } else {
            self.clone()
        }
    }
    /// A position in decomposition coordinates ([`SimBox::decomposition_box`]).
    pub fn decomposition_coord(&self, x: [f64; 3]) -> [f64; 3] {
        if self.triclinic {
            self.x2lamda(x)
        } else {
            x
        }
    }
    /// The ghost cutoff `rc` in decomposition coordinates per axis: rc
    /// itself when orthogonal; when triclinic, rc times |∇λ_d|, i.e. rc
    /// over the spacing of the lattice planes normal to axis d (LAMMPS
    /// `Comm::setup`, `cutghost` from the rows of h⁻¹).
    pub fn ghost_cut(&self, rc: f64) -> [f64; 3] {
        if !self.triclinic {
            return [rc; 3];
        }
        let h = self.h_inv();
        [rc * (h[0] * h[0] + h[5] * h[5] + h[4] * h[4]).sqrt(), rc * (h[1] * h[1] + h[3] * h[3]).sqrt(), rc * h[2]]
    }
    /// Axis-aligned bounds of the cell (LAMMPS dump `xlo_bound` ...).
    pub fn bounding(&self) -> ([f64; 3], [f64; 3]) {
        let [xy, xz, yz] = self.tilt;
        let (mut lo, mut hi) = (self.lo, self.hi);
        lo[0] += 0.0f64.min(xy).min(xz).min(xy + xz);
        hi[0] += 0.0f64.max(xy).max(xz).max(xy + xz);
        lo[1] += 0.0f64.min(yz);
        hi[1] += 0.0f64.max(yz);
        (lo, hi)
    }
    /// The eight corners of the cell (LAMMPS `Domain::box_corners`).
    pub fn corners(&self) -> [[f64; 3]; 8] {
        let h = self.h();
        std::array::from_fn(|k| self.lamda2x_with(&h, [(k & 1) as f64, ((k >> 1) & 1) as f64, ((k >> 2) & 1) as f64]))
    }
    /// The edge vectors a, b, c as rows.
    pub fn cell(&self) -> [[f64; 3]; 3] {
        let l = self.lengths();
        let [xy, xz, yz] = self.tilt;
        [[l[0], 0.0, 0.0], [xy, l[1], 0.0], [xz, yz, l[2]]]
    }
    /// Wrap a position into the periodic box, updating its image flags the way
    /// LAMMPS `Domain::remap` does (in fractional coordinates when the box is
    /// triclinic; the position is then rebuilt from them only if it moved).
    /// An atom within one box length of the box
    /// (the only case in a sound run) moves by exactly one length, as LAMMPS
    /// does; one further away moves by a whole number of lengths computed with
    /// `floor`, never by a loop, so a huge or infinite coordinate cannot hang
    /// the run. Returns `false` (leaving `x` as it was on that axis) when a
    /// coordinate is not finite or its image flag would leave the range
    /// [`MAX_IMAGE`]: the caller reports that as bad input or a blow-up.
    #[must_use]
    pub fn wrap(&self, x: &mut [f64; 3], image: &mut [i32; 3]) -> bool {
        if self.triclinic {
            if !x.iter().all(|v| v.is_finite()) {
                return false;
            }
            let mut l = self.x2lamda(*x);
            let im0 = *image;
            let ok = self.decomposition_box().wrap(&mut l, image);
            if *image != im0 {
                *x = self.lamda2x(l);
            }
            return ok;
        }
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
            // x ± len can round to exactly hi, or to just below lo. At hi
            // the atom is at lo of the next period (LAMMPS's remap loop
            // takes off one more length and counts it), so its image goes
            // up with it and the unwrapped position stays put; just below
            // lo it is clamped (LAMMPS `MAX(coord, lo)`).
            if x[d] >= self.hi[d] {
                x[d] = self.lo[d];
                image[d] += 1;
            } else if x[d] < self.lo[d] {
                x[d] = self.lo[d];
            }
        }
        ok
    }
    /// The minimum image of a displacement on the periodic axes (LAMMPS
    /// `Domain::minimum_image`: one period off where a component is beyond
    /// half of it; a triclinic cell in fractional coordinates, c then b
    /// then a, so the tilts carry along).
    pub fn minimum_image(&self, mut d: [f64; 3]) -> [f64; 3] {
        if !self.triclinic {
            for axis in 0..3 {
                let len = self.length(axis);
                if self.periodic(axis) && d[axis].abs() > 0.5 * len {
                    d[axis] -= len.copysign(d[axis]);
                }
            }
            return d;
        }
        let (cell, hi) = (self.cell(), self.h_inv());
        for axis in [2, 1, 0] {
            if !self.periodic(axis) {
                continue;
            }
            // Fractional component along this axis.
            let frac = [d[0] * hi[0] + d[1] * hi[5] + d[2] * hi[4], d[1] * hi[1] + d[2] * hi[3], d[2] * hi[2]][axis];
            if frac.abs() > 0.5 {
                let s = if frac < 0.0 { 1.0 } else { -1.0 };
                for k in 0..3 {
                    d[k] += s * cell[axis][k];
                }
            }
        }
        d
    }
    /// Whether a position lies inside the box along every non-periodic axis.
    pub fn contains_nonperiodic(&self, x: &[f64; 3]) -> bool {
        let u = self.decomposition_box();
        let x = self.decomposition_coord(*x);
        (0..3).all(|d| u.periodic(d) || (x[d] >= u.lo[d] && x[d] <= u.hi[d]))
    }
    /// LAMMPS dump header letters, e.g. `pp pp ss`.
    pub fn boundary_string(&self) -> String {
        self.boundary
            .iter()
            .map(|b| format!("{0}{0}", b.letter()))
            .collect::<Vec<_>>()
            .join(" ")
    }
    /// Change the image flags so that unwrapped positions stay the same
    /// after the tilts flipped by whole box lengths (LAMMPS
    /// `Domain::image_flip`): `m`, `n`, `p` are the flips of xy, xz and yz.
    pub fn image_flip(image: &mut [i32; 3], m: i32, n: i32, p: i32) {
        image[1] -= p * image[2];
        image[0] -= m * image[1] + n * image[2];
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
        let s = bx.image_shift(self.image[i].map(|k| k as f64));
        let x = self.x[i];
        [x[0] + s[0], x[1] + s[1], x[2] + s[2]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wrapping never moves an atom's unwrapped position by more than
    /// round-off, also where x ± L rounds onto a face: an atom a hair
    /// below lo (a triclinic remap's fractional −1e-17) lands at lo with
    /// its image unchanged, not at lo one period down.
    #[test]
    fn wrap_keeps_unwrapped_positions() {
        let p = [Boundary::Periodic; 3];
        for bx in [SimBox::new([0.0; 3], [45.0; 3], p), SimBox::new([-3.7, 0.1, -20.0], [5.3, 7.0, 29.0], p), SimBox::new([0.0; 3], [1.0; 3], p)] {
            for x0 in [-1e-17, -1e-300, -f64::EPSILON, 1e-17, -0.5, 0.0, 44.999999999999993, 45.0, 45.0 + 1e-14, 1e3, -1e3, 7.0, 29.0] {
                let mut x = [x0; 3];
                let mut im = [0; 3];
                assert!(bx.wrap(&mut x, &mut im));
                for d in 0..3 {
                    assert!(x[d] >= bx.lo[d] && x[d] < bx.hi[d], "{:?}: {} wrapped to {}", bx.lo, x0, x[d]);
                    let u = x[d] + im[d] as f64 * bx.length(d);
                    assert!((u - x0).abs() <= 1e-12 * x0.abs().max(bx.length(d)), "{:?}: {} wrapped to {} image {}", bx.lo, x0, x[d], im[d]);
                }
            }
        }
    }
}
