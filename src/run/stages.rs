//! Running a deck's stages: each MD stage builds its fixes (its integrator
//! on its group, then `[[stage.fix]]`), sets them up or restores them, and
//! steps with thermo, frames, checkpoints and progress; minimize, record,
//! write_data and tg stages.

use super::*;

/// Where an MD stage stands, for checkpoints: the stage, the steps of it
/// already done (a resumed stage starts after them), and the thermostat
/// and barostat as they were when the stage began (the running fixes'
/// own state is saved by id, see [`Fix::state`]).
pub(super) struct StageCtx<'a> {
    pub(super) stage: usize,
    pub(super) start: u64,
    pub(super) idle: ThermostatState,
    pub(super) stage_rows: &'a [Vec<Row>],
    /// MD steps of the stages after this one (the deck's ETA).
    pub(super) after: u64,
    /// Stop targets per pressure component (bar; xx yy zz xy xz yz),
    /// reached from the side the stage's first stress–strain row is on.
    pub(super) until: [Option<f64>; 6],
    /// `[domain] balance`: (every, threshold).
    pub(super) balance: Option<(u64, f64)>,
}

/// Steps between checks of `until_pressure_gpa`.
const UNTIL_CHECK_STEPS: u64 = 10;

/// Run `steps` MD steps with the engine's fixes, with thermo output and
/// progress. `ramp` is the (start, stop) target temperature, if the stage
/// has one;
/// `is` samples inherent structures along the way. Checkpoints are written
/// every `checkpoint.every` steps and when a signal asks for one.
#[allow(clippy::too_many_arguments)]
pub(super) fn md_stage(
    eng: &mut Engine,
    steps: u64,
    dt: f64,
    every: u64,
    label: &str,
    ramp: Option<(f64, f64)>,
    out: &mut Output,
    mut is: Option<&mut IsSampler>,
    ctx: &StageCtx,
) -> Result<()> {
    let target = |s: u64| ramp.map(|(a, b)| a + (b - a) * s as f64 / steps as f64);
    if let (Some(is), 0) = (is.as_deref_mut(), ctx.start) {
        let t = target(0).unwrap_or(f64::NAN);
        is.sample_with(eng, t, &mut |e| out.analysis_is(e, t))?;
    }
    let mut prog = Progress::new(eng.comm.is_root(), steps, label, ctx.start, ctx.after);
    // The volume the stage began with (a resumed stage has it from its checkpoint).
    let v0 = *out.stage_volume0.get_or_insert_with(|| eng.bx.volume());
    // The pressures the stage started from, for `until` (the first row of
    // its stress–strain record holds σ = −P).
    let p0: Option<[f64; 6]> = out.loading.as_ref().and_then(|l| l.rows.first()).map(|r| std::array::from_fn(|k| -r[4 + k] * crate::units::BAR_PER_GPA));
    for s in ctx.start + 1..=steps {
        eng.md_step(dt)?;
        // The thermo of this step, computed (collectively) at most once.
        let mut emitted: Option<crate::io::thermo::Thermo> = None;
        if eng.step % every == 0 || s == steps {
            let t = eng.thermo();
            out.emit(eng, t.clone(), target(s))?;
            emitted = Some(t);
        }
        if let Some(n) = out.loading.as_ref().and_then(|l| l.every) {
            if s % n == 0 || s == steps {
                let t = emitted.clone().unwrap_or_else(|| eng.thermo());
                let natoms = eng.natoms;
                if let Some(l) = out.loading.as_mut() {
                    l.record(&t, natoms);
                }
            }
        }
        if let (Some(p0), true) = (p0, ctx.until.iter().any(|u| u.is_some()) && s % UNTIL_CHECK_STEPS == 0) {
            let (t, emitted) = match emitted.clone() {
                Some(t) => (t, true),
                None => (eng.thermo(), false),
            };
            let reached = (0..6).find(|&k| ctx.until[k].is_some_and(|u| (t.ptensor[k] - u) * (p0[k] - u) <= 0.0));
            if let Some(k) = reached {
                if !emitted {
                    out.emit(eng, t.clone(), target(s))?;
                }
                if eng.comm.is_root() {
                    log::info!(
                        "{}: p{} = {:.6} GPa reached its target {} GPa at step {} of {}; the stage ends here",
                        label,
                        ["xx", "yy", "zz", "xy", "xz", "yz"][k],
                        t.ptensor[k] / crate::units::BAR_PER_GPA,
                        ctx.until[k].unwrap_or(0.0) / crate::units::BAR_PER_GPA,
                        s,
                        steps
                    );
                }
                out.frames(eng)?;
                prog.finish();
                return Ok(());
            }
        }
        if eng.fixes.iter().any(|f| f.finished(eng)) {
            // A fix's schedule ended the stage (a load-limited indenter is back at its start height).
            if emitted.is_none() {
                let t = eng.thermo();
                out.emit(eng, t, target(s))?;
            }
            if eng.comm.is_root() {
                log::info!("{}: the indenter's schedule ended at step {} of at most {}", label, s, steps);
            }
            out.frames(eng)?;
            prog.finish();
            return Ok(());
        }
        if let Some((_, threshold)) = ctx.balance.filter(|b| b.0 > 0 && eng.step % b.0 == 0) {
            // LAMMPS fix balance: the next step's reneighboring moves the
            // cuts, when the atoms per rank are off by more than the threshold.
            if crate::domain::balance::atom_imbalance(eng.atoms.nlocal, eng.comm) > threshold {
                eng.balance_pending = true;
                eng.force_reneighbor = true;
            }
        }
        out.frames(eng)?;
        if let Some(is) = is.as_deref_mut() {
            if s % is.every == 0 || s == steps {
                let t = target(s).unwrap_or(f64::NAN);
                is.sample_with(eng, t, &mut |e| out.analysis_is(e, t))?;
            }
        }
        // The reduction that makes the ranks agree on a signal runs only
        // every SIGNAL_CHECK_STEPS steps, not in every step.
        let signalled = (eng.step % SIGNAL_CHECK_STEPS == 0 && out.health(eng, v0)?) || out.stop_at == Some(eng.step);
        if signalled || out.checkpoint_due(eng.step) {
            let th = ctx.idle.clone();
            let is_rows = is.as_deref().map(|i| i.rows.clone()).unwrap_or_default();
            out.checkpoint(eng, ctx.stage, s, th, ctx.stage_rows, is_rows)?;
            if signalled {
                return Err(out.interrupted());
            }
        }
        prog.tick(s);
    }
    prog.finish();
    Ok(())
}

