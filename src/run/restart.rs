//! Restarting from a checkpoint: the run state it carries besides the
//! atoms, and restoring it (exactly on the same rank count, redistributed
//! on another).

use super::*;

/// The state of a run that a checkpoint carries besides the atoms.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct RunState {
    /// Stage kinds of the deck that wrote it (a restart must match).
    pub(super) stages: Vec<String>,
    pub(super) natoms: u64,
    pub(super) nranks: usize,
    pub(super) nthreads: usize,
    pub(super) step: u64,
    pub(super) time: f64,
    pub(super) lo: [f64; 3],
    pub(super) hi: [f64; 3],
    pub(super) hold_lo: [f64; 3],
    pub(super) hold_hi: [f64; 3],
    /// Tilts (xy, xz, yz) now and at the last neighbor-list build.
    #[serde(default)]
    pub(super) tilt: [f64; 3],
    #[serde(default)]
    pub(super) hold_tilt: [f64; 3],
    pub(super) last_sort: Option<u64>,
    /// The stage to continue (0-based) and its MD steps done (0: from its start).
    pub(super) stage: usize,
    pub(super) stage_done: u64,
    pub(super) thermostat: ThermostatState,
    pub(super) results: std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>,
    pub(super) rows: Vec<Row>,
    pub(super) stage_rows: Vec<Vec<Row>>,
    pub(super) is_rows: Vec<[f64; 10]>,
    /// Where the thermo CSV and each trajectory continue, and the step of
    /// each trajectory's last frame.
    pub(super) thermo_mark: Option<u64>,
    pub(super) trajectories: Vec<(u64, Option<u64>)>,
    /// Volume when the current stage began.
    #[serde(default)]
    pub(super) stage_volume0: Option<f64>,
    /// The box when the current stage began (strain columns).
    #[serde(default)]
    pub(super) stage_box0: Option<[f64; 6]>,
    /// Time of the MSD/F_s origins, and the rows of the τα and D columns
    /// since them (NaN as null).
    #[serde(default)]
    pub(super) msd_origin_time: Option<f64>,
    #[serde(default)]
    pub(super) dyn_rows: Vec<Vec<[Option<f64>; 2]>>,
    /// The stress–strain record of the deform stage running when it was written.
    #[serde(default)]
    pub(super) loading: Option<super::stress_strain::Loading>,
    /// Persistent per-atom columns (name, width), in the file's order.
    #[serde(default)]
    pub(super) columns: Vec<(String, usize)>,
    /// The deck's groups (their bits are in the `mask` column).
    #[serde(default)]
    pub(super) groups: Vec<String>,
    /// State of the running stage's fixes, by fix id.
    #[serde(default)]
    pub(super) fixes: std::collections::BTreeMap<String, serde_json::Value>,
    /// Potential energy and virial of the last force computation, summed
    /// over ranks.
    #[serde(default)]
    pub(super) potential_totals: Option<[f64; 7]>,
    /// Boundary styles (`"spp"`) and shrink padding when it was written
    /// (a `change_box` stage may have changed the deck's).
    #[serde(default)]
    pub(super) boundary: Option<String>,
    #[serde(default)]
    pub(super) small: Option<[f64; 3]>,
    /// The grid's cuts (fractions per axis), when balancing moved them.
    #[serde(default)]
    pub(super) cuts: Option<[Vec<f64>; 3]>,
    /// The local-strain reference box (lo, hi, tilt, boundary letters,
    /// triclinic); its positions are in the `strain_reference` column.
    #[serde(default)]
    pub(super) strain_box: Option<([f64; 3], [f64; 3], [f64; 3], String, bool)>,
    /// Its cell's edges in image vectors of the current cell (tilt flips).
    #[serde(default)]
    pub(super) strain_basis: Option<[[i32; 3]; 3]>,
}

