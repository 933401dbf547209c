//! SIGTERM/SIGUSR1: a flag the ranks agree on, so a run checkpoints and
//! stops cleanly before Slurm's time limit.


/// Steps between checks for a signal: a stop request is honoured within
/// this many steps of its arrival.
pub(super) const SIGNAL_CHECK_STEPS: u64 = 10;

/// Set by SIGTERM or SIGUSR1 (Slurm's warning before a time limit).
pub(super) static SIGNALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The handlers of [`catch_signals`], kept so [`release_signals`] can undo them.
pub(super) static HANDLERS: std::sync::Mutex<Vec<signal_hook::SigId>> = std::sync::Mutex::new(Vec::new());

/// Ask for a checkpoint and a clean stop on SIGTERM and SIGUSR1. Called at
/// the very start of `glassmd run`, before MPI starts, so that Slurm's
/// warning (which may come early: its timing has a resolution of up to a
/// minute) is never lost to the signal's default action. A second SIGTERM
/// while the first is being handled terminates at once.
pub fn catch_signals() {
    use signal_hook::consts::{SIGTERM, SIGUSR1};
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mark = || SIGNALLED.store(true, std::sync::atomic::Ordering::SeqCst);
    let r = (|| -> std::io::Result<Vec<signal_hook::SigId>> {
        Ok(vec![
            signal_hook::flag::register_conditional_shutdown(SIGTERM, 1, flag.clone())?,
            signal_hook::flag::register(SIGTERM, flag.clone())?,
            unsafe { signal_hook::low_level::register(SIGTERM, mark)? },
            unsafe { signal_hook::low_level::register(SIGUSR1, mark)? },
        ])
    })();
    match r {
        Ok(ids) => *HANDLERS.lock().unwrap_or_else(|e| e.into_inner()) = ids,
        Err(e) => log::warn!("cannot catch SIGTERM/SIGUSR1 ({}); a signal will stop the run without a checkpoint", e),
    }
}

/// A deck without a checkpoint has nothing to save: SIGTERM and SIGUSR1
/// end the process at once again (exit status 128 + signal, as their
/// default action reports through a shell), also for one that already
/// arrived.
pub(super) fn release_signals() {
    use signal_hook::consts::{SIGTERM, SIGUSR1};
    let ids = std::mem::take(&mut *HANDLERS.lock().unwrap_or_else(|e| e.into_inner()));
    for id in ids {
        signal_hook::low_level::unregister(id);
    }
    if SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
        std::process::exit(128 + SIGTERM);
    }
    for sig in [SIGTERM, SIGUSR1] {
        // `_exit` is async-signal-safe.
        if let Err(e) = unsafe { signal_hook::low_level::register(sig, move || signal_hook::low_level::exit(128 + sig)) } {
            log::warn!("cannot restore the action of signal {}: {}", sig, e);
        }
    }
}
