//! The dedupe rule, pure and in one place: does an event repeat a recent identical finding?
//! Used by the DynamoDB sink and by the in-memory sink alike.
//!
//! The rule, in event time (CloudTrail's `eventTime`; a late delivery counts when it
//! happened), for a finding whose window was opened by its first event at `start`:
//!
//! - an event with `|event_time - start| < window` is a **repeat** of that first event, on
//!   either side of it: counted on the window (`Count`), no alert; `LastSeen` only moves
//!   forward (a late repeat counts but does not make the finding look older);
//! - an event `window` or more **after** `start` is **new**: it alerts and opens the finding's
//!   next window (it becomes the first event, counted from 1);
//! - an event `window` or more **before** `start` (delivered very late, or replayed) is
//!   **new** too — it belongs to an earlier window that the store no longer holds — and alerts,
//!   but it does **not** open a window: the newer window keeps its first event, its start and
//!   its counts ([`opens_window`]). Only the newest window is kept, so each such late event is
//!   new on its own (two late events of the same earlier window alert twice).
//!
//! A window of 0 turns dedupe off: every event is new.

/// The window a finding's first event opened, as the store holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenWindow<'a> {
    pub first_event_id: &'a str,
    /// Epoch seconds (event time) of the first event.
    pub start: i64,
}

/// How far ahead of the ingest time an event may claim to have happened (clock skew) before
/// the ingest time replaces its `eventTime` for the window.
pub const MAX_FUTURE_SKEW_SECS: i64 = 300;

/// The time the window counts an event at: its event time, or `now` when it has none or claims
/// a time more than [`MAX_FUTURE_SKEW_SECS`] ahead — so an event dated 2099 cannot open a window
/// that turns every later genuine denial of its finding into a silent repeat.
pub fn window_time(event_time: Option<i64>, now: i64) -> i64 {
    match event_time {
        Some(t) if t <= now.saturating_add(MAX_FUTURE_SKEW_SECS) => t,
        _ => now,
    }
}

/// The length of the window in seconds; 0 turns dedupe off.
pub fn window_secs(dedupe_window_minutes: u32) -> i64 {
    i64::from(dedupe_window_minutes) * 60
}

/// The first event that the event `event_id` at `event_time` repeats, if any: dedupe is on,
/// its finding has a window open, the event happened less than `window_secs` from that
/// window's first event — after it or before it (event time, so a late delivery counts when
/// it happened) — and it is not the first event itself.
pub fn repeat_of<'a>(
    window_secs: i64,
    open: Option<OpenWindow<'a>>,
    event_id: &str,
    event_time: i64,
) -> Option<&'a str> {
    let open = open?;
    let window = u64::try_from(window_secs).unwrap_or(0);
    let within = event_time.abs_diff(open.start) < window;
    (within && open.first_event_id != event_id).then_some(open.first_event_id)
}

/// Whether a new event (one [`repeat_of`] says is no repeat) opens its finding's window, i.e.
/// takes the finding item's place: when there is no window, or the event is not older than the
/// window's first event. An event a window or more before it is a new occurrence of an
/// earlier window: it alerts, but the newer window stays with its first event and counts.
pub fn opens_window(open: Option<OpenWindow<'_>>, event_time: i64) -> bool {
    open.is_none_or(|open| event_time >= open.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_from_the_future_counts_at_the_ingest_time() {
        let now = 1_795_168_800;
        assert_eq!(window_time(Some(now - 86_400), now), now - 86_400);
        assert_eq!(
            window_time(Some(now + MAX_FUTURE_SKEW_SECS), now),
            now + 300
        );
        assert_eq!(window_time(Some(now + MAX_FUTURE_SKEW_SECS + 1), now), now);
        assert_eq!(window_time(Some(4_070_908_800), now), now, "2099");
        assert_eq!(window_time(None, now), now);
    }

    const T0: i64 = 1_795_168_800;

    fn open(start: i64) -> Option<OpenWindow<'static>> {
        Some(OpenWindow {
            first_event_id: "first",
            start,
        })
    }

    #[test]
    fn within_the_window_is_a_repeat() {
        let w = window_secs(60);
        assert_eq!(w, 3600);
        assert_eq!(repeat_of(w, open(T0), "e-2", T0 + 1200), Some("first"));
        assert_eq!(repeat_of(w, open(T0), "e-2", T0 + 3599), Some("first"));
        // An event older than the first one (delivered late) is within it too, on that side
        // as on the other.
        assert_eq!(repeat_of(w, open(T0), "e-2", T0 - 60), Some("first"));
        assert_eq!(repeat_of(w, open(T0), "e-2", T0 - 3599), Some("first"));
    }

    #[test]
    fn an_event_a_window_or_more_before_the_first_is_new() {
        let w = window_secs(60);
        assert_eq!(repeat_of(w, open(T0), "e-2", T0 - 3600), None);
        assert_eq!(repeat_of(w, open(T0), "e-2", T0 - 86_400), None);
        assert_eq!(repeat_of(w, open(T0), "e-2", i64::MIN), None);
        assert_eq!(repeat_of(w, open(i64::MAX), "e-2", i64::MIN), None);
        // New, but it does not open the finding's window: the newer window stays.
        assert!(!opens_window(open(T0), T0 - 3600));
        assert!(!opens_window(open(T0), i64::MIN));
    }

    #[test]
    fn a_new_event_opens_the_window_unless_it_is_older() {
        assert!(opens_window(None, T0));
        assert!(opens_window(open(T0), T0 + 3600));
        assert!(opens_window(open(i64::MIN), T0), "a damaged item's window");
        assert!(
            opens_window(open(T0), T0),
            "the same time: no older window to keep"
        );
    }

    #[test]
    fn past_the_window_without_one_or_when_off_is_new() {
        let w = window_secs(60);
        assert_eq!(repeat_of(w, open(T0), "e-2", T0 + 3600), None);
        assert_eq!(repeat_of(w, None, "e-2", T0), None);
        assert_eq!(repeat_of(window_secs(0), open(T0), "e-2", T0), None);
        assert_eq!(repeat_of(w, open(i64::MIN), "e-2", T0), None);
    }

    #[test]
    fn the_first_event_does_not_repeat_itself() {
        assert_eq!(repeat_of(window_secs(60), open(T0), "first", T0), None);
    }
}