/// The barostat of an NPT-like stage (targets in GPa): a fresh one with
/// these targets, or, when an earlier stage left one, that one's state
/// (ω̇, chain) retargeted; a resumed stage keeps the state it restored.
#[allow(clippy::too_many_arguments)]
fn stage_barostat(targets_gpa: [Option<(f64, f64)>; 3], tilts_gpa: [Option<(f64, f64)>; 3], pdamp: f64, iso: bool, couple: Option<CoupleSpec>, deviatoric: bool, carried: &Option<Barostat>, start: u64) -> Barostat {
    let bar = |t: [Option<(f64, f64)>; 3]| t.map(|t| t.map(|(a, b)| (a * BAR_PER_GPA, b * BAR_PER_GPA)));
    let couple = match couple {
        Some(CoupleSpec::Xyz) => Couple::Xyz,
        Some(CoupleSpec::Xy) => Couple::Xy,
        Some(CoupleSpec::Yz) => Couple::Yz,
        Some(CoupleSpec::Xz) => Couple::Xz,
        _ if iso => Couple::Xyz,
        _ => Couple::None,
    };
    let fresh = Barostat::new(bar(targets_gpa), pdamp, iso, couple, deviatoric).with_tilts(bar(tilts_gpa), pdamp);
    match carried.clone() {
        Some(b) if start > 0 => b,
        Some(mut b) => {
            b.retarget(&fresh);
            b
        }
        None => fresh,
    }
}

/// The thermostat (LAMMPS `fix nvt`) or, with pressure targets, the MTK
/// barostat (`fix npt` on the barostatted components) of a loading stage
/// (`deform`, `cyclic`).
struct LoadingNh<'a> {
    pressure: &'a Option<crate::config::PressureSpec>,
    targets: [Option<(f64, f64)>; 3],
    tilts: [Option<(f64, f64)>; 3],
    couple: Option<CoupleSpec>,
    tdamp: f64,
    pdamp: f64,
    ramp: (f64, f64),
    steps: u64,
    start: u64,
    nreset: Option<u64>,
}

impl LoadingNh<'_> {
    /// The integrator fix, continuing the deck's thermostat chain and
    /// barostat; `wave` moves the barostat targets (stress control).
    fn integrator(&self, group: Sel, chain: &NoseHooverChain, baro: &Option<Barostat>, wave: Option<([f64; 3], fix::deform::Wave)>) -> Box<dyn Fix> {
        let (chain, (t_start, t_stop), steps, done) = (chain.clone(), self.ramp, self.steps, self.start);
        if self.targets.iter().chain(self.tilts.iter()).any(|t| t.is_some()) {
            let iso = matches!(self.pressure, Some(crate::config::PressureSpec::Iso(_)));
            let deviatoric = self.pressure.as_ref().is_some_and(|p| p.deviatoric());
            let mut b = stage_barostat(self.targets, self.tilts, self.pdamp, iso, self.couple, deviatoric, baro, self.start);
            if self.start == 0 {
                b.nreset = self.nreset.unwrap_or(0);
            }
            Box::new(fix::nh::Npt { id: "npt".into(), group, chain, baro: b, t_start, t_stop, tdamp: self.tdamp, steps, done, wave })
        } else {
            Box::new(fix::nh::Nvt { id: "nvt".into(), group, chain, t_start, t_stop, tdamp: self.tdamp, steps, done, carries: true })
        }
    }
}

