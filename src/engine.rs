//! The engine: one rank's atoms, box, subdomain, halo, neighbor list and
//! potential, and the phases of a step in the order CabanaMD/LAMMPS use:
//!
//! fixes' initial/post integrate → (reneighbor: wrap, shrink-wrap, migrate,
//! sort, ghosts, list | forward positions) → forces (zeroed once; density →
//! reverse ρ → F′ → forward F′ → pairs) → reverse forces → fixes' post_force,
//! final_integrate, end_of_step → thermo.
//!
//! Communication happens only between these phases, through `Comm` and
//! `Halo`. Stages of a deck (`run::stages`) drive the engine through the
//! fixes they install (`crate::fix`: integrators, thermostats, barostats,
//! forces, box deformation); minimisers drive the same phases and call the
//! fixes' `min_post_force`. To act on atoms or the box during a stage, write
//! a fix rather than a new engine method; group-aware helpers (kick, drift,
//! velocity scaling, group temperatures) and `remap_box_to` are here for
//! fixes to use.

use crate::domain::comm::Comm;
use crate::domain::halo::{exchange, Halo, HaloComm};
use crate::domain::Domain;
use crate::error::{Error, Result};
use crate::integrate;
use crate::io::lammps_data::{DataAtom, DataFile};
use crate::io::thermo::Thermo;
use crate::neighbor::{build_half, spatial_order, NeighborList};
use crate::potential::{ForceFlags, ForceInput, PerAtom, Potential};
use crate::system::{Atoms, Boundary, SimBox};
use crate::timing::Timers;
use crate::units::{BOLTZ, MV2D, MVV2E, NKTV2P};
use std::path::Path;
use std::time::Instant;

pub use crate::integrate::barostat::{Barostat, Couple};
pub use crate::integrate::nose_hoover::NoseHooverChain;
use crate::compute::Scalar;
use crate::fix::Fix;
use crate::system::group::{Members, Sel};

/// Guards against runaway runs (deck section `[limits]`). Crossing one stops
/// the run with an error on every rank instead of producing NaN or absurd
/// numbers for hours: a blow-up (timestep too large, overlapping atoms, a
/// barostat running away) is reported within a few steps.
#[derive(Clone, Copy, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// K: the largest temperature a deck may ask for, and the largest
    /// kinetic temperature an MD stage may reach (checked every 10 steps).
    pub max_temperature: f64,
    /// Å: the largest distance an atom may move in one MD step.
    pub max_step_displacement: f64,
    /// The largest factor by which the volume may grow or shrink within one
    /// stage (checked every 10 steps).
    pub max_volume_ratio: f64,
    /// GiB per rank the run may need (estimated before anything large is
    /// allocated); default: the memory available on the node divided by the
    /// ranks.
    pub max_memory_gib: Option<f64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_temperature: 1.0e5, max_step_displacement: 1.0, max_volume_ratio: 2.0, max_memory_gib: None }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct EngineOptions {
    /// Neighbor skin (Å).
    pub skin: f64,
    /// Spatially re-sort atoms at a reneighboring at least this many steps
    /// after the last sort (0: never).
    pub sort_every: u64,
    /// Chunks of the neighbor list = worker threads.
    pub nchunks: usize,
    /// Make the box triclinic even if the data file has no tilt line (the
    /// deck tilts it later; LAMMPS `change_box all triclinic`).
    pub triclinic: bool,
    /// Store the half list as varint gaps (`[neighbor] compact`): about a
    /// third of its memory, for a few percent of speed.
    pub compact_list: bool,
}

impl Default for EngineOptions {
    /// A deck's defaults (`[neighbor]` with no keys: LAMMPS metal's 2 Å skin,
    /// a sort every 1000 steps, the plain list), one chunk, orthogonal box.
    /// Code that needs one setting writes `EngineOptions { skin: 1.0,
    /// ..Default::default() }`, so a new option touches only its own users.
    fn default() -> Self {
        EngineOptions { skin: 2.0, sort_every: 1000, nchunks: 1, triclinic: false, compact_list: false }
    }
}

/// The thermostat and barostat chains of a run: they carry across stages,
/// and a checkpoint stores them.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ThermostatState {
    pub chain: NoseHooverChain,
    pub baro: Option<Barostat>,
}

/// Values per atom in [`Engine::save_local`] before the persistent columns:
/// id, type, x, v, image, x at the last list build, f.
pub const LOCAL_WIDTH: usize = 17;

/// Consecutive rows of a per-atom output in id order (see
/// [`Engine::stream_rows`]): atom ids, 1-based types and `width` values per
/// row; `offset` is the index of the first row in the whole output.
pub struct RowBlock {
    pub offset: usize,
    pub width: usize,
    pub ids: Vec<u64>,
    pub types: Vec<u32>,
    pub values: Vec<f64>,
}

impl RowBlock {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    pub fn row(&self, k: usize) -> &[f64] {
        &self.values[k * self.width..(k + 1) * self.width]
    }
}

/// Global per-step sums shared by thermo output and the barostat.
struct GlobalSums {
    mv2: f64,
    mvv: [f64; 6],
    virial: [f64; 6],
    mass: f64,
    pe: f64,
}

pub struct Engine<'c> {
    pub comm: &'c dyn Comm,
    pub atoms: Atoms,
    pub bx: SimBox,
    pub dom: Domain,
    pub halo: Halo,
    pub list: NeighborList,
    pub pot: Box<dyn Potential>,
    /// Mass per type (amu).
    pub masses: Vec<f64>,
    pub opts: EngineOptions,
    pub limits: Limits,
    /// Global atom count, checked at every reneighboring.
    pub natoms: u64,
    pub step: u64,
    pub time: f64,
    pub per_atom: PerAtom,
    /// The fixes of the running stage, called in order at each hook.
    pub fixes: Vec<Box<dyn Fix>>,
    /// This rank's potential energy and virial Σ x⊗f (xx yy zz xy xz yz).
    pe_local: f64,
    virial_local: [f64; 6],
    x_hold: Vec<[f64; 3]>,
    /// The box at the last reneighboring (for the box-change trigger).
    box_hold: SimBox,
    last_sort: Option<u64>,
    /// Set by a fix (a tilt flip) to reneighbor at the next step whatever
    /// the atoms did (LAMMPS `next_reneighbor`).
    pub force_reneighbor: bool,
    /// Balance the grid's cuts at the next reneighboring
    /// (`domain::balance`), and how many times it was done.
    pub balance_pending: bool,
    pub balance_count: u64,
    /// The cell's rate of change (x, y, z, xy, xz, yz; Å/ps) set by a
    /// `remap v` deformation for the reneighboring that follows: an atom
    /// wrapped across a periodic face takes the velocity of the image it
    /// becomes (LAMMPS `Domain::pbc` with `deform_vremap`). Used once.
    pub vremap: Option<[f64; 6]>,
    /// A fix's hook found the run cannot go on (hooks return nothing);
    /// the step reports it as an error on every rank.
    pub fault: Option<String>,
    /// Settings of the per-atom computes (the deck's `[compute]`).
    pub compute_settings: crate::compute::Settings,
    /// Values computes with a cutoff left for the frame being written, by
    /// compute name, per owned atom (see `compute::Neighborhood`).
    pub compute_values: std::collections::HashMap<&'static str, Vec<f64>>,
    /// The box of the local-strain reference (its positions are in the
    /// persistent column [`STRAIN_REFERENCE`]); `None` until one is taken.
    pub strain_box: Option<SimBox>,
    /// The reference cell's edge vectors as image vectors of the current
    /// cell (rows a, b, c): the identity until a tilt flips, which changes
    /// the current cell's basis but not the lattice (`flip_tilts`).
    pub strain_basis: [[i32; 3]; 3],
    /// The time of the `msd_origin` positions (ps).
    pub msd_origin_time: f64,
    pub timers: Timers,
}

/// Persistent column of the local-strain reference, six values per atom:
/// the atom's position in the reference box (wrapped) and the image flags
/// `m` it had then. The atom now continues that position as
/// `x + (image − m)·h` in the current cell, so the displacement follows
/// the atom through periodic crossings and box deformation, tilt included.
pub const STRAIN_REFERENCE: &str = "strain_reference";

/// Persistent column of the origins of the dynamic thermo columns
/// (`msd_*`, `fs_*`, ...): each atom's unwrapped position then.
pub const MSD_ORIGIN: &str = "msd_origin";

