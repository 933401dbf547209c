//! A compute with its own cutoff: `coord` (LAMMPS `compute coord/atom
//! cutoff R`) against LAMMPS (tests/data/lammps_coord) on the orthogonal
//! Cu64Zr36 glass and the tilted liquid, at 3.5 Å (inside the potential's
//! ghost shell) and 10 Å (beyond it: the engine builds ghosts to the
//! compute's cutoff), on 1, 2 and 4 ranks and 2 threads; every atom's
//! count is LAMMPS's exactly.
mod common;
use common::*;

#[test]
fn coordination_numbers_match_lammps() {
    for (case, data) in [("glass", root().join("tests/data/lammps_min/glass300.data")), ("tri", reference("cuzr_tri_ppp").join("config.data"))] {
        let want = read_dump(&root().join(format!("tests/data/lammps_coord/coord_{case}.dump")));
        for (col, cutoff) in [(2, 3.5), (3, 10.0)] {
            for (np, nt) in [(1, 1), (2, 1), (4, 1), (1, 2)] {
                let dir = tempdir();
                let deck = write_deck(
                    dir.path(),
                    &data,
                    "p,p,p",
                    "eam/fs",
                    "CuZr_mm.eam.fs",
                    &["Cu", "Zr"],
                    &format!("[compute]\ncoord_cutoff = {cutoff:?}\n\n[output]\ndump = {{ file = \"c.dump\", every = 1000, fields = [\"coord\"] }}\n\n[[stage]]\nkind = \"nve\"\nsteps = 1\n"),
                );
                ok(&glassmd(np, nt, &["run", deck.to_str().unwrap()], dir.path()));
                let text = std::fs::read_to_string(dir.path().join("c.dump")).unwrap();
                assert!(text.contains("ITEM: ATOMS id type element coord"), "{}", text.lines().take(10).collect::<Vec<_>>().join("\n"));
                // id type element coord: the element is a name, so read ids and counts.
                let got: std::collections::BTreeMap<u64, f64> = text
                    .lines()
                    .skip_while(|l| !l.starts_with("ITEM: ATOMS"))
                    .skip(1)
                    .map(|l| {
                        let t: Vec<&str> = l.split_whitespace().collect();
                        (t[0].parse().unwrap(), t[3].parse().unwrap())
                    })
                    .collect();
                assert_eq!(got.len(), want.len(), "{case}: atom count");
                let mut total = 0.0;
                for (id, w) in &want {
                    let g = got[id];
                    assert_eq!(g, w[col], "{case} cutoff {cutoff} np={np} threads={nt}: atom {id} has {g} neighbours, LAMMPS {}", w[col]);
                    total += g;
                }
                eprintln!("{case} cutoff {cutoff} np={np} threads={nt}: mean coordination {:.4}", total / want.len() as f64);
            }
        }
    }
}
