//! Embedded-atom method (Daw & Baskes, Phys. Rev. B 29, 6443 (1984)):
//!
//! E = Σ_i F_i(ρ_i) + ½ Σ_{i≠j} φ_ij(r_ij),   ρ_i = Σ_{j≠i} ρ_{j→i}(r_ij),
//!
//! with forces f_i = −Σ_j [F′_i ρ′_{j→i} + F′_j ρ′_{i→j} + φ′_ij] r̂_ij.
//! For Finnis–Sinclair files ρ_{j→i} depends on both species.
//!
//! The evaluation follows LAMMPS `PairEAM::compute` phase by phase: densities
//! over the half list (both ends of each pair), reverse-sum of ghost densities,
//! F and F′ on owned atoms, forward of F′ to ghosts, then pair forces. The
//! interpolation is LAMMPS's (see `tables.rs`), so per-pair numbers are
//! identical and totals agree to summation round-off.
//!
//! Threads: the neighbor list comes in chunks of owned atoms; with one chunk
//! the loops write straight into the output arrays, with several each chunk
//! accumulates into its own buffer and the buffers are summed afterwards, so
//! there are no write races and no atomics.

pub mod file;
pub mod tables;
pub mod zhou;

use super::{ForceFlags, ForceInput, HaloSync, PerAtom, Potential};
use crate::neighbor::ChunkList;
use rayon::prelude::*;
pub use file::{EamFile, EamStyle};
pub use tables::EamTables;

pub struct Eam {
    pub tables: EamTables,
    rho: Vec<f64>,
    fp: Vec<f64>,
    scratch: Vec<Scratch>,
}

#[derive(Default)]
struct Scratch {
    rho: Vec<f64>,
    f: Vec<[f64; 3]>,
    e: Vec<f64>,
    v: Vec<[f64; 6]>,
}

impl Eam {
    pub fn new(tables: EamTables) -> Eam {
        Eam { tables, rho: Vec::new(), fp: Vec::new(), scratch: Vec::new() }
    }
}

/// A neighbor within the cutoff, with its spline knot and fraction.
#[derive(Clone, Copy)]
struct Near {
    j: u32,
    tj: u32,
    m: u32,
    p: f64,
    d: [f64; 3],
    r: f64,
}

