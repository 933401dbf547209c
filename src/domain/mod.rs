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
//! Physics code never sees this module except through
//! `potential::HaloSync`. Load balancing will replace the uniform c/P splits
//! with per-axis cut arrays (LAMMPS `xsplit`); everything else reads
//! `sublo`/`subhi`.

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
        };
        d.set_box(bx);
        d
    }

    /// Position of the cut `c` of `p` along an axis of the box.
    fn split(bx: &SimBox, d: usize, c: usize, p: usize) -> f64 {
        if c == p {
            bx.hi[d]
        } else {
            bx.lo[d] + bx.length(d) * (c as f64 / p as f64)
        }
    }

    /// Recompute subdomain bounds after the box changed (shrink-wrap,
    /// barostat). For a triclinic box the bounds are fractions and do not
    /// change with the box.
    pub fn set_box(&mut self, bx: &SimBox) {
        self.dbox = bx.decomposition_box();
        let bx = &self.dbox;
        for d in 0..3 {
            self.sublo[d] = Self::split(bx, d, self.coord[d], self.grid[d]);
            self.subhi[d] = Self::split(bx, d, self.coord[d] + 1, self.grid[d]);
        }
    }

    /// The grid coordinate along axis `d` whose slab holds the (wrapped)
    /// position `x` (decomposition coordinates), consistent with
    /// [`Domain::owns_axis`].
    pub fn coord_of(&self, x: f64, d: usize) -> usize {
        let bx = &self.dbox;
        let p = self.grid[d];
        let mut c = (((x - bx.lo[d]) / bx.length(d)) * p as f64).floor().clamp(0.0, (p - 1) as f64) as usize;
        // The float estimate can miss a cut by one ulp: settle on the slab
        // whose bounds (the same arithmetic as `set_box`) contain x.
        while c > 0 && x < Self::split(bx, d, c, p) {
            c -= 1;
        }
        while c + 1 < p && x >= Self::split(bx, d, c + 1, p) {
            c += 1;
        }
        c
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
        }
    }
}
