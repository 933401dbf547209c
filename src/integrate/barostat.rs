//! Martyna–Tobias–Klein barostat (J. Chem. Phys. 101, 4177 (1994)) for an
//! orthogonal or triclinic cell, integrated as LAMMPS `fix npt` does (`FixNH`: Trotter
//! splitting of Tuckerman et al., J. Phys. A 39, 5629 (2006); a Nosé–Hoover
//! chain on the cell velocities; MTK coupling terms), so that trajectories
//! agree with LAMMPS to round-off.
//!
//! The cell has one strain-rate variable ω̇ per barostatted axis with mass
//! W = (N + 1) k_B T / ω_p². Coupled axes (`iso`, or `couple`) see the mean of
//! their pressure components; an isotropic barostat is LAMMPS `iso`.
//! Per-axis targets (LAMMPS `x`, `y`, `z` keywords) add the deviatoric force
//! −V₀ (P_target,i − P_hydro) (L_i/L₀,i)², so each axis reaches its own
//! target. Pressures are in bar.
//!
//! A triclinic cell adds the tilt components (LAMMPS `xy`, `xz`, `yz` and
//! `tri` keywords; [`TiltBaro`], in LAMMPS's Voigt order yz, xz, xy): each
//! has its own ω̇ driven by its shear pressure, the velocities get the
//! off-diagonal MTK coupling, and the cell matrix h follows ḣ = ω̇ h with
//! the time-symmetric splitting of LAMMPS `FixNH::remap`. Non-zero tilts
//! that are not barostatted scale with their second axis (LAMMPS
//! `scalexy`, `scalexz`, `scaleyz`, on by default), and a tilt beyond
//! (½ + 0.1) of its box length is flipped ([`Barostat::flips`]).
//!
//! Pure arithmetic: the engine supplies temperatures, kinetic tensors and
//! pressures (global, via its communicator) and applies the velocity factors
//! and box dilations this type returns.

use crate::system::SimBox;
use crate::units::{BOLTZ, NKTV2P};

pub const PCHAIN: usize = 3;

/// LAMMPS `DELTAFLIP`: a barostatted tilt flips only past (½ + 0.1) of
/// its box length, so it does not flip back and forth.
pub const DELTAFLIP: f64 = 0.1;
/// LAMMPS `TILTMAX`: a tilt beyond 1.5 box lengths in one step means the
/// cell is far from equilibrium.
pub const TILTMAX: f64 = 1.5;

/// The tilt degrees of freedom of the cell, in LAMMPS's Voigt order
/// (index 0, 1, 2 = yz, xz, xy: LAMMPS components 3, 4, 5).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct TiltBaro {
    pub p_flag: [bool; 3],
    pub p_start: [f64; 3],
    pub p_stop: [f64; 3],
    pub p_freq: [f64; 3],
    pub omega: [f64; 3],
    pub omega_dot: [f64; 3],
    pub omega_mass: [f64; 3],
    pub p_target: [f64; 3],
    pub p_current: [f64; 3],
    /// Scale this tilt with its second axis (LAMMPS scaleyz, scalexz, scalexy).
    pub scale: [bool; 3],
    /// Reference cell inverse h0⁻¹ (LAMMPS `h0_inv`, Voigt order) for the
    /// deviatoric force of a tilted cell.
    pub h0_inv: Option<[f64; 6]>,
}

impl TiltBaro {
    pub fn any(&self) -> bool {
        self.p_flag.iter().any(|&f| f)
    }
}

/// Voigt tilt index j (yz, xz, xy) → index in `SimBox::tilt` (xy, xz, yz).
const fn tilt_index(j: usize) -> usize {
    2 - j
}