/// Hint the cache to fetch `lines` 64-byte lines starting at `ptr`.
#[inline(always)]
fn prefetch<T>(ptr: *const T, lines: usize) {
    #[cfg(target_arch = "x86_64")]
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        for l in 0..lines {
            _mm_prefetch::<_MM_HINT_T0>((ptr as *const i8).add(64 * l));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (ptr, lines);
}

/// Pass 1 of both kernels: the neighbors of `i` inside the cutoff, with the
/// knot of each; the table lines they will read are prefetched so that the
/// misses overlap instead of stalling pass 2 one after another.
#[inline(always)]
fn gather<K>(t: &EamTables, x: &[[f64; 3]], typ: &[u32], xi: [f64; 3], neigh: &[u32], row: &[Vec<K>], out: &mut Vec<Near>) {
    out.clear();
    let lines = std::mem::size_of::<K>() / 64;
    for &j in neigh {
        let ju = j as usize;
        debug_assert!(ju < x.len());
        // SAFETY: neighbor indices are < nall = x.len() <= typ.len() (asserted by callers).
        let xj = unsafe { *x.get_unchecked(ju) };
        let d = [xi[0] - xj[0], xi[1] - xj[1], xi[2] - xj[2]];
        let rsq = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        if rsq < t.cutforcesq {
            let r = rsq.sqrt();
            let (m, p) = t.r_knot(r);
            let tj = unsafe { *typ.get_unchecked(ju) };
            prefetch(row[tj as usize].as_ptr().wrapping_add(m), lines);
            out.push(Near { j, tj, m: m as u32, p, d, r });
        }
    }
}

fn density_chunk(t: &EamTables, x: &[[f64; 3]], typ: &[u32], c: &ChunkList, rho: &mut [f64]) {
    let nt = t.ntypes;
    let nall = x.len();
    assert!(typ.len() >= nall && rho.len() >= nall && c.end <= nall);
    let mut near = Vec::with_capacity(256);
    for i in c.start..c.end {
        let row = &t.dens[typ[i] as usize * nt..(typ[i] as usize + 1) * nt];
        gather(t, x, typ, x[i], c.of(i), row, &mut near);
        let mut rhoi = 0.0;
        for n in &near {
            // SAFETY: r_knot gives m <= nr - 2 < table length; j < nall.
            let k = unsafe { &row[n.tj as usize].get_unchecked(n.m as usize).0 };
            let p = n.p;
            rhoi += ((k[0] * p + k[1]) * p + k[2]) * p + k[3];
            unsafe { *rho.get_unchecked_mut(n.j as usize) += ((k[4] * p + k[5]) * p + k[6]) * p + k[7] };
        }
        rho[i] += rhoi;
    }
}

#[allow(clippy::too_many_arguments)]
fn force_chunk<const EA: bool, const VA: bool>(
    t: &EamTables,
    x: &[[f64; 3]],
    typ: &[u32],
    fp: &[f64],
    c: &ChunkList,
    f: &mut [[f64; 3]],
    e: &mut [f64],
    v: &mut [[f64; 6]],
) -> f64 {
    let nt = t.ntypes;
    let nall = x.len();
    assert!(typ.len() >= nall && fp.len() >= nall && f.len() >= nall && c.end <= nall);
    assert!(!EA || e.len() >= nall);
    assert!(!VA || v.len() >= nall);
    let mut near = Vec::with_capacity(256);
    let mut epair = 0.0;
    for i in c.start..c.end {
        let fpi = fp[i];
        let row = &t.force[typ[i] as usize * nt..(typ[i] as usize + 1) * nt];
        gather(t, x, typ, x[i], c.of(i), row, &mut near);
        let mut fi = [0.0f64; 3];
        for n in &near {
            let j = n.j as usize;
            let (p, r) = (n.p, n.r);
            let [dx, dy, dz] = n.d;
            // SAFETY (unchecked accesses): j < nall and lengths asserted
            // above; r_knot gives m <= nr - 2.
            let k = unsafe { &row[n.tj as usize].get_unchecked(n.m as usize).0 };
            let fpj = unsafe { *fp.get_unchecked(j) };
            // ρ′ at j due to i, ρ′ at i due to j, (rφ)′ and rφ.
            let rhoip = (k[0] * p + k[1]) * p + k[2];
            let rhojp = (k[3] * p + k[4]) * p + k[5];
            let z2p = (k[6] * p + k[7]) * p + k[8];
            let z2 = ((k[9] * p + k[10]) * p + k[11]) * p + k[12];
            let recip = 1.0 / r;
            let phi = z2 * recip;
            let phip = z2p * recip - phi * recip;
            let psip = fpi * rhojp + fpj * rhoip + phip;
            let fpair = -psip * recip;
            fi[0] += dx * fpair;
            fi[1] += dy * fpair;
            fi[2] += dz * fpair;
            let fj = unsafe { f.get_unchecked_mut(j) };
            fj[0] -= dx * fpair;
            fj[1] -= dy * fpair;
            fj[2] -= dz * fpair;
            epair += phi;
            if EA {
                e[i] += 0.5 * phi;
                unsafe { *e.get_unchecked_mut(j) += 0.5 * phi };
            }
            if VA {
                let w = [dx * dx * fpair, dy * dy * fpair, dz * dz * fpair, dx * dy * fpair, dx * dz * fpair, dy * dz * fpair];
                let mut vj = unsafe { *v.get_unchecked(j) };
                for k in 0..6 {
                    v[i][k] += 0.5 * w[k];
                    vj[k] += 0.5 * w[k];
                }
                unsafe { *v.get_unchecked_mut(j) = vj };
            }
        }
        f[i][0] += fi[0];
        f[i][1] += fi[1];
        f[i][2] += fi[2];
    }
    epair
}

#[allow(clippy::too_many_arguments)]
fn force_dispatch(
    flags: ForceFlags,
    t: &EamTables,
    x: &[[f64; 3]],
    typ: &[u32],
    fp: &[f64],
    c: &ChunkList,
    f: &mut [[f64; 3]],
    e: &mut [f64],
    v: &mut [[f64; 6]],
) -> f64 {
    match (flags.energy_atom, flags.virial_atom) {
        (false, false) => force_chunk::<false, false>(t, x, typ, fp, c, f, e, v),
        (true, false) => force_chunk::<true, false>(t, x, typ, fp, c, f, e, v),
        (false, true) => force_chunk::<false, true>(t, x, typ, fp, c, f, e, v),
        (true, true) => force_chunk::<true, true>(t, x, typ, fp, c, f, e, v),
    }
}

/// Sum per-chunk buffers into `out`, in parallel over atoms; the order of the
/// sum over chunks is fixed, so results do not depend on scheduling.
fn reduce_into<T: Copy + Send + Sync>(out: &mut [T], bufs: &[&[T]], add: impl Fn(&mut T, &T) + Sync) {
    const BLK: usize = 2048;
    out.par_chunks_mut(BLK).enumerate().for_each(|(b, o)| {
        for buf in bufs {
            for (k, val) in o.iter_mut().enumerate() {
                add(val, &buf[b * BLK + k]);
            }
        }
    });
}

impl Potential for Eam {
    fn cutoff(&self) -> f64 {
        self.tables.cutmax
    }
    fn ntypes(&self) -> usize {
        self.tables.ntypes
    }

    fn compute(
        &mut self,
        input: &ForceInput,
        f: &mut [[f64; 3]],
        flags: ForceFlags,
        per_atom: &mut PerAtom,
        sync: &mut dyn HaloSync,
    ) -> f64 {
        let t = &self.tables;
        let (x, typ, nlocal) = (input.x, input.typ, input.nlocal);
        let nall = x.len();
        let chunks = &input.list.chunks;
        let threaded = chunks.len() > 1;

        // Phase 1: densities ρ_i over the half list.
        self.rho.clear();
        self.rho.resize(nall, 0.0);
        if threaded {
            self.scratch.resize_with(chunks.len(), Scratch::default);
            chunks.par_iter().zip(self.scratch.par_iter_mut()).for_each(|(c, s)| {
                s.rho.clear();
                s.rho.resize(nall, 0.0);
                density_chunk(t, x, typ, c, &mut s.rho);
            });
            let bufs: Vec<&[f64]> = self.scratch.iter().map(|s| &s.rho[..]).collect();
            reduce_into(&mut self.rho, &bufs, |a, b| *a += *b);
        } else if let Some(c) = chunks.first() {
            density_chunk(t, x, typ, c, &mut self.rho);
        }
        sync.reverse_sum(&mut self.rho, 1);

        // Phase 2: embedding energy and F′(ρ) on owned atoms.
        self.fp.clear();
        self.fp.resize(nall, 0.0);
        let mut energy = 0.0;
        if flags.energy_atom {
            per_atom.energy.clear();
            per_atom.energy.resize(nall, 0.0);
        }
        if flags.virial_atom {
            per_atom.virial.clear();
            per_atom.virial.resize(nall, [0.0; 6]);
        }
        for i in 0..nlocal {
            let (phi, fpi) = t.embed(typ[i] as usize, self.rho[i]);
            self.fp[i] = fpi;
            energy += phi;
            if flags.energy_atom {
                per_atom.energy[i] += phi;
            }
        }
        sync.forward(&mut self.fp, 1);

        // Phase 3: pair forces.
        f.iter_mut().for_each(|v| *v = [0.0; 3]);
        let fp = &self.fp;
        if threaded {
            let epair: f64 = chunks
                .par_iter()
                .zip(self.scratch.par_iter_mut())
                .map(|(c, s)| {
                    s.f.clear();
                    s.f.resize(nall, [0.0; 3]);
                    if flags.energy_atom {
                        s.e.clear();
                        s.e.resize(nall, 0.0);
                    }
                    if flags.virial_atom {
                        s.v.clear();
                        s.v.resize(nall, [0.0; 6]);
                    }
                    force_dispatch(flags, t, x, typ, fp, c, &mut s.f, &mut s.e, &mut s.v)
                })
                .collect::<Vec<f64>>()
                .iter()
                .sum();
            energy += epair;
            let bufs: Vec<&[[f64; 3]]> = self.scratch.iter().map(|s| &s.f[..]).collect();
            reduce_into(f, &bufs, |a, b| {
                a[0] += b[0];
                a[1] += b[1];
                a[2] += b[2];
            });
            if flags.energy_atom {
                let bufs: Vec<&[f64]> = self.scratch.iter().map(|s| &s.e[..]).collect();
                reduce_into(&mut per_atom.energy, &bufs, |a, b| *a += *b);
            }
            if flags.virial_atom {
                let bufs: Vec<&[[f64; 6]]> = self.scratch.iter().map(|s| &s.v[..]).collect();
                reduce_into(&mut per_atom.virial, &bufs, |a, b| {
                    for k in 0..6 {
                        a[k] += b[k];
                    }
                });
            }
        } else if let Some(c) = chunks.first() {
            energy += force_dispatch(flags, t, x, typ, fp, c, f, &mut per_atom.energy, &mut per_atom.virial);
        }
        energy
    }
}

/// Read a potential file and map LAMMPS atom types (1..=ntypes) to its
/// elements, as `pair_coeff * * file El1 El2 ...` does. Errors name the file
/// at fault: the potential (missing element, bad format), the data file (a
/// type without element) or the deck/command line (`origin`).
pub fn load(
    style: EamStyle,
    path: &std::path::Path,
    elements: Option<&[String]>,
    ntypes: usize,
    data_path: &std::path::Path,
    origin: &std::path::Path,
) -> crate::error::Result<Eam> {
    let file = file::read(path, style)?;
    with_types(file, style, path, elements, ntypes, data_path, origin)
}

/// [`load`] for tables already in memory (generated ones: `zhou`); `path`
/// names their source in messages.
pub fn with_types(
    file: EamFile,
    style: EamStyle,
    path: &std::path::Path,
    elements: Option<&[String]>,
    ntypes: usize,
    data_path: &std::path::Path,
    origin: &std::path::Path,
) -> crate::error::Result<Eam> {
    use crate::error::Error;
    let map: Vec<usize> = match &file {
        EamFile::Funcfl(_) => vec![0; ntypes],
        EamFile::Setfl(s) => {
            let els = elements.ok_or_else(|| {
                Error::input(origin, format!("pair style {} needs the element of each atom type (elements)", style.name()))
            })?;
            if els.len() < ntypes {
                return Err(Error::input(
                    data_path,
                    format!(
                        "atom type {} has no element: the data file has {} atom types but elements lists {} ({})",
                        els.len() + 1,
                        ntypes,
                        els.len(),
                        els.join(" ")
                    ),
                ));
            }
            if els.len() > ntypes {
                return Err(Error::input(
                    origin,
                    format!("elements lists {} names but the data file has {} atom types", els.len(), ntypes),
                ));
            }
            els.iter()
                .map(|e| {
                    s.elements.iter().position(|x| x == e).ok_or_else(|| {
                        Error::input(path, format!("element '{}' is not in this potential (it has {})", e, s.elements.join(", ")))
                    })
                })
                .collect::<crate::error::Result<Vec<usize>>>()?
        }
    };
    Ok(Eam::new(EamTables::new(&file, &map)))
}
