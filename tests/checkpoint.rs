//! Checkpoints and restart: a run stopped part-way and continued from its
//! checkpoint ends bitwise where the uninterrupted run ends, on the same
//! rank count (NVT, and mid-way through an NPT ramp; stopped by
//! --stop-at-step or by SIGTERM); on another rank count it ends at the same
//! physics. Damaged checkpoints are refused with a one-line error, and
//! existing outputs are not overwritten unless asked.

mod common;
use common::*;
use std::path::Path;

/// Velocities, one MD stage, a data file; snapshots, dump, checkpoint.
fn deck(dir: &Path, md: &str, checkpoint_every: u64) {
    let output = format!(
        "snapshot = {{ file = \"traj.h5\", every = 50, fields = [\"position\", \"velocity\", \"pe\"] }}\n\
         dump = {{ file = \"traj.lammpstrj\", every = 40 }}\n\
         checkpoint = {{ file = \"restart.h5\", every = {} }}",
        checkpoint_every
    );
    small_deck(dir, 20, &output, &format!("{}[[stage]]\nkind = \"write_data\"\nfile = \"final.data\"\n", md));
}

const NVT: &str = "[[stage]]\nkind = \"nvt\"\ntemperature = 1200\nsteps = 200\n";
const NPT_RAMP: &str = "[[stage]]\nkind = \"npt\"\ntemperature = [1500, 1000]\npressure_gpa = [0.0, 1.0]\nsteps = 200\n";

fn run(np: usize, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "deck.toml"];
    args.extend(extra);
    if np == 1 {
        glassmd(1, 1, &args, dir)
    } else {
        glassmd_mpirun(np, &args, dir)
    }
}

fn read(dir: &Path, f: &str) -> Vec<u8> {
    std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{}: {}", dir.join(f).display(), e))
}

/// Straight run and stop-at-130 + restart give the same bytes.
fn check_bitwise(np: usize, md: &str) {
    check_bitwise_at(np, md, 130, 11);
}

/// Straight run and stop-at-`stop` + restart give the same bytes; the
/// thermo CSV has `rows` rows.
fn check_bitwise_at(np: usize, md: &str, stop: u64, rows: usize) {
    let (a, b) = (tempdir(), tempdir());
    deck(a.path(), md, 0);
    deck(b.path(), md, 0);
    ok(&run(np, a.path(), &[]));
    let stop = stop.to_string();
    let stopped = run(np, b.path(), &["--stop-at-step", &stop]);
    assert_eq!(stopped.status.code(), Some(75), "stderr: {}", String::from_utf8_lossy(&stopped.stderr));
    assert!(b.path().join("restart.h5").exists() && b.path().join("thermo.csv.part").exists());
    assert!(!b.path().join("final.data").exists());
    ok(&run(np, b.path(), &["--restart", "restart.h5"]));
    for f in ["final.data", "thermo.csv", "traj.lammpstrj"] {
        assert!(read(a.path(), f) == read(b.path(), f), "{} differs after restart on {} rank(s)", f, np);
    }
    same_h5(&a.path().join("traj.h5"), &b.path().join("traj.h5"));
    // 200 steps: thermo rows at 0, 20, ..., 200 exactly once.
    let got = read_thermo_csv(&b.path().join("thermo.csv"));
    assert_eq!(got.len(), rows);
}

#[test]
fn nvt_restart_is_bitwise_on_one_rank() {
    check_bitwise(1, NVT);
}

#[test]
fn nvt_restart_is_bitwise_on_two_ranks() {
    check_bitwise(2, NVT);
}

#[test]
fn npt_ramp_restart_is_bitwise() {
    check_bitwise(1, NPT_RAMP);
    check_bitwise(2, NPT_RAMP);
}

/// Fixes with state: a Langevin stage on a group (its random forces are
/// in the saved forces), a partial setforce on the rest, and a box
/// deformation (its start box and step are its checkpointed state); then
/// an NPT stage on x and y with deform along z (chains, barostat and
/// deform state, keyed by fix id).
const FIXES: &str = "[[stage]]\nkind = \"langevin\"\ngroup = \"mobile\"\ntemperature = [1500, 1200]\ndamp = 0.1\nseed = 5\nsteps = 150\n\
    [[stage.fix]]\nkind = \"setforce\"\ngroup = \"base\"\nforce = [\"NULL\", \"NULL\", 0.0]\n\
    [[stage.fix]]\nkind = \"deform\"\nerate = { x = 0.05 }\n\
    [[stage]]\nkind = \"npt\"\ntemperature = 1200\npressure_gpa = { x = 0.0, y = 0.0 }\nsteps = 100\n\
    [[stage.fix]]\nkind = \"deform\"\nname = \"pull\"\nerate = { z = 0.02 }\n\
    [[group]]\nname = \"base\"\nregion = { z = [-inf, 4.0] }\n[[group]]\nname = \"mobile\"\nnot = \"base\"\n";