/// Which pressure components drive which axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Couple {
    None,
    Xyz,
    Xy,
    Yz,
    Xz,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Barostat {
    pub p_flag: [bool; 3],
    pub p_start: [f64; 3],
    pub p_stop: [f64; 3],
    pub p_freq: [f64; 3],
    /// LAMMPS pstyle ISO (one cell variable for all axes).
    pub iso: bool,
    pub couple: Couple,
    pub deviatoric: bool,
    pub omega: [f64; 3],
    pub omega_dot: [f64; 3],
    pub omega_mass: [f64; 3],
    pub etap: [f64; PCHAIN],
    pub etap_dot: [f64; PCHAIN + 1],
    pub etap_dotdot: [f64; PCHAIN],
    pub etap_mass: [f64; PCHAIN],
    pub p_target: [f64; 3],
    pub p_hydro: f64,
    pub p_current: [f64; 3],
    /// Reference volume and edge lengths (LAMMPS vol0, h0_inv).
    pub vol0: f64,
    pub l0: [f64; 3],
    /// Centre the box dilates about.
    pub fixedpoint: [f64; 3],
    pub mtk_term1: f64,
    pub mtk_term2: f64,
    /// Tilt components (absent in checkpoints of orthogonal runs).
    #[serde(default)]
    pub tri: TiltBaro,
    /// Reset the reference cell every this many steps of a stage (LAMMPS
    /// `nreset`; 0: never).
    #[serde(default)]
    pub nreset: u64,
}

impl Barostat {
    /// `targets[i]`: Some((start, stop)) in bar for each barostatted axis.
    pub fn new(targets: [Option<(f64, f64)>; 3], pdamp: f64, iso: bool, couple: Couple, deviatoric: bool) -> Barostat {
        let mut b = Barostat {
            p_flag: [false; 3],
            p_start: [0.0; 3],
            p_stop: [0.0; 3],
            p_freq: [0.0; 3],
            iso,
            couple,
            deviatoric,
            omega: [0.0; 3],
            omega_dot: [0.0; 3],
            omega_mass: [0.0; 3],
            etap: [0.0; PCHAIN],
            etap_dot: [0.0; PCHAIN + 1],
            etap_dotdot: [0.0; PCHAIN],
            etap_mass: [0.0; PCHAIN],
            p_target: [0.0; 3],
            p_hydro: 0.0,
            nreset: 0,
            p_current: [0.0; 3],
            vol0: 0.0,
            l0: [0.0; 3],
            fixedpoint: [0.0; 3],
            mtk_term1: 0.0,
            mtk_term2: 0.0,
            tri: TiltBaro::default(),
        };
        for d in 0..3 {
            if let Some((a, z)) = targets[d] {
                b.p_flag[d] = true;
                b.p_start[d] = a;
                b.p_stop[d] = z;
                b.p_freq[d] = 1.0 / pdamp;
            }
        }
        b
    }

    /// Barostat tilt components too: `targets` (start, stop) in bar for
    /// xy, xz, yz (LAMMPS keywords `xy`, `xz`, `yz`; `tri` is all three
    /// at zero with x, y, z).
    pub fn with_tilts(mut self, targets: [Option<(f64, f64)>; 3], pdamp: f64) -> Barostat {
        for (k, t) in targets.iter().enumerate() {
            if let Some((a, z)) = *t {
                let j = tilt_index(k);
                self.tri.p_flag[j] = true;
                self.tri.p_start[j] = a;
                self.tri.p_stop[j] = z;
                self.tri.p_freq[j] = 1.0 / pdamp;
            }
        }
        self
    }

    /// Continue with new targets and damping, keeping ω̇ and the chain
    /// (state carries over between stages).
    pub fn retarget(&mut self, other: &Barostat) {
        self.tri.p_flag = other.tri.p_flag;
        self.tri.p_start = other.tri.p_start;
        self.tri.p_stop = other.tri.p_stop;
        self.tri.p_freq = other.tri.p_freq;
        self.p_flag = other.p_flag;
        self.p_start = other.p_start;
        self.p_stop = other.p_stop;
        self.p_freq = other.p_freq;
        self.iso = other.iso;
        self.couple = other.couple;
        self.deviatoric = other.deviatoric;
        self.nreset = other.nreset;
    }

    pub fn pdim(&self) -> usize {
        self.p_flag.iter().filter(|&&f| f).count()
    }
    fn p_freq_max(&self) -> f64 {
        self.p_freq.iter().chain(self.tri.p_freq.iter()).cloned().fold(0.0, f64::max)
    }

