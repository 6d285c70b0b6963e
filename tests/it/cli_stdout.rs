//! The command line and its stdout: a reader that goes away ends the command quietly, a real
//! write error is reported and exits non-zero.

use std::io::Read;
use std::process::{Command, Stdio};

/// NDJSON with many simulate documents, so the command is still writing when the reader
/// leaves.
fn many_documents(dir: &std::path::Path) -> std::path::PathBuf {
    let doc = std::fs::read_to_string(
        crate::support::root().join("examples/simulate/identity-missing-allow.json"),
    )
    .unwrap();
    let one: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let line = serde_json::to_string(&one).unwrap();
    let path = dir.join("many.ndjson");
    std::fs::write(&path, format!("{line}\n").repeat(3000)).unwrap();
    path
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let input = many_documents(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_access-undenied"))
        .args(["simulate", "--input"])
        .arg(&input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout); // `| head -c 64`
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(out.status.success(), "{:?}", out.status);
}

#[test]
fn a_failed_write_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = many_documents(dir.path());
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_access-undenied"))
        .args(["simulate", "--input"])
        .arg(&input)
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write to stdout"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
