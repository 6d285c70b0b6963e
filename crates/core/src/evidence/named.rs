//! The policy an error message names. AWS now writes the ARN of the denying policy into the
//! message; when the policies read now do not contain it (detached since, a boundary or SCP
//! that could not be listed), it is read by ARN and checked on its own against the request, and
//! the result says what that means — never a bare `Allowed` against AWS's own words.

use crate::assemble::{CollectError, PolicyDoc};
use crate::eval::{evaluate, Decision, PolicySet, Request};
use crate::event::MessageHint;

use super::changes::levels;
use super::{Change, Evidence, PolicyChange};

/// Every policy ARN of a set.
fn arns(set: &PolicySet) -> impl Iterator<Item = &str> {
    set.identity
        .iter()
        .chain(set.permissions_boundary.iter())
        .chain(set.session.iter())
        .chain(levels(&set.scps))
        .chain(levels(&set.rcps))
        .chain(set.resource.iter().filter_map(|r| r.policy.as_ref()))
        .chain(set.vpc_endpoints.iter())
        .filter_map(|p| p.arn.as_deref())
}

/// The ARN the message names as the explicitly denying policy, when the policies read now do
/// not contain it (so it must be read by ARN).
pub fn missing_named_policy<'h>(
    hint: &'h MessageHint,
    items: &[(Request, PolicySet)],
) -> Option<&'h str> {
    let arn = hint.policy_arn.as_deref()?;
    if hint.explicit_deny != Some(true) {
        return None;
    }
    let known = items.iter().any(|(_, set)| arns(set).any(|a| a == arn));
    (!known).then_some(arn)
}

/// Checks the named policy, read by ARN (or why it could not be), against the requests, and
/// records what it means in `evidence`.
pub fn check_named_policy(
    arn: &str,
    read: Result<PolicyDoc, CollectError>,
    items: &[(Request, PolicySet)],
    evidence: &mut Evidence,
) {
    let doc = match read {
        Ok(doc) => doc,
        Err(CollectError::NotFound { .. }) => {
            evidence.changed_since.push(PolicyChange {
                policy_arn: arn.to_string(),
                change: Change::Deleted,
            });
            evidence.notes.push(format!(
                "AWS's message names {arn}, which no longer exists: the denying policy was deleted since"
            ));
            return;
        }
        Err(e) => {
            evidence.notes.push(format!(
                "AWS's message names {arn}, which the policies read now do not contain, and it could not be read by ARN: {e}"
            ));
            return;
        }
    };
    let Ok(named) = doc.to_named() else {
        evidence.notes.push(format!(
            "AWS's message names {arn}; read by ARN, its document does not parse"
        ));
        return;
    };
    let alone = PolicySet {
        identity: vec![named],
        session_policies_unknown: false,
        ..PolicySet::default()
    };
    let denies = items
        .iter()
        .any(|(r, _)| evaluate(r, &alone).decision == Decision::ExplicitDeny);
    if denies {
        evidence.changed_since.push(PolicyChange {
            policy_arn: arn.to_string(),
            change: Change::Detached,
        });
        evidence.notes.push(format!(
            "AWS's message names {arn}: read by ARN, it denies this request, but it is not among the policies that apply now (detached since, or attached where it could not be listed, such as an SCP of an organization we cannot read)"
        ));
    } else {
        evidence.changed_since.push(PolicyChange {
            policy_arn: arn.to_string(),
            change: Change::Modified,
        });
        evidence.notes.push(format!(
            "AWS's message names {arn}: read by ARN, it no longer denies this request (changed since the event)"
        ));
    }
    evidence.changed_since.sort();
    evidence.changed_since.dedup();
}