    /// LAMMPS `FixNH::init` (reference cell, once) and `setup` (masses).
    /// Also decides which tilts scale with their axis (LAMMPS, when the fix
    /// is made: a non-zero tilt on a periodic second axis that is not
    /// itself barostatted).
    pub fn setup(&mut self, t_target: f64, natoms: u64, bx: &SimBox) {
        let (lo, hi) = (bx.lo, bx.hi);
        let l = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
        if self.vol0 == 0.0 {
            self.vol0 = l[0] * l[1] * l[2];
            self.l0 = l;
            if bx.triclinic {
                self.tri.h0_inv = Some(bx.h_inv());
            }
        }
        for d in 0..3 {
            self.fixedpoint[d] = 0.5 * (lo[d] + hi[d]);
        }
        for j in 0..3 {
            let k = tilt_index(j);
            let second = crate::system::TILTS[k].2;
            self.tri.scale[j] = bx.triclinic && bx.tilt[k] != 0.0 && bx.periodic(second) && !self.tri.p_flag[j];
        }
        let kt = BOLTZ * t_target;
        let nkt = (natoms as f64 + 1.0) * kt;
        for d in 0..3 {
            if self.p_flag[d] {
                self.omega_mass[d] = nkt / (self.p_freq[d] * self.p_freq[d]);
            }
        }
        for j in 0..3 {
            if self.tri.p_flag[j] {
                self.tri.omega_mass[j] = nkt / (self.tri.p_freq[j] * self.tri.p_freq[j]);
            }
        }
        let pfm = self.p_freq_max();
        self.etap_mass[0] = BOLTZ * t_target / (pfm * pfm);
        for ich in 1..PCHAIN {
            self.etap_mass[ich] = BOLTZ * t_target / (pfm * pfm);
        }
        for ich in 1..PCHAIN {
            self.etap_dotdot[ich] =
                (self.etap_mass[ich - 1] * self.etap_dot[ich - 1] * self.etap_dot[ich - 1] - BOLTZ * t_target) / self.etap_mass[ich];
        }
    }

    /// Targets at fraction `delta` of the stage.
    pub fn press_target(&mut self, delta: f64) {
        self.p_hydro = 0.0;
        for d in 0..3 {
            if self.p_flag[d] {
                self.p_target[d] = self.p_start[d] + delta * (self.p_stop[d] - self.p_start[d]);
                self.p_hydro += self.p_target[d];
            }
        }
        let pdim = self.pdim();
        if pdim > 0 {
            self.p_hydro /= pdim as f64;
        }
        for j in 0..3 {
            if self.tri.p_flag[j] {
                self.tri.p_target[j] = self.tri.p_start[j] + delta * (self.tri.p_stop[j] - self.tri.p_start[j]);
            }
        }
    }

    /// Take the current cell as the reference of the deviatoric force
    /// (LAMMPS `compute_sigma` with `nreset`): σ = V₀ h₀⁻¹ (P_t − P_h) h₀⁻ᵀ
    /// is exact for the reference cell only, so a box that creeps far from
    /// it under unequal targets drifts off them.
    pub fn reset_reference(&mut self, bx: &SimBox) {
        let l = bx.lengths();
        self.vol0 = l[0] * l[1] * l[2];
        self.l0 = l;
        if bx.triclinic {
            self.tri.h0_inv = Some(bx.h_inv());
        }
    }

    /// Move the targets of the barostatted normal axes by `offset` bar
    /// (a stress-controlled cycle on top of the stage's targets).
    pub fn offset_targets(&mut self, offset: [f64; 3]) {
        for d in 0..3 {
            if self.p_flag[d] {
                self.p_target[d] += offset[d];
            }
        }
        let pdim = self.pdim();
        if pdim > 0 {
            self.p_hydro = (0..3).filter(|&d| self.p_flag[d]).map(|d| self.p_target[d]).sum::<f64>() / pdim as f64;
        }
    }

