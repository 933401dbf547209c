//! Spatial domain decomposition: the process grid, each rank's subdomain,
//! atom migration and the ghost halo.
//!
//! * [`Domain`] (pure arithmetic): a 3-D grid of ranks shaped to the box so the
//!   subdomains have the least surface (LAMMPS `procs2box`), subdomain bounds
//!   as fractions c/P of the box, and neighbor ranks.
//! * `halo`: LAMMPS-style swaps. Per axis, ghosts are received from the upper
//!   and lower neighbors in as many hops as the ghost cutoff needs, so
//!   subdomains (and periodic boxes) thinner than the cutoff work: with one
//!   rank along a periodic axis the neighbor is the rank itself and the hops
//!   create successive periodic images.
//! * `comm`: the [`comm::Comm`] trait with `SerialComm`; `mpi_comm`: MPI.
//!
//! * `balance`: load balancing (LAMMPS `balance shift` / `fix balance`):
//!   the cuts of each axis of the grid move so each slab of ranks holds
//!   about the same number of atoms.
//!
//! Physics code never sees this module except through
//! `potential::HaloSync`. Subdomain bounds come from per-axis cut arrays
//! (fractions of the box, LAMMPS `xsplit`), uniform c/P until balancing
//! moves them; everything else reads `sublo`/`subhi`.

pub mod balance;
pub mod comm;
pub mod halo;
#[cfg(feature = "mpi")]
pub mod mpi_comm;

use crate::system::SimBox;

#[derive(Clone, Debug)]
pub struct Domain {
    pub grid: [usize; 3],
    pub coord: [usize; 3],
    pub rank: usize,
    pub periodic: [bool; 3],
    /// Subdomain bounds in decomposition coordinates (Å when the box is
    /// orthogonal, fractions of the cell when triclinic: LAMMPS
    /// `sublo_lamda`).
    pub sublo: [f64; 3],
    pub subhi: [f64; 3],
    /// The box the grid divides: [`SimBox::decomposition_box`].
    pub dbox: SimBox,
    /// Per axis, the grid[d] + 1 cuts as fractions of the box (0 first, 1
    /// last; uniform c/P until balancing moves them). Fractions, so they
    /// follow the box as it changes.
    pub cuts: [Vec<f64>; 3],
}

/// The grid (px, py, pz) with px·py·pz = nprocs whose subdomains have the
/// least total surface for box lengths `l` (ties: the first found).
pub fn choose_grid(nprocs: usize, l: [f64; 3]) -> [usize; 3] {
    let area = [l[0] * l[1], l[0] * l[2], l[1] * l[2]];
    let mut best = [nprocs, 1, 1];
    let mut best_surf = f64::INFINITY;
    for px in 1..=nprocs {
        if nprocs % px != 0 {
            continue;
        }
        let rest = nprocs / px;
        for py in 1..=rest {
            if rest % py != 0 {
                continue;
            }
            let pz = rest / py;
            let (fx, fy, fz) = (px as f64, py as f64, pz as f64);
            let surf = area[0] / fx / fy + area[1] / fx / fz + area[2] / fy / fz;
            if surf < best_surf * (1.0 - 1e-12) {
                best_surf = surf;
                best = [px, py, pz];
            }
        }
    }
    best
}

impl Domain {
    pub fn new(rank: usize, nprocs: usize, bx: &SimBox) -> Domain {
        let grid = choose_grid(nprocs, bx.lengths());
        let coord = [rank % grid[0], (rank / grid[0]) % grid[1], rank / (grid[0] * grid[1])];
        let mut d = Domain {
            grid,
            coord,
            rank,
            periodic: [bx.periodic(0), bx.periodic(1), bx.periodic(2)],
            sublo: [0.0; 3],
            subhi: [0.0; 3],
            dbox: bx.decomposition_box(),
            cuts: std::array::from_fn(|d| uniform_cuts(grid[d])),
        };
        d.set_box(bx);
        d
    }

    /// Position of the cut `c` along axis `d` of the box.
    fn split(&self, d: usize, c: usize) -> f64 {
        let bx = &self.dbox;
        if c == self.grid[d] {
            bx.hi[d]
        } else if c == 0 {
            bx.lo[d]
        } else {
            bx.lo[d] + bx.length(d) * self.cuts[d][c]
        }
    }

    /// Replace the cuts (balancing; a checkpoint's). Each axis needs
    /// grid + 1 increasing fractions from 0 to 1.
    pub fn set_cuts(&mut self, cuts: [Vec<f64>; 3]) -> Result<(), String> {
        for d in 0..3 {
            let c = &cuts[d];
            if c.len() != self.grid[d] + 1 || c[0] != 0.0 || c[self.grid[d]] != 1.0 || c.windows(2).any(|w| !(w[1] > w[0])) {
                return Err(format!("the cuts of axis {} do not fit a grid of {}: {:?}", ["x", "y", "z"][d], self.grid[d], c));
            }
        }
        self.cuts = cuts;
        let bx = self.dbox.clone();
        self.set_box(&bx);
        Ok(())
    }

    /// The inner cuts of the split axes, e.g. `z [0.1032, 0.2011, 0.3005]`.
    pub fn describe_cuts(&self) -> String {
        let axes: Vec<String> = (0..3).filter(|&d| self.grid[d] > 1).map(|d| format!("{} {:.4?}", ["x", "y", "z"][d], &self.cuts[d][1..self.grid[d]])).collect();
        if axes.is_empty() {
            "(one rank per axis)".to_string()
        } else {
            axes.join(", ")
        }
    }

    /// Are the cuts uniform (no balancing has moved them)?
    pub fn is_uniform(&self) -> bool {
        (0..3).all(|d| self.cuts[d] == uniform_cuts(self.grid[d]))
    }

