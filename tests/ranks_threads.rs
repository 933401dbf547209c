//! The same 1000-step NVE run on 1, 2 and 4 ranks and on 2 threads gives the
//! same total energy to 1e-8 relative (periodic and shrink-wrapped boxes),
//! and velocities drawn from a seed do not depend on the rank count.
mod common;
use common::*;

fn final_thermo(case: &str, boundary: &str, np: usize, threads: usize, stages: &str) -> std::collections::BTreeMap<String, f64> {
    let dir = tempdir();
    run_case(dir.path(), case, boundary, np, threads, "", stages);
    read_thermo_csv(&dir.path().join("thermo.csv")).pop().unwrap()
}

/// Run `case` in `dir` with `neighbor` lines added to its [neighbor].
fn run_case(dir: &std::path::Path, case: &str, boundary: &str, np: usize, threads: usize, neighbor: &str, stages: &str) {
    let (_, style, pot, _, els) = CASES.iter().find(|c| c.0 == case).unwrap();
    let deck = write_deck(
        dir,
        &reference(case).join("config.data"),
        boundary,
        style,
        pot,
        els,
        &format!("[neighbor]\nskin = 1.0\n{neighbor}\n[thermo]\nevery = 100\nfile = \"thermo.csv\"\n\n{stages}"),
    );
    ok(&glassmd(np, threads, &["run", deck.to_str().unwrap()], dir));
}

/// `[neighbor] compact = true` stores the same pairs in the same order, so
/// a 1000-step NVE run's thermo file is the plain list's byte for byte, on
/// 1 and 2 threads and on 2 ranks (a free surface, so ghosts and the
/// shrink-wrapped box's rebuilds are in it too).
#[test]
fn a_compact_neighbor_list_gives_the_same_bits() {
    for (np, th) in [(1, 1), (1, 2), (2, 1)] {
        let text = |neighbor: &str| {
            let dir = tempdir();
            run_case(dir.path(), "cuzr_fs_spp", "s,p,p", np, th, neighbor, NVE);
            std::fs::read_to_string(dir.path().join("thermo.csv")).unwrap()
        };
        let (plain, compact) = (text(""), text("compact = true\n"));
        assert!(plain.lines().count() >= 11, "{plain}");
        assert_eq!(plain, compact, "{np} ranks x {th} threads");
    }
}

fn agree(case: &str, boundary: &str, stages: &str) {
    let base = final_thermo(case, boundary, 1, 1, stages);
    for (np, th) in [(2, 1), (4, 1), (1, 2)] {
        let t = final_thermo(case, boundary, np, th, stages);
        for k in ["etotal", "pe"] {
            let rel = (t[k] - base[k]).abs() / base[k].abs();
            eprintln!("{case} {np} ranks x {th} threads: {k} rel diff {rel:e}");
            assert!(rel <= 1e-8, "{case} {np} ranks x {th} threads: {k} {} vs {} (rel {rel:e})", t[k], base[k]);
        }
    }
}

const NVE: &str = "[[stage]]\nkind = \"nve\"\nsteps = 1000\ntimestep = 0.001\n";

#[test]
fn periodic_liquid_agrees_across_ranks_and_threads() {
    agree("cuzr_fs_ppp", "p,p,p", NVE);
}

#[test]
fn free_surface_liquid_agrees_across_ranks_and_threads() {
    agree("cuzr_fs_spp", "s,p,p", NVE);
}

#[test]
fn seeded_velocities_do_not_depend_on_rank_count() {
    let st = "[[stage]]\nkind = \"velocity\"\ntemperature = 2000.0\nseed = 4242\n\n[[stage]]\nkind = \"nve\"\nsteps = 20\ntimestep = 0.001\n";
    let a = final_thermo("cu_funcfl_ppp", "p,p,p", 1, 1, st);
    let b = final_thermo("cu_funcfl_ppp", "p,p,p", 4, 1, st);
    // Exactly 2000 K after the velocity stage, then identical dynamics.
    let rel = (a["etotal"] - b["etotal"]).abs() / a["etotal"].abs();
    assert!(rel <= 1e-12, "etotal {} vs {}", a["etotal"], b["etotal"]);
}