    /// Set the driving pressures from the scalar (iso) or the tensor diagonal.
    pub fn couple_pressure(&mut self, scalar: f64, tensor: [f64; 6]) {
        let t = tensor;
        self.p_current = if self.iso {
            [scalar; 3]
        } else {
            match self.couple {
                Couple::Xyz => {
                    let ave = 1.0 / 3.0 * (t[0] + t[1] + t[2]);
                    [ave; 3]
                }
                Couple::Xy => {
                    let ave = 0.5 * (t[0] + t[1]);
                    [ave, ave, t[2]]
                }
                Couple::Yz => {
                    let ave = 0.5 * (t[1] + t[2]);
                    [t[0], ave, ave]
                }
                Couple::Xz => {
                    let ave = 0.5 * (t[0] + t[2]);
                    [ave, t[1], ave]
                }
                Couple::None => [t[0], t[1], t[2]],
            }
        };
        // Tensor order xy, xz, yz → Voigt yz, xz, xy.
        self.tri.p_current = [t[5], t[4], t[3]];
    }

    /// The deviatoric force h σ hᵀ of a tilted cell, with σ = V₀ h₀⁻¹
    /// (P_target − P_hydro) h₀⁻ᵀ (LAMMPS `compute_sigma`,
    /// `compute_deviatoric`; Voigt order xx, yy, zz, yz, xz, xy).
    fn fdev_triclinic(&self, h: &[f64; 6]) -> [f64; 6] {
        let hi = self.tri.h0_inv.unwrap_or([1.0 / self.l0[0], 1.0 / self.l0[1], 1.0 / self.l0[2], 0.0, 0.0, 0.0]);
        let ph = self.p_hydro;
        let p = [self.p_target[0] - ph, self.p_target[1] - ph, self.p_target[2] - ph, self.tri.p_target[0], self.tri.p_target[1], self.tri.p_target[2]];
        let v0 = self.vol0;
        let s = [
            v0 * (hi[0] * (p[0] * hi[0] + p[5] * hi[5] + p[4] * hi[4]) + hi[5] * (p[5] * hi[0] + p[1] * hi[5] + p[3] * hi[4]) + hi[4] * (p[4] * hi[0] + p[3] * hi[5] + p[2] * hi[4])),
            v0 * (hi[1] * (p[1] * hi[1] + p[3] * hi[3]) + hi[3] * (p[3] * hi[1] + p[2] * hi[3])),
            v0 * (hi[2] * (p[2] * hi[2])),
            v0 * (hi[1] * (p[3] * hi[2]) + hi[3] * (p[2] * hi[2])),
            v0 * (hi[0] * (p[4] * hi[2]) + hi[5] * (p[3] * hi[2]) + hi[4] * (p[2] * hi[2])),
            v0 * (hi[0] * (p[5] * hi[1] + p[4] * hi[3]) + hi[5] * (p[1] * hi[1] + p[3] * hi[3]) + hi[4] * (p[3] * hi[1] + p[2] * hi[3])),
        ];
        [
            h[0] * (s[0] * h[0] + s[5] * h[5] + s[4] * h[4]) + h[5] * (s[5] * h[0] + s[1] * h[5] + s[3] * h[4]) + h[4] * (s[4] * h[0] + s[3] * h[5] + s[2] * h[4]),
            h[1] * (s[1] * h[1] + s[3] * h[3]) + h[3] * (s[3] * h[1] + s[2] * h[3]),
            h[2] * (s[2] * h[2]),
            h[1] * (s[3] * h[2]) + h[3] * (s[2] * h[2]),
            h[0] * (s[4] * h[2]) + h[5] * (s[3] * h[2]) + h[4] * (s[2] * h[2]),
            h[0] * (s[5] * h[1] + s[4] * h[3]) + h[5] * (s[1] * h[1] + s[3] * h[3]) + h[4] * (s[3] * h[1] + s[2] * h[3]),
        ]
    }