/// Run the stages of a deck once, writing outputs into `dir`, from the
/// beginning or from checkpoint `restart`; `step` receives the last step.
pub(super) fn run_stages(comm: &dyn Comm, deck: &Deck, dir: &Path, seed_offset: u64, opts: &RunOptions, restart: Option<PathBuf>, step: &mut u64) -> Result<()> {
    let nthreads = opts.nthreads;
    let root = comm.is_root();
    let (mut eng, elements, source, groups) = build_engine(comm, deck, seed_offset, nthreads)?;
    for name in groups.names() {
        // Collective: every rank counts, rank 0 reports.
        let n = eng.group_count(groups.sel(name).unwrap_or(Sel::ALL));
        if root {
            log::info!("group {}: {} atoms", name, n);
        }
    }
    let ntypes = eng.masses.len();
    let extras: Vec<Scalar> = deck.thermo.extra.iter().map(|c| Scalar::parse(c, &groups, &elements, ntypes)).collect();
    if root {
        log::info!(
            "{} atoms, {} types, box {:?}, grid {:?}, {} rank(s) x {} thread(s), {} CPU(s) available to rank 0",
            eng.natoms,
            eng.masses.len(),
            eng.bx.lengths(),
            eng.dom.grid,
            comm.size(),
            nthreads,
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
        );
    }
    let o = &deck.output;
    let mut trajectories = Vec::new();
    for (kind, format, spec) in [("snapshot", None, &o.snapshot), ("dump", Some(TextFormat::Dump), &o.dump), ("xyz", Some(TextFormat::ExtXyz), &o.xyz)] {
        if let Some(t) = spec {
            let fields = Fields::parse(&t.fields).map_err(|m| Error::input(&deck.path, format!("output.{}: {}", kind, m)))?;
            let force_unit = t.force_unit.as_deref().and_then(ForceUnit::parse).unwrap_or(ForceUnit::EV);
            trajectories.push(Trajectory { every: t.every, fields, target: resolve_in(dir, &t.file), format, compression: t.compression, force_unit, writer: None, last_step: None });
        }
    }
    let stage_names: Vec<String> = deck.stages.iter().map(|s| s.name().to_string()).collect();
    let checkpoint = o.checkpoint.as_ref().map(|c| (resolve_in(dir, &c.file), c.every));
    if opts.stop_at.is_some() && checkpoint.is_none() {
        return Err(Error::input(&deck.path, "--stop-at-step needs [output] checkpoint = { file = .. } in the deck"));
    }
    if checkpoint.is_none() {
        release_signals();
    }
    let mut out = Output {
        root,
        thermo_file: None,
        rows: Vec::new(),
        results: Results::new(dir.join("results.json")),
        dir: dir.to_path_buf(),
        trajectories,
        elements,
        checkpoint,
        stage_names,
        nthreads,
        stop_at: opts.stop_at,
        stage_volume0: None,
        stage_box0: None,
        dyn_rows: Vec::new(),
        loading: None,
        stage: 0,
        extras,
        groups: groups.names().to_vec(),
        analysis: deck.analysis.as_ref().map(|a| super::output::InSitu::new(a, deck.compute.strain_cutoff, resolve_in(dir, &a.file))),
    };
    // One thermostat for the whole deck: its state carries across stages.
    let mut chain = NoseHooverChain::new();
    let mut baro: Option<Barostat> = None;
    // Analysis rows of each stage, for `tg` stages.
    let mut stage_rows: Vec<Vec<Row>> = Vec::new();
    let mut is_rows = Vec::new();
    // The step-0 thermo row and frame wait until the leading `velocity`
    // stages have drawn velocities, so they show the state the MD starts
    // from (as LAMMPS's step-0 row after `velocity create`).
    let mut initial_pending = false;
    // A resumed stage's fixes get their state from the checkpoint.
    let mut fix_states = std::collections::BTreeMap::new();
    let mut redistributed = false;
    let (first_stage, mut first_done) = match &restart {
        None => {
            for tr in &mut out.trajectories {
                tr.open(&eng, None)?;
            }
            if let (Some(f), true) = (&deck.thermo.file, root) {
                out.thermo_file = Some(ThermoFile::create(&out.path(f), &deck.thermo.extra)?);
            }
            eng.setup(ForceFlags::default()).map_err(|e| at_input(e, &source))?;
            super::setup::strain_reference_file(&mut eng, deck)?;
            if root {
                console::line(&Thermo::log_header());
            }
            initial_pending = true;
            (0, 0)
        }
        Some(path) => {
            let (st, moved) = resume(&mut eng, &mut out, deck, path, nthreads)?;
            redistributed = moved;
            fix_states = st.fixes.clone();
            if st.groups != out.groups {
                return Err(Error::input(path, format!("written by a deck with groups [{}], but {} has [{}]", st.groups.join(", "), deck.path.display(), out.groups.join(", "))));
            }
            chain = st.thermostat.chain;
            baro = st.thermostat.baro;
            stage_rows = st.stage_rows;
            out.rows = st.rows;
            out.results.values = st.results;
            is_rows = st.is_rows;
            out.stage_volume0 = st.stage_volume0;
            out.stage_box0 = st.stage_box0;
            out.dyn_rows = st.dyn_rows.iter().map(|r| r.iter().map(|x| x.map(|v| v.unwrap_or(f64::NAN))).collect()).collect();
            if let Some(t) = st.msd_origin_time {
                eng.msd_origin_time = t;
            }
            out.loading = st.loading;
            if let Some(a) = out.analysis.as_mut() {
                a.resume(eng.step);
            }
            if root {
                console::line(&Thermo::log_header());
            }
            (st.stage, st.stage_done)
        }
    };
    // Like LAMMPS's "Loop time", the summary covers the stages, not set-up.
    eng.timers = crate::timing::Timers::default();
    let every = deck.thermo.every;
    for (k, stage) in deck.stages.iter().enumerate().skip(first_stage) {
        let start = std::mem::take(&mut first_done);
        if initial_pending && !matches!(stage, Stage::Velocity(_)) {
            initial_row(&mut eng, &mut out)?;
            initial_pending = false;
        }
        if start == 0 && !initial_pending && out.signalled(&eng) {
            out.checkpoint(&mut eng, k, 0, ThermostatState { chain: chain.clone(), baro: baro.clone() }, &stage_rows, Vec::new())?;
            return Err(out.interrupted());
        }
        let number = deck.stage_number(k);
        let pass = match deck.origin.get(k).and_then(|o| o.inner) {
            Some((_, p, n)) => format!(", pass {} of {}", p, n),
            None => String::new(),
        };
        if root {
            if start == 0 {
                log::info!("stage {} ({}{}) from step {}", number, stage.name(), pass, eng.step);
            } else {
                log::info!("stage {} ({}{}) continued from step {} of it (step {})", number, stage.name(), pass, start, eng.step);
            }
        }
        if start == 0 {
            out.rows.clear();
        }
        out.stage = k + 1;
        if start == 0 {
            out.stage_volume0 = None;
            let (l, t) = (eng.bx.lengths(), eng.bx.tilt);
            out.stage_box0 = Some([l[0], l[1], l[2], t[0], t[1], t[2]]);
            if stage.is_md() && out.extras.iter().any(|e| matches!(e, Scalar::Msd(_) | Scalar::Fs(_) | Scalar::TauAlpha(_) | Scalar::Diffusion(_))) {
                eng.set_msd_origin();
                out.reset_dynamics();
            }
        }
        let after = deck.stages[k + 1..].iter().map(|s| s.md_steps()).sum();
        let until = match stage {
            Stage::Deform(d) => d.until_bar().map_err(|m| deck.stage_error(k, Some("until_pressure_gpa"), m))?,
            _ => [None; 6],
        };
        let ctx = StageCtx { stage: k, start, idle: ThermostatState { chain: chain.clone(), baro: baro.clone() }, stage_rows: &stage_rows, after, until, balance: deck.domain.balance.map(|b| (b.every, b.threshold)) };
        let label = format!("stage {} {}{}", number, stage.name(), pass);
        // A stage's runtime failure (a blow-up, lost atoms) is reported at
        // the stage's line in the deck.
        let res = (|| -> Result<()> {
            let mut sampler = |spec: &Option<InherentStructures>, ramp: (f64, f64), steps: u64| -> Option<IsSampler> {
                spec.as_ref().map(|s| {
                    let per = (s.every_k / (ramp.1 - ramp.0).abs() * steps as f64).round() as u64;
                    let mut is = IsSampler::new(out.path(&s.file), s.algorithm, s.ftol, s.max_iterations, per);
                    if start > 0 {
                        is.rows = std::mem::take(&mut is_rows);
                    }
                    is
                })
            };
            match stage {
                Stage::Velocity(v) => eng.create_velocities(v.temperature, v.seed.wrapping_add(seed_offset)),
                Stage::Nve(_) | Stage::Nvt(_) | Stage::Npt(_) | Stage::Langevin(_) | Stage::Deform(_) | Stage::Cyclic(_) => {
                    if let (Some(b), 0) = (deck.domain.balance, start) {
                        // Static balance at the stage's start (LAMMPS `balance
                        // thresh shift`), before its fixes compute forces.
                        let before = crate::domain::balance::atom_imbalance(eng.atoms.nlocal, eng.comm);
                        if before > b.threshold {
                            eng.balance_pending = true;
                            eng.reneighbor()?;
                            let after = crate::domain::balance::atom_imbalance(eng.atoms.nlocal, eng.comm);
                            if root {
                                log::info!("balance: atoms per rank max/mean {:.4} -> {:.4}; cuts {}", before, after, eng.dom.describe_cuts());
                            }
                        }
                    }
                    let group = groups.sel(stage.group().unwrap_or("all")).unwrap_or(Sel::ALL);
                    let id = stage.name().to_string();
                    // The stage's integrator, first among its fixes.
                    let mut fixes: Vec<Box<dyn Fix>> = Vec::new();
                    let mut pending_loading = None;
                    let (steps, dt, ramp, is_spec) = match stage {
                        Stage::Nve(nve) => {
                            fixes.push(Box::new(fix::nve::Nve { id, group }));
                            // Without steps, an indent schedule sets the length (below).
                            (nve.steps.unwrap_or(0), nve.timestep, None, &None)
                        }
                        Stage::Nvt(nvt) => {
                            let steps = nvt.steps().map_err(|m| Error::input(&deck.path, m))?;
                            let ramp = (nvt.temperature.start(), nvt.temperature.stop());
                            let chain = chain.clone();
                            fixes.push(Box::new(fix::nh::Nvt { id, group, chain, t_start: ramp.0, t_stop: ramp.1, tdamp: nvt.tdamp(), steps, done: start, carries: true }));
                            (steps, nvt.timestep, Some(ramp), &nvt.inherent_structures)
                        }
                        Stage::Npt(npt) => {
                            let steps = npt.steps().map_err(|m| Error::input(&deck.path, m))?;
                            let targets = npt.axis_targets().map_err(|m| Error::input(&deck.path, m))?;
                            let mut b = stage_barostat(targets, npt.tilt_targets(), npt.pdamp(), npt.is_iso(), npt.couple, npt.pressure_gpa.deviatoric(), &baro, start);
                            if start == 0 {
                                b.nreset = npt.nreset.unwrap_or(0);
                            }
                            let ramp = (npt.temperature.start(), npt.temperature.stop());
                            let chain = chain.clone();
                            fixes.push(Box::new(fix::nh::Npt { id, group, chain, baro: b, t_start: ramp.0, t_stop: ramp.1, tdamp: npt.tdamp(), steps, done: start, wave: None }));
                            (steps, npt.timestep, Some(ramp), &npt.inherent_structures)
                        }
                        Stage::Deform(d) => {
                            // LAMMPS: fix nvt (or fix npt on the barostatted
                            // components) + fix deform remap x (or v).
                            let steps = d.steps().map_err(|m| Error::input(&deck.path, m))?;
                            let ramp = (d.temperature.start(), d.temperature.stop());
                            let targets = d.axis_targets().map_err(|m| Error::input(&deck.path, m))?;
                            let lp = LoadingNh { pressure: &d.pressure_gpa, targets, tilts: d.tilt_targets(), couple: d.couple, tdamp: d.tdamp(), pdamp: d.pdamp(), ramp, steps, start, nreset: d.nreset };
                            fixes.push(lp.integrator(group, &chain, &baro, None));
                            let motions = d.motions(steps as f64 * d.timestep).map_err(|(key, m)| deck.stage_error(k, Some(key), m))?;
                            fixes.push(Box::new(fix::deform::Deform::new(&id, motions).remap_v(d.remap == "v")));
                            if start == 0 {
                                pending_loading = Some(super::stress_strain::Loading::start(&eng, &motions, None));
                            }
                            (steps, d.timestep, Some(ramp), &None)
                        }
                        Stage::Cyclic(c) => {
                            // Strain-controlled: fix deform with a waveform
                            // beside fix nvt/npt; stress-controlled: fix npt
                            // whose targets follow the waveform.
                            let steps = c.steps().map_err(|m| Error::input(&deck.path, m))?;
                            let ramp = (c.temperature.start(), c.temperature.stop());
                            let targets = c.axis_targets().map_err(|m| Error::input(&deck.path, m))?;
                            let lp = LoadingNh { pressure: &c.pressure_gpa, targets, tilts: c.tilt_targets(), couple: c.couple, tdamp: c.tdamp(), pdamp: c.pdamp(), ramp, steps, start, nreset: c.nreset };
                            let mut motions = c.motions().map_err(|(key, m)| deck.stage_error(k, Some(key), m))?;
                            let stress = c.stress_amplitudes().map_err(|m| deck.stage_error(k, Some("stress_amplitude_gpa"), m))?;
                            if motions.iter().any(|m| m.is_some()) {
                                fixes.push(lp.integrator(group, &chain, &baro, None));
                                fixes.push(Box::new(fix::deform::Deform::new(&id, motions)));
                            } else {
                                fixes.push(lp.integrator(group, &chain, &baro, Some((stress.map(|a| a.unwrap_or(0.0)), c.unit_wave()))));
                                // The loading axis (largest stress amplitude)
                                // is measured from the box.
                                let d = (0..3).max_by(|&a, &b| stress[a].unwrap_or(0.0).total_cmp(&stress[b].unwrap_or(0.0))).unwrap_or(2);
                                motions[d] = Some(fix::deform::Motion::Wave(c.unit_wave()));
                            }
                            if start == 0 {
                                let every = c.sample_every().map_err(|m| deck.stage_error(k, Some("samples_per_cycle"), m))?;
                                pending_loading = Some(super::stress_strain::Loading::start(&eng, &motions, Some(every)));
                            }
                            (steps, c.timestep, Some(ramp), &None)
                        }
                        Stage::Langevin(l) => {
                            let steps = l.steps().map_err(|m| Error::input(&deck.path, m))?;
                            let ramp = (l.temperature.start(), l.temperature.stop());
                            // LAMMPS: fix nve + fix langevin on the same group.
                            fixes.push(Box::new(fix::nve::Nve { id: "nve".into(), group }));
                            let seed = l.seed.wrapping_add(seed_offset);
                            fixes.push(Box::new(fix::langevin::Langevin { id, group, t_start: ramp.0, t_stop: ramp.1, damp: l.damp(), seed, steps, done: start }));
                            (steps, l.timestep, Some(ramp), &None)
                        }
                        _ => unreachable!("an MD stage"),
                    };
                    install_fixes(&mut eng, deck, k, fixes, &groups, start, &mut fix_states, &mut redistributed)?;
                    // A fix's schedule (an indenter's load, hold and unload)
                    // sets the length of a stage that gives none.
                    let steps = if steps == 0 { eng.fixes.iter().find_map(|f| f.stage_steps(dt)).unwrap_or(0) } else { steps };
                    let mut is = sampler(is_spec, ramp.unwrap_or((0.0, 0.0)), steps);
                    if let Some(l) = pending_loading {
                        out.loading = Some(l);
                    }
                    md_stage(&mut eng, steps, dt, every, &label, ramp, &mut out, is.as_mut(), &ctx)?;
                    match (stage, out.loading.take()) {
                        (Stage::Deform(d), Some(l)) => {
                            let name = d.name.clone().unwrap_or_else(|| "deform".to_string());
                            for (key, v) in l.report(d.modulus_strain, d.flow_strain) {
                                out.results.set(&name, key, v);
                            }
                            out.write_loading(&l, &d.stress_strain_file, None)?;
                        }
                        (Stage::Cyclic(c), Some(l)) => {
                            let name = c.name.clone().unwrap_or_else(|| "cyclic".to_string());
                            let cycles = l.cycles(c.period_ps);
                            for (key, v) in super::stress_strain::cycles_report(&cycles, &l) {
                                out.results.set(&name, key, v);
                            }
                            out.write_loading(&l, &c.stress_strain_file, Some((&c.cycles_file, &cycles)))?;
                        }
                        _ => {}
                    }
                    fix_outputs(&eng, &mut out, stage_name(stage))?;
                    // Thermostat and barostat carry on to the next stage.
                    let mut th = ThermostatState { chain: chain.clone(), baro: baro.clone() };
                    eng.fixes.iter().for_each(|f| f.carry(&mut th));
                    (chain, baro) = (th.chain, th.baro);
                    eng.fixes.clear();
                }
                Stage::Minimize(m) => {
                    install_fixes(&mut eng, deck, k, Vec::new(), &groups, start, &mut fix_states, &mut redistributed)?;
                    minimize_stage(&mut eng, deck, m)?;
                    let t = eng.thermo();
                    out.emit(&mut eng, t, None)?;
                    // Quasi-static: a fix with a schedule (an indenter's
                    // depth steps) moves, and the stage minimises again.
                    let mut increments = 0u64;
                    while !eng.fixes.is_empty() {
                        eng.energy_force()?;
                        eng.each_fix(|f, e| f.min_record(e));
                        let mut more = false;
                        eng.each_fix(|f, _| more |= f.quasi_static_next());
                        if !more {
                            break;
                        }
                        increments += 1;
                        minimize_stage(&mut eng, deck, m)?;
                        let t = eng.thermo();
                        out.emit(&mut eng, t, None)?;
                    }
                    if increments > 0 && root {
                        log::info!("minimize: {} quasi-static increments", increments);
                    }
                    fix_outputs(&eng, &mut out, stage_name(stage))?;
                    eng.fixes.clear();
                }
                Stage::WriteData(w) => {
                    let t0 = Instant::now();
                    write_data(&eng, &out.path(&w.file))?;
                    eng.timers.output += t0.elapsed().as_secs_f64();
                }
                Stage::Record(r) => {
                    let t = eng.thermo();
                    // The deck's extra thermo columns are recorded too
                    // (those with a value now: group temperatures).
                    let mut extra = eng.thermo_extras(&out.extras);
                    // τα and D as found so far in the thermo rows.
                    for (k, e) in out.extras.iter().enumerate() {
                        if matches!(e, Scalar::TauAlpha(_) | Scalar::Diffusion(_)) {
                            extra[k] = out.dynamic_now(k);
                        }
                    }
                    out.results.record(&r.name, &t, eng.natoms, r.relative_to.as_deref()).map_err(|m| Error::input(&deck.path, format!("stage {} (record): {}", number, m)))?;
                    for (name, x) in deck.thermo.extra.iter().zip(extra).filter(|(_, x)| x.is_finite()) {
                        out.results.set(&r.name, name, x);
                    }
                    let v = &out.results.values[&r.name];
                    if root {
                        let list: Vec<String> = v.iter().map(|(q, x)| format!("{} = {:.8}", q, x)).collect();
                        log::info!("record {}: {}", r.name, list.join(", "));
                        out.results.write()?;
                    }
                }
                Stage::ChangeBox(c) => {
                    eng.change_boundary(c.boundary)?;
                    if let Some(v) = c.vacuum_z {
                        eng.add_vacuum_z(v)?;
                    }
                    if root {
                        log::info!("boundary {} , box {:?}", eng.bx.boundary_string(), eng.bx.lengths());
                    }
                }
                Stage::Repeat(_) => unreachable!("repeat blocks are expanded when the deck is read"),
                Stage::Tg(tg) => {
                    let src = tg.stage.map(|s| s - 1).or_else(|| (0..k).rev().find(|&j| deck.stages[j].is_md()));
                    let rows = src.and_then(|j| stage_rows.get(j)).filter(|r| !r.is_empty());
                    let Some(rows) = rows else {
                        return Err(Error::input(&deck.path, format!("stage {} (tg): no earlier MD stage with thermo rows to fit", number)));
                    };
                    tg_stage(deck, k, &mut out, tg, rows, src.unwrap_or(0) + 1)?;
                }
            }
            Ok(())
        })();
        res.map_err(|e| deck.runtime_error(k, e))?;
        if let Some(name) = stage.report_name() {
            if deck.compute.strain_reference.as_deref() == Some(name) {
                eng.set_strain_reference();
                super::setup::check_strain_cutoff(&eng, deck)?;
                if root {
                    log::info!("local-strain reference: the configuration after stage {} ({})", number, name);
                }
            }
            out.analysis_after(&eng, name).map_err(|e| deck.runtime_error(k, e))?;
        }
        stage_rows.push(std::mem::take(&mut out.rows));
    }
    if initial_pending {
        initial_row(&mut eng, &mut out)?;
    }
    let timing = eng.timers.report(comm, eng.natoms, eng.atoms.nlocal, eng.balance_count);
    if root {
        out.finish()?;
    }
    if let Some((s, json)) = timing {
        println!("{}", s);
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        crate::io::write_atomic(&out.path("timing.json"), |w| writeln!(w, "{}", text))?;
    }
    *step = eng.step;
    Ok(())
}

