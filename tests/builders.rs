//! System builders in decks: a random Cu64Zr36 alloy at a number density
//! (the issue's `[system.create]` form) gives the same system and dynamics on
//! 1 and 2 ranks; an fcc lattice reproduces LAMMPS's energy and pressure.
mod common;
use common::*;

fn deck_text(system: &str, potential: &str, stages: &str) -> String {
    format!("{system}\n\n{potential}\n\n[neighbor]\nskin = 1.0\n\n[thermo]\nevery = 50\nfile = \"thermo.csv\"\n\n{stages}")
}

#[test]
fn random_alloy_deck_runs_identically_on_one_and_two_ranks() {
    let pot = potential("CuZr_mm.eam.fs");
    let text = deck_text(
        "[system.create]\ncomposition = { Cu = 64, Zr = 36 }\natoms = 600\nnumber_density = 0.060\naspect = [1, 2, 1]\nseed = 7\nboundary = [\"p\", \"p\", \"p\"]",
        &format!("[potential]\nstyle = \"eam/fs\"\nfile = \"{}\"\nelements = [\"Cu\", \"Zr\"]", pot.display()),
        "[[stage]]\nkind = \"minimize\"\nalgorithm = \"fire\"\nftol = 1e-3\nmax_iterations = 3000\n\n\
         [[stage]]\nkind = \"velocity\"\ntemperature = 2000.0\nseed = 11\n\n\
         [[stage]]\nkind = \"nvt\"\ntemperature = 2000.0\nsteps = 200\ntimestep = 0.001\n\n\
         [[stage]]\nkind = \"write_data\"\nfile = \"out.data\"\n",
    );
    let mut results = Vec::new();
    for np in [1, 2] {
        let dir = tempdir();
        let deck = dir.path().join("deck.toml");
        std::fs::write(&deck, &text).unwrap();
        ok(&glassmd(np, 1, &["run", deck.to_str().unwrap()], dir.path()));
        let t = read_thermo_csv(&dir.path().join("thermo.csv"));
        let data = std::fs::read_to_string(dir.path().join("out.data")).unwrap();
        assert!(data.contains("600 atoms") && data.contains("2 atom types"));
        // Composition exact: 216 Zr.
        let zr = data.lines().skip_while(|l| !l.starts_with("Atoms")).skip(2).take_while(|l| !l.trim().is_empty()).filter(|l| l.split_whitespace().nth(1) == Some("2")).count();
        assert_eq!(zr, 216);
        results.push(t);
    }
    let (a, b) = (&results[0], &results[1]);
    assert_eq!(a.len(), b.len());
    // Box: 600 / 0.06 = 10000 A^3 with edges 1:2:1.
    let last = a.last().unwrap();
    assert!((last["volume"] - 10000.0).abs() < 1e-6 && (last["ly"] / last["lx"] - 2.0).abs() < 1e-12);
    for (x, y) in a.iter().zip(b) {
        for k in ["pe", "etotal"] {
            assert!((x[k] - y[k]).abs() <= 1e-8 * x[k].abs(), "step {}: {k} {} vs {}", x["step"], x[k], y[k]);
        }
    }
    // The minimiser relaxed the random packing: PE per atom is liquid/glass-like.
    let pe = a[1]["pe"] / 600.0;
    assert!(pe < -4.0, "pe per atom after minimisation {pe}");
}

#[test]
fn fcc_lattice_matches_lammps() {
    let pot = potential("Cu_u3.eam");
    let dir = tempdir();
    let deck = dir.path().join("deck.toml");
    std::fs::write(
        &deck,
        deck_text(
            "[system.create]\ncomposition = { Cu = 1 }\nlattice = \"fcc\"\na = 3.615\ncells = [4, 4, 4]\nseed = 1",
            &format!("[potential]\nstyle = \"eam\"\nfile = \"{}\"", pot.display()),
            "",
        ),
    )
    .unwrap();
    ok(&glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path()));
    let t = read_thermo_csv(&dir.path().join("thermo.csv"));
    // LAMMPS: lattice fcc 3.615, 4x4x4, pair_style eam Cu_u3.eam, run 0.
    let (pe, p) = (t[0]["pe"], t[0]["pressure"]);
    assert!((pe - -906.2400005835409).abs() < 1e-9 * 906.24, "pe {pe}");
    assert!((p - -0.027860375018023856).abs() < 1e-6, "pressure {p}");
}

#[test]
fn bad_create_sections() {
    let pot = potential("CuZr_mm.eam.fs");
    for (sys, word) in [
        ("[system.create]\ncomposition = { Cu = 64, Al = 36 }\natoms = 10\nnumber_density = 0.06\nseed = 1", "Al"),
        ("[system.create]\ncomposition = { Cu = 64, Zr = 36 }\natoms = 10\nseed = 1", "either atoms and number_density"),
        ("[system.create]\ncomposition = { Cu = 64, Zr = 36 }\natoms = 500\nnumber_density = 0.5\nseed = 1", "could not place atom"),
        ("[system]\nread_data = \"x.data\"\n[system.create]\ncomposition = { Cu = 1 }\nlattice = \"fcc\"\na = 3.6\ncells = [1, 1, 1]\nseed = 1", "not both"),
    ] {
        let dir = tempdir();
        let deck = dir.path().join("deck.toml");
        std::fs::write(&deck, deck_text(sys, &format!("[potential]\nstyle = \"eam/fs\"\nfile = \"{}\"\nelements = [\"Cu\", \"Zr\"]", pot.display()), "")).unwrap();
        let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.lines().count() == 1 && err.contains("deck.toml") && err.contains(word), "{sys}: {err}");
    }
}
