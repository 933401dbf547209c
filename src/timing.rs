//! Per-stage wall-clock accounting (pair, neighbor, comm, output, other),
//! atom-steps per second and peak memory, printed at the end of every run
//! like LAMMPS's "MPI task timing breakdown", with the load imbalance
//! (atoms per rank and pair time, max/mean), and written to `timing.json`
//! in the run folder. Add a category by adding a field and a row in
//! [`Timers::report`].

use crate::domain::comm::Comm;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct Timers {
    pub start: Instant,
    pub pair: f64,
    pub neigh: f64,
    pub comm: f64,
    pub output: f64,
    pub atom_steps: f64,
}

impl Default for Timers {
    fn default() -> Self {
        Timers { start: Instant::now(), pair: 0.0, neigh: 0.0, comm: 0.0, output: 0.0, atom_steps: 0.0 }
    }
}

/// Peak resident memory of this process in bytes (Linux `VmHWM`).
pub fn peak_memory_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<u64>().ok()))
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

impl Timers {
    /// The summary (collective: every rank must call it) and its
    /// `timing.json` form, returned on rank 0. `nlocal` is this rank's
    /// atoms now, `balances` the times the grid's cuts were balanced.
    pub fn report(&self, comm: &dyn Comm, natoms: u64, nlocal: usize, balances: u64) -> Option<(String, serde_json::Value)> {
        let atom_imbalance = crate::domain::balance::atom_imbalance(nlocal, comm);
        let total = self.start.elapsed().as_secs_f64();
        let other = (total - self.pair - self.neigh - self.comm - self.output).max(0.0);
        let local = [self.pair, self.neigh, self.comm, self.output, other, total];
        let (mut mx, mut mn, mut sum) = (local, local, local);
        comm.max_f64(&mut mx);
        comm.min_f64(&mut mn);
        comm.sum_f64(&mut sum);
        let sum_steps = comm.sum_scalar(self.atom_steps);
        let mem = peak_memory_bytes() as f64;
        let (mut mem_max, mut mem_sum) = ([mem], [mem]);
        comm.max_f64(&mut mem_max);
        comm.sum_f64(&mut mem_sum);
        if !comm.is_root() {
            return None;
        }
        let n = comm.size() as f64;
        // Pair time: max over ranks / mean (1 when balanced).
        let pair_imbalance = if sum[0] > 0.0 { mx[0] / (sum[0] / n) } else { 1.0 };
        let rate = if mx[5] > 0.0 { sum_steps / mx[5] } else { 0.0 };
        let mut s = String::new();
        s.push_str(&format!(
            "Loop time {:.4} s on {} rank(s) x {} thread(s); {:.4e} atom-steps/s\n",
            mx[5],
            comm.size(),
            rayon::current_num_threads(),
            rate
        ));
        s.push_str("Section |  min time  |  avg time  |  max time  | %total\n");
        for (k, name) in ["Pair", "Neigh", "Comm", "Output", "Other"].iter().enumerate() {
            s.push_str(&format!(
                "{:<7} | {:>10.4} | {:>10.4} | {:>10.4} | {:>6.2}\n",
                name,
                mn[k],
                sum[k] / n,
                mx[k],
                if sum[5] > 0.0 { 100.0 * sum[k] / sum[5] } else { 0.0 }
            ));
        }
        s.push_str(&format!(
            "Peak memory: {:.1} MiB per rank (max), {:.1} MiB total, {:.0} bytes/atom",
            mem_max[0] / 1048576.0,
            mem_sum[0] / 1048576.0,
            if natoms > 0 { mem_sum[0] / natoms as f64 } else { 0.0 }
        ));
        s.push_str(&format!("\nImbalance: atoms per rank max/mean {:.4}, pair time max/mean {:.4}; grid cuts balanced {} time(s)", atom_imbalance, pair_imbalance, balances));
        let sections: serde_json::Map<String, serde_json::Value> = ["pair", "neigh", "comm", "output", "other"]
            .iter()
            .enumerate()
            .map(|(k, name)| (name.to_string(), serde_json::json!({ "min": mn[k], "avg": sum[k] / n, "max": mx[k] })))
            .collect();
        let json = serde_json::json!({
            "ranks": comm.size(),
            "threads": rayon::current_num_threads(),
            "natoms": natoms,
            "loop_seconds": mx[5],
            "atom_steps_per_second": rate,
            "sections": sections,
            "peak_memory_bytes_max_rank": mem_max[0],
            "peak_memory_bytes_total": mem_sum[0],
            "bytes_per_atom": if natoms > 0 { mem_sum[0] / natoms as f64 } else { 0.0 },
            "atom_imbalance": atom_imbalance,
            "pair_imbalance": pair_imbalance,
            "balances": balances,
        });
        Some((s, json))
    }
}
