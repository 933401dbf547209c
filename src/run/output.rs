//! Where a run's output goes: thermo rows (CSV and log), trajectories
//! (H5MD, dump, extended XYZ: rows streamed to rank 0), data files,
//! checkpoints, and the periodic health check.

use super::*;

/// A per-atom trajectory of the deck's `[output]`.
pub(super) struct Trajectory {
    pub(super) every: u64,
    pub(super) fields: Fields,
    pub(super) target: PathBuf,
    /// H5MD (`None`) or a text format.
    pub(super) format: Option<TextFormat>,
    pub(super) compression: u8,
    /// Unit of H5MD forces.
    pub(super) force_unit: ForceUnit,
    /// Rank 0 only.
    pub(super) writer: Option<Box<dyn FrameWriter>>,
    /// Step of the last frame, so a step is never written twice.
    pub(super) last_step: Option<u64>,
}

impl Trajectory {
    /// Open the writer on rank 0: a new part file, or the part file of an
    /// interrupted run continued from `resume` (its [`FrameWriter::mark`]).
    pub(super) fn open(&mut self, eng: &Engine, resume: Option<u64>) -> Result<()> {
        if !eng.comm.is_root() {
            return Ok(());
        }
        let w: Box<dyn FrameWriter> = match (self.format, resume) {
            (None, None) => Box::new(H5md::create(&self.target, eng.natoms, self.fields, &eng.masses, eng.bx.boundary, eng.bx.triclinic, self.compression, self.force_unit)?),
            (None, Some(frames)) => Box::new(H5md::resume(&self.target, eng.natoms, self.fields, &eng.masses, frames, self.force_unit)?),
            (Some(format), r) => Box::new(TextTrajectory::open(&self.target, self.fields, format, r)?),
        };
        self.writer = Some(w);
        Ok(())
    }
}

/// Where a run's output goes: the thermo log and CSV (rank 0), the rows of
/// the current stage kept for analysis, the results, and trajectories.
pub(super) struct Output {
    pub(super) root: bool,
    pub(super) thermo_file: Option<ThermoFile>,
    pub(super) rows: Vec<Row>,
    pub(super) results: Results,
    pub(super) dir: PathBuf,
    pub(super) trajectories: Vec<Trajectory>,
    /// Element name of each atom type (may be empty).
    pub(super) elements: Vec<String>,
    /// Checkpoint file and interval (0: on signals only).
    pub(super) checkpoint: Option<(PathBuf, u64)>,
    /// Kinds of the deck's stages and threads per rank, for checkpoints.
    pub(super) stage_names: Vec<String>,
    pub(super) nthreads: usize,
    pub(super) stop_at: Option<u64>,
    /// Volume when the current MD stage began (checkpointed).
    pub(super) stage_volume0: Option<f64>,
    /// The box (lx, ly, lz, xy, xz, yz) when the current stage began: the
    /// reference of the `strain_<c>` thermo columns.
    pub(super) stage_box0: Option<[f64; 6]>,
    /// Per thermo extra, for `tau_alpha_*` and `diffusion_*`: the rows
    /// since the origins (time since them, F_s or MSD); empty before the
    /// origins are set and for other columns.
    pub(super) dyn_rows: Vec<Vec<[f64; 2]>>,
    /// 1-based stage running now (0: set-up), for the thermo rows.
    pub(super) stage: usize,
    /// The stress–strain record of a running deform stage (checkpointed).
    pub(super) loading: Option<super::stress_strain::Loading>,
    /// The deck's `thermo.extra` columns.
    pub(super) extras: Vec<Scalar>,
    /// Names of the deck's groups (checkpointed: a restart must agree).
    pub(super) groups: Vec<String>,
    /// The deck's `[analysis]`.
    pub(super) analysis: Option<InSitu>,
}