/// Put a stage's fixes into the engine: its integrator (`fixes`) and then
/// the deck's `[[stage.fix]]`. A stage that begins now sets them up
/// (forces refreshed, `Fix::setup`); one resumed from a checkpoint gets
/// their saved state back instead (and, after a restart on another rank
/// count, forces with the fixes' changes re-applied).
#[allow(clippy::too_many_arguments)]
pub(super) fn install_fixes(
    eng: &mut Engine,
    deck: &Deck,
    k: usize,
    mut fixes: Vec<Box<dyn Fix>>,
    groups: &Groups,
    start: u64,
    saved: &mut std::collections::BTreeMap<String, serde_json::Value>,
    redistributed: &mut bool,
) -> Result<()> {
    for (j, spec) in deck.stages[k].fixes().iter().enumerate() {
        fixes.push(fix::build(spec, groups).map_err(|m| deck.stage_error(k, Some(&format!("fix[{}].group", j)), m))?);
    }
    eng.fixes = fixes;
    if start == 0 {
        return eng.setup_fixes();
    }
    let saved = std::mem::take(saved);
    for f in eng.fixes.iter_mut() {
        if let Some(v) = saved.get(f.id()) {
            f.restore(v).map_err(|m| Error::runtime(format!("the checkpoint's state of fix {} does not fit: {}", f.id(), m)))?;
        }
    }
    if std::mem::take(redistributed) {
        eng.refresh_forces();
    }
    Ok(())
}

