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
    /// F(ρ_i) of owned atoms (threaded phase 2).
    phi: Vec<f64>,
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
        Eam { tables, rho: Vec::new(), fp: Vec::new(), phi: Vec::new(), scratch: Vec::new() }
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

/// What the density pass keeps of a neighbor: no separation or distance,
/// so the gather writes 24 bytes a pair instead of 56.
#[derive(Clone, Copy)]
struct NearRho {
    j: u32,
    tj: u32,
    m: u32,
    p: f64,
}

/// A table row type and the pair record its pass gathers.
trait Knot {
    type Pair: Copy;
    fn pair(j: u32, tj: u32, m: u32, p: f64, d: [f64; 3], r: f64) -> Self::Pair;
}

impl Knot for tables::DensKnot {
    type Pair = NearRho;
    #[inline(always)]
    fn pair(j: u32, tj: u32, m: u32, p: f64, _d: [f64; 3], _r: f64) -> NearRho {
        NearRho { j, tj, m, p }
    }
}

impl Knot for tables::ForceKnot {
    type Pair = Near;
    #[inline(always)]
    fn pair(j: u32, tj: u32, m: u32, p: f64, d: [f64; 3], r: f64) -> Near {
        Near { j, tj, m, p, d, r }
    }
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
/// misses overlap instead of stalling pass 2 one after another. With AVX2
/// (detected at run time) four neighbors at a time, with the same IEEE
/// operations in the same order per pair, so the list is bit-identical to
/// the scalar one.
#[inline(always)]
fn gather<K: Knot>(t: &EamTables, x: &[[f64; 3]], typ: &[u32], xi: [f64; 3], neigh: &[u32], row: &[Vec<K>], out: &mut Vec<K::Pair>) {
    #[cfg(target_arch = "x86_64")]
    if t.simd {
        // SAFETY: `simd` is set only where the CPU has AVX2; every index is
        // below the chunk's bound, which the callers check against
        // x.len() <= typ.len() once per chunk.
        unsafe { gather_avx2(t, x, typ, xi, neigh, row, out) };
        return;
    }
    out.clear();
    gather_scalar(t, x, typ, xi, neigh, row, out)
}

/// The scalar gather, appending to `out`.
#[inline(always)]
fn gather_scalar<K: Knot>(t: &EamTables, x: &[[f64; 3]], typ: &[u32], xi: [f64; 3], neigh: &[u32], row: &[Vec<K>], out: &mut Vec<K::Pair>) {
    let lines = std::mem::size_of::<K>() / 64;
    for &j in neigh {
        let ju = j as usize;
        debug_assert!(ju < x.len());
        // SAFETY: neighbor indices are below the chunk's bound <= nall =
        // x.len() <= typ.len() (asserted by the callers, once per chunk).
        let xj = unsafe { *x.get_unchecked(ju) };
        let d = [xi[0] - xj[0], xi[1] - xj[1], xi[2] - xj[2]];
        let rsq = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        if rsq < t.cutforcesq {
            let r = rsq.sqrt();
            let (m, p) = t.r_knot(r);
            let tj = unsafe { *typ.get_unchecked(ju) };
            // SAFETY: types are below ntypes = row.len() (checked once in
            // `compute`).
            debug_assert!((tj as usize) < row.len());
            prefetch(unsafe { row.get_unchecked(tj as usize) }.as_ptr().wrapping_add(m), lines);
            out.push(K::pair(j, tj, m as u32, p, d, r));
        }
    }
}

/// [`gather_scalar`] four neighbors at a time: gathered coordinates, the
/// squared distance as (dx² + dy²) + dz², the cutoff mask, √ and the knot
/// as [`EamTables::r_knot`] computes them (truncation, clamps), each lane an
/// exact IEEE twin of the scalar code (no fused multiply-add). Every lane is
/// written and the count advances only for lanes inside the cutoff, so
/// keeping a pair costs no branch. A quad with no lane inside is not
/// skipped either: that branch mispredicted at the ends of stencil rows
/// (where the out-of-cutoff pairs of the sorted list cluster) and cost
/// more than the quad's work.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gather_avx2<K: Knot>(t: &EamTables, x: &[[f64; 3]], typ: &[u32], xi: [f64; 3], neigh: &[u32], row: &[Vec<K>], out: &mut Vec<K::Pair>) {
    use std::arch::x86_64::*;
    assert!(typ.len() >= x.len());
    out.clear();
    out.reserve(neigh.len() + 4);
    let lines = std::mem::size_of::<K>() / 64;
    let xp = x.as_ptr() as *const f64;
    let base = out.as_mut_ptr();
    let mut len = 0usize;
    let (xi0, xi1, xi2) = (_mm256_set1_pd(xi[0]), _mm256_set1_pd(xi[1]), _mm256_set1_pd(xi[2]));
    let cut = _mm256_set1_pd(t.cutforcesq);
    let (rdr, one, big) = (_mm256_set1_pd(t.rdr), _mm256_set1_pd(1.0), _mm256_set1_pd(2.0e9));
    let top = _mm_set1_epi32((t.nr - 1) as i32);
    let quads = neigh.chunks_exact(4);
    let rest = quads.remainder();
    for q in quads {
        // x and y of the four as 128-bit loads, transposed; z one by one
        // (the hardware gather is slower on the AMD cores measured).
        let at = |l: usize| xp.add(3 * *q.get_unchecked(l) as usize);
        let (p0, p1, p2, p3) = (at(0), at(1), at(2), at(3));
        let a = _mm256_set_m128d(_mm_loadu_pd(p2), _mm_loadu_pd(p0));
        let b = _mm256_set_m128d(_mm_loadu_pd(p3), _mm_loadu_pd(p1));
        let d0 = _mm256_sub_pd(xi0, _mm256_unpacklo_pd(a, b));
        let d1 = _mm256_sub_pd(xi1, _mm256_unpackhi_pd(a, b));
        let d2 = _mm256_sub_pd(xi2, _mm256_set_pd(*p3.add(2), *p2.add(2), *p1.add(2), *p0.add(2)));
        let rsq = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(d0, d0), _mm256_mul_pd(d1, d1)), _mm256_mul_pd(d2, d2));
        let mask = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(rsq, cut)) as usize;
        let r = _mm256_sqrt_pd(rsq);
        let p = _mm256_add_pd(_mm256_mul_pd(r, rdr), one);
        let m = _mm_min_epi32(_mm256_cvttpd_epi32(_mm256_min_pd(p, big)), top);
        let p = _mm256_min_pd(_mm256_sub_pd(p, _mm256_cvtepi32_pd(m)), one);
        let (mut a0, mut a1, mut a2, mut ar, mut ap, mut am) = ([0.0f64; 4], [0.0f64; 4], [0.0f64; 4], [0.0f64; 4], [0.0f64; 4], [0i32; 4]);
        _mm256_storeu_pd(a0.as_mut_ptr(), d0);
        _mm256_storeu_pd(a1.as_mut_ptr(), d1);
        _mm256_storeu_pd(a2.as_mut_ptr(), d2);
        _mm256_storeu_pd(ar.as_mut_ptr(), r);
        _mm256_storeu_pd(ap.as_mut_ptr(), p);
        _mm_storeu_si128(am.as_mut_ptr() as *mut __m128i, m);
        for l in 0..4 {
            let j = q[l];
            let tj = *typ.get_unchecked(j as usize);
            // A lane beyond the cutoff has m = nr − 1 at most, so its row
            // exists too; it is written and then overwritten.
            let m = (am[l] - 1) as u32;
            // Types are below ntypes = row.len() (checked once in `compute`).
            prefetch(row.get_unchecked(tj as usize).as_ptr().wrapping_add(m as usize), lines);
            base.add(len).write(K::pair(j, tj, m, ap[l], [a0[l], a1[l], a2[l]], ar[l]));
            len += (mask >> l) & 1;
        }
    }
    out.set_len(len);
    gather_scalar(t, x, typ, xi, rest, row, out);
}

