//! Access Undenied: reads the CloudTrail event of an AWS access denial, gathers every policy
//! that took part, evaluates them with its own engine and says which policy and statement
//! denied (or which allow is missing) with a least-privilege fix.
//!
//! The pure parts (policy model, engine, simulate) live in [`access_undenied_core`], re-exported
//! here as [`core`]; this crate adds the adapters that touch AWS ([`collect`], [`sink`], and what
//! they share in [`aws`]), the wiring ([`app`]), the rendering ([`render`]), and the Lambda
//! ([`lambda`]); the command line lives in `src/cli`, compiled into its binary.

pub use access_undenied_core as core;

pub mod app;
pub mod aws;
pub mod collect;
pub mod input;
pub mod render;

pub mod lambda;
pub mod sink;

pub mod history;
