//! The `access-undenied` command line: parse the flags, run the command ([`cli`], one module
//! per command), exit with its status — 2 for a usage error or unreadable input.

#[path = "../cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    match cli::run(cli::Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("access-undenied: {e:#}");
            ExitCode::from(2)
        }
    }
}