impl Output {
    /// Write the frames due at the current step (collective): per-atom
    /// rows stream to rank 0 in id order, one block at a time.
    pub(super) fn frames(&mut self, eng: &mut Engine) -> Result<()> {
        let step = eng.step;
        if let Some(a) = self.analysis.as_mut().filter(|a| a.due(step)) {
            a.evaluate(eng, &self.elements, self.stage, "every")?;
        }
        let due: Vec<usize> = (0..self.trajectories.len()).filter(|&k| step % self.trajectories[k].every == 0 && self.trajectories[k].last_step != Some(step)).collect();
        if due.is_empty() {
            return Ok(());
        }
        let t0 = Instant::now();
        if due.iter().any(|&k| self.trajectories[k].fields.needs_per_atom()) {
            eng.compute_per_atom();
        }
        let mut with_cutoff: Vec<&'static dyn crate::compute::PerAtomCompute> = Vec::new();
        for &k in &due {
            for c in self.trajectories[k].fields.per_atom_computes() {
                let needs = c.needs(&eng.compute_settings);
                if (needs.cutoff.is_some() || needs.alone) && !with_cutoff.iter().any(|o| o.name() == c.name()) {
                    with_cutoff.push(c);
                }
            }
        }
        if !with_cutoff.is_empty() {
            eng.prepare_computes(&with_cutoff);
        }
        let thermo = eng.thermo();
        let mut first_err = None;
        for k in due {
            let tr = &mut self.trajectories[k];
            tr.last_step = Some(step);
            let info = FrameInfo { step, time: eng.time, bx: &eng.bx, natoms: eng.natoms, thermo: &thermo, elements: &self.elements, masses: &eng.masses };
            let mut ok = match tr.writer.as_mut().map(|w| w.begin(&info)) {
                Some(Err(e)) => {
                    first_err.get_or_insert(e);
                    false
                }
                _ => true,
            };
            let f = tr.fields;
            let e: &Engine = eng;
            let res = e.stream_rows(f.width(), CHUNK_ROWS, |i, out| frame_row(e, f, i, out), |b| match tr.writer.as_mut() {
                Some(w) if ok => w.rows(b),
                _ => Ok(()),
            });
            if let Err(err) = res {
                ok = false;
                first_err.get_or_insert(err);
            }
            if let (Some(w), true) = (tr.writer.as_mut(), ok) {
                if let Err(err) = w.end() {
                    first_err.get_or_insert(err);
                }
                log::debug!("frame at step {} written to {} in {:.3} s", step, tr.target.display(), t0.elapsed().as_secs_f64());
            }
        }
        eng.timers.output += t0.elapsed().as_secs_f64();
        first_err.map_or(Ok(()), Err)
    }

    /// Has any rank been asked to stop (collective, only when the deck
    /// writes checkpoints: otherwise signals keep their default action)?
    pub(super) fn signalled(&self, eng: &Engine) -> bool {
        self.checkpoint.is_some() && eng.global_max(self.signal_flag()) > 0.0
    }