    /// Half-step update of ω̇ (LAMMPS `nh_omega_dot`). `t_current` is the
    /// chain-tracked temperature, `mvv` the kinetic tensor diagonal (eV).
    pub fn omega_dot_update(&mut self, dt: f64, bx: &SimBox, tdof: f64, t_current: f64, mvv: [f64; 3], natoms: u64) {
        let dthalf = 0.5 * dt;
        let lengths = bx.lengths();
        let volume = lengths[0] * lengths[1] * lengths[2];
        let pdim = self.pdim() as f64;
        let n = natoms as f64;
        // Deviatoric force h σ hᵀ (the short form for an orthogonal cell).
        let mut fdev = [0.0; 6];
        if self.deviatoric {
            if bx.triclinic {
                fdev = self.fdev_triclinic(&bx.h());
            } else {
                for d in 0..3 {
                    let inv = 1.0 / self.l0[d];
                    let sigma = self.vol0 * (inv * ((self.p_target[d] - self.p_hydro) * inv));
                    fdev[d] = lengths[d] * (sigma * lengths[d]);
                }
            }
        }
        self.mtk_term1 = 0.0;
        if self.iso {
            self.mtk_term1 = tdof * BOLTZ * t_current;
            self.mtk_term1 /= pdim * n;
        } else {
            for d in 0..3 {
                if self.p_flag[d] {
                    self.mtk_term1 += mvv[d];
                }
            }
            self.mtk_term1 /= pdim * n;
        }
        for d in 0..3 {
            if self.p_flag[d] {
                let mut f_omega = (self.p_current[d] - self.p_hydro) * volume / (self.omega_mass[d] * NKTV2P) + self.mtk_term1 / self.omega_mass[d];
                if self.deviatoric {
                    f_omega -= fdev[d] / (self.omega_mass[d] * NKTV2P);
                }
                self.omega_dot[d] += f_omega * dthalf;
            }
        }
        self.mtk_term2 = 0.0;
        for d in 0..3 {
            if self.p_flag[d] {
                self.mtk_term2 += self.omega_dot[d];
            }
        }
        if pdim > 0.0 {
            self.mtk_term2 /= pdim * n;
        }
        for j in 0..3 {
            if self.tri.p_flag[j] {
                let m = self.tri.omega_mass[j];
                let mut f_omega = self.tri.p_current[j] * volume / (m * NKTV2P);
                if self.deviatoric {
                    f_omega -= fdev[3 + j] / (m * NKTV2P);
                }
                self.tri.omega_dot[j] += f_omega * dthalf;
            }
        }
    }

    /// Half step of the chain on the cell velocities (LAMMPS `nhc_press_integrate`).
    pub fn chain_half_step(&mut self, dt: f64, t_target: f64) {
        let (dthalf, dt4, dt8) = (0.5 * dt, 0.25 * dt, 0.125 * dt);
        let kt = BOLTZ * t_target;
        let ke = |b: &Barostat| {
            let diag = (0..3).filter(|&d| b.p_flag[d]).map(|d| b.omega_mass[d] * b.omega_dot[d] * b.omega_dot[d]).fold(0.0, |a, x| a + x);
            (0..3).filter(|&j| b.tri.p_flag[j]).map(|j| b.tri.omega_mass[j] * b.tri.omega_dot[j] * b.tri.omega_dot[j]).fold(diag, |a, x| a + x)
        };
        let mut kecurrent = ke(self);
        let pdof = (self.pdim() + self.tri.p_flag.iter().filter(|&&f| f).count()) as f64;
        let lkt_press = if self.iso { kt } else { pdof * kt };
        self.etap_dotdot[0] = (kecurrent - lkt_press) / self.etap_mass[0];
        for ich in (1..PCHAIN).rev() {
            let expfac = (-dt8 * self.etap_dot[ich + 1]).exp();
            self.etap_dot[ich] *= expfac;
            self.etap_dot[ich] += self.etap_dotdot[ich] * dt4;
            self.etap_dot[ich] *= expfac;
        }
        let expfac = (-dt8 * self.etap_dot[1]).exp();
        self.etap_dot[0] *= expfac;
        self.etap_dot[0] += self.etap_dotdot[0] * dt4;
        self.etap_dot[0] *= expfac;
        for ich in 0..PCHAIN {
            self.etap[ich] += dthalf * self.etap_dot[ich];
        }
        let factor = (-dthalf * self.etap_dot[0]).exp();
        for d in 0..3 {
            if self.p_flag[d] {
                self.omega_dot[d] *= factor;
            }
        }
        for j in 0..3 {
            if self.tri.p_flag[j] {
                self.tri.omega_dot[j] *= factor;
            }
        }
        kecurrent = ke(self);
        self.etap_dotdot[0] = (kecurrent - lkt_press) / self.etap_mass[0];
        self.etap_dot[0] *= expfac;
        self.etap_dot[0] += self.etap_dotdot[0] * dt4;
        self.etap_dot[0] *= expfac;
        for ich in 1..PCHAIN {
            let expfac = (-dt8 * self.etap_dot[ich + 1]).exp();
            self.etap_dot[ich] *= expfac;
            self.etap_dotdot[ich] = (self.etap_mass[ich - 1] * self.etap_dot[ich - 1] * self.etap_dot[ich - 1] - kt) / self.etap_mass[ich];
            self.etap_dot[ich] += self.etap_dotdot[ich] * dt4;
            self.etap_dot[ich] *= expfac;
        }
    }

