//! MPI communicator (rsmpi). This is the only module that calls MPI.
//!
//! `init` starts MPI (also as a singleton, without `mpirun`); the returned
//! object finalizes MPI when dropped. Point-to-point exchanges post the send
//! first and then receive, so paired swaps cannot deadlock.

use super::comm::Comm;
use mpi::collective::SystemOperation;
use mpi::traits::*;

pub struct MpiComm {
    _universe: mpi::environment::Universe,
    world: mpi::topology::SimpleCommunicator,
}

impl MpiComm {
    /// Start MPI; `None` if it was already initialised.
    pub fn init() -> Option<MpiComm> {
        let universe = mpi::initialize()?;
        let world = universe.world();
        Some(MpiComm { _universe: universe, world })
    }
}

impl Comm for MpiComm {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }
    fn size(&self) -> usize {
        self.world.size() as usize
    }
    fn sendrecv(&self, dest: Option<usize>, data: &[f64], src: Option<usize>, tag: i32) -> Vec<f64> {
        let world = &self.world;
        mpi::request::scope(|scope| {
            let req = dest.map(|d| world.process_at_rank(d as i32).immediate_send_with_tag(scope, data, tag));
            let out = match src {
                Some(s) => world.process_at_rank(s as i32).receive_vec_with_tag::<f64>(tag).0,
                None => Vec::new(),
            };
            if let Some(r) = req {
                r.wait();
            }
            out
        })
    }
    fn sum_f64(&self, v: &mut [f64]) {
        let local = v.to_vec();
        self.world.all_reduce_into(&local[..], v, SystemOperation::sum());
    }
    fn max_f64(&self, v: &mut [f64]) {
        let local = v.to_vec();
        self.world.all_reduce_into(&local[..], v, SystemOperation::max());
    }
    fn min_f64(&self, v: &mut [f64]) {
        let local = v.to_vec();
        self.world.all_reduce_into(&local[..], v, SystemOperation::min());
    }
    fn sum_u64(&self, v: &mut [u64]) {
        let local = v.to_vec();
        self.world.all_reduce_into(&local[..], v, SystemOperation::sum());
    }
    fn gather_f64(&self, data: &[f64]) -> Option<Vec<Vec<f64>>> {
        const TAG: i32 = 1 << 20;
        if self.rank() == 0 {
            let mut out = vec![data.to_vec()];
            for r in 1..self.size() {
                out.push(self.world.process_at_rank(r as i32).receive_vec_with_tag::<f64>(TAG).0);
            }
            Some(out)
        } else {
            self.world.process_at_rank(0).send_with_tag(data, TAG);
            None
        }
    }
    fn barrier(&self) {
        self.world.barrier();
    }
    fn arrive_within(&self, wait: std::time::Duration) -> bool {
        let start = std::time::Instant::now();
        let mut req = self.world.immediate_barrier();
        loop {
            match req.test() {
                Ok(_) => return true,
                Err(r) => req = r,
            }
            if start.elapsed() >= wait {
                // Never completed: the caller aborts the job; dropping an
                // incomplete request would panic.
                std::mem::forget(req);
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}
