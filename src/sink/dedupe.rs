//! The dedupe rule, pure and in one place: does an event repeat a recent identical finding?
//! Used by the DynamoDB sink and by the in-memory sink alike.

/// The window a finding's first event opened, as the store holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenWindow<'a> {
    pub first_event_id: &'a str,
    /// Epoch seconds (event time) of the first event.
    pub start: i64,
}

/// The length of the window in seconds; 0 turns dedupe off.
pub fn window_secs(dedupe_window_minutes: u32) -> i64 {
    i64::from(dedupe_window_minutes) * 60
}

/// The first event that the event `event_id` at `event_time` repeats, if any: dedupe is on,
/// its finding has a window open, the event came less than `window_secs` after that window's
/// first event (event time, so a late delivery counts when it happened), and it is not the
/// first event itself.
pub fn repeat_of<'a>(
    window_secs: i64,
    open: Option<OpenWindow<'a>>,
    event_id: &str,
    event_time: i64,
) -> Option<&'a str> {
    let open = open?;
    let within = event_time.saturating_sub(open.start) < window_secs;
    (window_secs > 0 && within && open.first_event_id != event_id).then_some(open.first_event_id)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // An event older than the first one (delivered late) is within it too.
        assert_eq!(repeat_of(w, open(T0), "e-2", T0 - 60), Some("first"));
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