#[test]
fn restart_with_fixes_and_groups_is_bitwise() {
    // Stopped inside the Langevin stage, and inside the NPT stage; rows at
    // 0, 20, ..., 140, 150 (stage end), 160, ..., 240, 250.
    for (np, stop) in [(1, 130), (2, 130), (1, 210), (2, 210)] {
        check_bitwise_at(np, FIXES, stop, 15);
    }
}

/// A triclinic run: simple shear (deform xy with its pending flip and the
/// start tilt as state) through a tilt flip, then NPT with every cell
/// component barostatted (`tri`: the tilt ω̇ are barostat state). Stopped
/// just after the flip and inside the NPT stage.
const SHEAR_TRI: &str = "[[stage]]\nkind = \"nvt\"\ntemperature = 1200\ntimestep = 0.002\nsteps = 300\n\
    [[stage.fix]]\nkind = \"deform\"\nerate = { xy = 1.0 }\n\
    [[stage]]\nkind = \"npt\"\ntemperature = 1200\npressure_gpa = { tri = 0.0 }\nsteps = 100\n";

#[test]
fn triclinic_restart_through_a_flip_is_bitwise() {
    for (np, stop) in [(1, 270), (2, 270), (1, 350), (2, 350)] {
        check_bitwise_at(np, SHEAR_TRI, stop, 21);
    }
    // The shear did flip the tilt: xy jumped from about +lx/2 to -lx/2.
    let d = tempdir();
    deck(d.path(), SHEAR_TRI, 0);
    ok(&run(1, d.path(), &[]));
    let t = read_thermo_csv(&d.path().join("thermo.csv"));
    assert!(t.windows(2).any(|w| w[0]["xy"] > 0.4 * w[0]["lx"] && w[1]["xy"] < -0.4 * w[1]["lx"]), "no flip in the shear stage");
    let data = String::from_utf8(read(d.path(), "final.data")).unwrap();
    assert!(data.lines().any(|l| l.ends_with("xy xz yz")), "final.data has no tilt line");
    // Stopped on 1 rank inside the NPT stage and continued on 2: the cell
    // and the physics go on (redistributed atoms, not the same round-off).
    let e = tempdir();
    deck(e.path(), SHEAR_TRI, 0);
    assert_eq!(run(1, e.path(), &["--stop-at-step", "350"]).status.code(), Some(75));
    ok(&run(2, e.path(), &["--restart", "restart.h5"]));
    let u = read_thermo_csv(&e.path().join("thermo.csv"));
    assert_eq!(t.len(), u.len());
    for (x, y) in t.iter().zip(&u) {
        for k in ["pe", "pressure", "lx", "xy", "xz", "yz", "pxy"] {
            assert!((x[k] - y[k]).abs() < 1e-8 * x[k].abs().max(1.0), "1 -> 2 ranks, step {} {k}: {} vs {}", x["step"], x[k], y[k]);
        }
    }
}

/// A deform stage (tension with lateral barostat) stopped half-way and
/// continued: its stress–strain table and results are those of the
/// uninterrupted run, byte for byte.
const TENSION: &str = "[[stage]]\nkind = \"deform\"\nname = \"pull\"\ntemperature = 1200\nerate = { z = 0.1 }\nsteps = 200\npressure_gpa = { x = 0.0, y = 0.0 }\nflow_strain = [0.01, 0.02]\n";

#[test]
fn deform_restart_keeps_the_stress_strain_record() {
    for np in [1, 2] {
        let (a, b) = (tempdir(), tempdir());
        deck(a.path(), TENSION, 0);
        deck(b.path(), TENSION, 0);
        ok(&run(np, a.path(), &[]));
        assert_eq!(run(np, b.path(), &["--stop-at-step", "130"]).status.code(), Some(75));
        ok(&run(np, b.path(), &["--restart", "restart.h5"]));
        for f in ["stress_strain.csv", "results.json", "thermo.csv", "final.data"] {
            assert!(read(a.path(), f) == read(b.path(), f), "{} differs after a restart on {} rank(s)", f, np);
        }
    }
}

