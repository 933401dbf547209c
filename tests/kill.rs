//! Crash safety and concurrent runs.
//!
//! * kill -9 at random moments of a run that writes a checkpoint every 10
//!   steps and a snapshot every 5 (so a good share of the moments fall
//!   inside a write): the checkpoint left behind is always readable,
//!   `--resume` always finishes the run, and the finished outputs are
//!   byte-identical (text) or dataset-identical (H5MD) to an uninterrupted
//!   run's.
//! * A second run of the same deck in the same folder, started while the
//!   first is running, refuses at once with one error line and touches
//!   nothing: the first run finishes with every output whole. (Before: the
//!   second run failed and left the first run's traj.h5 unreadable.)

mod common;
use common::*;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn deck(dir: &Path, steps: u64) {
    let text = format!(
        "[system]\nread_data = \"{}\"\n[potential]\nstyle = \"eam/fs\"\nfile = \"{}\"\nelements = [\"Cu\", \"Zr\"]\n\
         [thermo]\nevery = 5\nfile = \"thermo.csv\"\n\
         [output]\nsnapshot = {{ file = \"traj.h5md\", every = 5, fields = [\"position\", \"velocity\", \"force\", \"pe\"] }}\n\
         dump = {{ file = \"traj.dump\", every = 5 }}\ncheckpoint = {{ file = \"restart.h5\", every = 10 }}\n\
         [[stage]]\nkind = \"velocity\"\ntemperature = 1500\nseed = 9\n\
         [[stage]]\nkind = \"nvt\"\ntemperature = 1500\nsteps = {steps}\n\
         [[stage]]\nkind = \"write_data\"\nfile = \"final.data\"\n",
        reference("cuzr_fs_ppp").join("config.data").display(),
        potential("CuZr_mm.eam.fs").display()
    );
    std::fs::write(dir.join("deck.toml"), text).unwrap();
}

fn start(dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(bin()).arg("run").arg("deck.toml").args(args).current_dir(dir).env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
}

#[test]
fn kill_9_at_random_moments_then_resume_ends_identical() {
    let full = tempdir();
    deck(full.path(), 300);
    ok(&glassmd(1, 1, &["run", "deck.toml"], full.path()));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut killed_with_checkpoint = 0;
    for trial in 0..4 {
        let d = tempdir();
        deck(d.path(), 300);
        // One or two kills per trial, at random moments of the run.
        for _ in 0..rng.gen_range(1..=2) {
            let mut child = start(d.path(), &["--resume"]);
            std::thread::sleep(Duration::from_millis(rng.gen_range(150..1200)));
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            if d.path().join("restart.h5").exists() {
                killed_with_checkpoint += 1;
                // The checkpoint left behind opens and is whole (the next
                // --resume reads every atom of it, checksums included).
                let f = hdf5::File::open(d.path().join("restart.h5")).unwrap_or_else(|e| panic!("trial {}: checkpoint unreadable after kill -9: {}", trial, e));
                assert!(f.dataset("atoms/id").is_ok(), "trial {}", trial);
            }
        }
        let out = glassmd(1, 1, &["run", "deck.toml", "--resume"], d.path());
        ok(&out);
        for f in ["thermo.csv", "traj.dump", "final.data"] {
            assert_eq!(std::fs::read(full.path().join(f)).unwrap(), std::fs::read(d.path().join(f)).unwrap(), "trial {}: {} differs from the uninterrupted run", trial, f);
        }
        same_h5(&full.path().join("traj.h5md"), &d.path().join("traj.h5md"));
        let status = std::fs::read_to_string(d.path().join("run.json")).unwrap();
        assert!(status.contains("\"complete\""), "{}", status);
    }
    assert!(killed_with_checkpoint >= 2, "only {} kills came after the first checkpoint", killed_with_checkpoint);
}

#[test]
fn a_second_run_in_the_same_folder_refuses_and_touches_nothing() {
    let d = tempdir();
    deck(d.path(), 1500);
    let mut first = start(d.path(), &[]);
    // Wait until the first run holds the folder and is writing its outputs.
    let t0 = Instant::now();
    while !std::fs::read_to_string(d.path().join("run.json")).is_ok_and(|s| s.contains("running"))
        || !std::fs::read_to_string(d.path().join("thermo.csv.part")).is_ok_and(|s| s.lines().count() > 3)
    {
        assert!(t0.elapsed() < Duration::from_secs(30), "the first run did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let listing = |p: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
        v.sort();
        v
    };
    let before = listing(d.path());
    let second = Command::new(bin()).args(["run", "deck.toml"]).current_dir(d.path()).env("RUST_LOG", "off").output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(err.lines().count(), 1, "{}", err);
    assert!(err.contains("another glassmd run is using this folder") && err.contains(&format!("pid {}", first.id())), "{}", err);
    // Nothing new from the second run (the first one's files may grow).
    assert!(listing(d.path()).iter().all(|f| before.contains(f) || f == "restart.h5" || f.starts_with(".restart.h5")), "{:?} -> {:?}", before, listing(d.path()));
    let st = first.wait().unwrap();
    assert!(st.success());
    // The first run's outputs are whole.
    let f = hdf5::File::open(d.path().join("traj.h5md")).unwrap();
    assert_eq!(f.dataset("particles/all/position/value").unwrap().shape()[0], 301);
    assert_eq!(read_thermo_csv(&d.path().join("thermo.csv")).len(), 301);
    assert!(std::fs::read_to_string(d.path().join("run.json")).unwrap().contains("\"complete\""));
}

/// The thermo CSV is flushed at every row: a row printed on the screen is
/// already in the file when the run is killed (before: ~27 rows were held
/// in a buffer and lost).
#[test]
fn thermo_rows_are_on_disk_as_they_appear() {
    use std::io::BufRead;
    let d = tempdir();
    deck(d.path(), 3000);
    let mut child = Command::new(bin()).args(["run", "deck.toml"]).current_dir(d.path()).env("RUST_LOG", "off").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = 0u64;
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(step) = line.split_whitespace().next().and_then(|w| w.parse::<u64>().ok()) {
            seen = step;
            if step >= 40 {
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(seen, 40);
    let text = std::fs::read_to_string(d.path().join("thermo.csv.part")).unwrap();
    assert!(text.lines().any(|l| l.starts_with("40,")), "the row of step 40 is not on disk:\n{}", text);
}

/// `--resume` of a run that already finished says so, exits 0 and changes
/// nothing (a requeued job whose work is done); before it failed on a
/// missing thermo.csv.part.
#[test]
fn resume_of_a_complete_run_is_a_no_op() {
    let d = tempdir();
    deck(d.path(), 20);
    ok(&glassmd(1, 1, &["run", "deck.toml"], d.path()));
    let before = std::fs::read(d.path().join("thermo.csv")).unwrap();
    let out = glassmd(1, 1, &["run", "deck.toml", "--resume"], d.path());
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("the run is complete"));
    assert_eq!(std::fs::read(d.path().join("thermo.csv")).unwrap(), before);
    // A fresh run there refuses rather than replacing the finished outputs.
    let out = glassmd(1, 1, &["run", "deck.toml"], d.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists; glassmd never replaces a finished output"));
}