/// Atom i's pairs into `near`, and atom i + 1's gathered into `next` with
/// their table rows prefetched, so that those rows have a whole atom's
/// work to arrive (the step waits on table rows in L3 more than on
/// arithmetic: docs/PERFORMANCE.md). `rows(i)` are atom i's table rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gather_ahead<'a, K: Knot + 'a>(t: &EamTables, x: &[[f64; 3]], typ: &[u32], c: &ChunkList, rows: &impl Fn(usize) -> &'a [Vec<K>], i: usize, near: &mut Vec<K::Pair>, next: &mut Vec<K::Pair>, buf: &mut Vec<u32>) {
    if i == c.start {
        gather(t, x, typ, x[i], c.get(i, buf), rows(i), next);
    }
    std::mem::swap(near, next);
    if i + 1 < c.end {
        gather(t, x, typ, x[i + 1], c.get(i + 1, buf), rows(i + 1), next);
    }
}

/// The pairs a scalar loop still has to evaluate: all of `near`, or, if
/// `on`, those after the ones `quads` did (an AVX2 kernel that takes the
/// first 4⌊n/4⌋ pairs and returns how many it took).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn after_quads<P>(near: &[P], on: bool, quads: impl FnOnce(&[P]) -> usize) -> &[P] {
    if on {
        &near[quads(near)..]
    } else {
        near
    }
}

