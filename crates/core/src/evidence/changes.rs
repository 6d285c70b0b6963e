//! `ChangedSince`: which policies differ between the set AWS captured with the request and the
//! set read now. Managed policies, SCPs and RCPs are matched by ARN; inline and resource
//! policies (whose captured URI is opaque) by the entity they are attached to and their
//! document. Session and VPC endpoint policies are left out: the current reading has no
//! counterpart to compare them with, and SCPs, RCPs and the resource policy only when AWS's record
//! lists some (a record without them says nothing). A policy gone from the entity is `Detached`: telling a
//! deleted managed policy from a detached one would take another call.

use std::collections::BTreeSet;

use crate::eval::{NamedPolicy, PolicySet};

use super::{Change, PolicyChange};

/// Which of the organization and resource gates AWS's record covers: a record that lists no SCP
/// (RCP, resource policy) says nothing about them, so today's are not "attached since".
#[derive(Clone, Copy)]
struct Covered {
    scps: bool,
    rcps: bool,
    resource: bool,
}

impl Covered {
    fn of(captured: &PolicySet) -> Covered {
        Covered {
            scps: levels(&captured.scps).next().is_some(),
            rcps: levels(&captured.rcps).next().is_some(),
            resource: captured
                .resource
                .as_ref()
                .is_some_and(|r| r.policy.is_some()),
        }
    }
}

/// The comparable policies of a set: identity and boundary always; SCPs, RCPs and the resource
/// policy when the record covers them.
fn comparable(set: &PolicySet, covered: Covered) -> Vec<&NamedPolicy> {
    set.identity
        .iter()
        .chain(set.permissions_boundary.iter())
        .chain(levels(&set.scps).filter(|_| covered.scps))
        .chain(levels(&set.rcps).filter(|_| covered.rcps))
        .chain(
            set.resource
                .iter()
                .filter_map(|r| r.policy.as_ref())
                .filter(|_| covered.resource),
        )
        .collect()
}

/// The policies of every level of an SCP or RCP tree.
pub(super) fn levels(l: &Option<Vec<crate::eval::OrgLevel>>) -> impl Iterator<Item = &NamedPolicy> {
    l.iter().flatten().flat_map(|level| level.policies.iter())
}

fn is_arn(p: &NamedPolicy) -> bool {
    p.arn.as_deref().is_some_and(|a| a.starts_with("arn:")) && !is_inline(p)
}

/// An inline or resource policy: its ARN is `<holder>/<name>` (ours) or an opaque URI (AWS's),
/// so only the holder and the document identify it.
fn is_inline(p: &NamedPolicy) -> bool {
    match (p.arn.as_deref(), p.attached_to.as_deref()) {
        (Some(arn), Some(holder)) => arn.starts_with(holder) || !arn.starts_with("arn:"),
        (None, _) => true,
        _ => false,
    }
}

fn label(p: &NamedPolicy) -> String {
    p.arn.clone().unwrap_or_else(|| p.name.clone())
}

/// The policies that changed between `captured` (request time) and `current` (now), sorted.
pub fn changed_since<'a>(captured: &'a PolicySet, current: &'a PolicySet) -> Vec<PolicyChange> {
    let covered = Covered::of(captured);
    let then = comparable(captured, covered);
    let now = comparable(current, covered);
    let mut out = BTreeSet::new();
    for p in then.iter().filter(|p| is_arn(p)) {
        match now.iter().find(|q| is_arn(q) && q.arn == p.arn) {
            Some(q) if q.policy != p.policy => {
                out.insert(change(p, Change::Modified));
            }
            Some(_) => {}
            None => {
                out.insert(change(p, Change::Detached));
            }
        }
    }
    for q in now.iter().filter(|q| is_arn(q)) {
        if !then.iter().any(|p| is_arn(p) && p.arn == q.arn) {
            out.insert(change(q, Change::Attached));
        }
    }
    // Inline policies: per holder, documents present on one side only. A pair on the same
    // holder is one modification (named by today's policy); the rest were removed or added.
    let holders: BTreeSet<&str> = then
        .iter()
        .chain(now.iter())
        .filter(|p| is_inline(p))
        .filter_map(|p| p.attached_to.as_deref())
        .collect();
    for holder in holders {
        let on = |set: &[&'a NamedPolicy]| -> Vec<&'a NamedPolicy> {
            set.iter()
                .copied()
                .filter(|p| is_inline(p) && p.attached_to.as_deref() == Some(holder))
                .collect()
        };
        let (a, b) = (on(&then), on(&now));
        let gone: Vec<&NamedPolicy> = a
            .iter()
            .copied()
            .filter(|p| !b.iter().any(|q| q.policy == p.policy))
            .collect();
        let added: Vec<&NamedPolicy> = b
            .iter()
            .copied()
            .filter(|q| !a.iter().any(|p| p.policy == q.policy))
            .collect();
        let pairs = gone.len().min(added.len());
        for q in added.iter().take(pairs) {
            out.insert(change(q, Change::Modified));
        }
        for p in gone.iter().skip(pairs) {
            out.insert(change(p, Change::Detached));
        }
        for q in added.iter().skip(pairs) {
            out.insert(change(q, Change::Attached));
        }
    }
    out.into_iter().collect()
}

fn change(p: &NamedPolicy, change: Change) -> PolicyChange {
    PolicyChange {
        policy_arn: label(p),
        change,
    }
}
