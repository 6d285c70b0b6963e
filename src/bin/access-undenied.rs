//! The `access-undenied` command line: parse the flags, run the command ([`cli`], one module
//! per command), exit with its status — 2 for a usage error or unreadable input.

#[path = "../cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use clap::Parser as _;

/// mimalloc instead of the system allocator: `analyze` allocates from several threads at once,
/// and glibc's malloc spent a third of the batch's CPU time there (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match cli::run(cli::Cli::parse()) {
        Ok(code) => code,
        // The reader of stdout went away (`| head -1`): stop quietly.
        Err(e) if e.is::<cli::stdout::StdoutClosed>() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("access-undenied: {e:#}");
            ExitCode::from(2)
        }
    }
}
