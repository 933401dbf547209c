//! The AVX2 kernels (four neighbors at a time) change no bit of a run: a
//! 2,048-atom Cu64Zr36 liquid at 2000 K after 100 NVE steps of 2 fs (several
//! neighbor-list rebuilds at this temperature) has the same positions and velocities, written with
//! 17 significant digits, as with `GLASSMD_SIMD=0`, on 1 and 2 threads.
//! The kernel-level twin of this is the unit test
//! `potential::eam::tests::simd_gather_is_the_scalar_gather_bit_for_bit`.
mod common;
use common::*;
use std::process::Command;

#[test]
fn simd_and_scalar_kernels_give_the_same_bits() {
    let d = tempdir();
    let data = root().join("tests/data/reference/cuzr_fs_ppp/config.data");
    let pot = root().join("inputs/potentials/CuZr_mm.eam.fs");
    for threads in [1, 2] {
        let mut outs = Vec::new();
        for simd in ["0", "1"] {
            let dir = d.path().join(format!("t{threads}_simd{simd}"));
            std::fs::create_dir_all(&dir).unwrap();
            let deck = format!(
                "[system]\nread_data = \"{}\"\n[potential]\nstyle = \"eam/fs\"\nfile = \"{}\"\nelements = [\"Cu\", \"Zr\"]\n[neighbor]\nskin = 1.0\n\
                 [[stage]]\nkind = \"velocity\"\ntemperature = 2000.0\nseed = 5\n[[stage]]\nkind = \"nve\"\nsteps = 100\ntimestep = 0.002\n\
                 [[stage]]\nkind = \"write_data\"\nfile = \"final.data\"\n",
                data.display(),
                pot.display()
            );
            std::fs::write(dir.join("deck.toml"), deck).unwrap();
            let out = Command::new(bin()).args(["--threads", &threads.to_string(), "run", "deck.toml"]).env("GLASSMD_SIMD", simd).current_dir(&dir).output().unwrap();
            let log = ok(&out);
            assert!(log.contains("Neigh"), "{log}");
            outs.push(std::fs::read_to_string(dir.join("final.data")).unwrap());
        }
        assert!(outs[0].lines().count() > 4000, "positions and velocities written");
        assert!(outs[0] == outs[1], "{threads} thread(s): the SIMD run differs from the scalar run");
    }
}
