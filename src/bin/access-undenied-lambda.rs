//! The Lambda entry point (EventBridge → diagnose → DynamoDB + SNS). The runtime wiring arrives
//! with the Lambda issue; until then this binary only states that it is not built yet, so the
//! package layout and both binaries exist from the start.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("access-undenied-lambda: the Lambda handler is not implemented yet; use `access-undenied simulate`");
    ExitCode::from(2)
}