fn density_chunk(t: &EamTables, x: &[[f64; 3]], typ: &[u32], c: &ChunkList, rho: &mut [f64]) {
    let nt = t.ntypes;
    let nall = x.len();
    assert!(typ.len() >= nall && rho.len() >= nall && c.end <= nall && c.bound() <= nall);
    let rows = |i: usize| &t.dens[typ[i] as usize * nt..(typ[i] as usize + 1) * nt];
    let (mut near, mut next, mut buf) = (Vec::with_capacity(256), Vec::with_capacity(256), Vec::with_capacity(256));
    for i in c.start..c.end {
        let row = rows(i);
        gather_ahead(t, x, typ, c, &rows, i, &mut near, &mut next, &mut buf);
        let mut rhoi = 0.0;
        // The first 4⌊n/4⌋ pairs four at a time where AVX2 is on (the same
        // bits as below), the rest here.
        // SAFETY: AVX2 is present where `simd` is; rows and indices as below.
        #[cfg(target_arch = "x86_64")]
        let near = after_quads(&near, t.simd, |q| unsafe { density_quads_avx2(row, q, rho, &mut rhoi) });
        #[cfg(not(target_arch = "x86_64"))]
        let near = &near[..];
        for n in near {
            // SAFETY: r_knot gives m <= nr - 2 < table length; j < nall;
            // types are below ntypes = row.len() (checked in `compute`).
            let k = unsafe { &row.get_unchecked(n.tj as usize).get_unchecked(n.m as usize).0 };
            let p = n.p;
            rhoi += ((k[0] * p + k[1]) * p + k[2]) * p + k[3];
            unsafe { *rho.get_unchecked_mut(n.j as usize) += ((k[4] * p + k[5]) * p + k[6]) * p + k[7] };
        }
        rho[i] += rhoi;
    }
}

/// The densities of [`density_chunk`] for the first 4⌊n/4⌋ pairs of
/// `near`, four at a time: each knot's 8 coefficients transposed into
/// lanes, then both cubics with the scalar code's operations in its order
/// (no fused multiply-add), so each lane's numbers are the scalar ones bit
/// for bit; the sums into ρ_i and ρ_j stay scalar and in pair order, so
/// the totals are too. Returns the number of pairs done.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn density_quads_avx2(row: &[Vec<tables::DensKnot>], near: &[NearRho], rho: &mut [f64], rhoi: &mut f64) -> usize {
    use std::arch::x86_64::*;
    let n4 = near.len() / 4 * 4;
    for q in near[..n4].chunks_exact(4) {
        // Rows exist (r_knot: m <= nr − 2; types below ntypes = row.len(),
        // checked in `compute`); j < rho.len() as in the scalar loop.
        let k: [*const f64; 4] = std::array::from_fn(|l| row.get_unchecked(q[l].tj as usize).as_ptr().add(q[l].m as usize) as *const f64);
        let ld = |o: usize| [_mm256_loadu_pd(k[0].add(o)), _mm256_loadu_pd(k[1].add(o)), _mm256_loadu_pd(k[2].add(o)), _mm256_loadu_pd(k[3].add(o))];
        let [c0, c1, c2, c3] = transpose4(ld(0));
        let [c4, c5, c6, c7] = transpose4(ld(4));
        let p = _mm256_set_pd(q[3].p, q[2].p, q[1].p, q[0].p);
        let h3 = |a, b, c, d| _mm256_add_pd(_mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(a, p), b), p), c), p), d);
        let (mut ri, mut rj) = ([0.0f64; 4], [0.0f64; 4]);
        _mm256_storeu_pd(ri.as_mut_ptr(), h3(c0, c1, c2, c3));
        _mm256_storeu_pd(rj.as_mut_ptr(), h3(c4, c5, c6, c7));
        for l in 0..4 {
            *rhoi += ri[l];
            *rho.get_unchecked_mut(q[l].j as usize) += rj[l];
        }
    }
    n4
}