/// The name a stage's report goes under in results.json.
fn stage_name(stage: &Stage) -> Option<&str> {
    match stage {
        Stage::Nve(v) => v.name.as_deref(),
        Stage::Minimize(m) => m.name.as_deref(),
        _ => None,
    }
}

/// Write the files and results.json values the stage's fixes report
/// (`Fix::output`), under the stage's name (else the fix's id).
fn fix_outputs(eng: &Engine, out: &mut Output, name: Option<&str>) -> Result<()> {
    for f in &eng.fixes {
        let Some(o) = f.output() else { continue };
        let key = name.unwrap_or(f.id()).to_string();
        for (q, v) in &o.results {
            out.results.set(&key, q, *v);
        }
        if out.root {
            crate::io::write_atomic(&out.path(&o.file), |w| w.write_all(o.text.as_bytes()))?;
            let list: Vec<String> = o.results.iter().map(|(q, x)| format!("{} = {:.6}", q, x)).collect();
            log::info!("{}: {}", key, list.join(", "));
            for w in &o.warnings {
                log::warn!("{}: {}", key, w);
            }
            out.results.write()?;
        }
    }
    Ok(())
}

/// The thermo row and frames of the state the run starts from (collective).
pub(super) fn initial_row(eng: &mut Engine, out: &mut Output) -> Result<()> {
    out.stage = 0;
    let t = eng.thermo();
    out.emit(eng, t, None)?;
    out.frames(eng)
}

