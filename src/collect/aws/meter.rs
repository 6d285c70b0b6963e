//! What the AWS calls of an [`super::AwsSource`] cost: how many operations it made, and how
//! long at least one of them was waiting on AWS.
//!
//! The waiting time is the union of the attempts' spans from `read_before_transmit` (the
//! request signed and about to go out) to `read_after_attempt` (the answer read and parsed, or
//! the attempt failed): overlapping calls count once. What a diagnosis takes beyond it is the
//! function's own work, which is what `diagnose_ms − aws_wait_ms` in the Lambda's log shows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::collect::CallTally;

/// Counts the operations of every client it is added to and times their attempts.
#[derive(Debug, Clone, Default)]
pub(super) struct CallMeter(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    calls: AtomicU64,
    waiting: Mutex<Waiting>,
}

/// The attempts in flight, since when, and the time spent waiting before.
#[derive(Debug, Default)]
struct Waiting {
    in_flight: u32,
    since: Option<Instant>,
    done: Duration,
}

impl Waiting {
    fn enter(&mut self, now: Instant) {
        if self.in_flight == 0 {
            self.since = Some(now);
        }
        self.in_flight += 1;
    }

    fn leave(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.in_flight == 0 {
            if let Some(since) = self.since.take() {
                self.done += now.saturating_duration_since(since);
            }
        }
    }

    fn total(&self, now: Instant) -> Duration {
        let open = self
            .since
            .map_or(Duration::ZERO, |s| now.saturating_duration_since(s));
        self.done + open
    }
}

impl Shared {
    fn waiting(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One attempt in flight: it leaves the count when dropped, so an attempt whose future is
/// dropped (a cancelled call) is not left open.
#[derive(Debug)]
struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.waiting().leave(Instant::now());
    }
}

impl Storable for InFlight {
    type Storer = StoreReplace<Self>;
}

impl CallMeter {
    pub fn tally(&self) -> CallTally {
        CallTally {
            calls: self.0.calls.load(Ordering::Relaxed),
            waiting: self.0.waiting().total(Instant::now()),
        }
    }

    fn enter(&self) -> InFlight {
        self.0.waiting().enter(Instant::now());
        InFlight(self.0.clone())
    }
}

impl Intercept for CallMeter {
    fn name(&self) -> &'static str {
        "AccessUndeniedCallMeter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Replacing an earlier attempt's marker (there is none: the last one left) drops it.
        cfg.interceptor_state().store_put(self.enter());
        Ok(())
    }

    fn read_after_attempt(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().unset::<InFlight>();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_attempts_count_once() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut w = Waiting::default();
        w.enter(t0);
        w.enter(t0 + ms(2));
        w.leave(t0 + ms(5));
        assert_eq!(w.total(t0 + ms(6)), ms(6), "one still in flight");
        w.leave(t0 + ms(10));
        assert_eq!(w.total(t0 + ms(30)), ms(10), "0 to 10, once");
        w.enter(t0 + ms(20));
        w.leave(t0 + ms(23));
        assert_eq!(w.total(t0 + ms(40)), ms(13), "and 20 to 23");
    }

    #[test]
    fn a_dropped_attempt_leaves() {
        let meter = CallMeter::default();
        let attempt = meter.enter();
        assert_eq!(meter.0.waiting().in_flight, 1);
        drop(attempt);
        assert_eq!(meter.0.waiting().in_flight, 0);
        assert!(meter.0.waiting().since.is_none());
    }

    #[test]
    fn a_tally_since_an_earlier_one() {
        let a = CallTally {
            calls: 3,
            waiting: Duration::from_millis(7),
        };
        let b = CallTally {
            calls: 5,
            waiting: Duration::from_millis(12),
        };
        assert_eq!(
            b.since(a),
            CallTally {
                calls: 2,
                waiting: Duration::from_millis(5)
            }
        );
    }
}