/// Shear flow (`remap = "v"`) stopped mid-stage: the deform fix's h_rate
/// comes back from the checkpoint, so atoms wrapped after the restart get
/// the same velocity change and the run ends bitwise the same.
#[test]
fn remap_v_restart_is_bitwise() {
    let shear = "[[stage]]\nkind = \"deform\"\nname = \"flow\"\ntemperature = 1200\nerate = { xy = 0.5 }\nremap = \"v\"\nsteps = 200\n";
    for np in [1, 2] {
        let (a, b) = (tempdir(), tempdir());
        deck(a.path(), shear, 0);
        deck(b.path(), shear, 0);
        ok(&run(np, a.path(), &[]));
        assert_eq!(run(np, b.path(), &["--stop-at-step", "130"]).status.code(), Some(75));
        ok(&run(np, b.path(), &["--restart", "restart.h5"]));
        for f in ["stress_strain.csv", "thermo.csv", "final.data", "traj.lammpstrj"] {
            assert!(read(a.path(), f) == read(b.path(), f), "{} differs after a restart on {} rank(s)", f, np);
        }
    }
}

#[test]
fn periodic_checkpoints_restart_from_the_last() {
    // every = 50: the run writes checkpoints at 50, 100, ...; stopping at
    // 130 writes one more; the continuation matches the straight run.
    let (a, b) = (tempdir(), tempdir());
    deck(a.path(), NVT, 50);
    deck(b.path(), NVT, 50);
    ok(&run(1, a.path(), &[]));
    assert!(a.path().join("restart.h5").exists());
    assert_eq!(run(1, b.path(), &["--stop-at-step", "130"]).status.code(), Some(75));
    ok(&run(1, b.path(), &["--restart", "restart.h5"]));
    assert!(read(a.path(), "final.data") == read(b.path(), "final.data"));
}

#[test]
fn restart_on_another_rank_count_keeps_the_physics() {
    // Reference: 2 ranks straight. Stopped on 2 and continued on 1, and
    // stopped on 1 and continued on 4 (each rank reads a slice of the file
    // and the atoms are routed to their owners; the box is 4 times longer
    // in z, so 4 ranks stack along z and atoms travel up to 3 ranks).
    let (a, b, c) = (tempdir(), tempdir(), tempdir());
    for d in [&a, &b, &c] {
        deck(d.path(), NPT_RAMP, 0);
        let text = std::fs::read_to_string(d.path().join("deck.toml")).unwrap();
        std::fs::write(d.path().join("deck.toml"), text.replace("number_density = 0.0585", "number_density = 0.0585\naspect = [1, 1, 4]")).unwrap();
    }
    ok(&run(2, a.path(), &[]));
    for (dir, first, second) in [(&b, 2, 1), (&c, 1, 4)] {
        assert_eq!(run(first, dir.path(), &["--stop-at-step", "130"]).status.code(), Some(75));
        let out = run(second, dir.path(), &["--restart", "restart.h5"]);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        ok(&out);
        assert!(err.contains("redistributed"), "{}", err);
        if second == 4 {
            assert!(err.contains("grid [1, 1, 4]"), "{}", err);
        }
        let (ra, rb) = (read_thermo_csv(&a.path().join("thermo.csv")), read_thermo_csv(&dir.path().join("thermo.csv")));
        assert_eq!(ra.len(), rb.len());
        for (x, y) in ra.iter().zip(&rb) {
            for k in ["pe", "temperature", "volume", "pressure"] {
                let scale = x[k].abs().max(1.0);
                assert!((x[k] - y[k]).abs() < 1e-8 * scale, "{} -> {} ranks, step {} {}: {} vs {}", first, second, x["step"], k, x[k], y[k]);
            }
        }
    }
}

