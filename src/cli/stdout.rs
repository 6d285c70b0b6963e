//! Writing results to stdout. A reader that goes away (`access-undenied simulate … | head -1`)
//! ends the command quietly with [`StdoutClosed`]; any other write error is an error.

use std::io::Write;

/// Stdout was closed by its reader: the command stops without a message.
#[derive(Debug, thiserror::Error)]
#[error("stdout was closed")]
pub struct StdoutClosed;

/// Writes `text` and a newline to stdout, flushed.
pub fn line(text: impl std::fmt::Display) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to stdout")),
    }
}
