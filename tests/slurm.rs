//! The job scripts in `slurm/` on a real Slurm: `scripts/slurm_local.sh`
//! starts munged, slurmctld and slurmd on loopback (Debian's slurm-wlm and
//! munge), and the test submits:
//! - `glassmd.sbatch` on 2 ranks (srun --mpi=pmix), to completion;
//! - `glassmd.sbatch` with a 1-minute limit and the warning signal 50 s
//!   before it: the run checkpoints, the job requeues itself and finishes
//!   from the checkpoint (thermo rows complete, none twice);
//! - `submit_grid.sh`: a 2 × 2 job array of `glassmd.sbatch` over deck
//!   variables (`run --grid`) and the collector that gathers the results
//!   into one CSV;
//! - `scaling.sbatch`: strong and weak scaling on 1 and 2 ranks, CSV and SVG;
//! - two threads per rank (`-c 2`) through the MPI plugin the site names
//!   (`GLASSMD_SRUN_MPI`), with `SRUN_CPUS_PER_TASK` exported;
//! - a resubmitted job whose run is complete exits 0 and changes nothing;
//! - a plugin that does not match the MPI library fails the job without
//!   outputs;
//! - the samples of a `[samples]` deck as an array of `glassmd.sbatch`
//!   (`--sample` without a value), then `glassmd summarize`.
//!
//! Skipped with a message where Slurm is not installed, unless
//! `GLASSMD_REQUIRE_TOOLS=1` (CI installs it).

mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn slurm_conf() -> Option<String> {
    let have = Command::new("sh").args(["-c", "command -v sbatch && command -v slurmctld"]).output().is_ok_and(|o| o.status.success());
    let required = std::env::var("GLASSMD_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    if !have && !required {
        eprintln!("skipping the Slurm tests: slurm-wlm is not installed (scripts/slurm_local.sh start installs it)");
        return None;
    }
    let script = root().join("scripts/slurm_local.sh");
    let out = Command::new("bash").arg(&script).arg("start").output().unwrap();
    assert!(out.status.success(), "slurm_local.sh start failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let env = Command::new("bash").arg(&script).arg("env").output().unwrap();
    let line = String::from_utf8_lossy(&env.stdout).to_string();
    Some(line.trim().trim_start_matches("export SLURM_CONF=").to_string())
}

struct Slurm {
    conf: String,
}

impl Slurm {
    fn cmd(&self, prog: &str, dir: &Path) -> Command {
        let mut c = Command::new(prog);
        c.env("SLURM_CONF", &self.conf).env("GLASSMD", bin()).current_dir(dir);
        c
    }
    fn run(&self, prog: &str, args: &[&str], dir: &Path) -> String {
        let out = self.cmd(prog, dir).args(args).output().unwrap();
        assert!(out.status.success(), "{} {:?}: {}\n{}", prog, args, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
    fn field(&self, job: &str, key: &str) -> String {
        let text = self.run("scontrol", &["show", "job", job], Path::new("/"));
        text.split_whitespace().find_map(|kv| kv.strip_prefix(&format!("{}=", key))).unwrap_or("").to_string()
    }
    /// Wait for a job to end; a requeued job held back by Slurm's requeue
    /// delay is released early so the test stays short. Not at once:
    /// slurmd refuses ("Job credential revoked") a job whose new credential
    /// dates from the same second as the kill that ended its last start,
    /// so `StartTime=now` failed such jobs now and then.
    fn wait(&self, job: &str, limit_s: u64) -> String {
        let t0 = Instant::now();
        loop {
            let st = self.field(job, "JobState");
            if matches!(st.as_str(), "COMPLETED" | "FAILED" | "CANCELLED" | "TIMEOUT" | "NODE_FAIL" | "OUT_OF_MEMORY") {
                return st;
            }
            if st == "PENDING" && self.field(job, "Reason") == "BeginTime" {
                let _ = self.cmd("scontrol", Path::new("/")).args(["update", &format!("jobid={}", job), "StartTime=now+2"]).output();
            }
            assert!(t0.elapsed().as_secs() < limit_s, "job {} still {} after {} s", job, st, limit_s);
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// The job's output, read when called (for assertion messages).
fn job_log(dir: &Path, job: &str) -> impl Fn() -> String {
    let path = dir.join(format!("glassmd-{}.out", job));
    move || std::fs::read_to_string(&path).unwrap_or_else(|e| format!("(no job output {}: {})", path.display(), e))
}

fn deck(dir: &Path, steps: u64, checkpoint_every: u64) {
    small_deck(
        dir,
        1000,
        &format!("checkpoint = {{ file = \"restart.h5\", every = {} }}", checkpoint_every),
        &format!("[[stage]]\nkind = \"nvt\"\ntemperature = 1200\nsteps = {}\n[[stage]]\nkind = \"write_data\"\nfile = \"final.data\"\n", steps),
    );
}

#[test]
fn slurm_scripts_run_on_a_local_slurm() {
    let Some(conf) = slurm_conf() else { return };
    let s = Slurm { conf };
    let sb = root().join("slurm/glassmd.sbatch");
    let sb = sb.to_str().unwrap();

    // 1. A single run on 2 ranks.
    let one = tempdir();
    deck(one.path(), 300, 0);
    let job = s.run("sbatch", &["--parsable", "--ntasks=2", "--time=5", sb, "deck.toml"], one.path());
    assert_eq!(s.wait(&job, 120), "COMPLETED");
    let log = std::fs::read_to_string(one.path().join(format!("glassmd-{}.out", job))).unwrap();
    assert!(log.contains("2 rank(s) x 1 thread(s)") && log.contains("glassmd exit status 0"), "{}", log);
    assert!(one.path().join("final.data").exists());

    // 2. Requeue at the time limit: ~45 s of MD against a 1-minute limit
    // whose warning comes 50 s early.
    let rq = tempdir();
    deck(rq.path(), 45000, 10000);
    let job = s.run("sbatch", &["--parsable", "--ntasks=1", "--time=1", "--signal=B:USR1@50", sb, "deck.toml"], rq.path());
    let log = job_log(rq.path(), &job);
    assert_eq!(s.wait(&job, 600), "COMPLETED", "{}", log());
    let log = log();
    let restarts: u32 = s.field(&job, "Restarts").parse().unwrap();
    assert!(restarts >= 1 && log.contains("requeueing job") && log.contains("restarted from"), "restarts {}:\n{}", restarts, log);
    let rows = read_thermo_csv(&rq.path().join("thermo.csv"));
    let steps: Vec<u64> = rows.iter().map(|r| r["step"] as u64).collect();
    assert_eq!(steps, (0..=45).map(|k| k * 1000).collect::<Vec<_>>(), "thermo rows after {} requeue(s)", restarts);
    assert!(rq.path().join("final.data").exists());

    // 2b. Slurm checks time limits only every 30 s or so, so its warning
    // can come as the job starts, while the script is still setting up
    // (that lost a CI run). A site file that signals the script emulates
    // it, on the first start only: the run must still end in a checkpoint
    // and a requeue, not a killed job.
    let early = tempdir();
    deck(early.path(), 8000, 0);
    let site = early.path().join("site.sh");
    std::fs::write(&site, "[ \"${SLURM_RESTART_COUNT:-0}\" = 0 ] && kill -USR1 $$\n").unwrap();
    let export = format!("--export=ALL,GLASSMD_SIGNAL_GRACE=2,GLASSMD_SITE={}", site.display());
    let job = s.run("sbatch", &["--parsable", "--ntasks=1", "--time=5", &export, sb, "deck.toml"], early.path());
    let log = job_log(early.path(), &job);
    assert_eq!(s.wait(&job, 300), "COMPLETED", "{}", log());
    let log = log();
    assert!(log.contains("requeueing job") && log.contains("restarted from") && log.contains("glassmd exit status 0"), "{}", log);
    let rows = read_thermo_csv(&early.path().join("thermo.csv"));
    let steps: Vec<u64> = rows.iter().map(|r| r["step"] as u64).collect();
    assert_eq!(steps, (0..=8).map(|k| k * 1000).collect::<Vec<_>>(), "{}", log);

    // 3. A 2 x 2 grid over deck variables, then the collector.
    let grid = tempdir();
    let text = std::fs::read_to_string(rq.path().join("deck.toml")).unwrap();
    let text = text
        .replace("temperature = 1200\nsteps = 45000", "temperature = ${T}\nsteps = 200")
        .replace("[[stage]]\nkind = \"write_data\"\nfile = \"final.data\"", "[[stage]]\nkind = \"record\"\nname = \"end\"")
        .replace("temperature = 1500\nseed = 1", "temperature = 1500\nseed = ${seed}");
    std::fs::write(grid.path().join("grid.toml"), text).unwrap();
    let ids = s.run("bash", &[root().join("slurm/submit_grid.sh").to_str().unwrap(), "grid.toml", "runs", "T=800,1200", "seed=1..2", "--", "--time=5"], grid.path());
    let ids: Vec<&str> = ids.split_whitespace().collect();
    assert_eq!(ids.len(), 2, "{:?}", ids);
    assert_eq!(s.wait(ids[1], 300), "COMPLETED");
    let csv = std::fs::read_to_string(grid.path().join("runs/results.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{}", csv);
    assert!(lines[0].starts_with("dir,T,seed,end.density,"), "{}", lines[0]);
    assert!(lines[1].starts_with("task_0000,800,1,") && lines[4].starts_with("task_0003,1200,2,"), "{}", csv);
    // The hot runs end hotter than the cold ones.
    let col = lines[0].split(',').position(|h| h == "end.temperature").unwrap();
    let t: Vec<f64> = lines[1..].iter().map(|l| l.split(',').nth(col).unwrap().parse().unwrap()).collect();
    assert!(t[2] > t[0] && t[3] > t[1], "{:?}", t);

    // 4. Strong and weak scaling on 1 and 2 ranks: CSV and plot.
    let sc = tempdir();
    let job = s.run(
        "sbatch",
        &["--parsable", "--ntasks=2", "--time=5", "--export=ALL,CELLS=6 6 6,STEPS=50", &format!("--chdir={}", sc.path().display()), root().join("slurm/scaling.sbatch").to_str().unwrap(), "scale"],
        &root(),
    );
    assert_eq!(s.wait(&job, 300), "COMPLETED");
    let csv = std::fs::read_to_string(sc.path().join("scale.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 5, "{}", csv);
    assert!(rows[1].starts_with("strong,1,1,864,50,") && rows[4].starts_with("weak,2,1,1728,50,"), "{}", csv);
    assert!(rows[1..].iter().all(|r| r.split(',').nth(6).unwrap().parse::<f64>().unwrap() > 0.0));
    let svg = std::fs::read_to_string(sc.path().join("scale.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("parallel efficiency"));

    // 5. Threads per rank (-c 2) with the MPI plugin named by the site:
    // srun gets the CPUs (SRUN_CPUS_PER_TASK), glassmd two threads on two
    // CPUs, launched through the chosen plugin.
    let th = tempdir();
    deck(th.path(), 300, 0);
    let job = s.run("sbatch", &["--parsable", "--ntasks=1", "--cpus-per-task=2", "--time=5", "--export=ALL,GLASSMD_SRUN_MPI=pmix", sb, "deck.toml"], th.path());
    assert_eq!(s.wait(&job, 120), "COMPLETED");
    let log = std::fs::read_to_string(th.path().join(format!("glassmd-{}.out", job))).unwrap();
    assert!(log.contains("1 rank(s) x 2 thread(s), SRUN_CPUS_PER_TASK=2") && log.contains("launch: srun --mpi=pmix"), "{}", log);
    assert!(log.contains("1 rank(s) x 2 thread(s), 2 CPU(s) available to rank 0") && !log.contains("threads share CPUs"), "{}", log);

    // 6. The same job again: the run in the folder is complete, so the
    // requeue-safe --resume says so and changes nothing.
    let before = std::fs::read(th.path().join("thermo.csv")).unwrap();
    let job = s.run("sbatch", &["--parsable", "--ntasks=1", "--time=5", sb, "deck.toml"], th.path());
    assert_eq!(s.wait(&job, 120), "COMPLETED");
    let log = std::fs::read_to_string(th.path().join(format!("glassmd-{}.out", job))).unwrap();
    assert!(log.contains("the run is complete") && log.contains("glassmd exit status 0"), "{}", log);
    assert_eq!(std::fs::read(th.path().join("thermo.csv")).unwrap(), before);

    // 7. A plugin that does not match the MPI library stops the job; no
    // copy of the run writes its outputs.
    let bad = tempdir();
    deck(bad.path(), 300, 0);
    let job = s.run("sbatch", &["--parsable", "--ntasks=2", "--time=5", "--export=ALL,GLASSMD_SRUN_MPI=none", sb, "deck.toml"], bad.path());
    assert_eq!(s.wait(&job, 120), "FAILED");
    assert!(!bad.path().join("final.data").exists() && !bad.path().join("thermo.csv").exists());

    // 8. The samples of a [samples] deck as a job array of glassmd.sbatch
    // (`--sample` takes the array index), then the summary.
    let sm = tempdir();
    let text = std::fs::read_to_string(rq.path().join("deck.toml")).unwrap();
    let text = text.replace("steps = 45000", "steps = 200").replace("[[stage]]\nkind = \"write_data\"\nfile = \"final.data\"", "[[stage]]\nkind = \"record\"\nname = \"end\"");
    std::fs::write(sm.path().join("deck.toml"), format!("[samples]\ncount = 2\n{}", text)).unwrap();
    let job = s.run("sbatch", &["--parsable", "--array=0-1", "--ntasks=1", "--time=5", "--output=glassmd-%A_%a.out", sb, "deck.toml", "--sample"], sm.path());
    for k in 0..2 {
        assert_eq!(s.wait(&format!("{}_{}", job, k), 120), "COMPLETED");
    }
    for k in 0..2 {
        assert!(sm.path().join(format!("sample_{:02}/results.json", k)).exists(), "sample {} missing", k);
    }
    let out = glassmd(1, 1, &["summarize", "deck.toml"], sm.path());
    let summary = ok(&out);
    assert!(summary.contains("2 of 2 samples") && sm.path().join("samples.json").exists(), "{}", summary);

    // 9. A study (tests/data/study: 2 x 2 points x 2 samples) submitted as
    // a job array of glassmd.sbatch and a collection job after it.
    let st = tempdir();
    let src = root().join("tests/data/study");
    let text = std::fs::read_to_string(src.join("study.toml")).unwrap().replace("deck = \"deck.toml\"", &format!("deck = \"{}\"", src.join("deck.toml").display()));
    std::fs::write(st.path().join("study.toml"), text).unwrap();
    let out = s.run(bin().to_str().unwrap(), &["study", "study.toml", "--dir", "runs", "--slurm", "--script", sb, "--sbatch=--time=5", "--sbatch=--ntasks=1"], st.path());
    let ids: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("submitted job ")).filter_map(|l| l.split(':').next()).collect();
    assert!(out.contains("8 tasks") && ids.len() == 2, "{}", out);
    let collect_log = || std::fs::read_dir(st.path().join("runs/logs")).map(|d| d.filter_map(|e| e.ok()).map(|e| format!("{}: {}", e.path().display(), std::fs::read_to_string(e.path()).unwrap_or_default())).collect::<Vec<_>>().join("\n")).unwrap_or_default();
    assert_eq!(s.wait(ids[1], 300), "COMPLETED", "{}", collect_log());
    for t in 0..8 {
        assert_eq!(s.field(&format!("{}_{}", ids[0], t), "JobState"), "COMPLETED", "task {}: {}", t, collect_log());
    }
    let csv = std::fs::read_to_string(st.path().join("runs/study.csv")).unwrap_or_else(|_| collect_log());
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 5, "{}", csv);
    assert!(rows[1..].iter().all(|r| r.split(',').nth(6) == Some("2")), "{}", csv);
    assert!(st.path().join("runs/map.svg").exists());

    // 10. A study with preludes (tests/data/study_prelude): their arrays
    // first, then a job that submits the grid once they are done.
    let sp = tempdir();
    let study = root().join("tests/data/study_prelude/study.toml");
    let out = s.run(bin().to_str().unwrap(), &["study", study.to_str().unwrap(), "--dir", "runs", "--slurm", "--script", sb, "--sbatch=--time=5", "--sbatch=--ntasks=1"], sp.path());
    let ids: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("submitted job ")).filter_map(|l| l.split(':').next()).collect();
    assert!(out.contains("after 4 prelude task(s)") && ids.len() == 3 && out.contains("prelude tg (2 tasks)") && out.contains("prelude glass (2 tasks)"), "{}", out);
    let logs = sp.path().join("runs/logs");
    let all_logs = || std::fs::read_dir(&logs).map(|d| d.filter_map(|e| e.ok()).map(|e| format!("{}: {}", e.path().display(), std::fs::read_to_string(e.path()).unwrap_or_default())).collect::<Vec<_>>().join("\n")).unwrap_or_default();
    assert_eq!(s.wait(ids[2], 300), "COMPLETED", "{}", all_logs());
    let next = std::fs::read_to_string(logs.join(format!("glassmd-study-next-{}.out", ids[2]))).unwrap_or_else(|_| all_logs());
    let grid_ids: Vec<&str> = next.lines().filter_map(|l| l.strip_prefix("submitted job ")).filter_map(|l| l.split(':').next()).collect();
    assert!(grid_ids.len() == 2 && next.contains("the grid (8 tasks)"), "{}", next);
    assert_eq!(s.wait(grid_ids[1], 300), "COMPLETED", "{}", all_logs());
    let csv = std::fs::read_to_string(sp.path().join("runs/study.csv")).unwrap_or_else(|_| all_logs());
    assert!(csv.lines().count() == 5 && csv.lines().skip(1).all(|r| r.split(',').nth(6) == Some("2")), "{}", csv);
    assert!(std::fs::read_to_string(sp.path().join("runs/prelude_tg.csv")).unwrap().lines().count() == 3);
}
