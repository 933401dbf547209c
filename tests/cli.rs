//! The command line explains itself: every subcommand and argument has a
//! description in `--help`, and `--threads` appears only where it acts
//! (run, forces, and before the subcommand).

mod common;
use common::*;

const SUBCOMMANDS: [&str; 12] = ["run", "summarize", "grid", "plot-scaling", "plot", "collect", "convert", "forces", "tg", "potential", "study", "help"];

fn help(args: &[&str]) -> String {
    let out = glassmd(1, 1, args, &root());
    assert!(out.status.success(), "{:?}: {}", args, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn every_argument_is_described() {
    let top = help(&["--help"]);
    for c in SUBCOMMANDS.iter().filter(|c| **c != "help") {
        let line = top.lines().find(|l| l.trim_start().starts_with(c)).unwrap_or_else(|| panic!("{} missing from --help", c));
        assert!(line.trim_start().len() > c.len() + 5, "{} has no description: {}", c, line);
    }
    let nested = [vec!["plot", "stress-strain", "--help"], vec!["potential", "zhou2004", "--help"]];
    for args in SUBCOMMANDS.iter().filter(|c| **c != "help").map(|c| vec![*c, "--help"]).chain(nested) {
        let c = args[..args.len() - 1].join(" ");
        let text = help(&args);
        // Argument lines: `  <NAME>` or `  -x, --name <V>`; the description
        // follows on the same line or the next, indented further.
        let lines: Vec<&str> = text.lines().collect();
        for (k, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            let is_arg = l.starts_with("  ") && (t.starts_with("--") || t.starts_with("-") || t.starts_with('<')) && !l.starts_with("        ");
            if !is_arg {
                continue;
            }
            let same_line = t.split("  ").filter(|s| !s.trim().is_empty()).count() > 1;
            let next = lines.get(k + 1).is_some_and(|n| n.starts_with("          ") && !n.trim().is_empty());
            assert!(same_line || next, "`glassmd {} --help`: argument without a description: {}", c, l);
        }
    }
}

#[test]
fn threads_only_where_it_acts() {
    for c in ["run", "forces"] {
        assert!(help(&[c, "--help"]).contains("--threads"), "{} lacks --threads", c);
    }
    for c in ["summarize", "grid", "plot-scaling", "collect", "convert", "tg"] {
        assert!(!help(&[c, "--help"]).contains("--threads"), "{} shows --threads, which does nothing there", c);
    }
    assert!(!help(&["plot", "stress-strain", "--help"]).contains("--threads"), "plot stress-strain shows --threads");
    // Both spellings work for run.
    let d = tempdir();
    small_deck(d.path(), 10, "", "[[stage]]\nkind = \"nve\"\nsteps = 10\n");
    for args in [vec!["--threads", "2", "run", "deck.toml", "--overwrite"], vec!["run", "deck.toml", "--threads", "2", "--overwrite"]] {
        let out = std::process::Command::new(bin()).args(&args).current_dir(d.path()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && err.contains("1 rank(s) x 2 thread(s)"), "{:?}: {}", args, err);
    }
}

/// The step-0 thermo row (and frame) shows the velocities the `velocity`
/// stage drew, as LAMMPS's step-0 row after `velocity create` does (before:
/// the data file's).
#[test]
fn step_zero_row_follows_the_velocity_stage() {
    let d = tempdir();
    small_deck(d.path(), 10, "dump = { file = \"t.dump\", every = 10 }", "[[stage]]\nkind = \"nve\"\nsteps = 10\n");
    ok(&glassmd(1, 1, &["run", "deck.toml"], d.path()));
    let rows = read_thermo_csv(&d.path().join("thermo.csv"));
    assert_eq!(rows[0]["step"], 0.0);
    assert!((rows[0]["temperature"] - 1500.0).abs() < 1e-9, "{}", rows[0]["temperature"]);
    let dump = std::fs::read_to_string(d.path().join("t.dump")).unwrap();
    let first = dump.lines().skip_while(|l| !l.starts_with("ITEM: ATOMS")).nth(1).unwrap();
    let v: Vec<f64> = first.split(' ').skip(9).map(|t| t.parse().unwrap()).collect();
    assert!(v.iter().any(|x| *x != 0.0), "frame 0 holds zero velocities: {}", first);
}
