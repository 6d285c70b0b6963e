//! An ordered parallel map for `analyze`: one thread reads, `workers` threads diagnose, the
//! caller's thread writes each result in input order. Memory stays flat: no item more than
//! `window` ahead of the writer is worked on (a slow item holds the others back instead of
//! letting finished results pile up behind it), and the queues hold at most `window` each.
//!
//! Plain scoped threads, so the work may borrow from the caller (the pipeline and its policy
//! source are not `'static`); each worker blocks on one item at a time, so `workers` is also
//! the number of items in flight (AWS calls for `analyze` against AWS, cores for a snapshot).

use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Condvar, Mutex};

/// How far the writer has come, shared with the workers.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    moved: Condvar,
}

#[derive(Default)]
struct GateState {
    /// Items written so far (the sequence number of the next one to write).
    written: u64,
    /// The writer gave up: workers stop.
    stopped: bool,
}

impl Gate {
    /// Waits until item `seq` is within `window` of the writer; `false` when the writer stopped.
    fn admit(&self, seq: u64, window: u64) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        while !state.stopped && seq >= state.written.saturating_add(window) {
            state = match self.moved.wait(state) {
                Ok(s) => s,
                Err(_) => return false,
            };
        }
        !state.stopped
    }

    fn update(&self, f: impl FnOnce(&mut GateState)) {
        if let Ok(mut state) = self.state.lock() {
            f(&mut state);
        }
        self.moved.notify_all();
    }
}

/// Runs `work` over every item of `input` on `workers` threads and hands each result to
/// `write` in the order of `input`; returns `input` (read to its end, or as far as it got when
/// `write` failed) so the caller can read its counters. The first error of `write` stops
/// everything and is returned.
pub(super) fn map_ordered<I, T, R, E>(
    input: I,
    workers: usize,
    window: usize,
    work: impl Fn(T) -> R + Sync,
    mut write: impl FnMut(R) -> Result<(), E>,
) -> Result<I, E>
where
    I: Iterator<Item = T> + Send,
    T: Send,
    R: Send,
{
    let workers = workers.max(1);
    let window = window.max(workers);
    let gate = Gate::default();
    std::thread::scope(|scope| {
        // Queues as long as the window: the reader and the workers rarely wait on each
        // other (each wait is a futex wake-up; with queues as short as the worker count they
        // cost 14 % of the batch's CPU).
        let (todo_tx, todo_rx) = sync_channel::<(u64, T)>(window);
        // Shared by the workers, dropped with the last of them: the reader then stops too.
        let todo_rx = Arc::new(Mutex::new(todo_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, R)>(window);
        let reading = scope.spawn(move || {
            let mut input = input;
            for (seq, item) in (0u64..).zip(input.by_ref()) {
                if todo_tx.send((seq, item)).is_err() {
                    break;
                }
            }
            input
        });
        for _ in 0..workers {
            let (todo_rx, done_tx, gate, work) =
                (Arc::clone(&todo_rx), done_tx.clone(), &gate, &work);
            scope.spawn(move || {
                while let Some((seq, item)) = next(&todo_rx) {
                    if !gate.admit(seq, window as u64) || done_tx.send((seq, work(item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop((todo_rx, done_tx));
        let written = write_in_order(&done_rx, &gate, &mut write);
        // On an error: release the workers waiting at the gate and the ones sending results.
        gate.update(|s| s.stopped = true);
        drop(done_rx);
        let input = match reading.join() {
            Ok(input) => input,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        written.map(|()| input)
    })
}

fn next<T>(todo: &Mutex<Receiver<(u64, T)>>) -> Option<(u64, T)> {
    todo.lock().ok()?.recv().ok()
}

/// Receives results in any order and writes them in sequence.
fn write_in_order<R, E>(
    done: &Receiver<(u64, R)>,
    gate: &Gate,
    write: &mut impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    let mut waiting = BTreeMap::new();
    let mut written = 0u64;
    for (seq, result) in done {
        waiting.insert(seq, result);
        let before = written;
        while let Some(result) = waiting.remove(&written) {
            write(result)?;
            written += 1;
        }
        if written != before {
            gate.update(|s| s.written = written);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn results_keep_the_input_order_whatever_the_finishing_order() {
        let mut out = Vec::new();
        let rest = map_ordered(
            0..200u64,
            8,
            16,
            |i| {
                // Earlier items finish later.
                std::thread::sleep(Duration::from_micros((200 - i) * 20));
                i * 2
            },
            |r| {
                out.push(r);
                Ok::<(), ()>(())
            },
        );
        assert!(rest.is_ok_and(|mut r| r.next().is_none()));
        assert_eq!(out, (0..200).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn a_slow_item_holds_the_others_within_the_window() {
        let started = AtomicUsize::new(0);
        let most_ahead = AtomicUsize::new(0);
        let written = AtomicUsize::new(0);
        let result = map_ordered(
            0..100usize,
            4,
            10,
            |i| {
                started.fetch_add(1, Ordering::SeqCst);
                most_ahead.fetch_max(
                    i.saturating_sub(written.load(Ordering::SeqCst)),
                    Ordering::SeqCst,
                );
                if i == 0 {
                    std::thread::sleep(Duration::from_millis(50));
                }
                i
            },
            |_| {
                written.fetch_add(1, Ordering::SeqCst);
                Ok::<(), ()>(())
            },
        );
        assert!(result.is_ok());
        assert_eq!(started.load(Ordering::SeqCst), 100);
        assert!(most_ahead.load(Ordering::SeqCst) < 10);
    }

    #[test]
    fn a_failed_write_stops_reading_and_working() {
        let worked = AtomicUsize::new(0);
        let mut writes = 0;
        let result = map_ordered(
            0..1_000_000u64,
            4,
            32,
            |i| {
                worked.fetch_add(1, Ordering::SeqCst);
                i
            },
            |i| {
                writes += 1;
                if i == 5 {
                    Err("stdout closed")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(result.err(), Some("stdout closed"));
        assert_eq!(writes, 6);
        // The gate let no worker run more than a window ahead of the failed write.
        assert!(worked.load(Ordering::SeqCst) < 6 + 32 + 4);
    }

    #[test]
    fn one_worker_and_an_empty_input_work() {
        let mut out = Vec::new();
        let r = map_ordered(
            0..3,
            1,
            0,
            |i| i + 1,
            |r| {
                out.push(r);
                Ok::<(), ()>(())
            },
        );
        assert!(r.is_ok());
        assert_eq!(out, [1, 2, 3]);
        let r = map_ordered(std::iter::empty::<u8>(), 3, 3, |i| i, |_| Err(()));
        assert!(r.is_ok());
    }
}
