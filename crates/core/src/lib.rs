//! Access Undenied's pure core: no AWS SDK, no network, no disk.
//!
//! The pipeline is: a CloudTrail record is read into a request (principal, action, resource,
//! context keys); the policies that took part are parsed once into the validated model of
//! [`policy`]; [`eval`] evaluates the request against every policy type exactly as AWS does and
//! returns a decision that carries its why (each gate's outcome, the deciding statements and
//! everything it could not evaluate); [`simulate`] is the engine's own front door, reading a
//! request plus policies from JSON. Adapters that talk to AWS live in the root crate.

pub mod arn;
pub mod assemble;
pub mod eval;
pub mod event;
pub mod evidence;
pub mod explain;
pub mod iam_data;
pub mod json;
pub mod policy;
pub mod simulate;
