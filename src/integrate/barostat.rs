//! Martyna–Tobias–Klein barostat (J. Chem. Phys. 101, 4177 (1994)) for an
//! orthogonal cell, integrated as LAMMPS `fix npt` does (`FixNH`: Trotter
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
//! Pure arithmetic: the engine supplies temperatures, kinetic tensors and
//! pressures (global, via its communicator) and applies the velocity factors
//! and box dilations this type returns.

use crate::units::{BOLTZ, NKTV2P};

pub const PCHAIN: usize = 3;

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
            p_current: [0.0; 3],
            vol0: 0.0,
            l0: [0.0; 3],
            fixedpoint: [0.0; 3],
            mtk_term1: 0.0,
            mtk_term2: 0.0,
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

    /// Continue with new targets and damping, keeping ω̇ and the chain
    /// (state carries over between stages).
    pub fn retarget(&mut self, other: &Barostat) {
        self.p_flag = other.p_flag;
        self.p_start = other.p_start;
        self.p_stop = other.p_stop;
        self.p_freq = other.p_freq;
        self.iso = other.iso;
        self.couple = other.couple;
        self.deviatoric = other.deviatoric;
    }

    pub fn pdim(&self) -> usize {
        self.p_flag.iter().filter(|&&f| f).count()
    }
    fn p_freq_max(&self) -> f64 {
        self.p_freq.iter().cloned().fold(0.0, f64::max)
    }

    /// LAMMPS `FixNH::init` (reference cell, once) and `setup` (masses).
    pub fn setup(&mut self, t_target: f64, natoms: u64, lo: [f64; 3], hi: [f64; 3]) {
        let l = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
        if self.vol0 == 0.0 {
            self.vol0 = l[0] * l[1] * l[2];
            self.l0 = l;
        }
        for d in 0..3 {
            self.fixedpoint[d] = 0.5 * (lo[d] + hi[d]);
        }
        let kt = BOLTZ * t_target;
        let nkt = (natoms as f64 + 1.0) * kt;
        for d in 0..3 {
            if self.p_flag[d] {
                self.omega_mass[d] = nkt / (self.p_freq[d] * self.p_freq[d]);
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
    }

    /// Half-step update of ω̇ (LAMMPS `nh_omega_dot`). `t_current` is the
    /// chain-tracked temperature, `mvv` the kinetic tensor diagonal (eV).
    pub fn omega_dot_update(&mut self, dt: f64, lengths: [f64; 3], tdof: f64, t_current: f64, mvv: [f64; 3], natoms: u64) {
        let dthalf = 0.5 * dt;
        let volume = lengths[0] * lengths[1] * lengths[2];
        let pdim = self.pdim() as f64;
        let n = natoms as f64;
        // Deviatoric force h σ hᵀ for an orthogonal cell.
        let mut fdev = [0.0; 3];
        if self.deviatoric {
            for d in 0..3 {
                let inv = 1.0 / self.l0[d];
                let sigma = self.vol0 * (inv * ((self.p_target[d] - self.p_hydro) * inv));
                fdev[d] = lengths[d] * (sigma * lengths[d]);
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
    }

    /// Half step of the chain on the cell velocities (LAMMPS `nhc_press_integrate`).
    pub fn chain_half_step(&mut self, dt: f64, t_target: f64) {
        let (dthalf, dt4, dt8) = (0.5 * dt, 0.25 * dt, 0.125 * dt);
        let kt = BOLTZ * t_target;
        let ke = |b: &Barostat| (0..3).filter(|&d| b.p_flag[d]).map(|d| b.omega_mass[d] * b.omega_dot[d] * b.omega_dot[d]).fold(0.0, |a, x| a + x);
        let mut kecurrent = ke(self);
        let pdof = self.pdim() as f64;
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