/// Restore a run from checkpoint `path` (collective): the atoms (exactly on
/// the rank count that wrote it, redistributed on another), the thermo CSV
/// and trajectories continued from their marks; returns the run state.
pub(super) fn resume(eng: &mut Engine, out: &mut Output, deck: &Deck, path: &Path, nthreads: usize) -> Result<(RunState, bool)> {
    let reader = checkpoint::Reader::open(path)?;
    let st: RunState = serde_json::from_str(&reader.state).map_err(|e| Error::input(path, format!("not a usable glassmd checkpoint: run state: {}", e)))?;
    let names: Vec<&str> = deck.stages.iter().map(|s| s.name()).collect();
    if st.stages != names {
        return Err(Error::input(path, format!("written by a deck with stages [{}], but {} has [{}]", st.stages.join(", "), deck.path.display(), names.join(", "))));
    }
    if st.natoms != eng.natoms || reader.natoms() as u64 != eng.natoms {
        return Err(Error::input(path, format!("holds {} atoms, the deck's system {}", reader.natoms(), eng.natoms)));
    }
    // Boundary styles saved as three letters ("spp").
    let letters = |b: &str, what: &str| -> Result<[Boundary; 3]> {
        let styles: Vec<Boundary> = b.chars().filter_map(|c| Boundary::parse(&c.to_string())).collect();
        <[Boundary; 3]>::try_from(styles).map_err(|_| Error::input(path, format!("not a usable glassmd checkpoint: {} '{}'", what, b)))
    };
    if let (Some(b), Some(small)) = (&st.boundary, st.small) {
        eng.set_boundary(letters(b, "boundary")?, small);
    }
    let comm = eng.comm;
    let width = crate::engine::LOCAL_WIDTH + st.columns.iter().map(|c| c.1).sum::<usize>();
    if reader.extra_width() + crate::engine::LOCAL_WIDTH != width {
        return Err(Error::input(path, "not a usable glassmd checkpoint: its per-atom columns disagree with its state"));
    }
    let moved = st.nranks != comm.size();
    if st.nranks == comm.size() {
        let r = comm.rank();
        let offset: usize = reader.rank_counts[..r].iter().sum();
        let local = agree(comm, reader.read(offset, reader.rank_counts[r]).and_then(|rows| check_rows(path, rows, eng.masses.len(), width)))?;
        let (now, hold) = (eng.bx.with_shape(st.lo, st.hi, st.tilt), eng.bx.with_shape(st.hold_lo, st.hold_hi, st.hold_tilt));
        // The same subdomains as when it was written (balanced cuts).
        if let Some(c) = &st.cuts {
            eng.dom.set_cuts(c.clone()).map_err(|m| Error::input(path, format!("not a usable glassmd checkpoint: {}", m)))?;
        }
        eng.restore_exact(&local, &st.columns, &now, &hold, st.last_sort, st.step, st.time)?;
        if let Some(t) = st.potential_totals {
            eng.set_potential_totals(t);
        }
        if st.nthreads != nthreads && comm.is_root() {
            log::warn!("checkpoint written with {} thread(s) per rank, continuing with {}: same physics, not bitwise the same", st.nthreads, nthreads);
        }
    } else {
        if comm.is_root() {
            log::info!("checkpoint written on {} rank(s), continuing on {}: atoms redistributed (same physics, not bitwise the same)", st.nranks, comm.size());
        }
        // Each rank reads an equal slice of the file; the engine routes the
        // atoms to their owners.
        let (n, p, r) = (reader.natoms(), comm.size(), comm.rank());
        let (from, to) = (n * r / p, n * (r + 1) / p);
        let rows = agree(comm, reader.read(from, to - from).and_then(|rows| check_rows(path, rows, eng.masses.len(), width)))?;
        let now = eng.bx.with_shape(st.lo, st.hi, st.tilt);
        eng.restore_redistribute(&rows, &st.columns, &now, st.step, st.time)?;
    }
    if let Some((lo, hi, tilt, b, triclinic)) = &st.strain_box {
        let styles = letters(b, "strain reference boundary")?;
        if let Some(b) = st.strain_basis {
            eng.strain_basis = b;
        }
        eng.strain_box = Some(if *triclinic { crate::system::SimBox::new_triclinic(*lo, *hi, *tilt, styles) } else { crate::system::SimBox::new(*lo, *hi, styles) });
    }
    if out.root {
        if let Some(f) = &deck.thermo.file {
            let p = out.path(f);
            out.thermo_file = Some(match st.thermo_mark {
                Some(m) => ThermoFile::resume(&p, m)?,
                None => ThermoFile::create(&p, &deck.thermo.extra)?,
            });
        }
    }
    if st.trajectories.len() != out.trajectories.len() {
        return Err(Error::input(path, format!("written with {} trajectories, the deck has {}", st.trajectories.len(), out.trajectories.len())));
    }
    for (tr, &(mark, last)) in out.trajectories.iter_mut().zip(&st.trajectories) {
        tr.open(eng, Some(mark))?;
        tr.last_step = last;
    }
    if comm.is_root() {
        log::info!("restarted from {} at step {} (stage {}, step {} of it)", path.display(), st.step, st.stage + 1, st.stage_done);
    }
    Ok((st, moved))
}

/// Atoms read from a checkpoint must fit the deck: a type the potential
/// has, finite positions and velocities, ids from 1.
pub(super) fn check_rows(path: &Path, rows: Vec<f64>, ntypes: usize, width: usize) -> Result<Vec<f64>> {
    for r in rows.chunks_exact(width) {
        let (id, t) = (r[0], r[1]);
        if !(t >= 0.0 && t < ntypes as f64) {
            return Err(Error::input(path, format!("atom {} has type {}, but the deck's potential maps {} atom type(s); restart with the deck that wrote the checkpoint", id, t + 1.0, ntypes)));
        }
        if !(id >= 1.0) || r[2..8].iter().chain(&r[11..17]).any(|v| !v.is_finite()) {
            return Err(Error::input(path, format!("not a usable glassmd checkpoint: atom {} holds an invalid id, position or velocity", id)));
        }
    }
    Ok(rows)
}