    /// Velocity factors of `nh_v_press` (applied twice per call).
    pub fn v_press_factors(&self, dt: f64) -> [f64; 3] {
        let dt4 = 0.25 * dt;
        [
            (-dt4 * (self.omega_dot[0] + self.mtk_term2)).exp(),
            (-dt4 * (self.omega_dot[1] + self.mtk_term2)).exp(),
            (-dt4 * (self.omega_dot[2] + self.mtk_term2)).exp(),
        ]
    }

    /// Half a step of the MTK velocity coupling (LAMMPS `nh_v_press`) on one
    /// velocity: the diagonal factors around, for a barostatted tilt, the
    /// off-diagonal terms −dt/2 (ω̇ v) of the upper-triangular ω̇.
    #[inline]
    pub fn v_press(&self, v: &mut [f64; 3], f: &[f64; 3], dt: f64) {
        for d in 0..3 {
            v[d] *= f[d];
        }
        if self.tri.any() {
            let (od, dthalf) = (&self.tri.omega_dot, 0.5 * dt);
            v[0] += -dthalf * (v[1] * od[2] + v[2] * od[1]);
            v[1] += -dthalf * v[2] * od[0];
        }
        for d in 0..3 {
            v[d] *= f[d];
        }
    }

    /// Half a step of the cell ḣ = ω̇ h for a triclinic box (LAMMPS
    /// `FixNH::remap`, dto = dt/2): the off-diagonal terms in a
    /// time-symmetric split around the diagonal scaling, non-barostatted
    /// tilts scaled with their axis. Advances ω; returns the new box, or an
    /// error if a tilt ran past [`TILTMAX`] box lengths in one step.
    pub fn remap_box(&mut self, dt: f64, bx: &SimBox) -> Result<SimBox, String> {
        let dto = 0.5 * dt;
        for d in 0..3 {
            self.omega[d] += dto * self.omega_dot[d];
        }
        for j in 0..3 {
            self.tri.omega[j] += dto * self.tri.omega_dot[j];
        }
        let (dto2, dto4, dto8) = (dto / 2.0, dto / 4.0, dto / 8.0);
        let od = [self.omega_dot[0], self.omega_dot[1], self.omega_dot[2], self.tri.omega_dot[0], self.tri.omega_dot[1], self.tri.omega_dot[2]];
        let pf = [self.p_flag[0], self.p_flag[1], self.p_flag[2], self.tri.p_flag[0], self.tri.p_flag[1], self.tri.p_flag[2]];
        let mut h = bx.h();
        let off_diagonal = |h: &mut [f64; 6]| {
            if pf[4] {
                let e = (dto8 * od[0]).exp();
                h[4] *= e;
                h[4] += dto4 * (od[5] * h[3] + od[4] * h[2]);
                h[4] *= e;
            }
            if pf[3] {
                let e = (dto4 * od[1]).exp();
                h[3] *= e;
                h[3] += dto2 * (od[3] * h[2]);
                h[3] *= e;
            }
            if pf[5] {
                let e = (dto4 * od[0]).exp();
                h[5] *= e;
                h[5] += dto2 * (od[5] * h[1]);
                h[5] *= e;
            }
            if pf[4] {
                let e = (dto8 * od[0]).exp();
                h[4] *= e;
                h[4] += dto4 * (od[5] * h[3] + od[4] * h[2]);
                h[4] *= e;
            }
        };
        let tri = self.tri.any();
        if tri {
            off_diagonal(&mut h);
        }
        let (mut lo, mut hi) = (bx.lo, bx.hi);
        for d in 0..3 {
            if self.p_flag[d] {
                let e = (dto * od[d]).exp();
                lo[d] = (lo[d] - self.fixedpoint[d]) * e + self.fixedpoint[d];
                hi[d] = (hi[d] - self.fixedpoint[d]) * e + self.fixedpoint[d];
                // scalexy with y; scalexz, scaleyz with z.
                if d == 1 && self.tri.scale[2] {
                    h[5] *= e;
                }
                if d == 2 {
                    if self.tri.scale[1] {
                        h[4] *= e;
                    }
                    if self.tri.scale[0] {
                        h[3] *= e;
                    }
                }
            }
        }
        if tri {
            // As in LAMMPS, h's diagonal is only updated with the box
            // after both halves.
            off_diagonal(&mut h);
        }
        let nb = bx.with_shape(lo, hi, [h[5], h[4], h[3]]);
        let l = nb.lengths();
        if nb.tilt[2].abs() > TILTMAX * l[1] || nb.tilt[1].abs() > TILTMAX * l[0] || nb.tilt[0].abs() > TILTMAX * l[0] {
            return Err("the barostat tilted the box by more than 1.5 box lengths in one step: the cell is far from equilibrium".into());
        }
        Ok(nb)
    }

