//! `scripts/scaling_vs_lammps.sh`, shrunk: the strong, weak and thread
//! series of both codes on the 2,048-atom reference tile, 1 and 2 ranks, 2 steps.
//! The full-size runs (1.28 M atoms, 1–16 ranks) are in docs/PERFORMANCE.md.
mod common;
use common::*;
use std::process::Command;

#[test]
fn the_scaling_script_measures_both_codes_and_draws_them() {
    let lmp_ok = Command::new("sh").args(["-c", "command -v lmp && command -v mpirun"]).output().is_ok_and(|o| o.status.success());
    if !lmp_ok {
        assert!(std::env::var("GLASSMD_REQUIRE_TOOLS").map_or(true, |v| v != "1"), "GLASSMD_REQUIRE_TOOLS=1 but lmp or mpirun is not installed");
        eprintln!("skipping: lmp or mpirun not installed");
        return;
    }
    let d = tempdir();
    let data = reference("cuzr_fs_ppp").join("config.data");
    let base: u64 = std::fs::read_to_string(&data).unwrap().lines().find(|l| l.trim_end().ends_with(" atoms")).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    let o = Command::new("bash")
        .arg(root().join("scripts/scaling_vs_lammps.sh"))
        .arg(&data)
        .arg(d.path().join("out"))
        .env("GLASSMD", bin())
        .env("STEPS", "2")
        .env("RANKS", "1 2")
        .env("THREADS", "2")
        .env("HYBRID", "2x1")
        .env("MPIRUN", "mpirun --oversubscribe --bind-to none -np")
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{}", log);
    let csv = std::fs::read_to_string(d.path().join("out/scaling.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), "mode,code,ranks,threads,atoms,steps,seconds,atom_steps_per_s");
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(String::from).collect()).collect();
    let find = |mode: &str, code: &str, np: &str, nt: &str| rows.iter().find(|r| r[0] == mode && r[1] == code && r[2] == np && r[3] == nt).unwrap_or_else(|| panic!("no {mode} {code} {np}x{nt} row in\n{csv}\n{log}")).clone();
    for code in ["glassmd", "lammps-opt"] {
        // Weak: the tile per rank; strong: 4x2x2 tiles on every rank count.
        assert_eq!(find("weak", code, "1", "1")[4].parse::<u64>().unwrap(), base);
        assert_eq!(find("weak", code, "2", "1")[4].parse::<u64>().unwrap(), 2 * base);
        for np in ["1", "2"] {
            let r = find("strong", code, np, "1");
            assert_eq!(r[4].parse::<u64>().unwrap(), 16 * base);
            // The rate is the code's own loop time turned into atom-steps/s.
            let (t, rate): (f64, f64) = (r[6].parse().unwrap(), r[7].parse().unwrap());
            assert!(t > 0.0 && (rate - 16.0 * base as f64 * 2.0 / t).abs() < 1e-3 * rate, "{:?}", r);
        }
    }
    find("threads", "glassmd", "1", "2");
    find("hybrid", "glassmd", "2", "1");
    assert!(!rows.iter().any(|r| r[1] == "lammps-opt" && (r[0] == "threads" || r[0] == "hybrid")));
    // The plot has one series per mode and code.
    let svg = std::fs::read_to_string(d.path().join("out/scaling.svg")).unwrap();
    for s in ["strong glassmd", "strong lammps-opt", "weak glassmd", "weak lammps-opt", "threads glassmd"] {
        assert!(svg.contains(s), "no series '{s}' in the plot");
    }
}