/// A `minimize` stage, with its report (a warning if it did not converge).
pub(super) fn minimize_stage(eng: &mut Engine, deck: &Deck, m: &MinimizeStage) -> Result<()> {
    let params = MinParams {
        algorithm: m.algorithm,
        etol: m.etol,
        ftol: m.ftol,
        max_iterations: m.max_iterations,
        dmax: m.dmax,
        fire_dt: 0.001,
        box_relax: m.box_targets().map_err(|e| Error::input(&deck.path, e))?.map(|(t, couple)| BoxRelax {
            target: t.map(|p| p.map(|g| g * BAR_PER_GPA)),
            couple,
            ptol: m.ptol_gpa * BAR_PER_GPA,
            vmax: m.vmax,
        }),
    };
    let r = minimize(eng, &params)?;
    let natoms = eng.natoms as f64;
    let mut msg = format!(
        "minimize ({}): {} after {} iterations, {} force evaluations; E {:.10} -> {:.10} eV ({:.8} eV/atom); max |f| {:.3e} eV/A (ftol {:e}); last dE/E {:.3e} (etol {:e})",
        m.algorithm.name(), r.stop.describe(), r.iterations, r.evaluations, r.e_initial, r.e_final, r.e_final / natoms, r.fmax, m.ftol, r.de_rel, m.etol
    );
    if let Some((p, miss)) = r.pressure {
        let g = p.map(|b| b / BAR_PER_GPA);
        msg += &format!(
            "; box {:?} A, pressure xx/yy/zz {:.6} {:.6} {:.6} GPa, largest miss {:.2e} GPa (ptol {:e})",
            eng.bx.lengths(),
            g[0],
            g[1],
            g[2],
            miss / BAR_PER_GPA,
            m.ptol_gpa
        );
    }
    if eng.comm.is_root() {
        if r.stop.converged() {
            log::info!("{}", msg);
        } else {
            log::warn!("did not converge: {}", msg);
        }
    }
    Ok(())
}

