//! The denying statements to remove, the least-privilege policies to add, and the check that
//! doing both makes the engine allow the request.

use serde_json::{json, Value};

use crate::eval::{
    evaluate, Decision, GateKind, NamedPolicy, PolicySet, PrincipalType, Request, ResourceKind,
};
use crate::policy::{Effect, Policy};

use super::{blockers, Assessment, Blocker, DenyPolicy, Evaluated, PolicyToAdd};

/// A policy to add, with where it goes in the policy set (for verification).
#[derive(Debug, Clone)]
pub(crate) struct Addition {
    pub public: PolicyToAdd,
    gate: GateKind,
    level: Option<usize>,
    statement: Value,
}

pub(crate) fn deny_policies(evals: &[Evaluated<'_>], blocks: &[Blocker]) -> Vec<DenyPolicy> {
    let mut out: Vec<DenyPolicy> = Vec::new();
    for b in blocks.iter().filter(|b| b.deny) {
        let e = &evals[b.request];
        let g = &e.evaluation.gates[b.gate];
        for m in g
            .matched
            .iter()
            .filter(|m| m.effect == Effect::Deny && m.certain)
        {
            let Some((np, st)) = e.set.statement(&m.at) else {
                continue;
            };
            let target = np.attached_to.clone().unwrap_or_default();
            let entry = DenyPolicy {
                policy_arn: np
                    .arn
                    .clone()
                    .unwrap_or_else(|| format!("{target}/{}", np.name)),
                attachment_target_arn: target,
                policy_name: np.name.clone(),
                policy_statement: st.raw.clone(),
            };
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    }
    out
}

/// The ARN a resource-based policy should name: the role or user, never a session.
fn principal_element(req: &Request) -> Value {
    use crate::eval::PrincipalKind as K;
    let p = &req.principal;
    match &p.kind {
        K::RoleSession { arn, role_arn, .. } => json!({"AWS": role_arn.as_ref().unwrap_or(arn)}),
        K::FederatedUser { arn, user_arn } => json!({"AWS": user_arn.as_ref().unwrap_or(arn)}),
        K::User { arn } => json!({"AWS": arn}),
        K::Root { arn } => json!({"AWS": arn}),
        K::Service { name } => json!({"Service": name}),
        K::WebIdentity { provider } | K::Saml { provider } => json!({"Federated": provider}),
        K::Anonymous => json!("*"),
    }
}

/// The ARN of the resource that holds the resource-based policy (the bucket for S3 objects).
fn policy_holder(req: &Request, set: &PolicySet) -> String {
    if let Some(t) = set
        .resource
        .as_ref()
        .and_then(|r| r.policy.as_ref())
        .and_then(|p| p.attached_to.clone())
    {
        return t;
    }
    if let Some(bucket) = crate::arn::s3_bucket_of(&req.resource) {
        return crate::arn::s3_bucket_arn(crate::arn::partition_of(&req.resource), bucket);
    }
    req.resource.clone()
}

fn target_of(e: &Evaluated<'_>, gate: GateKind, level: Option<usize>) -> String {
    let req = e.request;
    let p = &req.principal;
    match gate {
        GateKind::IdentityBased => match p.principal_type() {
            PrincipalType::FederatedUser => p.user_arn().or(p.arn()).map(str::to_string),
            _ => p.principal_arn().map(str::to_string),
        }
        .unwrap_or_default(),
        GateKind::ResourceBased => policy_holder(req, e.set),
        GateKind::PermissionsBoundary => e
            .set
            .permissions_boundary
            .as_ref()
            .and_then(|b| b.arn.clone().or_else(|| b.attached_to.clone()))
            .unwrap_or_default(),
        GateKind::Session => p.arn().map(str::to_string).unwrap_or_default(),
        GateKind::Scp | GateKind::Rcp => {
            let levels = if gate == GateKind::Scp {
                e.set.scps.as_ref()
            } else {
                e.set.rcps.as_ref()
            };
            levels
                .and_then(|l| l.get(level?))
                .map(|n| n.node_arn.clone().unwrap_or_else(|| n.node_id.clone()))
                .unwrap_or_default()
        }
        GateKind::VpcEndpoint => level
            .and_then(|l| e.set.vpc_endpoints.get(l))
            .and_then(|v| v.attached_to.clone())
            .unwrap_or_default(),
    }
}

fn one_or_list(items: &[String]) -> Value {
    match items {
        [one] => json!(one),
        many => json!(many),
    }
}

pub(crate) fn policies_to_add(evals: &[Evaluated<'_>], blocks: &[Blocker]) -> Vec<Addition> {
    // Group the missing allows by where they go: (gate, level, target) → actions, resources.
    struct Group {
        gate: GateKind,
        level: Option<usize>,
        target: String,
        principal: Option<Value>,
        trust: bool,
        actions: Vec<String>,
        resources: Vec<String>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for b in blocks.iter().filter(|b| !b.deny) {
        let e = &evals[b.request];
        let g = &e.evaluation.gates[b.gate];
        let target = target_of(e, g.kind, g.level);
        let needs_principal = matches!(
            g.kind,
            GateKind::ResourceBased | GateKind::VpcEndpoint | GateKind::Rcp
        );
        let trust = g.kind == GateKind::ResourceBased
            && e.set
                .resource
                .as_ref()
                .is_some_and(|r| r.kind == ResourceKind::RoleTrust);
        let principal = needs_principal.then(|| {
            if g.kind == GateKind::Rcp {
                json!("*")
            } else {
                principal_element(e.request)
            }
        });
        let idx = groups.iter().position(|x| {
            x.gate == g.kind && x.level == g.level && x.target == target && x.principal == principal
        });
        let group = match idx {
            Some(i) => &mut groups[i],
            None => {
                groups.push(Group {
                    gate: g.kind,
                    level: g.level,
                    target,
                    principal,
                    trust,
                    actions: Vec::new(),
                    resources: Vec::new(),
                });
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        if !group.actions.contains(&e.request.action) {
            group.actions.push(e.request.action.clone());
        }
        if !group.resources.contains(&e.request.resource) {
            group.resources.push(e.request.resource.clone());
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let mut st = serde_json::Map::new();
            st.insert("Effect".into(), json!("Allow"));
            if let Some(p) = &g.principal {
                st.insert("Principal".into(), p.clone());
            }
            st.insert("Action".into(), one_or_list(&g.actions));
            if !g.trust {
                st.insert("Resource".into(), one_or_list(&g.resources));
            }
            let statement = Value::Object(st);
            Addition {
                public: PolicyToAdd {
                    attachment_target_arn: g.target,
                    policy: json!({"Version": "2012-10-17", "Statement": [statement.clone()]}),
                },
                gate: g.gate,
                level: g.level,
                statement,
            }
        })
        .collect()
}

fn fix_policy(statement: &Value) -> Option<NamedPolicy> {
    let policy =
        Policy::from_value(&json!({"Version": "2012-10-17", "Statement": [statement]})).ok()?;
    Some(NamedPolicy {
        name: "AccessUndeniedFix".into(),
        arn: None,
        attached_to: None,
        policy: std::sync::Arc::new(policy),
    })
}

fn append(target: &mut NamedPolicy, statement: &Value) {
    if let Some(fix) = fix_policy(statement) {
        let target = std::sync::Arc::make_mut(&mut target.policy);
        for mut st in fix.policy.statements.iter().cloned() {
            st.index = target.statements.len();
            target.statements.push(st);
        }
    }
}

fn apply(set: &mut PolicySet, add: &Addition) {
    let Some(fix) = fix_policy(&add.statement) else {
        return;
    };
    match add.gate {
        GateKind::IdentityBased => set.identity.push(fix),
        GateKind::Session => set.session.push(fix),
        GateKind::PermissionsBoundary => match set.permissions_boundary.as_mut() {
            Some(b) => append(b, &add.statement),
            None => set.permissions_boundary = Some(fix),
        },
        GateKind::Scp | GateKind::Rcp => {
            let levels = if add.gate == GateKind::Scp {
                set.scps.as_mut()
            } else {
                set.rcps.as_mut()
            };
            if let Some(level) = levels.and_then(|l| l.get_mut(add.level.unwrap_or(0))) {
                level.policies.push(fix);
            }
        }
        GateKind::VpcEndpoint => {
            if let Some(v) = set.vpc_endpoints.get_mut(add.level.unwrap_or(0)) {
                append(v, &add.statement);
            }
        }
        GateKind::ResourceBased => {
            if let Some(side) = set.resource.as_mut() {
                match side.policy.as_mut() {
                    Some(p) => append(p, &add.statement),
                    None => side.policy = Some(fix),
                }
            } else {
                set.resource = Some(crate::eval::ResourceSide {
                    kind: ResourceKind::Other,
                    policy: Some(fix),
                });
            }
        }
    }
}

fn remove_statement(np: &mut NamedPolicy, index: usize) {
    std::sync::Arc::make_mut(&mut np.policy)
        .statements
        .retain(|s| s.index != index);
}

/// Applies the fix to copies of the policy sets and evaluates again.
pub(crate) fn verify(
    evals: &[Evaluated<'_>],
    blocks: &[Blocker],
    additions: &[Addition],
) -> (bool, Vec<Assessment>) {
    let mut fixed_sets: Vec<PolicySet> = evals.iter().map(|e| e.set.clone()).collect();
    // Drop the denying statements of every request's blocking deny gates.
    for b in blocks.iter().filter(|b| b.deny) {
        let e = &evals[b.request];
        let g = &e.evaluation.gates[b.gate];
        let set = &mut fixed_sets[b.request];
        for m in g.matched.iter().filter(|m| m.effect == Effect::Deny) {
            if let Some(np) = set.policy_mut(&m.at) {
                remove_statement(np, m.at.statement);
            }
        }
    }
    // Apply every addition to every request whose policy set it concerns (same gate target).
    for (i, set) in fixed_sets.iter_mut().enumerate() {
        for add in additions {
            if super::fix::target_of(&evals[i], add.gate, add.level)
                == add.public.attachment_target_arn
            {
                apply(set, add);
            }
        }
    }
    let rechecked: Vec<Evaluated<'_>> = evals
        .iter()
        .zip(&fixed_sets)
        .map(|(e, s)| Evaluated {
            request: e.request,
            set: s,
            evaluation: evaluate(e.request, s),
        })
        .collect();
    let ok = rechecked
        .iter()
        .all(|e| e.evaluation.decision == Decision::Allowed);
    let mut remaining: Vec<Assessment> = blockers(&rechecked)
        .into_iter()
        .map(|b| b.assessment)
        .collect();
    super::dedupe(&mut remaining);
    (ok, remaining)
}