    /// 1 if this rank was asked to stop and the deck can checkpoint, else 0.
    pub(super) fn signal_flag(&self) -> f64 {
        if self.checkpoint.is_some() && SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
            1.0
        } else {
            0.0
        }
    }

    /// Every [`SIGNAL_CHECK_STEPS`] MD steps (collective, one reduction):
    /// has a rank been asked to stop, and is the run still sound? A kinetic
    /// temperature above `limits.max_temperature` or a volume that grew or
    /// shrank by `limits.max_volume_ratio` since the stage began (`v0`) is a
    /// blow-up and an error, on every rank alike.
    pub(super) fn health(&self, eng: &Engine, v0: f64) -> Result<bool> {
        let (flag, t) = eng.flag_and_temperature(self.signal_flag());
        let lim = &eng.limits;
        if !(t <= lim.max_temperature) {
            return Err(Error::runtime(format!(
                "at step {}: the temperature reached {:.4e} K, above limits.max_temperature = {} K: the system blew up; the timestep may be too large",
                eng.step, t, lim.max_temperature
            )));
        }
        let ratio = eng.bx.volume() / v0;
        if !(ratio <= lim.max_volume_ratio && ratio >= 1.0 / lim.max_volume_ratio) {
            return Err(Error::runtime(format!(
                "at step {}: the volume changed by a factor {:.4} since the stage began (limits.max_volume_ratio = {}): the box ran away; check the pressure target and pdamp",
                eng.step, ratio, lim.max_volume_ratio
            )));
        }
        Ok(flag > 0.0)
    }

    pub(super) fn checkpoint_due(&self, step: u64) -> bool {
        matches!(&self.checkpoint, Some((_, every)) if *every > 0 && step % every == 0)
    }

    /// Write the checkpoint (collective): the run is at MD step `done` of
    /// stage `stage` (0-based; `done` = 0 means the stage has not begun).
    pub(super) fn checkpoint(&mut self, eng: &mut Engine, stage: usize, done: u64, thermostat: ThermostatState, stage_rows: &[Vec<Row>], is_rows: Vec<[f64; 10]>) -> Result<()> {
        // State of the running stage's fixes, by id.
        let fixes: std::collections::BTreeMap<String, serde_json::Value> = eng.fixes.iter().filter_map(|f| Some((f.id().to_string(), f.state()?))).collect();
        let Some((path, _)) = self.checkpoint.clone() else {
            return Ok(());
        };
        let t0 = Instant::now();
        let thermo_mark = match self.thermo_file.as_mut() {
            Some(f) => Some(f.mark()?),
            None => None,
        };
        let mut trajectories = Vec::new();
        for tr in &mut self.trajectories {
            let m = match tr.writer.as_mut() {
                Some(w) => w.mark()?,
                None => 0,
            };
            trajectories.push((m, tr.last_step));
        }
        let (hold, last_sort) = eng.neighbor_state();
        let potential_totals = Some(eng.potential_totals());
        let st = RunState {
            stages: self.stage_names.clone(),
            natoms: eng.natoms,
            nranks: eng.comm.size(),
            nthreads: self.nthreads,
            step: eng.step,
            time: eng.time,
            lo: eng.bx.lo,
            hi: eng.bx.hi,
            hold_lo: hold.lo,
            hold_hi: hold.hi,
            tilt: eng.bx.tilt,
            hold_tilt: hold.tilt,
            last_sort,
            stage,
            stage_done: done,
            thermostat,
            results: self.results.values.clone(),
            rows: self.rows.clone(),
            stage_rows: stage_rows.to_vec(),
            is_rows,
            thermo_mark,
            trajectories,
            stage_volume0: self.stage_volume0,
            stage_box0: self.stage_box0,
            msd_origin_time: Some(eng.msd_origin_time),
            dyn_rows: self.dyn_rows.iter().map(|r| r.iter().map(|x| x.map(|v| v.is_finite().then_some(v))).collect()).collect(),
            loading: self.loading.clone(),
            columns: eng.atoms.cols.persistent(),
            groups: self.groups.clone(),
            fixes,
            potential_totals,
            boundary: Some(eng.bx.boundary.iter().map(|b| b.letter()).collect()),
            small: Some(eng.bx.small),
            cuts: (!eng.dom.is_uniform()).then(|| eng.dom.cuts.clone()),
            strain_basis: Some(eng.strain_basis),
            strain_box: eng.strain_box.as_ref().map(|b| (b.lo, b.hi, b.tilt, b.boundary.iter().map(|x| x.letter()).collect(), b.triclinic)),
        };
        let json = serde_json::to_string(&st).map_err(|e| Error::runtime(format!("checkpoint state: {}", e)))?;
        checkpoint::write(eng.comm, &path, &json, &eng.save_local(), eng.atoms.cols.persistent_width())?;
        if self.root {
            let mb = std::fs::metadata(&path).map(|m| m.len() as f64 / 1e6).unwrap_or(f64::NAN);
            log::info!("checkpoint at step {} (stage {}, step {} of it) written to {} ({:.1} MB) in {:.3} s", eng.step, stage + 1, done, path.display(), mb, t0.elapsed().as_secs_f64());
        }
        eng.timers.output += t0.elapsed().as_secs_f64();
        Ok(())
    }

    pub(super) fn interrupted(&self) -> Error {
        Error::Interrupted(self.checkpoint.as_ref().map(|c| c.0.clone()).unwrap_or_default())
    }

    /// End of the run: rename every part file onto its target (rank 0).
    pub(super) fn finish(&mut self) -> Result<()> {
        for tr in &mut self.trajectories {
            if let Some(w) = tr.writer.take() {
                w.finish()?;
            }
        }
        if let Some(f) = self.thermo_file.take() {
            f.commit()?;
        }
        Ok(())
    }

    /// The `strain_<c>[_<record>]` columns of a thermo row, against the box
    /// the stage began with or a record's box (lengths, and tilts where the
    /// record has them: an orthogonal box has none).
    fn fill_strains(&self, t: &mut Thermo) {
        let now = [t.lengths[0], t.lengths[1], t.lengths[2], t.tilt[0], t.tilt[1], t.tilt[2]];
        for (e, v) in self.extras.iter().zip(t.extra.iter_mut()) {
            let Scalar::Strain { component, reference } = e else { continue };
            let base = match reference {
                None => Some(self.stage_box0.unwrap_or(now)),
                Some(r) => self.results.values.get(r).and_then(|b| {
                    let get = |k: &str, default: Option<f64>| b.get(k).copied().or(default);
                    Some([get("lx", None)?, get("ly", None)?, get("lz", None)?, get("xy", Some(0.0))?, get("xz", Some(0.0))?, get("yz", Some(0.0))?])
                }),
            };
            *v = base.map_or(f64::NAN, |b| crate::compute::box_strain(*component, t.lengths, t.tilt, b));
        }
    }

    /// New origins (an MD stage's start): the rows of the τα and D columns
    /// start again from the origins themselves at t = 0 (F_s 1, MSD 0), as
    /// a trajectory's first frame.
    pub(super) fn reset_dynamics(&mut self) {
        self.dyn_rows = self
            .extras
            .iter()
            .map(|e| match e {
                Scalar::TauAlpha(_) => vec![[0.0, 1.0]],
                Scalar::Diffusion(_) => vec![[0.0, 0.0]],
                _ => Vec::new(),
            })
            .collect();
    }

    /// τα or D of extra `k` from its rows so far, as `glassmd analyze`
    /// finds them in a trajectory (NaN before the origins, and τα before
    /// F_s falls to 1/e).
    pub(super) fn dynamic_now(&self, k: usize) -> f64 {
        let Some(rows) = self.dyn_rows.get(k).filter(|r| !r.is_empty()) else { return f64::NAN };
        let (t, v): (Vec<f64>, Vec<f64>) = rows.iter().map(|x| (x[0], x[1])).unzip();
        match self.extras[k] {
            Scalar::TauAlpha(_) => super::analyze::tau_alpha(&t, &v).unwrap_or(f64::NAN),
            Scalar::Diffusion(_) => super::analyze::diffusion(&t, &v),
            _ => f64::NAN,
        }
    }

    /// The `tau_alpha_*` and `diffusion_*` columns: the engine gave F_s or
    /// the MSD against the origins (set at `time0`); the row joins the
    /// column's rows, and the column shows τα or D from them.
    fn fill_dynamics(&mut self, t: &mut Thermo, time0: f64) {
        for k in 0..self.extras.len() {
            if !matches!(self.extras[k], Scalar::TauAlpha(_) | Scalar::Diffusion(_)) {
                continue;
            }
            if let Some(rows) = self.dyn_rows.get_mut(k).filter(|r| !r.is_empty()) {
                rows.push([t.time - time0, t.extra[k]]);
            }
            t.extra[k] = self.dynamic_now(k);
        }
    }

    /// A thermo line; `target` is the stage's target temperature.
    /// Values that are not finite stop the run (every rank sees the same
    /// global values, so all stop together).
    pub(super) fn emit(&mut self, eng: &mut Engine, mut t: Thermo, target: Option<f64>) -> Result<()> {
        let t0 = Instant::now();
        t.stage = self.stage;
        t.target_temperature = target.unwrap_or(f64::NAN);
        if !self.extras.is_empty() {
            t.extra = eng.thermo_extras(&self.extras);
            self.fill_strains(&mut t);
            self.fill_dynamics(&mut t, eng.msd_origin_time);
        }
        if let Some((name, v)) = [("temperature", t.temperature), ("potential energy", t.pe), ("pressure", t.pressure)].into_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::runtime(format!("at step {}: the {} is {}: the system blew up", t.step, name, v)));
        }
        if self.root {
            // The CSV row first (flushed): a row on the screen is on disk.
            if let Some(f) = self.thermo_file.as_mut() {
                f.write(&t)?;
            }
            console::line(&t.log_line());
        }
        if let Some(l) = self.loading.as_mut().filter(|l| l.every.is_none()) {
            l.record(&t, eng.natoms);
        }
        let n = eng.natoms.max(1) as f64;
        self.rows.push(Row { temperature: target.unwrap_or(t.temperature), volume_per_atom: t.volume / n, pe_per_atom: t.pe / n });
        eng.timers.output += t0.elapsed().as_secs_f64();
        Ok(())
    }
    /// A loading stage's stress–strain table (and a cyclic stage's cycle
    /// table) and the results file (rank 0).
    pub(super) fn write_loading(&self, l: &super::stress_strain::Loading, file: &str, cycles: Option<(&str, &[super::stress_strain::Cycle])>) -> Result<()> {
        if !self.root {
            return Ok(());
        }
        crate::io::write_atomic(&self.path(file), |w| w.write_all(l.csv().as_bytes()))?;
        if let Some((f, c)) = cycles {
            crate::io::write_atomic(&self.path(f), |w| w.write_all(super::stress_strain::cycles_csv(c).as_bytes()))?;
        }
        self.results.write()
    }

    pub(super) fn path(&self, file: &str) -> PathBuf {
        resolve_in(&self.dir, file)
    }
}