/// A `tg` stage: two-line fits of volume and PE per atom against the target
/// temperature of stage `src` (1-based); prints and writes them (rank 0).
pub(super) fn tg_stage(deck: &Deck, k: usize, out: &mut Output, tg: &TgStage, rows: &[Row], src: usize) -> Result<()> {
    use crate::analysis::tg as fit;
    if !out.root {
        return Ok(());
    }
    let t: Vec<f64> = rows.iter().map(|r| r.temperature).collect();
    fit::check_ramp(&t).map_err(|m| deck.stage_error(k, None, format!("the fit over stage {}: {}", src, m)))?;
    let mut json = serde_json::Map::new();
    for (q, y) in [("volume", rows.iter().map(|r| r.volume_per_atom).collect::<Vec<_>>()), ("pe", rows.iter().map(|r| r.pe_per_atom).collect())] {
        let f = fit::fit(&t, &y, tg.glass.zip(tg.liquid), tg.min_points)
            .map_err(|m| deck.stage_error(k, None, format!("the fit of {} over stage {}: {}", q, src, m)))?;
        println!(
            "Tg = {:.1} K from {} per atom vs target temperature of stage {}: glass fit {:.1}-{:.1} K ({} points), liquid fit {:.1}-{:.1} K ({} points)",
            f.tg, q, src, f.glass.window[0], f.glass.window[1], f.glass.points, f.liquid.window[0], f.liquid.window[1], f.liquid.points
        );
        out.results.set("tg", q, f.tg);
        // The fit windows actually used, so a study's Tg(P) table states them.
        for (branch, w) in [("glass", f.glass.window), ("liquid", f.liquid.window)] {
            out.results.set("tg", &format!("{}_{}_from", q, branch), w[0]);
            out.results.set("tg", &format!("{}_{}_to", q, branch), w[1]);
        }
        json.insert(q.to_string(), serde_json::json!({ "tg": f.tg, "glass": f.glass, "liquid": f.liquid }));
    }
    json.insert("stage".into(), serde_json::json!(src));
    let rows_json: Vec<[f64; 3]> = rows.iter().map(|r| [r.temperature, r.volume_per_atom, r.pe_per_atom]).collect();
    json.insert("points".into(), serde_json::json!({ "columns": ["target_temperature", "volume_per_atom", "pe_per_atom"], "rows": rows_json }));
    let text = serde_json::to_string_pretty(&json).unwrap_or_default();
    write_atomic(&out.path(&tg.file), |w| writeln!(w, "{}", text))?;
    out.results.write()
}
