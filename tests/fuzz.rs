//! No panic, no hang: randomly mutated valid decks, data files and
//! potential files (a seeded mutator of our own: nasty values in place of
//! tokens, deleted, doubled and swapped lines, truncations, digit flips)
//! must each either run or stop with exactly one error line, within a time
//! limit. The count is bounded (about 240 runs, a minute or two on 2
//! cores); `GLASSMD_FUZZ_RUNS=N` runs N per input kind instead, and
//! `GLASSMD_FUZZ_SEED` changes the seed.

mod common;
use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Values that have broken parsers and physics codes.
const NASTY: &[&str] = &[
    "nan", "inf", "-inf", "1e300", "-1e300", "0", "-1", "1e-300", "", "18446744073709551616", "9223372036854775807", "-9223372036854775808",
    "\"x\"", "[", "]", "{", "}", "=", "#", "1.5", "-0.0", "1e20", "2e9", "abc", "0x10", "true", "[1, 2]", "{ x = 1 }", "\"\"", "4294967296", "-2147483649",
];

fn mutate(text: &str, rng: &mut ChaCha8Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(|l| l.to_string()).collect();
    for _ in 0..rng.gen_range(1..=3) {
        if lines.is_empty() {
            lines.push(NASTY[rng.gen_range(0..NASTY.len())].to_string());
            continue;
        }
        let k = rng.gen_range(0..lines.len());
        match rng.gen_range(0..7) {
            // A token becomes a nasty value.
            0 | 1 => {
                let toks: Vec<&str> = lines[k].split(' ').collect();
                let t = rng.gen_range(0..toks.len());
                let mut toks: Vec<String> = toks.iter().map(|s| s.to_string()).collect();
                toks[t] = NASTY[rng.gen_range(0..NASTY.len())].to_string();
                lines[k] = toks.join(" ");
            }
            2 => {
                lines.remove(k);
            }
            3 => {
                let l = lines[k].clone();
                lines.insert(k, l);
            }
            4 => {
                let j = rng.gen_range(0..lines.len());
                lines.swap(k, j);
            }
            5 => {
                // A digit changes.
                let l: Vec<char> = lines[k].chars().collect();
                let digits: Vec<usize> = (0..l.len()).filter(|&i| l[i].is_ascii_digit()).collect();
                if !digits.is_empty() {
                    let mut l = l;
                    let i = digits[rng.gen_range(0..digits.len())];
                    l[i] = char::from(b'0' + rng.gen_range(0..10u8));
                    lines[k] = l.into_iter().collect();
                }
            }
            _ => {
                // Cut the file here.
                lines.truncate(k);
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Run glassmd; Err(description) on a panic, a crash, a hang, or an error
/// that is not one line.
fn check(args: &[&str], dir: &Path) -> Result<bool, String> {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut se = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut se, &mut s).ok();
        s
    });
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("hung for 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let err = err.join().unwrap_or_default();
    match status.code() {
        None => Err(format!("killed by a signal: {}", err)),
        Some(0) => Ok(true),
        Some(1) => {
            let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
            if err.contains("panicked") {
                Err(format!("panicked: {}", err))
            } else if lines.len() != 1 || !lines[0].starts_with("glassmd: error: ") {
                Err(format!("not one error line: {}", err))
            } else {
                Ok(false)
            }
        }
        Some(c) => Err(format!("exit status {}: {}", c, err)),
    }
}

const CRYSTAL_DECK: &str = "[system]\nread_data = \"x.data\"\nboundary = [\"p\", \"p\", \"p\"]\n[potential]\nstyle = \"eam\"\nfile = \"p.eam\"\n\
[neighbor]\nskin = 1.0\n[thermo]\nevery = 5\nfile = \"thermo.csv\"\n[output]\ndump = { file = \"t.dump\", every = 10, fields = [\"position\", \"velocity\"] }\n\
[[stage]]\nkind = \"velocity\"\ntemperature = 300\nseed = 1\n[[stage]]\nkind = \"nve\"\nsteps = 20\ntimestep = 0.002\n\
[[stage]]\nkind = \"nvt\"\ntemperature = [300.0, 200.0]\nsteps = 20\n[[stage]]\nkind = \"minimize\"\nmax_iterations = 20\n\
[[stage]]\nkind = \"record\"\nname = \"end\"\n[[stage]]\nkind = \"write_data\"\nfile = \"out.data\"\n";

#[test]
fn mutated_inputs_never_panic_or_hang() {
    let runs: usize = std::env::var("GLASSMD_FUZZ_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(80);
    let seed: u64 = std::env::var("GLASSMD_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(2026);
    let base = tempdir();
    crystal(&base.path().join("x.data"), 3);
    let data = std::fs::read_to_string(base.path().join("x.data")).unwrap();
    let pot = std::fs::read_to_string(potential("Cu_u3.eam")).unwrap();
    // The unmutated inputs run.
    std::fs::write(base.path().join("p.eam"), &pot).unwrap();
    std::fs::write(base.path().join("deck.toml"), CRYSTAL_DECK).unwrap();
    assert_eq!(check(&["run", "deck.toml"], base.path()), Ok(true), "the unmutated deck must run");

    // (kind, run index) jobs, spread over two workers.
    let jobs: Vec<(usize, usize)> = (0..3).flat_map(|k| (0..runs).map(move |i| (k, i))).collect();
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::new());
    let outcomes = Mutex::new([0usize; 2]);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let j = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let Some(&(kind, i)) = jobs.get(j) else { break };
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ ((kind as u64) << 32) ^ i as u64);
                let dir = tempdir();
                let (mut d, mut x, mut p) = (CRYSTAL_DECK.to_string(), data.clone(), pot.clone());
                match kind {
                    0 => d = mutate(&d, &mut rng),
                    1 => x = mutate(&x, &mut rng),
                    _ => p = mutate(&p, &mut rng),
                }
                std::fs::write(dir.path().join("deck.toml"), &d).unwrap();
                std::fs::write(dir.path().join("x.data"), &x).unwrap();
                std::fs::write(dir.path().join("p.eam"), &p).unwrap();
                let r = check(&["run", "deck.toml"], dir.path());
                if let Ok(ran) = r {
                    outcomes.lock().unwrap()[ran as usize] += 1;
                }
                if let Err(e) = r {
                    let what = ["deck", "data file", "potential"][kind];
                    let input = [&d, &x, &p][kind];
                    let shown: String = input.chars().take(3000).collect();
                    failures.lock().unwrap().push(format!("mutated {} #{} (seed {}): {}\n--- input ---\n{}", what, i, seed, e, shown));
                }
            });
        }
    });
    let f = failures.into_inner().unwrap();
    assert!(f.is_empty(), "{} of {} mutated inputs failed:\n{}", f.len(), jobs.len(), f.join("\n\n"));
    // The mutations reach both sides: inputs refused with an error, and
    // inputs that still run.
    let [refused, ran] = outcomes.into_inner().unwrap();
    eprintln!("{} mutated inputs refused with one error line, {} ran", refused, ran);
    assert!(refused > jobs.len() / 5 && ran > jobs.len() / 10, "refused {}, ran {}", refused, ran);
}
