//! Load balancing by moving the cuts of the process grid (LAMMPS `balance
//! shift xyz` and `fix balance ... shift`): along each axis with more than
//! one slab of ranks, the inner cuts go to the quantiles c/P of the atoms'
//! positions along that axis, so each slab of ranks holds about the same
//! number of atoms. A slab sample with vacuum above it, or a dense
//! indentation zone, no longer leaves ranks idle.
//!
//! The quantiles come from a histogram of `BINS` bins per axis summed over
//! ranks (one reduction), with the cut placed linearly inside the bin
//! where the cumulative count passes c·N/P. Counts are exact integers in
//! f64, so every rank computes the same cuts, and the cuts depend only on
//! the positions (not on the rank count's summation order).
//!
//! Extending: a weighted balance (by pair time, as LAMMPS `weight time`)
//! would histogram weights instead of counts; a recursive-bisection
//! balance (LAMMPS `rcb`) needs non-grid neighbors and another halo.

use super::comm::Comm;
use super::Domain;

/// Histogram bins per axis.
pub const BINS: usize = 8192;

/// The smallest slab, as a fraction of the box, that balancing leaves.
const MIN_FRACTION: f64 = 1e-6;

/// max / mean of the atoms per rank (collective).
pub fn atom_imbalance(nlocal: usize, comm: &dyn Comm) -> f64 {
    let (mut mx, mut sum) = ([nlocal as f64], [nlocal as f64]);
    comm.max_f64(&mut mx);
    comm.sum_f64(&mut sum);
    let mean = sum[0] / comm.size() as f64;
    if mean > 0.0 {
        mx[0] / mean
    } else {
        1.0
    }
}

/// The cuts that balance the owned positions `x` (decomposition
/// coordinates) across the slabs of each axis (collective).
pub fn shift_cuts(x: &[[f64; 3]], dom: &Domain, comm: &dyn Comm) -> [Vec<f64>; 3] {
    let axes: Vec<usize> = (0..3).filter(|&d| dom.grid[d] > 1).collect();
    let mut cuts = dom.cuts.clone();
    if axes.is_empty() {
        return cuts;
    }
    let bx = &dom.dbox;
    let mut hist = vec![0.0; BINS * axes.len()];
    for p in x {
        for (k, &d) in axes.iter().enumerate() {
            let f = (p[d] - bx.lo[d]) / bx.length(d);
            let b = (f * BINS as f64).floor().clamp(0.0, (BINS - 1) as f64) as usize;
            hist[k * BINS + b] += 1.0;
        }
    }
    comm.sum_f64(&mut hist);
    for (k, &d) in axes.iter().enumerate() {
        let h = &hist[k * BINS..(k + 1) * BINS];
        let total: f64 = h.iter().sum();
        let p = dom.grid[d];
        if total == 0.0 {
            continue;
        }
        let mut c_new = vec![0.0; p + 1];
        c_new[p] = 1.0;
        let (mut b, mut below) = (0, 0.0);
        for c in 1..p {
            let target = total * c as f64 / p as f64;
            // The bin where the cumulative count reaches the target.
            while b < BINS - 1 && below + h[b] < target {
                below += h[b];
                b += 1;
            }
            let inside = if h[b] > 0.0 { ((target - below) / h[b]).clamp(0.0, 1.0) } else { 0.0 };
            c_new[c] = (b as f64 + inside) / BINS as f64;
        }
        // Keep every slab at least MIN_FRACTION thick.
        for c in 1..p {
            c_new[c] = c_new[c].max(c_new[c - 1] + MIN_FRACTION);
        }
        for c in (1..p).rev() {
            c_new[c] = c_new[c].min(c_new[c + 1] - MIN_FRACTION);
        }
        cuts[d] = c_new;
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::comm::SerialComm;
    use crate::system::{Boundary, SimBox};

    /// On one rank the cuts stay; with a fake 4-slab grid along z the
    /// cuts of a slab filling the lower 40 % of the box split it in four
    /// equal counts.
    #[test]
    fn cuts_split_a_slab_into_equal_counts() {
        let bx = SimBox::new([0.0; 3], [10.0, 10.0, 100.0], [Boundary::Periodic, Boundary::Periodic, Boundary::Fixed]);
        let mut dom = Domain::new(0, 1, &bx);
        dom.grid = [1, 1, 4];
        dom.cuts[2] = crate::domain::uniform_cuts(4);
        let x: Vec<[f64; 3]> = (0..40_000).map(|i| [0.5, 0.5, 40.0 * (i as f64 + 0.5) / 40_000.0]).collect();
        let cuts = shift_cuts(&x, &dom, &SerialComm);
        // Inner cuts at 10, 20, 30 % of the box; the top slab takes the vacuum.
        for c in 0..4 {
            assert!((cuts[2][c] - 0.1 * c as f64).abs() < 1e-4, "{:?}", cuts[2]);
        }
        assert_eq!(cuts[2][4], 1.0);
        assert_eq!(cuts[0], vec![0.0, 1.0]);
        dom.set_cuts(cuts).unwrap();
        let counts = (0..4).map(|c| x.iter().filter(|p| dom.coord_of(p[2], 2) == c).count()).collect::<Vec<_>>();
        assert!(counts.iter().all(|&n| (n as i64 - 10_000).abs() <= 4), "{:?}", counts);
    }
}