    /// Tilts past (½ + [`DELTAFLIP`]) of their box length, flipped by one
    /// length (LAMMPS `FixNH::pre_exchange`): the new tilts (xy, xz, yz)
    /// and the flips (xy, xz, yz) for `Domain::image_flip`, or None.
    pub fn flips(bx: &SimBox) -> Option<([f64; 3], [i32; 3])> {
        flip_tilts(bx, 0.5 + DELTAFLIP, true)
    }

    /// Half-step box dilation factors (LAMMPS `remap`, dto = dt/2); advances ω.
    pub fn remap_factors(&mut self, dt: f64) -> [f64; 3] {
        let dto = 0.5 * dt;
        let mut f = [1.0; 3];
        for d in 0..3 {
            self.omega[d] += dto * self.omega_dot[d];
            if self.p_flag[d] {
                f[d] = (dto * self.omega_dot[d]).exp();
            }
        }
        f
    }
}

/// Flip tilts beyond `limit` box lengths by one box length (LAMMPS
/// `FixNH::pre_exchange` with limit ½ + 0.1, `FixDeform` with ½): yz first,
/// which also moves xz by xy, then xz and xy, on periodic axes only.
/// `inclusive` flips a tilt exactly at +limit too (LAMMPS FixNH flips at
/// `>=`, FixDeform only beyond). Returns the new tilts (xy, xz, yz) and
/// the flips (xy, xz, yz) as `SimBox::image_flip` takes them.
pub fn flip_tilts(bx: &SimBox, limit: f64, inclusive: bool) -> Option<([f64; 3], [i32; 3])> {
    let l = bx.lengths();
    let [mut xy, mut xz, mut yz] = bx.tilt;
    let (mut fxy, mut fxz, mut fyz) = (0, 0, 0);
    let over = |t: f64, max: f64| if inclusive { t >= max } else { t > max };
    if bx.periodic(1) {
        let max = limit * l[1];
        if yz < -max {
            yz += l[1];
            xz += xy;
            fyz = 1;
        } else if over(yz, max) {
            yz -= l[1];
            xz -= xy;
            fyz = -1;
        }
    }
    if bx.periodic(0) {
        let max = limit * l[0];
        if xz < -max {
            xz += l[0];
            fxz = 1;
        } else if over(xz, max) {
            xz -= l[0];
            fxz = -1;
        }
        if xy < -max {
            xy += l[0];
            fxy = 1;
        } else if over(xy, max) {
            xy -= l[0];
            fxy = -1;
        }
    }
    (fxy != 0 || fxz != 0 || fyz != 0).then_some(([xy, xz, yz], [fxy, fxz, fyz]))
}
