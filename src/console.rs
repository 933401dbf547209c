//! What a person watching a run sees: log lines, thermo rows and the
//! progress bar, all on rank 0.
//!
//! On a terminal the bar (indicatif) stays at the bottom and log lines and
//! thermo rows are printed above it through `MultiProgress::suspend`, the
//! library's own way (log lines through `indicatif-log-bridge`). In a batch
//! log (stderr not a terminal: Slurm's output file) there is no bar: every
//! log line carries a wall-clock timestamp, and a line every 10 % of a stage
//! gives the stage's and the whole deck's ETA. A new kind of console output
//! goes through [`line`] so that it never tears the bar.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Instant;

static MULTI: OnceLock<MultiProgress> = OnceLock::new();

/// The one bar area of the process (hidden when stderr is not a terminal).
fn multi() -> &'static MultiProgress {
    MULTI.get_or_init(|| {
        if std::io::stderr().is_terminal() {
            MultiProgress::new()
        } else {
            MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
        }
    })
}

/// Start logging: `info` on rank 0, `warn` elsewhere (`RUST_LOG` overrides);
/// timestamps when stderr is not a terminal (batch logs).
pub fn init_logging(root: bool) {
    let level = if root { "info" } else { "warn" };
    let mut b = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level));
    if std::io::stderr().is_terminal() {
        b.format_timestamp(None);
    } else {
        b.format_timestamp_secs();
    }
    let logger = b.build();
    let filter = logger.filter();
    if indicatif_log_bridge::LogWrapper::new(multi().clone(), logger).try_init().is_ok() {
        log::set_max_level(filter);
    }
}

/// Print a line on stdout above any progress bar.
pub fn line(s: &str) {
    multi().suspend(|| println!("{}", s));
}

fn hms(s: f64) -> String {
    if !s.is_finite() {
        return "?".into();
    }
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}s", s)
    }
}

/// Progress of one MD stage, with the ETA of the stage and of the deck
/// (`after`: MD steps of the stages still to come).
pub struct Progress {
    bar: Option<ProgressBar>,
    start: Instant,
    total: u64,
    first: u64,
    after: u64,
    next_log: u64,
}

impl Progress {
    /// `start`: steps already done (a resumed stage).
    pub fn new(root: bool, total: u64, label: &str, start: u64, after: u64) -> Progress {
        let show = root && total >= 1000;
        let bar = if show && std::io::stderr().is_terminal() {
            let b = multi().add(ProgressBar::new(total));
            if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} steps  {per_sec}  stage ETA {eta}  {msg}") {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_prefix(label.to_string());
            b.set_position(start);
            Some(b)
        } else {
            None
        };
        let tenth = (total / 10).max(1);
        Progress { bar, start: Instant::now(), total, first: start, after, next_log: if show { (start / tenth + 1) * tenth } else { u64::MAX } }
    }

    /// Seconds per step so far in this stage.
    fn per_step(&self, done: u64) -> f64 {
        self.start.elapsed().as_secs_f64() / (done.saturating_sub(self.first)).max(1) as f64
    }

    pub fn tick(&mut self, done: u64) {
        if let Some(b) = &self.bar {
            b.set_position(done);
            if done % 100 == 0 || done == self.total {
                let deck = self.per_step(done) * (self.total - done + self.after) as f64;
                b.set_message(format!("deck ETA {}", hms(deck)));
            }
        } else if done >= self.next_log && done < self.total {
            let ps = self.per_step(done);
            let (stage, deck) = (ps * (self.total - done) as f64, ps * (self.total - done + self.after) as f64);
            log::info!(
                "{}/{} steps ({:.0}%), elapsed {}, stage ETA {}, deck ETA {} (MD stages)",
                done,
                self.total,
                100.0 * done as f64 / self.total as f64,
                hms(self.start.elapsed().as_secs_f64()),
                hms(stage),
                hms(deck)
            );
            self.next_log += (self.total / 10).max(1);
        }
    }

    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
            multi().remove(&b);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(super::hms(42.4), "42s");
        assert_eq!(super::hms(125.0), "2m05s");
        assert_eq!(super::hms(3725.0), "1h02m05s");
    }
}