    /// The thinnest slab along axis `d` (decomposition coordinates).
    pub fn min_width(&self, d: usize) -> f64 {
        (0..self.grid[d]).map(|c| self.split(d, c + 1) - self.split(d, c)).fold(f64::INFINITY, f64::min)
    }

    /// Recompute subdomain bounds after the box changed (shrink-wrap,
    /// barostat). For a triclinic box the bounds are fractions and do not
    /// change with the box.
    pub fn set_box(&mut self, bx: &SimBox) {
        self.dbox = bx.decomposition_box();
        for d in 0..3 {
            self.sublo[d] = self.split(d, self.coord[d]);
            self.subhi[d] = self.split(d, self.coord[d] + 1);
        }
    }

    /// The grid coordinate along axis `d` whose slab holds the (wrapped)
    /// position `x` (decomposition coordinates), consistent with
    /// [`Domain::owns_axis`].
    pub fn coord_of(&self, x: f64, d: usize) -> usize {
        // The slab whose bounds (the same arithmetic as `set_box`) contain
        // x: the number of inner cuts at or below it.
        let (mut lo, mut hi) = (0, self.grid[d] - 1);
        while lo < hi {
            let mid = (lo + hi + 1) / 2;
            if x >= self.split(d, mid) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }

    /// The centre of rank `rank`'s subdomain (decomposition coordinates):
    /// a position that [`halo::redistribute`] delivers to that rank, for
    /// values that must travel to an atom's owner.
    pub fn centre_of(&self, rank: usize) -> [f64; 3] {
        let c = [rank % self.grid[0], (rank / self.grid[0]) % self.grid[1], rank / (self.grid[0] * self.grid[1])];
        std::array::from_fn(|d| 0.5 * (self.split(d, c[d]) + self.split(d, c[d] + 1)))
    }

    pub fn rank_of(&self, c: [usize; 3]) -> usize {
        (c[2] * self.grid[1] + c[1]) * self.grid[0] + c[0]
    }

    /// Neighbor rank along axis `d`, above (`up`) or below; `None` at the edge
    /// of a non-periodic axis. Also returns the shift a position sent there
    /// needs (± box length, in decomposition coordinates, when the message
    /// wraps around a periodic axis).
    pub fn neighbor(&self, d: usize, up: bool) -> Option<(usize, f64)> {
        let bx = &self.dbox;
        let p = self.grid[d];
        let c = self.coord[d];
        let (nc, shift) = if up {
            if c + 1 < p {
                (c + 1, 0.0)
            } else if self.periodic[d] {
                (0, -bx.length(d))
            } else {
                return None;
            }
        } else if c > 0 {
            (c - 1, 0.0)
        } else if self.periodic[d] {
            (p - 1, bx.length(d))
        } else {
            return None;
        };
        let mut cc = self.coord;
        cc[d] = nc;
        Some((self.rank_of(cc), shift))
    }

    /// Does this rank own a (wrapped) position along axis `d`? The outermost
    /// ranks of a non-periodic axis own everything beyond the box as well.
    pub fn owns_axis(&self, x: f64, d: usize) -> bool {
        let c = self.coord[d];
        let lo_ok = x >= self.sublo[d] || (c == 0 && !self.periodic[d]);
        let hi_ok = x < self.subhi[d] || (c + 1 == self.grid[d] && !self.periodic[d]);
        lo_ok && hi_ok
    }

    pub fn owns(&self, x: &[f64; 3]) -> bool {
        (0..3).all(|d| self.owns_axis(x[d], d))
    }
}

/// Cuts c/p, c = 0..=p.
pub fn uniform_cuts(p: usize) -> Vec<f64> {
    (0..=p).map(|c| c as f64 / p as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn grid_follows_box_shape() {
        assert_eq!(choose_grid(4, [10.0, 10.0, 10.0]).iter().product::<usize>(), 4);
        assert_eq!(choose_grid(2, [40.0, 10.0, 10.0]), [2, 1, 1]);
        assert_eq!(choose_grid(4, [10.0, 10.0, 80.0]), [1, 1, 4]);
        assert_eq!(choose_grid(1, [1.0, 2.0, 3.0]), [1, 1, 1]);
    }

    #[test]
    fn coord_of_agrees_with_ownership() {
        use crate::system::Boundary;
        let bx = SimBox::new([-3.7, 0.0, 1.0], [5.3, 7.0, 29.0], [Boundary::Periodic, Boundary::Periodic, Boundary::Shrink]);
        for nprocs in [1, 3, 6, 7] {
            let doms: Vec<Domain> = (0..nprocs).map(|r| Domain::new(r, nprocs, &bx)).collect();
            for k in 0..2000 {
                // Points on and around every cut, and beyond a non-periodic face.
                let f = k as f64 / 1999.0;
                let x = [bx.lo[0] + f * bx.length(0), bx.lo[1] + ((k * 7919) % 2000) as f64 / 2000.0 * bx.length(1), bx.lo[2] - 1.0 + f * (bx.length(2) + 2.0)];
                let x = [x[0].min(bx.hi[0] - 1e-12), x[1], x[2]];
                for dom in &doms {
                    for d in 0..3 {
                        assert_eq!(dom.owns_axis(x[d], d), dom.coord_of(x[d], d) == dom.coord[d], "nprocs {} axis {} x {}", nprocs, d, x[d]);
                    }
                }
            }
            // Each subdomain's centre is owned by that rank alone.
            for (r, dom) in doms.iter().enumerate() {
                let c = dom.centre_of(r);
                assert!(dom.owns(&c), "nprocs {} rank {}", nprocs, r);
                assert_eq!(doms.iter().filter(|o| o.owns(&c)).count(), 1);
            }
        }
    }
}