/// The values of owned atom `i` for the fields `f`, in [`Fields`] order.
pub(super) fn frame_row(eng: &Engine, f: Fields, i: usize, out: &mut Vec<f64>) {
    if f.position {
        // Between reneighborings an atom may sit just outside the box; the
        // file holds the wrapped position, the same whenever the last
        // reneighboring was.
        let (mut x, mut im) = (eng.atoms.x[i], eng.atoms.image[i]);
        // Positions are finite and near the box here (the step's guard).
        let _ = eng.bx.wrap(&mut x, &mut im);
        out.extend([x[0], x[1], x[2], im[0] as f64, im[1] as f64, im[2] as f64]);
    }
    if f.velocity {
        out.extend(eng.atoms.v[i]);
    }
    if f.force {
        out.extend(eng.atoms.f[i]);
    }
    if f.pe {
        out.push(eng.per_atom.energy[i]);
    }
    if f.stress {
        out.extend(eng.stress_atom(i));
    }
    for c in f.per_atom_computes() {
        c.row(eng, i, out);
    }
}

/// A LAMMPS data file of the current state (collective): wrapped positions
/// with image flags, then velocities, each streamed to rank 0 in id order.
pub(super) fn write_data(eng: &Engine, path: &Path) -> Result<()> {
    let title = format!("LAMMPS data file written by glassmd {}, step {}", env!("CARGO_PKG_VERSION"), eng.step);
    let mut w = match eng.comm.is_root() {
        true => Some(lammps_data::DataWriter::create(path, &title, eng.natoms, eng.masses.len(), &eng.bx, &eng.masses)?),
        false => None,
    };
    let f = Fields { position: true, ..Fields::default() };
    eng.stream_rows(6, CHUNK_ROWS, |i, out| frame_row(eng, f, i, out), |b| match w.as_mut() {
        Some(w) => (0..b.len()).try_for_each(|k| {
            let r = b.row(k);
            w.atom(b.ids[k], b.types[k], [r[0], r[1], r[2]], [r[3] as i32, r[4] as i32, r[5] as i32])
        }),
        None => Ok(()),
    })?;
    if let Some(w) = w.as_mut() {
        w.begin_velocities()?;
    }
    eng.stream_rows(3, CHUNK_ROWS, |i, out| out.extend(eng.atoms.v[i]), |b| match w.as_mut() {
        Some(w) => (0..b.len()).try_for_each(|k| {
            let r = b.row(k);
            w.velocity(b.ids[k], [r[0], r[1], r[2]])
        }),
        None => Ok(()),
    })?;
    match w {
        Some(w) => w.commit(),
        None => Ok(()),
    }
}

