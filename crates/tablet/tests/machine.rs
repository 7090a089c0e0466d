//! The sync state machine's rules (pure: no network, no clock).
use assiette_tablet::machine::*;

#[test]
fn start_up_runs_at_once_when_enrolled_and_online() {
    let mut m = Machine::new(true, true);
    assert_eq!(m.handle(Event::Started, 1_000, 0.0), Command::Run);
    assert_eq!(m.phase, Phase::Running);
}

#[test]
fn nothing_is_sent_before_enrolment_and_enrolment_starts_a_run() {
    let mut m = Machine::new(false, true);
    for e in [Event::Started, Event::Saved, Event::SyncNow, Event::TimerFired, Event::Visible] {
        assert_eq!(m.handle(e, 0, 0.0), Command::Idle, "{e:?}");
    }
    assert_eq!(m.handle(Event::Enrolled, 10, 0.0), Command::Run);
}

#[test]
fn saves_are_debounced_into_one_run() {
    let mut m = Machine::new(true, true);
    m.handle(Event::Started, 0, 0.0);
    assert_eq!(m.handle(Event::Succeeded, 100, 0.0), Command::Schedule { due_ms: 100 + IDLE_PULL_MS });
    assert_eq!(m.handle(Event::Saved, 1_000, 0.0), Command::Schedule { due_ms: 1_000 + DEBOUNCE_MS });
    // A second save keeps the earlier due time: a burst of weighings goes in one push.
    assert_eq!(m.handle(Event::Saved, 1_500, 0.0), Command::Schedule { due_ms: 1_000 + DEBOUNCE_MS });
    assert_eq!(m.handle(Event::TimerFired, 3_000, 0.0), Command::Run);
}

#[test]
fn failures_back_off_exponentially_with_jitter_up_to_five_minutes() {
    assert_eq!(Machine::backoff_ms(1, 1.0), BASE_BACKOFF_MS);
    assert_eq!(Machine::backoff_ms(2, 1.0), 2 * BASE_BACKOFF_MS);
    assert_eq!(Machine::backoff_ms(3, 0.0), 2 * BASE_BACKOFF_MS);
    assert_eq!(Machine::backoff_ms(30, 1.0), MAX_BACKOFF_MS);
    assert_eq!(Machine::backoff_ms(30, 0.0), MAX_BACKOFF_MS / 2);
    let mut m = Machine::new(true, true);
    m.handle(Event::Started, 0, 0.0);
    let mut due = 0;
    for i in 1..=12u32 {
        match m.handle(Event::Failed, 0, 1.0) {
            Command::Schedule { due_ms } => {
                assert!(due_ms >= due, "attempt {i}: backoff never shrinks");
                assert!(due_ms <= MAX_BACKOFF_MS);
                due = due_ms;
            }
            c => panic!("attempt {i}: {c:?}"),
        }
        assert_eq!(m.handle(Event::TimerFired, due, 1.0), Command::Run);
    }
    assert_eq!(due, MAX_BACKOFF_MS);
    // The network coming back forgets the backoff.
    m.handle(Event::Failed, 0, 1.0);
    assert_eq!(m.handle(Event::Online, 5, 1.0), Command::Run);
    assert_eq!(m.failures, 0);
}

#[test]
fn work_arriving_during_a_run_triggers_a_second_run() {
    let mut m = Machine::new(true, true);
    m.handle(Event::Started, 0, 0.0);
    assert_eq!(m.handle(Event::Saved, 10, 0.0), Command::Idle);
    assert_eq!(m.handle(Event::Succeeded, 20, 0.0), Command::Run);
    assert_eq!(m.handle(Event::Succeeded, 30, 0.0), Command::Schedule { due_ms: 30 + IDLE_PULL_MS });
}

#[test]
fn a_refused_token_stops_syncing_until_re_enrolment() {
    let mut m = Machine::new(true, true);
    m.handle(Event::Started, 0, 0.0);
    assert_eq!(m.handle(Event::Unauthorized, 5, 0.0), Command::Idle);
    assert_eq!(m.phase, Phase::NeedsEnrolment);
    assert_eq!(m.handle(Event::SyncNow, 6, 0.0), Command::Idle);
    assert_eq!(m.handle(Event::Enrolled, 7, 0.0), Command::Run);
}

#[test]
fn offline_waits_instead_of_running() {
    let mut m = Machine::new(true, false);
    assert!(matches!(m.handle(Event::Started, 0, 0.0), Command::Schedule { .. }));
    assert_eq!(m.handle(Event::Online, 100, 0.0), Command::Run);
}