#[test]
fn sigterm_writes_a_checkpoint_and_the_resumed_run_ends_the_same() {
    let long = "[[stage]]\nkind = \"nvt\"\ntemperature = 1200\nsteps = 3000\n";
    let (a, b) = (tempdir(), tempdir());
    deck(a.path(), long, 0);
    deck(b.path(), long, 0);
    ok(&run(1, a.path(), &[]));
    let child = std::process::Command::new(bin()).args(["run", "deck.toml"]).current_dir(b.path()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    // Wait until the MD is running (the thermo part file has rows).
    let part = b.path().join("thermo.csv.part");
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&part).map(|s| s.lines().count()).unwrap_or(0) < 5 {
        assert!(t0.elapsed().as_secs() < 60, "the run did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(75), "{}", err);
    assert!(err.contains("stopped by a signal after writing checkpoint"), "{}", err);
    assert!(!b.path().join("final.data").exists(), "the run finished before the signal");
    ok(&run(1, b.path(), &["--restart", "restart.h5"]));
    assert!(read(a.path(), "final.data") == read(b.path(), "final.data"));
    assert!(read(a.path(), "thermo.csv") == read(b.path(), "thermo.csv"));
}

fn restart_error(dir: &Path) -> String {
    let out = run(1, dir, &["--restart", "restart.h5"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{}", stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("glassmd: error:")).collect();
    assert_eq!(errors.len(), 1, "not one error line: {}", stderr);
    assert!(errors[0].contains("restart.h5"), "{}", errors[0]);
    errors[0].to_string()
}

#[test]
fn damaged_checkpoints_are_refused() {
    let d = tempdir();
    deck(d.path(), NVT, 0);
    assert_eq!(run(1, d.path(), &["--stop-at-step", "100"]).status.code(), Some(75));
    let ck = d.path().join("restart.h5");
    let good = std::fs::read(&ck).unwrap();
    // Truncated (a copy cut short, a full disk).
    std::fs::write(&ck, &good[..good.len() / 2]).unwrap();
    let e = restart_error(d.path());
    assert!(e.contains("truncated or not a checkpoint"), "{}", e);
    // Not HDF5 at all.
    std::fs::write(&ck, "hello\n").unwrap();
    restart_error(d.path());
    // Flipped bytes inside the atom data: the checksum catches them.
    let mut bad = good.clone();
    let n = bad.len();
    for b in &mut bad[n / 2..n / 2 + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&ck, &bad).unwrap();
    restart_error(d.path());
    // A deck with other stages.
    std::fs::write(&ck, &good).unwrap();
    let text = std::fs::read_to_string(d.path().join("deck.toml")).unwrap();
    std::fs::write(d.path().join("deck.toml"), text.replace("kind = \"nvt\"", "kind = \"nve\"").replace("temperature = 1200\n", "")).unwrap();
    let e = restart_error(d.path());
    assert!(e.contains("stages"), "{}", e);
    // Missing.
    std::fs::remove_file(&ck).unwrap();
    restart_error(d.path());
}

#[test]
fn existing_outputs_are_kept_unless_overwrite() {
    let d = tempdir();
    deck(d.path(), NVT, 0);
    ok(&run(1, d.path(), &[]));
    let before = read(d.path(), "traj.h5");
    let out = run(1, d.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exists") && err.contains("--overwrite"), "{}", err);
    assert!(read(d.path(), "traj.h5") == before);
    ok(&run(1, d.path(), &["--overwrite"]));
}

#[test]
fn bad_output_keys_get_one_line_errors() {
    let d = tempdir();
    deck(d.path(), NVT, 0);
    let text = std::fs::read_to_string(d.path().join("deck.toml")).unwrap();
    for (from, to, want) in [
        ("fields = [\"position\", \"velocity\", \"pe\"]", "fields = [\"position\", \"bogus\"]", "unknown field 'bogus'"),
        ("every = 50,", "every = 0,", "output.snapshot.every: must be at least 1"),
        ("file = \"traj.lammpstrj\"", "file = \"traj.h5\"", "'traj.h5' is also written by"),
    ] {
        std::fs::write(d.path().join("bad.toml"), text.replace(from, to)).unwrap();
        let out = glassmd(1, 1, &["run", "bad.toml"], d.path());
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{}", err);
        assert!(err.contains("bad.toml") && err.contains(want), "{}", err);
    }
    // --stop-at-step needs a checkpoint file to stop with.
    std::fs::write(d.path().join("bad.toml"), text.replace("checkpoint = { file = \"restart.h5\", every = 0 }", "")).unwrap();
    let out = glassmd(1, 1, &["run", "bad.toml", "--stop-at-step", "10"], d.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--stop-at-step needs"));
}

#[test]
fn protocol_state_survives_a_restart() {
    // A quench with inherent structures, then a Tg fit over the quench and a
    // record: stopped mid-quench and continued, every output is the same.
    let stages = "[[stage]]\nkind = \"npt\"\ntemperature = [2000, 300]\npressure_gpa = 0.0\nsteps = 1500\ninherent_structures = { every_k = 500 }\n\
                  [[stage]]\nkind = \"tg\"\n[[stage]]\nkind = \"record\"\nname = \"glass\"\n";
    let (a, b) = (tempdir(), tempdir());
    for d in [&a, &b] {
        small_deck(d.path(), 20, "checkpoint = { file = \"restart.h5\" }", stages);
    }
    ok(&run(1, a.path(), &[]));
    assert_eq!(run(1, b.path(), &["--stop-at-step", "800"]).status.code(), Some(75));
    ok(&run(1, b.path(), &["--restart", "restart.h5"]));
    for f in ["tg.json", "inherent_structures.csv", "results.json", "thermo.csv"] {
        assert!(read(a.path(), f) == read(b.path(), f), "{} differs after restart", f);
    }
}

/// Ten cryogenic cycles (the issue's `repeat` form: 300 K → 77 K → 300 K
/// under NPT at 0 GPa, fast here), stopped in the middle of the 4th cycle
/// (step 130 of 40 per cycle) and restarted: the same bytes as the
/// uninterrupted run, on 1 and 2 ranks.
const CRYO: &str = "[[stage]]\nkind = \"repeat\"\ncount = 10\n\
    [[stage.stage]]\nkind = \"npt\"\ntimestep = 0.002\ntemperature = [300.0, 77.0]\nrate_k_per_ps = 5575.0\npressure_gpa = 0.0\n\
    [[stage.stage]]\nkind = \"npt\"\ntimestep = 0.002\ntemperature = [77.0, 300.0]\nrate_k_per_ps = 5575.0\npressure_gpa = 0.0\n";

#[test]
fn repeat_block_restarts_mid_block_bitwise() {
    for np in [1, 2] {
        let (a, b) = (tempdir(), tempdir());
        deck(a.path(), CRYO, 0);
        deck(b.path(), CRYO, 0);
        ok(&run(np, a.path(), &[]));
        let stopped = run(np, b.path(), &["--stop-at-step", "130"]);
        assert_eq!(stopped.status.code(), Some(75), "stderr: {}", String::from_utf8_lossy(&stopped.stderr));
        let out = run(np, b.path(), &["--restart", "restart.h5"]);
        ok(&out);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(log.contains(".1 (npt, pass 4 of 10) continued from step 10 of it"), "the restart continues pass 4: {log}");
        for f in ["final.data", "thermo.csv", "traj.lammpstrj"] {
            assert!(read(a.path(), f) == read(b.path(), f), "{} differs after a restart in pass 4 on {} rank(s)", f, np);
        }
        // 400 steps: 20 passes' worth of stages, each ending at its target.
        let t = read_thermo_csv(&a.path().join("thermo.csv"));
        assert_eq!(t.last().unwrap()["step"], 400.0);
        assert_eq!(t.last().unwrap()["stage"], 21.0, "the stage column counts expanded stages (a velocity stage, then 20)");
        let cold: Vec<f64> = t.iter().filter(|r| r["step"] % 40.0 == 20.0).map(|r| r["target_temperature"]).collect();
        assert_eq!(cold, vec![77.0; 10], "each pass reaches 77 K half-way");
    }
}

/// A restart after a `change_box` stage keeps the changed boundary (it is
/// in the checkpoint, not re-read from the deck's [system]).
#[test]
fn change_box_restart_keeps_the_new_boundary() {
    const MD: &str = "[[stage]]\nkind = \"nvt\"\ntemperature = 1200\nsteps = 100\n\
        [[stage]]\nkind = \"change_box\"\nboundary = [\"s\", \"p\", \"p\"]\n\
        [[stage]]\nkind = \"nvt\"\ntemperature = 1200\nsteps = 100\n";
    for np in [1, 2] {
        let (a, b) = (tempdir(), tempdir());
        deck(a.path(), MD, 0);
        deck(b.path(), MD, 0);
        ok(&run(np, a.path(), &[]));
        assert_eq!(run(np, b.path(), &["--stop-at-step", "150"]).status.code(), Some(75));
        ok(&run(np, b.path(), &["--restart", "restart.h5"]));
        for f in ["final.data", "thermo.csv", "traj.lammpstrj"] {
            assert!(read(a.path(), f) == read(b.path(), f), "{} differs after a restart past change_box on {} rank(s)", f, np);
        }
    }
}
