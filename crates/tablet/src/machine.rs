//! When to sync: a pure state machine fed by events, returning what to do next.
//! No clock, no randomness, no I/O inside: the caller passes the time and a jitter draw,
//! so every rule is tested without a browser or a network.

/// Delay after a save before syncing, so a burst of weighings goes in one push.
pub const DEBOUNCE_MS: u64 = 2_000;
/// First retry delay after a failure; doubles each time up to [`MAX_BACKOFF_MS`].
pub const BASE_BACKOFF_MS: u64 = 5_000;
/// Longest wait between attempts (5 minutes).
pub const MAX_BACKOFF_MS: u64 = 300_000;
/// With nothing to send, still pull now and then to see the other tablets' entries.
pub const IDLE_PULL_MS: u64 = 300_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The app started (or the engine was created).
    Started,
    /// A record was saved locally.
    Saved,
    /// The browser says the network is back (`online`).
    Online,
    /// The browser says the network is gone (`offline`).
    Offline,
    /// The page became visible again (`visibilitychange`).
    Visible,
    /// The timer the machine asked for has fired.
    TimerFired,
    /// "Synchroniser maintenant".
    SyncNow,
    /// A sync run finished: everything pushed and pulled.
    Succeeded,
    /// A sync run failed on the network or the server (5xx, timeout).
    Failed,
    /// The server refused the token (401): only a new enrolment helps.
    Unauthorized,
    /// The tablet was (re-)enrolled.
    Enrolled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the timer at `due_ms`.
    Waiting { due_ms: u64 },
    /// A run is under way.
    Running,
    /// No enrolment or the token was refused: nothing is sent until the tablet is enrolled.
    NeedsEnrolment,
}

/// What the caller must do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Start a sync run now.
    Run,
    /// (Re)arm the single timer to fire at `due_ms`.
    Schedule { due_ms: u64 },
    /// Nothing to do.
    Idle,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub phase: Phase,
    /// Consecutive failures, for the backoff.
    pub failures: u32,
    /// Something happened during a run that needs another run right after it.
    pub rerun: bool,
    pub online: bool,
}

impl Machine {
    pub fn new(enrolled: bool, online: bool) -> Self {
        Self {
            phase: if enrolled { Phase::Waiting { due_ms: 0 } } else { Phase::NeedsEnrolment },
            failures: 0,
            rerun: false,
            online,
        }
    }

    /// Backoff after `failures` failures, with jitter in [0, 1): between half and all of the
    /// exponential delay, so many tablets coming back at once don't hit the server together.
    pub fn backoff_ms(failures: u32, jitter: f64) -> u64 {
        let exp = BASE_BACKOFF_MS.saturating_mul(1u64 << failures.saturating_sub(1).min(20));
        let capped = exp.min(MAX_BACKOFF_MS);
        let j = jitter.clamp(0.0, 1.0);
        (capped as f64 * (0.5 + 0.5 * j)) as u64
    }

    pub fn handle(&mut self, event: Event, now_ms: u64, jitter: f64) -> Command {
        match event {
            Event::Offline => {
                self.online = false;
                return Command::Idle;
            }
            Event::Online => self.online = true,
            Event::Unauthorized => {
                self.phase = Phase::NeedsEnrolment;
                self.rerun = false;
                return Command::Idle;
            }
            Event::Enrolled => {
                self.failures = 0;
                self.phase = Phase::Waiting { due_ms: now_ms };
                return self.run_if_online(now_ms);
            }
            _ => {}
        }
        if self.phase == Phase::NeedsEnrolment {
            return Command::Idle;
        }
        match (event, self.phase) {
            (Event::Succeeded, Phase::Running) => {
                self.failures = 0;
                if std::mem::take(&mut self.rerun) {
                    return self.run_if_online(now_ms);
                }
                self.schedule(now_ms + IDLE_PULL_MS)
            }
            (Event::Failed, Phase::Running) => {
                self.failures = self.failures.saturating_add(1);
                self.rerun = false;
                self.schedule(now_ms + Self::backoff_ms(self.failures, jitter))
            }
            // During a run, remember that new work arrived; it runs right after.
            (Event::Saved | Event::SyncNow | Event::Online | Event::Visible | Event::Started, Phase::Running) => {
                self.rerun = true;
                Command::Idle
            }
            (_, Phase::Running) => Command::Idle,
            (Event::Saved, Phase::Waiting { due_ms }) => {
                // Debounce, but never later than an earlier due time, nor sooner than a backoff.
                let debounced = now_ms + DEBOUNCE_MS;
                let due = if self.failures > 0 { due_ms.max(debounced) } else { due_ms.min(debounced).max(now_ms) };
                self.schedule(due)
            }
            (Event::Started | Event::Online | Event::Visible | Event::SyncNow, Phase::Waiting { .. }) => {
                if event == Event::SyncNow || event == Event::Online {
                    // The user asked, or the network just came back: forget the backoff.
                    self.failures = 0;
                }
                self.run_if_online(now_ms)
            }
            (Event::TimerFired, Phase::Waiting { due_ms }) if now_ms >= due_ms => self.run_if_online(now_ms),
            (Event::TimerFired, Phase::Waiting { due_ms }) => Command::Schedule { due_ms },
            (Event::Succeeded | Event::Failed, Phase::Waiting { .. }) => Command::Idle,
            (_, Phase::NeedsEnrolment) => Command::Idle,
            (Event::Offline | Event::Unauthorized | Event::Enrolled, _) => Command::Idle,
        }
    }

    fn run_if_online(&mut self, now_ms: u64) -> Command {
        if !self.online {
            // navigator.onLine can be wrong; try again later anyway.
            return self.schedule(now_ms + Self::backoff_ms(self.failures.max(1), 0.5));
        }
        self.phase = Phase::Running;
        Command::Run
    }

    fn schedule(&mut self, due_ms: u64) -> Command {
        self.phase = Phase::Waiting { due_ms };
        Command::Schedule { due_ms }
    }
}
