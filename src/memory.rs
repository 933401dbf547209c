//! Memory a run will need, estimated before anything large is allocated,
//! against the memory this process may use. A deck asking for 10¹⁸ atoms or
//! a 1000³ replication gets a one-line error with the estimate, not an
//! allocation failure hours into a queue.
//!
//! The estimate is deliberately a lower bound built from measured figures
//! (README, "Performance": about 500 bytes per owned atom at skin 1 Å, most
//! of it the half neighbor list), so it refuses only what cannot fit. To
//! refine it, change [`estimate_per_rank`]; the limit comes from
//! [`available_per_rank`] or `[limits] max_memory_gib`.

/// Bytes one rank needs for `natoms` atoms in `volume` Å³ on `nranks`
/// ranks with ghost cutoff `rc` (potential cutoff + skin): every rank holds
/// the input system while it is read or built (about 80 bytes per atom),
/// and its owned atoms with their ghosts and half neighbor list.
pub fn estimate_per_rank(natoms: f64, volume: f64, nranks: usize, rc: f64) -> f64 {
    let p = nranks.max(1) as f64;
    let rho = if volume > 0.0 { natoms / volume } else { 0.0 };
    let local = natoms / p;
    let side = (volume / p).cbrt().max(1e-9);
    // Ghost shell around a cubic subdomain, as a fraction of the owned atoms.
    let ghosts = ((side + 2.0 * rc) / side).powi(3) - 1.0;
    let neighbors = 2.0 / 3.0 * std::f64::consts::PI * rc.powi(3) * rho;
    natoms * 80.0 + local * (150.0 + 4.0 * neighbors) + local * ghosts * 60.0
}

/// Bytes of memory this process may still use on its node, shared by the
/// ranks on the node: the smaller of the kernel's `MemAvailable` and the
/// cgroup's limit (Slurm confines jobs with cgroups), over the ranks per
/// node (`OMPI_COMM_WORLD_LOCAL_SIZE`, `MPI_LOCALNRANKS`, else all ranks).
pub fn available_per_rank(nranks: usize) -> Option<f64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb = |key: &str| meminfo.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<f64>().ok());
    let mut avail = kb("MemAvailable:")? * 1024.0;
    let read = |p: &str| std::fs::read_to_string(p).ok().and_then(|s| s.trim().parse::<f64>().ok());
    // cgroup v2, then v1.
    let cg = read("/sys/fs/cgroup/memory.max").map(|m| m - read("/sys/fs/cgroup/memory.current").unwrap_or(0.0)).or_else(|| {
        read("/sys/fs/cgroup/memory/memory.limit_in_bytes").map(|m| m - read("/sys/fs/cgroup/memory/memory.usage_in_bytes").unwrap_or(0.0))
    });
    if let Some(c) = cg.filter(|c| *c > 0.0) {
        avail = avail.min(c);
    }
    let local = ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_LOCAL_SIZE"]
        .iter()
        .find_map(|v| std::env::var(v).ok().and_then(|s| s.parse::<usize>().ok()))
        .unwrap_or(nranks)
        .max(1);
    Some(avail / local as f64)
}

/// Check a run of `natoms` atoms in `volume` Å³ against the memory limit
/// (`limit_gib`, else what is available); `Err` with a sentence giving the
/// estimate and the limit.
pub fn check(natoms: f64, volume: f64, nranks: usize, rc: f64, limit_gib: Option<f64>) -> Result<(), String> {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    let need = estimate_per_rank(natoms, volume, nranks, rc);
    let (have, what) = match limit_gib {
        Some(g) => (g * GIB, "limits.max_memory_gib"),
        None => match available_per_rank(nranks) {
            Some(a) => (a, "available"),
            None => return Ok(()),
        },
    };
    if need > have {
        let n = crate::config::validate::N((need / GIB * 1e3).round() / 1e3);
        return Err(format!(
            "{:.4e} atoms need at least {} GiB per rank on {} rank(s) (estimate), but {:.1} GiB per rank are {}; use fewer atoms or more nodes",
            natoms,
            n,
            nranks,
            have / GIB,
            what
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn estimate_is_near_the_measured_figure() {
        // 1.28 M atoms at 0.06 /Å³, rc = 6.4 + 1: measured 509 bytes/atom on one rank.
        let b = estimate_per_rank(1.28e6, 1.28e6 / 0.06, 1, 7.4) / 1.28e6;
        assert!(b > 250.0 && b < 509.0, "{}", b);
    }
}
