//! The progress bar of `analyze`, drawn on stderr only when stderr is a terminal: the events
//! analysed and their rate, the bytes read, for a regular file of known size a bar with an
//! ETA, and for S3 input the objects read and their rate. When stderr is not a terminal there
//! is no bar and nothing is written.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Below this many results the bar is cleared at the end rather than left on the screen.
const KEEP_FROM: u64 = 16;

/// A progress bar on the terminal (stderr).
pub(super) struct Progress {
    bar: ProgressBar,
    analysed: Arc<AtomicU64>,
    /// S3 objects read.
    objects: Arc<AtomicU64>,
    /// Results printed on a terminal stdout are printed above the bar, not through it.
    stdout_is_terminal: bool,
}

impl Progress {
    /// A bar for an input of `size` bytes (a spinner when the size is unknown; with the
    /// objects read when `objects` is true: S3 input), or `None` when stderr is not a terminal.
    pub(super) fn on_terminal(size: Option<u64>, objects: bool) -> Option<Self> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let analysed = Arc::new(AtomicU64::new(0));
        let read_objects = Arc::new(AtomicU64::new(0));
        let template = match (size, objects) {
            (Some(_), _) => {
                "{spinner} {elapsed_precise} [{wide_bar}] {binary_bytes}/{binary_total_bytes} \
                 ({binary_bytes_per_sec}, ETA {eta}) · {events}"
            }
            (None, true) => {
                "{spinner} {elapsed_precise} {objects} · {binary_bytes} read \
                 ({binary_bytes_per_sec}) · {events}"
            }
            (None, false) => {
                "{spinner} {elapsed_precise} {binary_bytes} read ({binary_bytes_per_sec}) · {events}"
            }
        };
        let counter = Arc::clone(&analysed);
        let object_counter = Arc::clone(&read_objects);
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .progress_chars("=> ")
            .with_key(
                "events",
                move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let n = counter.load(Ordering::Relaxed);
                    let secs = state.elapsed().as_secs_f64();
                    let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
                    let _ = write!(w, "{n} events analysed ({rate:.0}/s)");
                },
            )
            .with_key(
                "objects",
                move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let n = object_counter.load(Ordering::Relaxed);
                    let secs = state.elapsed().as_secs_f64();
                    let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
                    let _ = write!(w, "{n} objects ({rate:.1}/s)");
                },
            );
        let bar =
            ProgressBar::with_draw_target(size, ProgressDrawTarget::stderr()).with_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(Self {
            bar,
            analysed,
            objects: read_objects,
            stdout_is_terminal: std::io::stdout().is_terminal(),
        })
    }

    /// The callback for [`access_undenied::input::open_counting`]: moves the bar by the bytes
    /// read from the input.
    pub(super) fn on_read(&self) -> impl FnMut(usize) + 'static {
        let bar = self.bar.clone();
        move |n| bar.inc(n as u64)
    }

    /// One more S3 object read.
    pub(super) fn object_read(&self) {
        self.objects.fetch_add(1, Ordering::Relaxed);
    }

    /// One more event analysed.
    pub(super) fn analysed(&self) {
        self.analysed.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `print` (which writes to stdout) with the bar out of the way when both are on the
    /// terminal.
    pub(super) fn print<T>(&self, print: impl FnOnce() -> T) -> T {
        if self.stdout_is_terminal {
            self.bar.suspend(print)
        } else {
            print()
        }
    }

    /// Stops the bar: its last state stays on the screen after a long run, and is cleared after
    /// a short one.
    pub(super) fn finish(self) {
        if self.analysed.load(Ordering::Relaxed) >= KEEP_FROM {
            self.bar.finish();
        } else {
            self.bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    /// A run that stops on an error clears the bar before the error is printed.
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.bar.finish_and_clear();
        }
    }
}