const IDENTITY: [[i32; 3]; 3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

/// Refuse tilts LAMMPS refuses (`Domain::set_initial_box`): a tilt whose
/// second axis is not periodic, or one beyond half the length of the axis
/// it leans along (xy, xz by lx, yz by ly) on a periodic axis.
pub fn check_tilt(bx: &SimBox, path: &Path) -> Result<()> {
    for (k, &(name, along, second)) in crate::system::TILTS.iter().enumerate() {
        let t = bx.tilt[k];
        if t != 0.0 && !bx.periodic(second) {
            return Err(Error::input(
                path,
                format!("tilt {} = {} needs a periodic {} axis (LAMMPS requires it), but the deck makes {} '{}'", name, t, ["x", "y", "z"][second], ["x", "y", "z"][second], bx.boundary[second].letter()),
            ));
        }
        if bx.periodic(along) && (t / bx.length(along)).abs() > 0.5 {
            return Err(Error::input(
                path,
                format!("tilt {} = {} is more than half the box length l{} = {} (LAMMPS refuses such a skewed box; shift it by a box length)", name, t, ["x", "y", "z"][along], bx.length(along)),
            ));
        }
    }
    Ok(())
}

impl<'c> Engine<'c> {
    /// Distribute the atoms of a data file over the ranks.
    pub fn new(
        comm: &'c dyn Comm,
        data: &DataFile,
        data_path: &Path,
        boundary: [Boundary; 3],
        pot: Box<dyn Potential>,
        masses: Vec<f64>,
        opts: EngineOptions,
    ) -> Result<Engine<'c>> {
        let mut bx = match data.tilt {
            Some(t) => SimBox::new_triclinic(data.lo, data.hi, t, boundary),
            None => SimBox::new(data.lo, data.hi, boundary),
        };
        if data.tilt.is_some() || opts.triclinic {
            bx.triclinic = true;
            check_tilt(&bx, data_path)?;
        }
        // LAMMPS read_data pads shrink-wrapped faces (Domain::set_initial_box).
        for d in 0..3 {
            if boundary[d] == Boundary::Shrink {
                bx.lo[d] -= bx.small[d];
                bx.hi[d] += bx.small[d];
            }
        }
        let dom = Domain::new(comm.rank(), comm.size(), &bx);
        let mut atoms = Atoms::default();
        let pbox = bx.decomposition_box();
        for a in &data.atoms {
            // A triclinic box places atoms by their wrapped fractional
            // coordinates (LAMMPS `Atom::data_atoms`), so the owner is
            // decided on the very numbers that were wrapped.
            let (mut x, mut image) = (bx.decomposition_coord(a.x), a.image);
            let wrapped = pbox.wrap(&mut x, &mut image);
            let place = x;
            if bx.triclinic {
                x = bx.lamda2x(x);
            }
            if !wrapped {
                let d = (0..3).find(|&d| !a.x[d].is_finite()).unwrap_or_else(|| (0..3).max_by(|&p, &q| a.x[p].abs().total_cmp(&a.x[q].abs())).unwrap_or(0));
                let what = if a.x[d].is_finite() {
                    format!("is {:.3e} box lengths from the box; its image flag would overflow", ((a.x[d] - bx.lo[d]) / bx.length(d)).abs())
                } else {
                    "is not a finite number".to_string()
                };
                return Err(Error::input(data_path, format!("atom {} at {} = {} {}", a.id, ["x", "y", "z"][d], crate::config::validate::N(a.x[d]), what)));
            }
            if !pbox.contains_nonperiodic(&place) {
                let d = (0..3).find(|&d| !bx.periodic(d) && (place[d] < pbox.lo[d] || place[d] > pbox.hi[d])).unwrap_or(0);
                return Err(Error::input(
                    data_path,
                    format!(
                        "atom {} at {} = {} lies outside the non-periodic box [{}, {}]",
                        a.id,
                        ["x", "y", "z"][d],
                        a.x[d],
                        data.lo[d],
                        data.hi[d]
                    ),
                ));
            }
            if dom.owns(&place) {
                atoms.push_owned(a.id, a.typ - 1, x, a.v, image);
            }
        }
        Ok(Engine {
            comm,
            atoms,
            bx,
            dom,
            halo: Halo::default(),
            list: NeighborList::default(),
            pot,
            masses,
            opts,
            limits: Limits::default(),
            natoms: data.atoms.len() as u64,
            step: 0,
            time: 0.0,
            per_atom: PerAtom::default(),
            fixes: Vec::new(),
            pe_local: 0.0,
            virial_local: [0.0; 6],
            x_hold: Vec::new(),
            box_hold: SimBox::new([0.0; 3], [0.0; 3], boundary),
            last_sort: None,
            force_reneighbor: false,
            balance_pending: false,
            balance_count: 0,
            vremap: None,
            fault: None,
            compute_settings: crate::compute::Settings::default(),
            compute_values: std::collections::HashMap::new(),
            strain_box: None,
            strain_basis: IDENTITY,
            msd_origin_time: 0.0,
            timers: Timers::default(),
        })
    }

    pub fn ghost_cutoff(&self) -> f64 {
        self.pot.cutoff() + self.opts.skin
    }

    /// Wrap, shrink-wrap, migrate, sort, rebuild ghosts and the neighbor list.
    pub fn reneighbor(&mut self) -> Result<()> {
        let t0 = Instant::now();
        let comm = self.comm;
        self.atoms.clear_ghosts();
        let n = self.atoms.nlocal;
        // Atoms whose position is not finite or runs off by 2^30 box
        // lengths cannot be placed; they are counted, travel on harmlessly,
        // and stop the run together on every rank below.
        let mut runaway = 0u64;
        // A triclinic box works in fractional coordinates until the atoms
        // are on their ranks (LAMMPS: x2lamda, pbc, reset_box, exchange,
        // lamda2x); `pbox` is the box those coordinates live in.
        let tri = self.bx.triclinic;
        if tri {
            self.bx.to_lamda(&mut self.atoms.x[..n]);
        }
        let pbox = self.bx.decomposition_box();
        let h_rate = self.vremap.take();
        for i in 0..n {
            let (x, im) = (&mut self.atoms.x[i], &mut self.atoms.image[i]);
            let before = *im;
            if !pbox.wrap(x, im) {
                runaway += 1;
            }
            if let (Some(h), true) = (h_rate, *im != before) {
                // Moving by −n edge vectors (image flag up by n) takes
                // the velocity of that image: v −= n · ḣ (rows a, b, c).
                let n = [(im[0] - before[0]) as f64, (im[1] - before[1]) as f64, (im[2] - before[2]) as f64];
                let v = &mut self.atoms.v[i];
                v[0] -= n[0] * h[0] + n[1] * h[3] + n[2] * h[4];
                v[1] -= n[1] * h[1] + n[2] * h[5];
                v[2] -= n[2] * h[2];
            }
        }
        // Fixed non-periodic faces: atoms beyond them are lost (LAMMPS).
        if self.bx.boundary.contains(&Boundary::Fixed) {
            let mut i = 0;
            while i < self.atoms.nlocal {
                if pbox.contains_nonperiodic(&self.atoms.x[i]) {
                    i += 1;
                } else {
                    self.atoms.swap_remove_owned(i);
                }
            }
        }
        // Shrink-wrapped faces follow the atoms, padded as LAMMPS pads them.
        if self.bx.boundary.contains(&Boundary::Shrink) {
            let mut lo = [f64::INFINITY; 3];
            let mut hi = [f64::NEG_INFINITY; 3];
            for x in &self.atoms.x[..self.atoms.nlocal] {
                for d in 0..3 {
                    lo[d] = lo[d].min(x[d]);
                    hi[d] = hi[d].max(x[d]);
                }
            }
            comm.min_f64(&mut lo);
            comm.max_f64(&mut hi);
            if tri {
                // The fractional extent as positions along each edge
                // (LAMMPS `Domain::reset_box`); atoms go back to
                // positions, the box changes, and they return to fractions
                // of the new box.
                let h = self.bx.h();
                let old = self.bx.clone();
                let mut new = self.bx.clone();
                for d in 0..3 {
                    if self.bx.boundary[d] == Boundary::Shrink {
                        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
                        a[d] = lo[d];
                        b[d] = hi[d];
                        new.lo[d] = old.lamda2x_with(&h, a)[d] - self.bx.small[d];
                        new.hi[d] = old.lamda2x_with(&h, b)[d] + self.bx.small[d];
                    }
                }
                let hi_new = new.h_inv();
                for x in &mut self.atoms.x[..self.atoms.nlocal] {
                    *x = new.x2lamda_with(&hi_new, old.lamda2x_with(&h, *x));
                }
                self.bx = new;
            } else {
                for d in 0..3 {
                    if self.bx.boundary[d] == Boundary::Shrink {
                        self.bx.lo[d] = lo[d] - self.bx.small[d];
                        self.bx.hi[d] = hi[d] + self.bx.small[d];
                    }
                }
            }
            self.dom.set_box(&self.bx);
        }
        if std::mem::take(&mut self.balance_pending) {
            // Move the grid's cuts to the atoms' quantiles (positions are
            // in decomposition coordinates here); exchange then sends the
            // atoms to their new owners.
            let cuts = crate::domain::balance::shift_cuts(&self.atoms.x[..self.atoms.nlocal], &self.dom, comm);
            self.dom.set_cuts(cuts).map_err(Error::runtime)?;
            self.balance_count += 1;
        }
        let t1 = Instant::now();
        exchange(&mut self.atoms, &self.dom, comm);
        if tri {
            self.bx.from_lamda(&mut self.atoms.x[..self.atoms.nlocal]);
        }
        let mut count = [self.atoms.nlocal as u64, runaway];
        comm.sum_u64(&mut count);
        if count[1] > 0 {
            return Err(Error::runtime(format!(
                "at step {}: {} atom(s) have positions that are not finite or are more than 2^30 box lengths away: the system blew up",
                self.step, count[1]
            )));
        }
        if count[0] != self.natoms {
            return Err(Error::runtime(format!(
                "lost atoms at step {}: {} of {} remain (atoms left a fixed boundary or moved too far in one step)",
                self.step, count[0], self.natoms
            )));
        }
        let t2 = Instant::now();
        let due = match self.last_sort {
            None => true,
            Some(s) => self.step >= s + self.opts.sort_every,
        };
        if self.opts.sort_every > 0 && due {
            let perm = spatial_order(&self.atoms.x[..self.atoms.nlocal], 0.5 * self.ghost_cutoff());
            self.atoms.permute(&perm);
            self.last_sort = Some(self.step);
        }
        self.timers.neigh += (t1 - t0).as_secs_f64() + t2.elapsed().as_secs_f64();
        self.timers.comm += (t2 - t1).as_secs_f64();
        self.build_ghosts_and_list();
        Ok(())
    }

    /// Ghosts of `atoms` (owned atoms only) out to `rc`, and the swaps
    /// that made them. A triclinic box chooses them in fractional
    /// coordinates (LAMMPS `borders` in lamda space); the owned positions
    /// are left exactly as they are, and the ghosts get theirs by the same
    /// forward communication as every later step (owner + image shift).
    fn borders(bx: &SimBox, dom: &Domain, comm: &dyn Comm, atoms: &mut Atoms, rc: f64) -> Halo {
        if !bx.triclinic {
            return Halo::borders(atoms, dom, comm, [rc; 3]);
        }
        let n = atoms.nlocal;
        let keep = atoms.x[..n].to_vec();
        bx.to_lamda(&mut atoms.x[..n]);
        let halo = Halo::borders(atoms, dom, comm, bx.ghost_cut(rc));
        atoms.x[..n].copy_from_slice(&keep);
        halo.forward_positions(comm, atoms.x.as_flattened_mut(), bx);
        halo
    }

    /// Ghosts and the neighbor list for the owned atoms as they are (the
    /// last phase of a reneighboring); remembers positions and box for the
    /// next rebuild check.
    fn build_ghosts_and_list(&mut self) {
        let t3 = Instant::now();
        let rc = self.ghost_cutoff();
        self.halo = Self::borders(&self.bx, &self.dom, self.comm, &mut self.atoms, rc);
        let t4 = Instant::now();
        build_half(&self.atoms.x, self.atoms.nlocal, rc, self.opts.nchunks, self.opts.compact_list, &mut self.list);
        self.x_hold.clear();
        self.x_hold.extend_from_slice(&self.atoms.x[..self.atoms.nlocal]);
        self.box_hold = self.bx.clone();
        self.timers.neigh += t4.elapsed().as_secs_f64();
        self.timers.comm += (t4 - t3).as_secs_f64();
    }

    /// This rank's part of a checkpoint: per owned atom, in memory order,
    /// [`LOCAL_WIDTH`] values — id, type (0-based), x, v, image, the
    /// position at the last neighbor-list build, the force (fixes' changes
    /// included) — then the persistent columns.
    pub fn save_local(&self) -> Vec<f64> {
        let w = LOCAL_WIDTH + self.atoms.cols.persistent_width();
        let mut b = Vec::with_capacity(self.atoms.nlocal * w);
        for i in 0..self.atoms.nlocal {
            let a = &self.atoms;
            b.push(a.id[i] as f64);
            b.push(a.typ[i] as f64);
            b.extend(a.x[i]);
            b.extend(a.v[i]);
            b.extend(a.image[i].map(|k| k as f64));
            b.extend(self.x_hold[i]);
            b.extend(a.f[i]);
            a.cols.save_persistent(i, &mut b);
        }
        b
    }

    /// Declare the persistent columns a checkpoint holds (name, width).
    fn declare_saved_columns(&mut self, columns: &[(String, usize)]) -> Result<()> {
        for (name, w) in columns {
            self.atoms.declare_column(name, *w, true).map_err(Error::runtime)?;
        }
        Ok(())
    }

    /// Neighbor bookkeeping a checkpoint carries: the box at the last list
    /// build and the step of the last spatial sort.
    pub fn neighbor_state(&self) -> (&SimBox, Option<u64>) {
        (&self.box_hold, self.last_sort)
    }

    /// Continue exactly where a checkpoint written on this rank count
    /// stopped (collective). `local` is this rank's [`Engine::save_local`].
    /// The ghosts and the neighbor list are rebuilt from the positions and
    /// box of the last build, in the saved atom order, so they are the very
    /// lists of the interrupted run; then the current positions are copied
    /// to the ghosts and the forces recomputed — bitwise what the
    /// uninterrupted run holds at this step.
    #[allow(clippy::too_many_arguments)]
    pub fn restore_exact(&mut self, local: &[f64], columns: &[(String, usize)], now: &SimBox, hold: &SimBox, last_sort: Option<u64>, step: u64, time: f64) -> Result<()> {
        self.atoms = Atoms::default();
        self.declare_saved_columns(columns)?;
        let width = LOCAL_WIDTH + self.atoms.cols.persistent_width();
        let mut x_now = Vec::with_capacity(local.len() / width);
        let mut f_saved = Vec::with_capacity(local.len() / width);
        for r in local.chunks_exact(width) {
            let im = [r[8] as i32, r[9] as i32, r[10] as i32];
            self.atoms.push_owned(r[0] as u64, r[1] as u32, [r[11], r[12], r[13]], [r[5], r[6], r[7]], im);
            let i = self.atoms.nlocal - 1;
            self.atoms.cols.load_persistent(i, &r[LOCAL_WIDTH..]);
            x_now.push([r[2], r[3], r[4]]);
            f_saved.push([r[14], r[15], r[16]]);
        }
        let mut count = [self.atoms.nlocal as u64];
        self.comm.sum_u64(&mut count);
        if count[0] != self.natoms {
            return Err(Error::runtime(format!("checkpoint holds {} atoms, the deck's system {}", count[0], self.natoms)));
        }
        self.set_box(hold);
        self.build_ghosts_and_list();
        self.atoms.x[..self.atoms.nlocal].copy_from_slice(&x_now);
        self.set_box(now);
        self.forward_positions();
        self.last_sort = last_sort;
        self.step = step;
        self.time = time;
        // Energy and virial of the potential come from the recomputation;
        // the forces are the saved ones, which include what the fixes did
        // to them (random Langevin forces cannot be recomputed later).
        self.compute_forces(ForceFlags::default());
        self.atoms.f[..f_saved.len()].copy_from_slice(&f_saved);
        Ok(())
    }

    /// Continue from a checkpoint written on another rank count
    /// (collective): `rows` holds this rank's share of the saved atoms (any
    /// share: an equal slice of the file); they are routed to the ranks
    /// that own them and the engine starts afresh from them (same physics,
    /// not the same round-off).
    pub fn restore_redistribute(&mut self, rows: &[f64], columns: &[(String, usize)], now: &SimBox, step: u64, time: f64) -> Result<()> {
        self.atoms = Atoms::default();
        self.declare_saved_columns(columns)?;
        let width = LOCAL_WIDTH + self.atoms.cols.persistent_width();
        self.set_box(now);
        for r in rows.chunks_exact(width) {
            let (mut x, mut im) = ([r[2], r[3], r[4]], [r[8] as i32, r[9] as i32, r[10] as i32]);
            // Positions were checked when the checkpoint was written; one
            // that cannot be wrapped is caught by the reneighboring below.
            let _ = self.bx.wrap(&mut x, &mut im);
            self.atoms.push_owned(r[0] as u64, r[1] as u32, x, [r[5], r[6], r[7]], im);
            let i = self.atoms.nlocal - 1;
            self.atoms.cols.load_persistent(i, &r[LOCAL_WIDTH..]);
        }
        if self.bx.triclinic {
            self.bx.to_lamda(&mut self.atoms.x);
        }
        crate::domain::halo::redistribute(&mut self.atoms, &self.dom, self.comm);
        if self.bx.triclinic {
            self.bx.from_lamda(&mut self.atoms.x);
        }
        self.step = step;
        self.time = time;
        self.last_sort = None;
        self.setup(ForceFlags::default())
    }

    /// Has any atom on any rank moved more than half the skin since the last
    /// build? If the box changed, the corners' displacement is taken off the
    /// skin first (LAMMPS `Neighbor::check_distance`). The same reduction
    /// (the largest displacement) guards the run: a position that is not
    /// finite, or in MD (`md`) an atom that moved more than
    /// `limits.max_step_displacement` in one step (it was within skin/2 of
    /// its last-build position a step ago), is a blow-up and an error on
    /// every rank alike.
    pub fn needs_reneighbor(&mut self, md: bool) -> Result<bool> {
        let t0 = Instant::now();
        let dist = |a: [f64; 3], b: [f64; 3]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
        let moved_box = if self.bx.triclinic {
            // The two largest corner displacements, as LAMMPS sums them.
            let (now, then) = (self.bx.corners(), self.box_hold.corners());
            let (mut d1, mut d2) = (0.0f64, 0.0f64);
            for k in 0..8 {
                let d = dist(now[k], then[k]);
                if d > d1 {
                    d1 = d;
                } else if d > d2 {
                    d2 = d;
                }
            }
            d1 + d2
        } else {
            dist(self.bx.lo, self.box_hold.lo) + dist(self.bx.hi, self.box_hold.hi)
        };
        let half = (0.5 * (self.opts.skin - moved_box)).max(0.0);
        let lim = half * half;
        let mut max_d2 = 0.0f64;
        for (x, h) in self.atoms.x[..self.atoms.nlocal].iter().zip(&self.x_hold) {
            let d = [x[0] - h[0], x[1] - h[1], x[2] - h[2]];
            let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            // NaN compares false: make it infinite so the maximum keeps it.
            max_d2 = if d2 > max_d2 { d2 } else if d2.is_nan() { f64::INFINITY } else { max_d2 };
        }
        let g = self.comm.max_scalar(max_d2);
        self.timers.comm += t0.elapsed().as_secs_f64();
        if !g.is_finite() {
            return Err(Error::runtime(format!("at step {}: atom positions are not finite: the system blew up (timestep too large?)", self.step)));
        }
        let jump = g.sqrt() - 0.5 * self.opts.skin;
        if md && jump > self.limits.max_step_displacement {
            return Err(Error::runtime(format!(
                "at step {}: an atom moved at least {:.3} A in one step (limits.max_step_displacement = {} A): the system blew up; the timestep may be too large",
                self.step, jump, self.limits.max_step_displacement
            )));
        }
        Ok(g > lim)
    }

    /// Copy owned positions to their ghosts.
    pub fn forward_positions(&mut self) {
        let t0 = Instant::now();
        self.halo.forward_positions(self.comm, self.atoms.x.as_flattened_mut(), &self.bx);
        self.timers.comm += t0.elapsed().as_secs_f64();
    }

    /// Forces, energy and virial for the current positions (ghosts current).
    pub fn compute_forces(&mut self, flags: ForceFlags) {
        let t0 = Instant::now();
        let mut comm_s = 0.0;
        let Atoms { x, typ, f, nlocal, .. } = &mut self.atoms;
        // Forces are zeroed once here; every force term adds to them.
        f.iter_mut().for_each(|v| *v = [0.0; 3]);
        let input = ForceInput { x, typ, nlocal: *nlocal, list: &self.list };
        let mut sync = HaloComm { halo: &self.halo, comm: self.comm, seconds: &mut comm_s };
        self.pe_local = self.pot.compute(&input, f, flags, &mut self.per_atom, &mut sync);
        // Virial W = Σ_all x ⊗ f over owned and ghost atoms before the reverse
        // sum (LAMMPS virial_fdotr_compute): equals Σ_pairs r_ij ⊗ f_ij.
        let mut w = [0.0; 6];
        for (xi, fi) in x.iter().zip(f.iter()) {
            w[0] += xi[0] * fi[0];
            w[1] += xi[1] * fi[1];
            w[2] += xi[2] * fi[2];
            w[3] += xi[0] * fi[1];
            w[4] += xi[0] * fi[2];
            w[5] += xi[1] * fi[2];
        }
        self.virial_local = w;
        let t1 = Instant::now();
        self.halo.reverse_sum(self.comm, f.as_flattened_mut(), 3);
        if flags.energy_atom {
            self.halo.reverse_sum(self.comm, &mut self.per_atom.energy, 1);
        }
        if flags.virial_atom {
            self.halo.reverse_sum(self.comm, self.per_atom.virial.as_flattened_mut(), 6);
        }
        let t2 = Instant::now();
        self.timers.pair += (t1 - t0).as_secs_f64() - comm_s;
        self.timers.comm += (t2 - t1).as_secs_f64() + comm_s;
    }

    /// Reneighbor and compute forces from scratch (start of a run). A
    /// configuration whose energy or forces are not finite (two atoms on top
    /// of each other) is refused, naming the closest pair.
    pub fn setup(&mut self, flags: ForceFlags) -> Result<()> {
        self.reneighbor()?;
        self.compute_forces(flags);
        self.check_finite_forces()
    }

    /// Collective: an error if any rank's energy or forces are not finite,
    /// naming the closest pair of atoms (the usual cause: two atoms at the
    /// same place, where r = 0 divides the EAM pair term φ(r) = z2r(r)/r).
    pub fn check_finite_forces(&self) -> Result<()> {
        let n = self.atoms.nlocal;
        let bad = !self.pe_local.is_finite() || self.atoms.f[..n].iter().any(|f| !(f[0].is_finite() && f[1].is_finite() && f[2].is_finite()));
        if self.comm.max_scalar(if bad { 1.0 } else { 0.0 }) == 0.0 {
            return Ok(());
        }
        // The closest listed pair on this rank, then over all ranks.
        let x = &self.atoms.x;
        let mut best = (f64::INFINITY, 0u64, 0u64);
        let mut buf = Vec::new();
        for c in &self.list.chunks {
            for i in c.start..c.end {
                for &j in c.get(i, &mut buf) {
                    let j = j as usize;
                    let r2 = (0..3).map(|d| (x[i][d] - x[j][d]).powi(2)).sum::<f64>();
                    if r2 < best.0 {
                        let (a, b) = (self.atoms.id[i], self.atoms.id[j]);
                        best = (r2, a.min(b), a.max(b));
                    }
                }
            }
        }
        let mut r2 = [best.0];
        self.comm.min_f64(&mut r2);
        let mine = best.0 == r2[0] && r2[0].is_finite();
        let mut ids = [if mine { best.1 as f64 } else { 0.0 }, if mine { best.2 as f64 } else { 0.0 }];
        self.comm.max_f64(&mut ids);
        let at = format!("the energy or forces are not finite at step {}", self.step);
        Err(Error::runtime(if r2[0].is_finite() {
            format!("{}: atoms {} and {} are {} A apart", at, ids[0] as u64, ids[1] as u64, r2[0].sqrt())
        } else {
            at
        }))
    }

    /// Call `hook` on every fix of the stage, in order. The fixes are
    /// taken out of the engine for the call, so a hook may use the engine
    /// freely (and may not add fixes).
    pub fn each_fix(&mut self, mut hook: impl FnMut(&mut dyn Fix, &mut Engine<'c>)) {
        let mut fixes = std::mem::take(&mut self.fixes);
        for f in fixes.iter_mut() {
            hook(f.as_mut(), self);
        }
        self.fixes = fixes;
    }

    /// One velocity-Verlet step, the stage's fixes acting at LAMMPS's hooks
    /// (`Verlet::run`): initial_integrate, post_integrate, [pre_exchange,
    /// reneighbor], forces, post_force, final_integrate, end_of_step.
    pub fn md_step(&mut self, dt: f64) -> Result<()> {
        self.step += 1;
        self.each_fix(|f, e| f.initial_integrate(e, dt));
        if let Some(m) = self.fault.take() {
            return Err(Error::runtime(format!("at step {}: {}", self.step, m)));
        }
        self.each_fix(|f, e| f.post_integrate(e, dt));
        self.time += dt;
        let forced = std::mem::take(&mut self.force_reneighbor);
        if self.needs_reneighbor(true)? || forced {
            self.each_fix(|f, e| f.pre_exchange(e));
            self.reneighbor()?;
        } else {
            self.forward_positions();
        }
        self.compute_forces(ForceFlags::default());
        self.each_fix(|f, e| f.post_force(e, dt));
        self.each_fix(|f, e| f.final_integrate(e, dt));
        self.each_fix(|f, e| f.end_of_step(e, dt));
        self.timers.atom_steps += self.natoms as f64 / self.comm.size() as f64;
        Ok(())
    }

    /// Forces afresh from the current positions, then what the fixes do to
    /// them (LAMMPS's set-up of a `run`): at a stage start, after a restart
    /// on another rank count, after an inherent-structure sample. From the
    /// same positions and list the potential's forces are bitwise those of
    /// the last step, so a stage that follows plain MD starts exactly where
    /// it would have.
    pub fn refresh_forces(&mut self) {
        self.compute_forces(ForceFlags::default());
        self.each_fix(|f, e| f.setup_forces(e));
    }

    /// Set up the fixes of a stage that begins now (forces refreshed, then
    /// each fix's `setup`), and check that no atom is integrated twice.
    pub fn setup_fixes(&mut self) -> Result<()> {
        self.refresh_forces();
        let mut failed = Ok(());
        self.each_fix(|f, e| {
            if let (Ok(()), Err(m)) = (&failed, f.setup(e)) {
                failed = Err(Error::runtime(format!("fix {}: {}", f.id(), m)));
            }
        });
        failed?;
        // Integrating groups must not overlap (LAMMPS warns; we refuse).
        let groups: Vec<(String, Sel)> = self.fixes.iter().filter_map(|f| f.integrates().map(|g| (f.id().to_string(), g))).collect();
        for a in 0..groups.len() {
            for b in a + 1..groups.len() {
                let (ma, mb) = (Members::new(&self.atoms.cols, groups[a].1), Members::new(&self.atoms.cols, groups[b].1));
                let both = (0..self.atoms.nlocal).filter(|&i| ma.has(i) && mb.has(i)).count();
                let both = self.comm.sum_scalar(both as f64);
                if both > 0.0 {
                    return Err(Error::runtime(format!("{} atom(s) are integrated by both fix {} and fix {}; give the fixes disjoint groups", both, groups[a].0, groups[b].0)));
                }
            }
        }
        Ok(())
    }

    /// Bring ghosts and the neighbor list up to date with the owned
    /// positions, compute forces, and return the global potential energy
    /// (collective). Used by minimisers, which move atoms themselves.
    pub fn energy_force(&mut self) -> Result<f64> {
        if self.needs_reneighbor(false)? {
            self.reneighbor()?;
        } else {
            self.forward_positions();
        }
        self.compute_forces(ForceFlags::default());
        self.each_fix(|f, e| f.min_post_force(e));
        let pe = self.comm.sum_scalar(self.pe_local + self.fix_energy());
        if !pe.is_finite() {
            return Err(Error::runtime(format!("at step {}: the potential energy is not finite ({}) during a minimisation: the configuration blew up", self.step, pe)));
        }
        Ok(pe)
    }

    /// Global sum of `flag` and the kinetic temperature, in one reduction
    /// (collective): the periodic signal and blow-up check of an MD stage.
    pub fn flag_and_temperature(&self, flag: f64) -> (f64, f64) {
        let mut s = [flag, 0.0];
        for i in 0..self.atoms.nlocal {
            let v = self.atoms.v[i];
            s[1] += (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) * self.masses[self.atoms.typ[i] as usize];
        }
        self.comm.sum_f64(&mut s);
        (s[0], s[1] * (MVV2E / (self.tdof() * BOLTZ)))
    }

    /// Global potential energy of the last force computation, fixes'
    /// energies included (collective).
    pub fn potential_energy(&self) -> f64 {
        self.comm.sum_scalar(self.pe_local + self.fix_energy())
    }

    /// The potential's energy and virial of the last force computation,
    /// summed over ranks (collective): what a checkpoint keeps, because
    /// positions may have moved since the forces were computed (a box
    /// deformed at the end of a step) and a restart must see the same sums.
    pub fn potential_totals(&self) -> [f64; 7] {
        let mut t = [0.0; 7];
        t[0] = self.pe_local;
        t[1..].copy_from_slice(&self.virial_local);
        self.comm.sum_f64(&mut t);
        t
    }

    /// Put saved totals back (rank 0 holds them whole, the others zero,
    /// so every later sum over ranks gives them bitwise).
    pub fn set_potential_totals(&mut self, t: [f64; 7]) {
        let root = self.comm.is_root();
        self.pe_local = if root { t[0] } else { 0.0 };
        for k in 0..6 {
            self.virial_local[k] = if root { t[1 + k] } else { 0.0 };
        }
    }

    /// This rank's share of the fixes' energies.
    fn fix_energy(&self) -> f64 {
        self.fixes.iter().map(|f| f.energy(self)).sum()
    }

    /// Global virial W = Σ r ⊗ f of the last force computation, eV
    /// (xx, yy, zz, xy, xz, yz; collective).
    pub fn global_virial(&self) -> [f64; 6] {
        let mut w = self.virial_local;
        self.comm.sum_f64(&mut w);
        w
    }

    /// Replace the box (same boundaries), e.g. to return to a saved one.
    /// Owned atoms are not moved.
    /// Boundary styles and shrink padding as a checkpoint recorded them
    /// (before its atoms are restored; no atom moves).
    pub fn set_boundary(&mut self, boundary: [Boundary; 3], small: [f64; 3]) {
        self.bx.boundary = boundary;
        self.bx.small = small;
        self.box_hold.boundary = boundary;
        self.dom.periodic = boundary.map(|b| b.is_periodic());
        self.dom.set_box(&self.bx);
    }

    /// LAMMPS `change_box all boundary ...` (collective): atoms are first
    /// wrapped into the current box; along an axis that stops being
    /// periodic their image flags are reset to 0 (as LAMMPS
    /// `Domain::set_boundary` resets them) and its shrink padding is
    /// recomputed from the current length (LAMMPS `set_initial_box`); the
    /// atoms are then redistributed, an `s` axis shrink-wrapped to them,
    /// and ghosts, neighbor list and forces rebuilt for the new periodicity.
    pub fn change_boundary(&mut self, boundary: [Boundary; 3]) -> Result<()> {
        // LAMMPS: a tilt needs its second axis periodic.
        if let Some(t) = (0..3).find(|&t| self.bx.tilt[t] != 0.0 && !boundary[crate::system::TILTS[t].2].is_periodic()) {
            let (name, _, second) = crate::system::TILTS[t];
            return Err(Error::runtime(format!("the box has tilt {} = {}, which needs a periodic {} axis; boundary {} is refused", name, self.bx.tilt[t], ["x", "y", "z"][second], boundary.iter().map(|b| b.letter()).collect::<String>())));
        }
        self.reneighbor()?;
        let mut small = self.bx.small;
        for d in 0..3 {
            if boundary[d] != self.bx.boundary[d] {
                small[d] = crate::system::SHRINK_SMALL * self.bx.length(d);
                if !boundary[d].is_periodic() {
                    // Positions kept as unwrapped (`msd_origin`) or as
                    // image flags (`strain_reference`) move with the
                    // reset, so displacements stay continuous.
                    let mut one = [0.0; 3];
                    one[d] = 1.0;
                    let hd = self.bx.image_shift(one);
                    let (msd, strain) = (self.atoms.cols.find(MSD_ORIGIN), self.atoms.cols.find(STRAIN_REFERENCE));
                    for i in 0..self.atoms.nlocal {
                        let k = std::mem::take(&mut self.atoms.image[i][d]) as f64;
                        if let Some(c) = msd {
                            let u = self.atoms.col_mut(c, i);
                            for e in 0..3 {
                                u[e] -= k * hd[e];
                            }
                        }
                        if let Some(c) = strain {
                            self.atoms.col_mut(c, i)[3 + d] -= k;
                        }
                    }
                }
            }
        }
        self.set_boundary(boundary, small);
        self.reneighbor()?;
        self.refresh_forces();
        Ok(())
    }

    /// Raise the top face by `v` Å (empty space above a slab; collective).
    pub fn add_vacuum_z(&mut self, v: f64) -> Result<()> {
        let mut bx = self.bx.clone();
        bx.hi[2] += v;
        self.set_box(&bx);
        self.reneighbor()?;
        self.refresh_forces();
        Ok(())
    }

    /// The origins of the `msd_*`/`fs_*` thermo columns: every owned
    /// atom's unwrapped position now (persistent column `msd_origin`).
    pub fn set_msd_origin(&mut self) {
        let c = match self.atoms.cols.find(MSD_ORIGIN) {
            Some(c) => c,
            None => self.atoms.declare_column(MSD_ORIGIN, 3, true).expect("msd_origin column"),
        };
        for i in 0..self.atoms.nlocal {
            let u = self.atoms.unwrapped(i, &self.bx);
            self.atoms.col_mut(c, i).copy_from_slice(&u);
        }
        self.msd_origin_time = self.time;
    }

    pub fn set_box(&mut self, bx: &SimBox) {
        self.bx.lo = bx.lo;
        self.bx.hi = bx.hi;
        self.bx.tilt = bx.tilt;
        self.dom.set_box(&self.bx);
    }

    /// Global sum over ranks (collective).
    pub fn global_sum(&self, v: f64) -> f64 {
        self.comm.sum_scalar(v)
    }

    /// Global maximum over ranks (collective).
    pub fn global_max(&self, v: f64) -> f64 {
        self.comm.max_scalar(v)
    }

    /// Half kick v += dt/2 · f/m of owned atoms (LAMMPS `nve_v`).
    pub fn kick(&mut self, dt: f64) {
        let n = self.atoms.nlocal;
        let Atoms { v, f, typ, .. } = &mut self.atoms;
        integrate::kick(v, &f[..n], &typ[..n], &self.masses, dt);
    }

    /// Drift x += dt · v of owned atoms (LAMMPS `nve_x`).
    pub fn drift(&mut self, dt: f64) {
        let n = self.atoms.nlocal;
        let Atoms { x, v, .. } = &mut self.atoms;
        integrate::drift(&mut x[..n], v, dt);
    }

    /// Half kick of the owned atoms of a group.
    pub fn kick_group(&mut self, dt: f64, g: Sel) {
        if g.is_all() {
            return self.kick(dt);
        }
        let n = self.atoms.nlocal;
        let Atoms { v, f, typ, cols, .. } = &mut self.atoms;
        let m = Members::new(cols, g);
        for i in (0..n).filter(|&i| m.has(i)) {
            integrate::kick(&mut v[i..i + 1], &f[i..i + 1], &typ[i..i + 1], &self.masses, dt);
        }
    }

    /// Drift of the owned atoms of a group.
    pub fn drift_group(&mut self, dt: f64, g: Sel) {
        if g.is_all() {
            return self.drift(dt);
        }
        let n = self.atoms.nlocal;
        let Atoms { x, v, cols, .. } = &mut self.atoms;
        let m = Members::new(cols, g);
        for i in (0..n).filter(|&i| m.has(i)) {
            integrate::drift(&mut x[i..i + 1], &v[i..i + 1], dt);
        }
    }

    /// Apply `op` to the velocity of every owned atom of a group.
    pub fn for_group_velocities(&mut self, g: Sel, mut op: impl FnMut(&mut [f64; 3])) {
        let n = self.atoms.nlocal;
        let Atoms { v, cols, .. } = &mut self.atoms;
        let m = Members::new(cols, g);
        for (i, vi) in v[..n].iter_mut().enumerate() {
            if m.has(i) {
                op(vi);
            }
        }
    }

    /// Multiply the velocities of a group by `factor`.
    pub fn scale_velocities_group(&mut self, factor: f64, g: Sel) {
        if g.is_all() {
            return self.scale_velocities(factor);
        }
        self.for_group_velocities(g, |v| {
            v[0] *= factor;
            v[1] *= factor;
            v[2] *= factor;
        });
    }

    /// Σ m v² and the atom count of a group on this rank.
    fn group_mv2(&self, g: Sel) -> [f64; 2] {
        let m = Members::new(&self.atoms.cols, g);
        let mut s = [0.0; 2];
        for i in (0..self.atoms.nlocal).filter(|&i| m.has(i)) {
            let v = self.atoms.v[i];
            s[0] += (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) * self.masses[self.atoms.typ[i] as usize];
            s[1] += 1.0;
        }
        s
    }

    /// Atoms in a group (collective).
    pub fn group_count(&self, g: Sel) -> f64 {
        if g.is_all() {
            return self.natoms as f64;
        }
        self.comm.sum_scalar(self.group_mv2(g)[1])
    }

    /// Degrees of freedom of a group's temperature, 3N_g − 3 as LAMMPS
    /// `compute temp` on the group (collective).
    pub fn tdof_group(&self, g: Sel) -> f64 {
        if g.is_all() {
            return self.tdof();
        }
        (3.0 * self.group_count(g) - 3.0).max(1.0)
    }

    /// Kinetic temperature of a group, as LAMMPS `compute temp` on it:
    /// Σ_g m v² · mvv2e / ((3N_g − 3) k_B) (collective; 0 for a group of
    /// one atom or none).
    pub fn temperature_group(&self, g: Sel) -> f64 {
        if g.is_all() {
            return self.temperature();
        }
        let mut s = self.group_mv2(g);
        self.comm.sum_f64(&mut s);
        self.group_temperature_from(g, s)
    }

    /// Temperature of a group from its global [Σ m v², N]: 3N − 3 degrees
    /// of freedom (the whole system's `tdof` for `all`); 0 without any.
    fn group_temperature_from(&self, g: Sel, s: [f64; 2]) -> f64 {
        let dof = if g.is_all() { self.tdof() } else { 3.0 * s[1] - 3.0 };
        if dof > 0.0 {
            s[0] * (MVV2E / (dof * BOLTZ))
        } else {
            0.0
        }
    }

    /// Global sums over owned atoms (collective, one reduction): Σ m v²,
    /// kinetic tensor m v⊗v (eV), virial (eV), potential energy, mass.
    fn global_sums(&self) -> GlobalSums {
        let mut s = [0.0f64; 15];
        for i in 0..self.atoms.nlocal {
            let m = self.masses[self.atoms.typ[i] as usize];
            let v = self.atoms.v[i];
            s[0] += (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) * m;
            s[1] += m * v[0] * v[0];
            s[2] += m * v[1] * v[1];
            s[3] += m * v[2] * v[2];
            s[4] += m * v[0] * v[1];
            s[5] += m * v[0] * v[2];
            s[6] += m * v[1] * v[2];
            s[13] += m;
        }
        s[7..13].copy_from_slice(&self.virial_local);
        for f in &self.fixes {
            if let Some(w) = f.virial(self) {
                for k in 0..6 {
                    s[7 + k] += w[k];
                }
            }
        }
        s[14] = self.pe_local + self.fix_energy();
        self.comm.sum_f64(&mut s);
        let mut mvv = [0.0; 6];
        let mut virial = [0.0; 6];
        for k in 0..6 {
            mvv[k] = s[1 + k] * MVV2E;
            virial[k] = s[7 + k];
        }
        GlobalSums { mv2: s[0], mvv, virial, mass: s[13], pe: s[14] }
    }

    /// Temperature, kinetic tensor, scalar pressure and pressure tensor (bar)
    /// from global sums, in LAMMPS's `compute temp` / `compute pressure`
    /// operation order.
    fn pressure_from(&self, g: &GlobalSums) -> (f64, [f64; 6], f64, [f64; 6]) {
        let t = g.mv2 * (MVV2E / (self.tdof() * BOLTZ));
        let inv_volume = 1.0 / self.bx.volume();
        let w = &g.virial;
        let scalar = (self.tdof() * BOLTZ * t + w[0] + w[1] + w[2]) / 3.0 * inv_volume * NKTV2P;
        let mut tensor = [0.0; 6];
        for k in 0..6 {
            tensor[k] = (g.mvv[k] + w[k]) * inv_volume * NKTV2P;
        }
        (t, g.mvv, scalar, tensor)
    }

    /// Global temperature, kinetic tensor (eV), scalar pressure and pressure
    /// tensor (bar) (collective).
    pub fn pressure(&self) -> (f64, [f64; 6], f64, [f64; 6]) {
        self.pressure_from(&self.global_sums())
    }

    /// Dilate the box about `fixedpoint` by `factor` per axis, moving owned
    /// atoms with it (see [`Engine::remap_box_to`]): the affine map
    /// x' = c + diag(factor) (x − c), a pure normal strain. On a triclinic
    /// cell every edge vector's components scale, so xy and xz scale with
    /// x and yz with y, and the work of the strain along axis d is the
    /// normal stress σ_dd alone (what box relaxation of the normal
    /// components needs). (The barostat's own `remap_box` follows LAMMPS
    /// `fix npt` instead, which scales tilts with their second axis.)
    pub fn dilate(&mut self, fixedpoint: [f64; 3], factor: [f64; 3]) {
        let (mut lo, mut hi, mut tilt) = (self.bx.lo, self.bx.hi, self.bx.tilt);
        for d in 0..3 {
            if factor[d] != 1.0 {
                lo[d] = (lo[d] - fixedpoint[d]) * factor[d] + fixedpoint[d];
                hi[d] = (hi[d] - fixedpoint[d]) * factor[d] + fixedpoint[d];
            }
        }
        if self.bx.triclinic {
            for (k, &(_, along, _)) in crate::system::TILTS.iter().enumerate() {
                tilt[k] *= factor[along];
            }
        }
        let new = self.bx.with_shape(lo, hi, tilt);
        self.remap_box_to(&new);
    }

    /// The one affine box change: give the box new bounds and tilts and
    /// carry the owned atoms with it through fractional coordinates, in
    /// LAMMPS's operation order (`x2lamda` in the old box, new box,
    /// `lamda2x`). Boundaries and the triclinic flag stay. Ghosts follow at
    /// the next forward communication.
    pub fn remap_box_to(&mut self, new: &SimBox) {
        let next = self.bx.with_shape(new.lo, new.hi, new.tilt);
        let old = std::mem::replace(&mut self.bx, next);
        if old.triclinic {
            let (hi, h) = (old.h_inv(), self.bx.h());
            for x in &mut self.atoms.x[..self.atoms.nlocal] {
                *x = self.bx.lamda2x_with(&h, old.x2lamda_with(&hi, *x));
            }
        } else {
            let (lo0, len0) = (old.lo, old.lengths());
            let h_inv = [1.0 / len0[0], 1.0 / len0[1], 1.0 / len0[2]];
            let len = self.bx.lengths();
            for x in &mut self.atoms.x[..self.atoms.nlocal] {
                for d in 0..3 {
                    let lamda = h_inv[d] * (x[d] - lo0[d]);
                    x[d] = len[d] * lamda + self.bx.lo[d];
                }
            }
        }
        self.dom.set_box(&self.bx);
    }

    /// Give the box new bounds and tilts without moving any atom (LAMMPS
    /// `fix deform ... remap v`): the periodic images, and so the ghosts at
    /// the next forward communication, move with the cell.
    pub fn reshape_box(&mut self, new: &SimBox) {
        self.bx = self.bx.with_shape(new.lo, new.hi, new.tilt);
        self.dom.set_box(&self.bx);
    }

    /// Flip the tilts by whole box lengths (a fix's `pre_exchange`; LAMMPS
    /// `FixDeform`/`FixNH::pre_exchange`): the lattice of periodic images is
    /// the same, so no atom moves; image flags change so that unwrapped
    /// positions stay put (`Domain::image_flip`), and the reneighboring
    /// that follows wraps the atoms into the new cell.
    pub fn flip_tilts(&mut self, tilt: [f64; 3], flips: [i32; 3]) {
        self.bx.tilt = tilt;
        self.dom.set_box(&self.bx);
        for im in &mut self.atoms.image[..self.atoms.nlocal] {
            SimBox::image_flip(im, flips[0], flips[1], flips[2]);
        }
        // The strain reference's images and basis are lattice vectors in
        // the cell's basis too.
        if let Some(c) = self.atoms.cols.find(STRAIN_REFERENCE) {
            for i in 0..self.atoms.nlocal {
                let r = self.atoms.col_mut(c, i);
                let mut m = [r[3] as i32, r[4] as i32, r[5] as i32];
                SimBox::image_flip(&mut m, flips[0], flips[1], flips[2]);
                for d in 0..3 {
                    r[3 + d] = m[d] as f64;
                }
            }
        }
        for b in &mut self.strain_basis {
            SimBox::image_flip(b, flips[0], flips[1], flips[2]);
        }
    }

    /// Degrees of freedom of the temperature: 3N − 3 (momentum conserved).
    pub fn tdof(&self) -> f64 {
        (3.0 * self.natoms as f64 - 3.0).max(1.0)
    }

    /// Kinetic temperature (collective), computed as LAMMPS `compute temp`:
    /// Σ m v² · (mvv2e / (N_f k_B)).
    pub fn temperature(&self) -> f64 {
        self.flag_and_temperature(0.0).1
    }

    /// Scale the box about its centre by `factor` per axis, moving owned
    /// atoms affinely with it. Ghosts follow at the next forward
    /// communication; a reneighboring happens when the box and atoms have
    /// moved too far.
    pub fn remap_box(&mut self, factor: [f64; 3]) {
        let c = [0.5 * (self.bx.lo[0] + self.bx.hi[0]), 0.5 * (self.bx.lo[1] + self.bx.hi[1]), 0.5 * (self.bx.lo[2] + self.bx.hi[2])];
        self.dilate(c, factor);
    }

    /// Multiply every velocity by `factor`.
    pub fn scale_velocities(&mut self, factor: f64) {
        for v in &mut self.atoms.v {
            v[0] *= factor;
            v[1] *= factor;
            v[2] *= factor;
        }
    }

    /// Global thermodynamic state (collective).
    pub fn thermo(&self) -> Thermo {
        let g = self.global_sums();
        let (temperature, _, pressure, ptensor) = self.pressure_from(&g);
        let ke = 0.5 * g.mv2 * MVV2E;
        let volume = self.bx.volume();
        Thermo {
            step: self.step,
            time: self.time,
            temperature,
            pe: g.pe,
            ke,
            etotal: g.pe + ke,
            pressure,
            ptensor,
            volume,
            density: g.mass * MV2D / volume,
            lengths: self.bx.lengths(),
            tilt: self.bx.tilt,
            stage: 0,
            target_temperature: f64::NAN,
            extra: Vec::new(),
        }
    }

    /// Values of extra thermo columns (collective, one reduction): group
    /// temperatures and the values fixes offer (NaN when no fix of the
    /// running stage offers it).
    pub fn thermo_extras(&self, extras: &[Scalar]) -> Vec<f64> {
        let mut local = Vec::new();
        for e in extras {
            match e {
                Scalar::Temp(g) => local.extend(self.group_mv2(*g)),
                Scalar::Fix(name) => {
                    let v = self.fixes.iter().find_map(|f| {
                        let k = f.thermo_names().iter().position(|n| format!("{}_{}", f.id(), n) == *name)?;
                        f.thermo_local(self).get(k).copied()
                    });
                    local.push(v.unwrap_or(f64::NAN));
                }
                // The run's output fills box strains in (it keeps the boxes).
                Scalar::Strain { .. } => {}
                Scalar::Msd(t) | Scalar::Fs(t) | Scalar::TauAlpha(t) | Scalar::Diffusion(t) => {
                    // τα columns carry F_s, diffusion columns the MSD; the
                    // run's output turns them into τα and D.
                    let fs = matches!(e, Scalar::Fs(_) | Scalar::TauAlpha(_));
                    let q = self.compute_settings.fs_q.unwrap_or(f64::NAN);
                    let (mut sum, mut count) = (0.0, 0.0);
                    if let Some(c) = self.atoms.cols.find(MSD_ORIGIN) {
                        for i in 0..self.atoms.nlocal {
                            if t.is_some_and(|t| t != self.atoms.typ[i]) {
                                continue;
                            }
                            let (u, o) = (self.atoms.unwrapped(i, &self.bx), self.atoms.col(c, i));
                            let d2 = (u[0] - o[0]).powi(2) + (u[1] - o[1]).powi(2) + (u[2] - o[2]).powi(2);
                            sum += if fs {
                                let qr = q * d2.sqrt();
                                if qr > 0.0 { qr.sin() / qr } else { 1.0 }
                            } else {
                                d2
                            };
                            count += 1.0;
                        }
                    }
                    local.extend([sum, count]);
                }
            }
        }
        self.comm.sum_f64(&mut local);
        let mut out = Vec::with_capacity(extras.len());
        let mut k = 0;
        for e in extras {
            match e {
                Scalar::Temp(g) => {
                    out.push(self.group_temperature_from(*g, [local[k], local[k + 1]]));
                    k += 2;
                }
                Scalar::Fix(_) => {
                    out.push(local[k]);
                    k += 1;
                }
                Scalar::Strain { .. } => out.push(f64::NAN),
                Scalar::Msd(_) | Scalar::Fs(_) | Scalar::TauAlpha(_) | Scalar::Diffusion(_) => {
                    out.push(if local[k + 1] > 0.0 { local[k] / local[k + 1] } else { f64::NAN });
                    k += 2;
                }
            }
        }
        out
    }

    /// Maxwell–Boltzmann velocities at `temperature` from `seed`, zero total
    /// momentum, rescaled to exactly `temperature` (3N − 3 degrees of freedom).
    pub fn create_velocities(&mut self, temperature: f64, seed: u64) {
        let n = self.atoms.nlocal;
        let (typ, masses) = (&self.atoms.typ, &self.masses);
        let mut v = integrate::velocity::draw(&self.atoms.id[..n], |i| masses[typ[i] as usize], temperature, seed);
        let mut p = [0.0; 4];
        for i in 0..n {
            let m = masses[typ[i] as usize];
            for d in 0..3 {
                p[d] += m * v[i][d];
            }
            p[3] += m;
        }
        self.comm.sum_f64(&mut p);
        let mut msum = 0.0;
        for i in 0..n {
            for d in 0..3 {
                v[i][d] -= p[d] / p[3];
            }
            let m = masses[typ[i] as usize];
            msum += m * (v[i][0] * v[i][0] + v[i][1] * v[i][1] + v[i][2] * v[i][2]);
        }
        let msum = self.comm.sum_scalar(msum);
        let t_now = msum * (MVV2E / (self.tdof() * BOLTZ));
        let scale = if t_now > 0.0 { (temperature / t_now).sqrt() } else { 0.0 };
        for (dst, src) in self.atoms.v.iter_mut().zip(v) {
            *dst = [src[0] * scale, src[1] * scale, src[2] * scale];
        }
    }

    /// Gather owned per-atom rows on rank 0, sorted by id (collective).
    /// `row(i)` gives the values of owned atom `i`. Holds the whole system
    /// on rank 0: for small outputs; trajectories use [`Engine::stream_rows`].
    pub fn gather_rows(&self, width: usize, row: impl Fn(usize) -> Vec<f64>) -> Option<Vec<(u64, u32, Vec<f64>)>> {
        let mut rows = Vec::new();
        let res = self.stream_rows(width, usize::MAX, |i, out| out.extend(row(i)), |b| {
            rows.extend((0..b.len()).map(|k| (b.ids[k], b.types[k], b.row(k).to_vec())));
            Ok(())
        });
        (res.is_ok() && self.comm.is_root()).then_some(rows)
    }

    /// Stream owned per-atom rows to rank 0 in atom-id order, in blocks of
    /// ids `[lo, lo + block)` (collective). No rank ever holds more than one
    /// block of other ranks' rows, so a 1.28-million-atom snapshot needs
    /// only a block's worth of memory on rank 0. `row(i, out)` appends the
    /// `width` values of owned atom `i`; `sink` receives consecutive blocks
    /// on rank 0 (row offsets in the file are the running count). An error
    /// from `sink` stops the writing but not the collective loop, so the
    /// ranks stay in step; it is returned on rank 0.
    pub fn stream_rows(
        &self,
        width: usize,
        block: usize,
        row: impl Fn(usize, &mut Vec<f64>),
        mut sink: impl FnMut(&RowBlock) -> Result<()>,
    ) -> Result<()> {
        let n = self.atoms.nlocal;
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_unstable_by_key(|&i| self.atoms.id[i]);
        let block = block.max(1) as f64;
        let (mut next, mut offset, mut first_err) = (0usize, 0usize, None);
        let mut buf = Vec::new();
        loop {
            // The lowest id not yet sent on any rank starts the next block
            // (ids are exact in f64 below 2^53).
            let mine = order.get(next).map_or(f64::INFINITY, |&i| self.atoms.id[i] as f64);
            let mut lo = [mine];
            self.comm.min_f64(&mut lo);
            if lo[0].is_infinite() {
                break;
            }
            let hi = lo[0] + block;
            buf.clear();
            while let Some(&i) = order.get(next) {
                if self.atoms.id[i] as f64 >= hi {
                    break;
                }
                buf.push(self.atoms.id[i] as f64);
                buf.push(self.atoms.typ[i] as f64 + 1.0);
                let before = buf.len();
                row(i, &mut buf);
                debug_assert_eq!(buf.len() - before, width);
                next += 1;
            }
            if let Some(parts) = self.comm.gather_f64(&buf) {
                let mut rows: Vec<&[f64]> = parts.iter().flat_map(|p| p.chunks_exact(width + 2)).collect();
                rows.sort_unstable_by(|a, b| a[0].total_cmp(&b[0]));
                let b = RowBlock {
                    offset,
                    width,
                    ids: rows.iter().map(|r| r[0] as u64).collect(),
                    types: rows.iter().map(|r| r[1] as u32).collect(),
                    values: rows.iter().flat_map(|r| r[2..].iter().copied()).collect(),
                };
                offset += rows.len();
                if first_err.is_none() {
                    if let Err(e) = sink(&b) {
                        first_err = Some(e);
                    }
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Per-atom stress of owned atom `i` as LAMMPS `compute stress/atom`:
    /// −(m v⊗v + W_i), bar·Å³ (xx yy zz xy xz yz). Needs the per-atom virial
    /// of the last force computation.
    pub fn stress_atom(&self, i: usize) -> [f64; 6] {
        let v = self.atoms.v[i];
        let m = self.masses[self.atoms.typ[i] as usize] * MVV2E;
        let w = self.per_atom.virial[i];
        let kin = [m * v[0] * v[0], m * v[1] * v[1], m * v[2] * v[2], m * v[0] * v[1], m * v[0] * v[2], m * v[1] * v[2]];
        std::array::from_fn(|k| -(kin[k] + w[k]) * NKTV2P)
    }

    /// Per-atom energies and virials of the potential for the current
    /// positions. The forces, energy and virial the step holds (fixes'
    /// changes included) are kept as they were.
    pub fn compute_per_atom(&mut self) {
        let (f, pe, w) = (self.atoms.f.clone(), self.pe_local, self.virial_local);
        self.compute_forces(ForceFlags { energy_atom: true, virial_atom: true });
        self.atoms.f = f;
        self.pe_local = pe;
        self.virial_local = w;
    }

    /// Every atom within `rc` of each owned atom (collective): a copy of
    /// the owned atoms with ghosts out to rc + skin (atoms may have moved up
    /// to half the skin since the last reneighboring, and their partners
    /// too), chosen the way the halo chooses them (in fractional
    /// coordinates for a triclinic box), and a full list at `rc`. The
    /// engine's own ghosts and lists are untouched.
    pub fn neighborhood(&self, rc: f64) -> crate::compute::Neighborhood {
        let mut a = Atoms::default();
        for i in 0..self.atoms.nlocal {
            a.push_owned(self.atoms.id[i], self.atoms.typ[i], self.atoms.x[i], [0.0; 3], [0; 3]);
        }
        let n = a.nlocal;
        let halo = Self::borders(&self.bx, &self.dom, self.comm, &mut a, rc + self.opts.skin);
        let t0 = std::time::Instant::now();
        let mut list = NeighborList::default();
        crate::neighbor::build_full(&a.x, n, rc, self.opts.nchunks, &mut list);
        log::debug!("full list in {:.3} s", t0.elapsed().as_secs_f64());
        crate::compute::Neighborhood { nlocal: n, cutoff: rc, x: a.x, typ: a.typ, id: a.id, list, halo }
    }

    /// Take the current configuration as the local-strain reference (a
    /// deck's `strain_reference` stage): each owned atom's position,
    /// wrapped into the box as a reneighboring would wrap it, and its
    /// image flags go to the persistent column [`STRAIN_REFERENCE`]; the
    /// box is kept in `strain_box`.
    pub fn set_strain_reference(&mut self) {
        let c = self.strain_column();
        for i in 0..self.atoms.nlocal {
            let (mut x, mut m) = (self.atoms.x[i], self.atoms.image[i]);
            // Finite positions inside the image range (checked at every
            // step), so wrapping succeeds.
            let _ = self.bx.wrap(&mut x, &mut m);
            let r = self.atoms.col_mut(c, i);
            r[..3].copy_from_slice(&x);
            for d in 0..3 {
                r[3 + d] = m[d] as f64;
            }
        }
        self.strain_box = Some(self.bx.clone());
        self.strain_basis = IDENTITY;
    }

    /// Take a file's configuration as the local-strain reference
    /// (`glassmd analyze --reference`, a deck's `strain_reference_file`):
    /// `position(id)` is the atom's position in box `rbox`. Files may hold
    /// wrapped positions, so on axes periodic in both boxes the atom's
    /// displacement is taken as the minimum image in fractional
    /// coordinates (as OVITO's atomic strain does). Collective; returns
    /// the smallest id of this configuration the file lacks.
    pub fn set_strain_reference_from(&mut self, rbox: &SimBox, position: impl Fn(u64) -> Option<[f64; 3]>) -> Option<u64> {
        let c = self.strain_column();
        let (hr, hc) = (rbox.h_inv(), self.bx.h_inv());
        let mut missing = f64::INFINITY;
        for i in 0..self.atoms.nlocal {
            let Some(mut x0) = position(self.atoms.id[i]) else {
                missing = missing.min(self.atoms.id[i] as f64);
                continue;
            };
            let mut m0 = [0; 3];
            let _ = rbox.wrap(&mut x0, &mut m0);
            let (s0, s1) = (rbox.x2lamda_with(&hr, x0), self.bx.x2lamda_with(&hc, self.atoms.x[i]));
            let r = self.atoms.cols.get_mut(c, i);
            r[..3].copy_from_slice(&x0);
            for d in 0..3 {
                // x + (image − m)·h = x − k·h with k the whole periods
                // between the fractional positions.
                let k = if self.bx.periodic(d) && rbox.periodic(d) { (s1[d] - s0[d]).round() } else { 0.0 };
                r[3 + d] = self.atoms.image[i][d] as f64 + k;
            }
        }
        self.strain_box = Some(rbox.clone());
        self.strain_basis = IDENTITY;
        let mut m = [missing];
        self.comm.min_f64(&mut m);
        m[0].is_finite().then_some(m[0] as u64)
    }

    fn strain_column(&mut self) -> crate::system::columns::Col {
        match self.atoms.cols.find(STRAIN_REFERENCE) {
            Some(c) => c,
            None => self.atoms.declare_column(STRAIN_REFERENCE, 6, true).expect("strain_reference column"),
        }
    }

    /// Von Mises local shear strain and D²min of every owned atom against
    /// the reference (`analysis::structure::local_strain`: Shimizu, Ogata
    /// & Li 2007; Falk & Langer 1998), over the neighbors within `rc` in
    /// the reference configuration. Collective; `None` on every rank while
    /// no reference was taken.
    ///
    /// The atoms have moved since the reference, so its neighborhoods are
    /// built where the reference was: a copy of the atoms at their
    /// reference positions goes to the ranks of the reference box's own
    /// decomposition, with ghosts to `rc` (periodic images of the
    /// reference cell). Each copy carries the atom's current position
    /// continued from the reference one; a ghost's is shifted by the same
    /// images of the current cell, so a neighbor across a periodic face is
    /// the same image now as then. The results travel back to the ranks
    /// that own the atoms now.
    pub fn local_strain(&self, rc: f64) -> Option<Vec<(f64, f64)>> {
        let rbox = self.strain_box.as_ref()?;
        let refc = self.atoms.cols.find(STRAIN_REFERENCE)?;
        let (comm, me) = (self.comm, self.comm.rank());
        let mut a = Atoms::default();
        // Columns of a fresh store cannot clash (and every rank must go on
        // to the collective steps below).
        let col = |a: &mut Atoms, name: &str, w: usize| a.declare_column(name, w, false).expect("a fresh column");
        let (x0c, curc, homec) = (col(&mut a, "x0", 3), col(&mut a, "current", 3), col(&mut a, "home", 2));
        for i in 0..self.atoms.nlocal {
            let r = self.atoms.col(refc, i);
            let x0 = [r[0], r[1], r[2]];
            let sh = self.bx.image_shift(std::array::from_fn(|d| self.atoms.image[i][d] as f64 - r[3 + d]));
            let x = self.atoms.x[i];
            a.push_owned(self.atoms.id[i], self.atoms.typ[i], rbox.decomposition_coord(x0), [0.0; 3], [0; 3]);
            let j = a.nlocal - 1;
            a.col_mut(x0c, j).copy_from_slice(&x0);
            a.col_mut(curc, j).copy_from_slice(&[x[0] + sh[0], x[1] + sh[1], x[2] + sh[2]]);
            a.col_mut(homec, j).copy_from_slice(&[me as f64, i as f64]);
        }
        let rdom = Domain::new(me, comm.size(), rbox);
        crate::domain::halo::redistribute(&mut a, &rdom, comm);
        // The exact reference positions (not a round trip through
        // fractional coordinates).
        for j in 0..a.nlocal {
            let x0 = a.col(x0c, j);
            a.x[j] = [x0[0], x0[1], x0[2]];
        }
        let n = a.nlocal;
        let mut cur: Vec<[f64; 3]> = (0..n).map(|j| a.col(curc, j).try_into().expect("three values")).collect();
        let home: Vec<[f64; 2]> = (0..n).map(|j| a.col(homec, j).try_into().expect("two values")).collect();
        let halo = Self::borders(rbox, &rdom, comm, &mut a, rc);
        cur.resize(a.x.len(), [0.0; 3]);
        // A ghost is an image of the reference cell: its current shift is
        // that image of the current cell in the reference's basis (the
        // cell continued through any tilt flips since).
        let cont = if self.strain_basis == IDENTITY {
            self.bx.clone()
        } else {
            let e: Vec<[f64; 3]> = self.strain_basis.iter().map(|b| self.bx.image_shift(b.map(|k| k as f64))).collect();
            SimBox { tilt: [e[1][0], e[2][0], e[2][1]], triclinic: true, ..self.bx.clone() }
        };
        halo.forward_positions(comm, cur.as_flattened_mut(), &cont);
        let t0 = std::time::Instant::now();
        let mut list = NeighborList::default();
        crate::neighbor::build_full(&a.x, n, rc, self.opts.nchunks, &mut list);
        log::debug!("full list in {:.3} s", t0.elapsed().as_secs_f64());
        let nb = crate::compute::Neighborhood { nlocal: n, cutoff: rc, x: a.x, typ: a.typ, id: a.id, list, halo };
        let st = crate::analysis::structure::local_strain(&nb, &cur);
        // Back to the owners: each result rides to the centre of its home
        // rank's subdomain.
        let mut b = Atoms::default();
        let resc = col(&mut b, "result", 3);
        for j in 0..n {
            b.push_owned(nb.id[j], nb.typ[j], self.dom.centre_of(home[j][0] as usize), [0.0; 3], [0; 3]);
            b.col_mut(resc, j).copy_from_slice(&[st[j].0, st[j].1, home[j][1]]);
        }
        crate::domain::halo::redistribute(&mut b, &self.dom, comm);
        let mut out = vec![(f64::NAN, f64::NAN); self.atoms.nlocal];
        for j in 0..b.nlocal {
            let r = b.col(resc, j);
            out[r[2] as usize] = (r[0], r[1]);
        }
        Some(out)
    }

    /// Let the per-atom computes that need neighbors evaluate for the
    /// current positions (collective: every rank calls it with the same
    /// computes); their values stay in `compute_values` for the frame.
    pub fn prepare_computes(&mut self, computes: &[&'static dyn crate::compute::PerAtomCompute]) {
        let t0 = Instant::now();
        self.compute_values.clear();
        for c in computes {
            let needs = c.needs(&self.compute_settings);
            if needs.alone {
                let v = c.evaluate_alone(self);
                self.compute_values.insert(c.name(), v);
            } else if let Some(rc) = needs.cutoff {
                let nb = self.neighborhood(rc);
                let v = c.evaluate(self, &nb);
                self.compute_values.insert(c.name(), v);
            }
        }
        self.timers.neigh += t0.elapsed().as_secs_f64();
    }

    /// The whole system as a data file, on rank 0 (collective).
    pub fn to_data(&self) -> Option<DataFile> {
        let rows = self.gather_rows(9, |i| {
            let (x, v, im) = (self.atoms.x[i], self.atoms.v[i], self.atoms.image[i]);
            vec![x[0], x[1], x[2], v[0], v[1], v[2], im[0] as f64, im[1] as f64, im[2] as f64]
        })?;
        Some(DataFile {
            ntypes: self.masses.len(),
            lo: self.bx.lo,
            hi: self.bx.hi,
            tilt: self.bx.triclinic.then_some(self.bx.tilt),
            masses: self.masses.iter().map(|&m| Some(m)).collect(),
            atoms: rows
                .into_iter()
                .map(|(id, typ, r)| DataAtom {
                    id,
                    typ,
                    x: [r[0], r[1], r[2]],
                    v: [r[3], r[4], r[5]],
                    image: [r[6] as i32, r[7] as i32, r[8] as i32],
                })
                .collect(),
            has_velocities: true,
        })
    }
}
