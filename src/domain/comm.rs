//! The communicator interface and its serial implementation.
//!
//! Everything that crosses ranks goes through [`Comm`]: paired sends and
//! receives for the halo, reductions for thermo and neighbor checks, gathers
//! for output. [`SerialComm`] is a first-class one-rank implementation (not a
//! stub), so the serial and parallel programs are the same program. The MPI
//! implementation lives in `mpi_comm.rs`, the only file that calls MPI.
//! A new transport (e.g. GPU-aware MPI) implements this trait.

pub trait Comm {
    fn rank(&self) -> usize;
    fn size(&self) -> usize;
    /// Send `data` to `dest` and receive a message from `src` with the same
    /// tag; either side may be absent (edge of a non-periodic grid).
    fn sendrecv(&self, dest: Option<usize>, data: &[f64], src: Option<usize>, tag: i32) -> Vec<f64>;
    /// Element-wise global sum, in place.
    fn sum_f64(&self, v: &mut [f64]);
    fn max_f64(&self, v: &mut [f64]);
    fn min_f64(&self, v: &mut [f64]);
    fn sum_u64(&self, v: &mut [u64]);
    /// Gather variable-length buffers on rank 0 (rank order); `None` elsewhere.
    fn gather_f64(&self, data: &[f64]) -> Option<Vec<Vec<f64>>>;
    fn barrier(&self);
    /// Wait up to `wait` for every rank to arrive here (a non-blocking
    /// barrier); false if some rank did not come — it is stuck elsewhere,
    /// and the caller should abort rather than wait forever.
    fn arrive_within(&self, wait: std::time::Duration) -> bool;
    /// Terminate every rank (used only after a rank-local fatal error).
    fn abort(&self, code: i32) -> !;
    fn is_root(&self) -> bool {
        self.rank() == 0
    }
    fn sum_scalar(&self, v: f64) -> f64 {
        let mut a = [v];
        self.sum_f64(&mut a);
        a[0]
    }
    fn max_scalar(&self, v: f64) -> f64 {
        let mut a = [v];
        self.max_f64(&mut a);
        a[0]
    }
}

/// Make a rank-local outcome collective: if `r` failed on any rank, every
/// rank returns an error (the failing rank its own, which rank 0 prints
/// when it is rank 0's), so no rank waits for a partner that gave up.
pub fn agree<T>(comm: &dyn Comm, r: crate::error::Result<T>) -> crate::error::Result<T> {
    let failed = comm.max_scalar(if r.is_err() { 1.0 } else { 0.0 }) > 0.0;
    match r {
        Ok(_) if failed => Err(crate::error::Error::Elsewhere),
        other => other,
    }
}

/// One rank, no MPI.
#[derive(Default)]
pub struct SerialComm;

impl Comm for SerialComm {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn sendrecv(&self, dest: Option<usize>, data: &[f64], src: Option<usize>, _tag: i32) -> Vec<f64> {
        // On one rank the only partner is this rank itself.
        match (dest, src) {
            (Some(_), Some(_)) => data.to_vec(),
            _ => Vec::new(),
        }
    }
    fn sum_f64(&self, _: &mut [f64]) {}
    fn max_f64(&self, _: &mut [f64]) {}
    fn min_f64(&self, _: &mut [f64]) {}
    fn sum_u64(&self, _: &mut [u64]) {}
    fn gather_f64(&self, data: &[f64]) -> Option<Vec<Vec<f64>>> {
        Some(vec![data.to_vec()])
    }
    fn barrier(&self) {}
    fn arrive_within(&self, _wait: std::time::Duration) -> bool {
        true
    }
    fn abort(&self, code: i32) -> ! {
        std::process::exit(code)
    }
}