/// Rows of four lanes become columns: out[c][l] = rows[l][c].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn transpose4(rows: [std::arch::x86_64::__m256d; 4]) -> [std::arch::x86_64::__m256d; 4] {
    use std::arch::x86_64::*;
    let [a, b, c, d] = rows;
    let (ab_lo, ab_hi) = (_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b));
    let (cd_lo, cd_hi) = (_mm256_unpacklo_pd(c, d), _mm256_unpackhi_pd(c, d));
    [
        _mm256_permute2f128_pd::<0x20>(ab_lo, cd_lo),
        _mm256_permute2f128_pd::<0x20>(ab_hi, cd_hi),
        _mm256_permute2f128_pd::<0x31>(ab_lo, cd_lo),
        _mm256_permute2f128_pd::<0x31>(ab_hi, cd_hi),
    ]
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
    assert!(typ.len() >= nall && fp.len() >= nall && f.len() >= nall && c.end <= nall && c.bound() <= nall);
    assert!(!EA || e.len() >= nall);
    assert!(!VA || v.len() >= nall);
    let rows = |i: usize| &t.force[typ[i] as usize * nt..(typ[i] as usize + 1) * nt];
    let (mut near, mut next, mut buf) = (Vec::with_capacity(256), Vec::with_capacity(256), Vec::with_capacity(256));
    let mut epair = 0.0;
    for i in c.start..c.end {
        let fpi = fp[i];
        let row = rows(i);
        gather_ahead(t, x, typ, c, &rows, i, &mut near, &mut next, &mut buf);
        let mut fi = [0.0f64; 3];
        // Without per-atom outputs, the pair terms four at a time (the
        // same bits as below); the rest of the pairs, if any, below.
        // SAFETY: AVX2 is present where `simd` is; rows and indices as below.
        #[cfg(target_arch = "x86_64")]
        let near = after_quads(&near, !EA && !VA && t.simd, |q| unsafe { force_quads_avx2(row, fp, fpi, q, f, &mut fi, &mut epair) });
        #[cfg(not(target_arch = "x86_64"))]
        let near = &near[..];
        for n in near {
            let j = n.j as usize;
            let (p, r) = (n.p, n.r);
            let [dx, dy, dz] = n.d;
            // SAFETY (unchecked accesses): j < nall and lengths asserted
            // above; r_knot gives m <= nr - 2; types are below ntypes =
            // row.len() (checked in `compute`).
            let k = unsafe { &row.get_unchecked(n.tj as usize).get_unchecked(n.m as usize).0 };
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

/// The pair forces of [`force_chunk`] for the first 4⌊n/4⌋ pairs of
/// `near`, four at a time: each knot's 13 coefficients transposed into
/// lanes, then ρ′, (rφ)′, rφ, φ′ and the pair force with the scalar code's
/// operations in its order (no fused multiply-add), so each lane's numbers
/// are the scalar ones bit for bit; the sums into f_i, f_j and the pair
/// energy stay scalar and in pair order, so the totals are too. Returns
/// the number of pairs done.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn force_quads_avx2(row: &[Vec<tables::ForceKnot>], fp: &[f64], fpi: f64, near: &[Near], f: &mut [[f64; 3]], fi: &mut [f64; 3], epair: &mut f64) -> usize {
    use std::arch::x86_64::*;
    let n4 = near.len() / 4 * 4;
    let (vfpi, one, sign) = (_mm256_set1_pd(fpi), _mm256_set1_pd(1.0), _mm256_set1_pd(-0.0));
    for q in near[..n4].chunks_exact(4) {
        // Rows exist (r_knot: m <= nr − 2; types below ntypes = row.len(),
        // checked in `compute`); j < fp.len() as in the scalar loop.
        let k: [*const f64; 4] = std::array::from_fn(|l| row.get_unchecked(q[l].tj as usize).as_ptr().add(q[l].m as usize) as *const f64);
        let ld = |o: usize| [_mm256_loadu_pd(k[0].add(o)), _mm256_loadu_pd(k[1].add(o)), _mm256_loadu_pd(k[2].add(o)), _mm256_loadu_pd(k[3].add(o))];
        let [c0, c1, c2, c3] = transpose4(ld(0));
        let [c4, c5, c6, c7] = transpose4(ld(4));
        let [c8, c9, c10, c11] = transpose4(ld(8));
        let c12 = _mm256_set_pd(*k[3].add(12), *k[2].add(12), *k[1].add(12), *k[0].add(12));
        let p = _mm256_set_pd(q[3].p, q[2].p, q[1].p, q[0].p);
        let r = _mm256_set_pd(q[3].r, q[2].r, q[1].r, q[0].r);
        let fpj = _mm256_set_pd(*fp.get_unchecked(q[3].j as usize), *fp.get_unchecked(q[2].j as usize), *fp.get_unchecked(q[1].j as usize), *fp.get_unchecked(q[0].j as usize));
        let h2 = |a, b, c| _mm256_add_pd(_mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(a, p), b), p), c);
        let rhoip = h2(c0, c1, c2);
        let rhojp = h2(c3, c4, c5);
        let z2p = h2(c6, c7, c8);
        let z2 = _mm256_add_pd(_mm256_mul_pd(h2(c9, c10, c11), p), c12);
        let recip = _mm256_div_pd(one, r);
        let phi = _mm256_mul_pd(z2, recip);
        let phip = _mm256_sub_pd(_mm256_mul_pd(z2p, recip), _mm256_mul_pd(phi, recip));
        let psip = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(vfpi, rhojp), _mm256_mul_pd(fpj, rhoip)), phip);
        let fpair = _mm256_mul_pd(_mm256_xor_pd(psip, sign), recip);
        let (mut fa, mut pa) = ([0.0f64; 4], [0.0f64; 4]);
        _mm256_storeu_pd(fa.as_mut_ptr(), fpair);
        _mm256_storeu_pd(pa.as_mut_ptr(), phi);
        for l in 0..4 {
            let [dx, dy, dz] = q[l].d;
            let fpair = fa[l];
            fi[0] += dx * fpair;
            fi[1] += dy * fpair;
            fi[2] += dz * fpair;
            let fj = f.get_unchecked_mut(q[l].j as usize);
            fj[0] -= dx * fpair;
            fj[1] -= dy * fpair;
            fj[2] -= dz * fpair;
            *epair += pa[l];
        }
    }
    n4
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
        // Every type indexes the tables: the kernels rely on it for their
        // unchecked row reads (one pass over nall types, ~0.02 % of a step).
        assert!(typ.len() >= nall && typ[..nall].iter().all(|&v| (v as usize) < t.ntypes), "atom type beyond the potential's {} types", t.ntypes);

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
        if threaded {
            // F and F′ in parallel, then the energy summed in atom order
            // as below: the same bits as one thread.
            self.phi.clear();
            self.phi.resize(nlocal, 0.0);
            const BLK: usize = 4096;
            let rho = &self.rho;
            self.fp[..nlocal].par_chunks_mut(BLK).zip(self.phi.par_chunks_mut(BLK)).enumerate().for_each(|(b, (fp, phi))| {
                for (k, (fp, phi)) in fp.iter_mut().zip(phi.iter_mut()).enumerate() {
                    let i = b * BLK + k;
                    (*phi, *fp) = t.embed(typ[i] as usize, rho[i]);
                }
            });
            for i in 0..nlocal {
                energy += self.phi[i];
                if flags.energy_atom {
                    per_atom.energy[i] += self.phi[i];
                }
            }
        } else {
            for i in 0..nlocal {
                let (phi, fpi) = t.embed(typ[i] as usize, self.rho[i]);
                self.fp[i] = fpi;
                energy += phi;
                if flags.energy_atom {
                    per_atom.energy[i] += phi;
                }
            }
        }
        sync.forward(&mut self.fp, 1);

        // Phase 3: pair forces.
        if threaded {
            f.par_chunks_mut(4096).for_each(|b| b.iter_mut().for_each(|v| *v = [0.0; 3]));
        } else {
            f.iter_mut().for_each(|v| *v = [0.0; 3]);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX2 gather gives the scalar gather's list bit for bit: the same
    /// pairs in the same order, the same knots, fractions, separations and
    /// distances (CuZr_mm, random pairs from 0 to past the cutoff, including
    /// pairs exactly at it).
    #[test]
    fn simd_gather_is_the_scalar_gather_bit_for_bit() {
        #[cfg(target_arch = "x86_64")]
        {
            if !std::is_x86_feature_detected!("avx2") {
                return;
            }
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("inputs/potentials/CuZr_mm.eam.fs");
            let file = file::read(&path, EamStyle::Fs).unwrap();
            let t = EamTables::new(&file, &[0, 1]);
            let cut = t.cutforcesq.sqrt();
            // A small deterministic generator (xorshift).
            let mut s = 0x9e3779b97f4a7c15u64;
            let mut rnd = || {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64
            };
            let n = 403;
            let mut x: Vec<[f64; 3]> = (0..n).map(|_| [0.0; 3]).collect();
            let xi = [1.5, -2.25, 3.125];
            for (k, p) in x.iter_mut().enumerate() {
                // Distances up to 1.3 cutoffs; every 17th exactly at it.
                let r = if k % 17 == 0 { cut } else { 1.3 * cut * rnd() };
                let (u, v) = (2.0 * rnd() - 1.0, std::f64::consts::TAU * rnd());
                let w = (1.0 - u * u).sqrt();
                *p = [xi[0] + r * w * v.cos(), xi[1] + r * w * v.sin(), xi[2] + r * u];
            }
            let typ: Vec<u32> = (0..n).map(|k| (k % 3 == 0) as u32).collect();
            for len in [0, 1, 3, 4, 5, 64, 401, 402] {
                let neigh: Vec<u32> = (0..len as u32).map(|k| (k * 7 + 1) % n as u32).collect();
                for ti in 0..2 {
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    let row = &t.force[ti * 2..ti * 2 + 2];
                    gather_scalar(&t, &x, &typ, xi, &neigh, row, &mut a);
                    b.push(a.first().copied().unwrap_or(Near { j: 0, tj: 0, m: 0, p: 0.0, d: [0.0; 3], r: 0.0 }));
                    unsafe { gather_avx2(&t, &x, &typ, xi, &neigh, row, &mut b) };
                    assert_eq!(a.len(), b.len(), "{len} neighbors");
                    assert!(len < 64 || a.len() > 0 && a.len() < len, "the test must cross the cutoff");
                    for (p, q) in a.iter().zip(&b) {
                        assert_eq!((p.j, p.tj, p.m), (q.j, q.tj, q.m));
                        assert_eq!([p.p.to_bits(), p.r.to_bits()], [q.p.to_bits(), q.r.to_bits()]);
                        assert_eq!(p.d.map(f64::to_bits), q.d.map(f64::to_bits));
                    }
                    // The density pass's slim records: the same pairs, knots
                    // and fractions.
                    let (mut c, mut d) = (Vec::new(), Vec::new());
                    let row = &t.dens[ti * 2..ti * 2 + 2];
                    gather_scalar(&t, &x, &typ, xi, &neigh, row, &mut c);
                    unsafe { gather_avx2(&t, &x, &typ, xi, &neigh, row, &mut d) };
                    assert_eq!(c.len(), a.len(), "{len} neighbors");
                    assert_eq!(d.len(), a.len(), "{len} neighbors");
                    for ((p, q), f) in c.iter().zip(&d).zip(&a) {
                        assert_eq!((p.j, p.tj, p.m, p.p.to_bits()), (q.j, q.tj, q.m, q.p.to_bits()));
                        assert_eq!((p.j, p.tj, p.m, p.p.to_bits()), (f.j, f.tj, f.m, f.p.to_bits()));
                    }
                }
            }
        }
    }
}