/// A deck's `[analysis]` during the run: the static analyses of
/// `glassmd analyze` every `every` MD steps and after named stages, one
/// CSV row each (`step,time,stage,label` then the summary's flat values),
/// rewritten atomically after each row; after a named stage the values
/// also go to results.json under `analysis_<name>`.
pub(super) struct InSitu {
    pub(super) opts: super::analyze::Opts,
    pub(super) every: u64,
    pub(super) stages: Vec<String>,
    /// Also each inherent structure a quench stage samples.
    pub(super) inherent_structures: bool,
    pub(super) target: PathBuf,
    header: Vec<String>,
    rows: Vec<String>,
    last_step: Option<u64>,
}

impl InSitu {
    pub(super) fn new(spec: &crate::config::AnalysisSection, strain_cutoff: Option<f64>, target: PathBuf) -> InSitu {
        let computes = super::analyze::parse_computes(&spec.compute).unwrap_or_default();
        InSitu {
            opts: super::analyze::Opts {
                computes,
                cutoff: spec.cutoff,
                thresholds: crate::analysis::voronoi::Thresholds { face_area: spec.face_threshold, relative_face_area: spec.relative_face_threshold, edge_length: spec.edge_threshold },
                max_face_order: 6,
                bonds: spec.bonds.clone(),
                rmax: spec.rmax,
                bins: spec.bins,
                degrees: Vec::new(),
                strain_cutoff,
                voronoi_neighbors: false,
            },
            every: spec.every,
            stages: spec.stages.clone(),
            inherent_structures: spec.inherent_structures,
            target,
            header: Vec::new(),
            rows: Vec::new(),
            last_step: None,
        }
    }

    /// After a restart at `step`: keep the rows the file has up to it.
    pub(super) fn resume(&mut self, step: u64) {
        let Ok(text) = std::fs::read_to_string(&self.target) else { return };
        let mut lines = text.lines();
        if let Some(h) = lines.next() {
            self.header = h.split(',').skip(4).map(str::to_string).collect();
        }
        self.rows = lines.filter(|l| l.split(',').next().and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s <= step)).map(str::to_string).collect();
        self.last_step = Some(step);
    }

    /// Analyse the current configuration (collective) and add its row;
    /// returns the flat values (on rank 0; empty elsewhere).
    pub(super) fn evaluate(&mut self, eng: &Engine, names: &[String], stage: usize, label: &str) -> Result<std::collections::BTreeMap<String, f64>> {
        let t0 = Instant::now();
        let names: Vec<String> = if names.len() >= eng.masses.len() { names.to_vec() } else { (1..=eng.masses.len()).map(|t| t.to_string()).collect() };
        let st = super::analyze::structure(eng, &self.opts, &names)?;
        if label == "every" {
            self.last_step = Some(eng.step);
        }
        if !eng.comm.is_root() {
            return Ok(Default::default());
        }
        let vals = super::analyze::flatten(&st.summary);
        if self.header.is_empty() {
            self.header = vals.keys().cloned().collect();
        }
        let mut row = format!("{},{},{},{}", eng.step, eng.time, stage, label);
        for k in &self.header {
            row += &format!(",{}", vals.get(k).copied().unwrap_or(f64::NAN));
        }
        self.rows.push(row);
        let head = format!("step,time,stage,label,{}", self.header.join(","));
        crate::io::write_atomic(&self.target, |w| {
            writeln!(w, "{}", head)?;
            for r in &self.rows {
                writeln!(w, "{}", r)?;
            }
            Ok(())
        })?;
        log::debug!("analysis at step {} ({}) in {:.3} s", eng.step, label, t0.elapsed().as_secs_f64());
        Ok(vals)
    }

    pub(super) fn due(&self, step: u64) -> bool {
        self.every > 0 && step % self.every == 0 && self.last_step != Some(step)
    }
}

impl Output {
    /// The in-situ analysis of an inherent structure sampled along a
    /// quench at target temperature `t` (collective): a row labelled
    /// `is_<T>K`.
    pub(super) fn analysis_is(&mut self, eng: &Engine, t: f64) -> Result<()> {
        if let Some(a) = self.analysis.as_mut().filter(|a| a.inherent_structures) {
            a.evaluate(eng, &self.elements, self.stage, &format!("is_{:.0}K", t))?;
        }
        Ok(())
    }

    /// The in-situ analysis after a named stage (collective).
    pub(super) fn analysis_after(&mut self, eng: &Engine, name: &str) -> Result<()> {
        let Some(a) = self.analysis.as_mut() else { return Ok(()) };
        if !a.stages.iter().any(|s| s == name) {
            return Ok(());
        }
        let vals = a.evaluate(eng, &self.elements, self.stage, name)?;
        if self.root {
            let key = format!("analysis_{}", name);
            for (q, v) in &vals {
                self.results.set(&key, q, *v);
            }
            let show: Vec<String> = vals.iter().filter(|(q, _)| q.starts_with("ico_fraction") || q.starts_with("ico_cluster") || q.starts_with("w6_all")).map(|(q, x)| format!("{} = {:.6}", q, x)).collect();
            log::info!("analysis {}: {}", name, show.join(", "));
            self.results.write()?;
        }
        Ok(())
    }
}
