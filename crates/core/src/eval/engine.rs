//! The gates of AWS's evaluation logic and how they combine into one decision.

use serde::Serialize;

use crate::policy::{Effect, Statement};

use super::conditions::all_conditions;
use super::matching::{
    action_matches, principal_matches, resource_matches, Grant, PrincipalMatch, VarFailure,
};
use super::policy_set::{NamedPolicy, PolicySet, RCP_SERVICES};
use super::principal::PrincipalType;
use super::recycle;
use super::request::Request;
use super::{Reason, Tri};

/// The final answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Decision {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
}

/// The policy types, in the order that picks `AssessmentResult` when several block (README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum GateKind {
    Scp,
    Rcp,
    VpcEndpoint,
    ResourceBased,
    IdentityBased,
    PermissionsBoundary,
    Session,
}

/// What one gate says about the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum GateOutcome {
    /// A statement allows and none denies.
    Allow,
    /// A statement denies.
    ExplicitDeny,
    /// No statement allows.
    ImplicitDeny,
    /// The gate has no policy for this request, or does not apply to this principal.
    NotApplicable,
    /// AWS exempts this request from the gate (management account, service-linked role,
    /// service without RCP support).
    Exempt,
    /// The gate's policies could not be read.
    Unknown,
}

/// Where a statement is in a [`PolicySet`]: the one way the engine's outputs point at a
/// statement. Resolve it with [`PolicySet::statement`] (or [`PolicySet::policy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatementRef {
    pub gate: GateKind,
    /// The SCP/RCP level (0 = root) or the VPC endpoint index; `None` for the other gates.
    pub level: Option<usize>,
    /// Index of the policy within its gate (or level).
    pub policy: usize,
    /// Index of the statement within the policy.
    pub statement: usize,
}

/// A statement that matched (or may match) the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchedStatement {
    pub at: StatementRef,
    pub effect: Effect,
    /// `false` when the statement could not be fully evaluated.
    pub certain: bool,
    /// For resource-based policies: how the `Principal` named the caller.
    pub grant: Option<Grant>,
}

/// One gate's result.
#[derive(Debug, Clone, PartialEq)]
pub struct GateResult {
    pub kind: GateKind,
    /// The SCP/RCP level (0 = root) or the VPC endpoint index.
    pub level: Option<usize>,
    pub outcome: GateOutcome,
    /// Whether this gate must change for the request to be allowed.
    pub blocking: bool,
    /// Whether this gate lacks an allow the request needs (a gate can both deny and lack an
    /// allow: removing the deny alone would not be enough).
    pub missing_allow: bool,
    pub matched: Vec<MatchedStatement>,
    /// Why the gate is exempt or not applicable, when it is.
    pub note: Option<&'static str>,
    allow: Tri,
    deny: Tri,
    grant: [Tri; 3],
    applies: bool,
}

impl GateResult {
    /// Whether the gate's outcome and its blocking flags agree: a gate that allows does not
    /// block, a gate that denies explicitly blocks, and an exempt or inapplicable gate never
    /// blocks. The engine keeps this true for every gate (property tests, scenario harness).
    pub fn is_consistent(&self) -> bool {
        match self.outcome {
            GateOutcome::Allow => !self.blocking && !self.missing_allow,
            GateOutcome::ExplicitDeny => self.blocking,
            GateOutcome::NotApplicable | GateOutcome::Exempt => !self.blocking,
            GateOutcome::ImplicitDeny | GateOutcome::Unknown => true,
        }
    }
}

/// A statement the engine could not evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Unevaluated {
    pub at: StatementRef,
    pub reasons: Vec<Reason>,
}

/// The engine's answer with its why.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub decision: Decision,
    /// `false` when unevaluable statements could change the decision.
    pub conclusive: bool,
    /// The decision if every unevaluable Deny applied and no unevaluable Allow did, and the
    /// reverse; equal to `decision` when conclusive.
    pub decision_range: (Decision, Decision),
    pub gates: Vec<GateResult>,
    pub unevaluated: Vec<Unevaluated>,
}

impl Evaluation {
    /// The statements that decided: every matching Deny for an explicit deny, the Allows of
    /// the gates that let the request through for an allow, none for an implicit deny.
    pub fn deciding(&self) -> Vec<MatchedStatement> {
        let want = match self.decision {
            Decision::ExplicitDeny => Effect::Deny,
            Decision::Allowed => Effect::Allow,
            Decision::ImplicitDeny => return Vec::new(),
        };
        self.gates
            .iter()
            .filter(|g| g.applies)
            .filter(|g| want == Effect::Deny || g.outcome == GateOutcome::Allow)
            .flat_map(|g| {
                g.matched
                    .iter()
                    .filter(move |m| m.effect == want && m.certain)
                    .copied()
            })
            .collect()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Unevaluable statements do not apply.
    Default,
    /// Unevaluable Denies apply, unevaluable Allows do not.
    Restrictive,
    /// Unevaluable Allows apply, unevaluable Denies do not.
    Permissive,
}

fn holds(t: Tri, effect: Effect, mode: Mode) -> bool {
    match t {
        Tri::Yes => true,
        Tri::No => false,
        Tri::Maybe => match (mode, effect) {
            (Mode::Default, _) => false,
            (Mode::Restrictive, Effect::Deny) | (Mode::Permissive, Effect::Allow) => true,
            _ => false,
        },
    }
}

fn gate(kind: GateKind, level: Option<usize>) -> GateResult {
    GateResult {
        kind,
        level,
        outcome: GateOutcome::NotApplicable,
        blocking: false,
        missing_allow: false,
        matched: Vec::new(),
        note: None,
        allow: Tri::No,
        deny: Tri::No,
        grant: [Tri::No; 3],
        applies: false,
    }
}

fn exempt(
    kind: GateKind,
    level: Option<usize>,
    outcome: GateOutcome,
    note: &'static str,
) -> GateResult {
    let mut g = gate(kind, level);
    g.outcome = outcome;
    g.note = Some(note);
    g
}

/// Adds the gate `kind` (at `level`) to `gates`, with the statements of its `policies`
/// evaluated, in place: a gate is never copied once its fields are written (a wide copy after
/// byte-wide writes stalls on store forwarding).
/// Reads the head of every policy list of `set` (and of each list's first policy) before any
/// gate runs. Each list is a heap block of its own: read gate by gate, a batch over many
/// requests meets their cache misses one after another; read here together, independent of
/// each other, the processor overlaps them. The sum is meaningless; `black_box` keeps the reads.
fn touch(set: &PolicySet) {
    let mut sum = 0_usize;
    let mut list = |policies: &[NamedPolicy]| {
        if let Some(first) = policies.first() {
            sum = sum.wrapping_add(first.policy.statements.len());
        }
    };
    list(&set.identity);
    list(&set.session);
    list(&set.vpc_endpoints);
    for levels in [&set.scps, &set.rcps].into_iter().flatten() {
        for level in levels {
            list(&level.policies);
        }
    }
    if let Some(boundary) = &set.permissions_boundary {
        list(std::slice::from_ref(boundary));
    }
    if let Some(resource) = set.resource.as_ref().and_then(|r| r.policy.as_ref()) {
        list(std::slice::from_ref(resource));
    }
    std::hint::black_box(sum);
}

fn run_gate(
    gates: &mut Vec<GateResult>,
    kind: GateKind,
    level: Option<usize>,
    policies: &[NamedPolicy],
    req: &Request,
    has_boundary: bool,
    unevaluated: &mut Vec<Unevaluated>,
) {
    gates.push(gate(kind, level));
    let Some(g) = gates.last_mut() else {
        return;
    };
    g.applies = true;
    let (mut allow, mut deny, mut grants) = (Tri::No, Tri::No, [Tri::No; 3]);
    let mut reasons: Vec<Reason> = Vec::new();
    for (pi, np) in policies.iter().enumerate() {
        for st in &np.policy.statements {
            reasons.clear();
            let (t, grant) = statement(st, req, has_boundary, &mut reasons);
            if t == Tri::No {
                continue;
            }
            match st.effect {
                Effect::Allow => {
                    allow = allow.or(t);
                    if let Some(gr) = grant {
                        let i = gr as usize;
                        grants[i] = grants[i].or(t);
                    }
                }
                Effect::Deny => deny = deny.or(t),
            }
            let at = StatementRef {
                gate: g.kind,
                level: g.level,
                policy: pi,
                statement: st.index,
            };
            if g.matched.capacity() == 0 {
                g.matched = recycle::matched_list();
            }
            g.matched.push(MatchedStatement {
                at,
                effect: st.effect,
                certain: t == Tri::Yes,
                grant,
            });
            if t == Tri::Maybe {
                unevaluated.push(Unevaluated {
                    at,
                    reasons: std::mem::take(&mut reasons),
                });
            }
        }
    }
    g.allow = allow;
    g.deny = deny;
    g.grant = grants;
    g.outcome = if deny == Tri::Yes {
        GateOutcome::ExplicitDeny
    } else if allow == Tri::Yes {
        GateOutcome::Allow
    } else {
        GateOutcome::ImplicitDeny
    };
}

/// One statement against the request: does it apply, and how did its principal match.
fn statement(
    st: &Statement,
    req: &Request,
    has_boundary: bool,
    reasons: &mut Vec<Reason>,
) -> (Tri, Option<Grant>) {
    if !st.services.meets(req.service_set) || !action_matches(&st.action, &req.action_lower) {
        return (Tri::No, None);
    }
    let (principal, grant) = match principal_matches(&st.principal, st.effect, req, has_boundary) {
        PrincipalMatch::DoesNotApply => return (Tri::No, None),
        PrincipalMatch::Applies(g) => (Tri::Yes, g),
        // Were it to apply, it would name every caller it does not exclude, as `"*"` does.
        PrincipalMatch::Unsupported => {
            reasons.push(Reason::NotPrincipalWithAllow);
            (Tri::Maybe, Some(Grant::Direct))
        }
    };
    let resource = match resource_matches(&st.resource, req) {
        Ok(true) => principal,
        Ok(false) => return (Tri::No, None),
        Err(VarFailure::Unknown(k)) => {
            reasons.push(Reason::UnknownKey(k));
            Tri::Maybe
        }
        Err(VarFailure::Absent) => return (Tri::No, None),
    };
    if st.conditions.is_empty() {
        return (resource, grant);
    }
    let cond = all_conditions(&st.conditions, &req.context, reasons);
    (resource.and(cond), grant)
}

/// Evaluates `req` against every policy in `set`.
pub fn evaluate(req: &Request, set: &PolicySet) -> Evaluation {
    touch(set);
    let kind = req.principal.principal_type();
    let identity_side = kind.has_identity_side();
    let has_boundary = set.permissions_boundary.is_some()
        && matches!(
            kind,
            PrincipalType::User | PrincipalType::AssumedRole | PrincipalType::FederatedUser
        );
    let mut unevaluated = Vec::new();
    let mut gates: Vec<GateResult> = recycle::gate_list(8);

    // SCPs: the principal's account path, every level must allow.
    if let (Some(levels), true) = (&set.scps, identity_side) {
        let mgmt =
            set.management_account.is_some() && set.management_account == req.principal.account;
        for (i, level) in levels.iter().enumerate() {
            let exemption = if mgmt {
                Some("SCPs do not restrict the management account")
            } else if req.principal.service_linked() {
                Some("SCPs do not restrict service-linked roles")
            } else {
                None
            };
            match exemption {
                Some(note) => gates.push(exempt(GateKind::Scp, Some(i), GateOutcome::Exempt, note)),
                None => run_gate(
                    &mut gates,
                    GateKind::Scp,
                    Some(i),
                    &level.policies,
                    req,
                    false,
                    &mut unevaluated,
                ),
            }
        }
    }
    // RCPs: the resource's account path.
    if let Some(levels) = &set.rcps {
        let mgmt =
            set.management_account.is_some() && set.management_account == req.resource_account;
        let supported = RCP_SERVICES.contains(&req.service());
        for (i, level) in levels.iter().enumerate() {
            let exemption = if mgmt {
                Some("RCPs do not restrict resources of the management account")
            } else if req.principal.service_linked() {
                Some("RCPs do not restrict service-linked roles")
            } else if !supported {
                Some("RCPs do not apply to this service")
            } else {
                None
            };
            match exemption {
                Some(note) => gates.push(exempt(GateKind::Rcp, Some(i), GateOutcome::Exempt, note)),
                None => run_gate(
                    &mut gates,
                    GateKind::Rcp,
                    Some(i),
                    &level.policies,
                    req,
                    has_boundary,
                    &mut unevaluated,
                ),
            }
        }
    }
    for (i, vpce) in set.vpc_endpoints.iter().enumerate() {
        run_gate(
            &mut gates,
            GateKind::VpcEndpoint,
            Some(i),
            std::slice::from_ref(vpce),
            req,
            has_boundary,
            &mut unevaluated,
        );
    }
    // Resource-based policy.
    let resource_idx = gates.len();
    match set.resource.as_ref().and_then(|r| r.policy.as_ref()) {
        Some(p) => run_gate(
            &mut gates,
            GateKind::ResourceBased,
            None,
            std::slice::from_ref(p),
            req,
            has_boundary,
            &mut unevaluated,
        ),
        None => {
            let mut g = gate(GateKind::ResourceBased, None);
            g.note = Some("the resource has no resource-based policy");
            g.applies = true;
            gates.push(g);
        }
    }
    // Identity-based policies.
    let identity_idx = gates.len();
    if identity_side && kind != PrincipalType::Root {
        run_gate(
            &mut gates,
            GateKind::IdentityBased,
            None,
            &set.identity,
            req,
            has_boundary,
            &mut unevaluated,
        );
    } else if kind == PrincipalType::Root {
        let mut g = exempt(
            GateKind::IdentityBased,
            None,
            GateOutcome::Allow,
            "the root user has full access in its own account",
        );
        g.allow = Tri::Yes;
        g.applies = true;
        gates.push(g);
    } else {
        gates.push(exempt(
            GateKind::IdentityBased,
            None,
            GateOutcome::NotApplicable,
            "this principal has no identity-based policies",
        ));
    }
    let boundary_idx = match (&set.permissions_boundary, has_boundary) {
        (Some(b), true) => {
            run_gate(
                &mut gates,
                GateKind::PermissionsBoundary,
                None,
                std::slice::from_ref(b),
                req,
                has_boundary,
                &mut unevaluated,
            );
            Some(gates.len() - 1)
        }
        _ => None,
    };
    let session_idx = if !set.session.is_empty() && identity_side {
        run_gate(
            &mut gates,
            GateKind::Session,
            None,
            &set.session,
            req,
            has_boundary,
            &mut unevaluated,
        );
        Some(gates.len() - 1)
    } else if kind == PrincipalType::FederatedUser && !set.session_policies_unknown {
        // GetFederationToken without a session policy gives a session with no permissions.
        let mut g = exempt(
            GateKind::Session,
            None,
            GateOutcome::ImplicitDeny,
            "a federated-user session created without a session policy has no permissions",
        );
        g.applies = true;
        gates.push(g);
        Some(gates.len() - 1)
    } else {
        None
    };
    // Gates whose policies could not be read: possibly allowing, possibly denying.
    for unknown in set.unknown_gates.iter().map(|u| &u.gate) {
        let mut found = false;
        for g in gates.iter_mut().filter(|g| g.kind == *unknown) {
            found = true;
            g.applies = true;
            g.allow = g.allow.or(Tri::Maybe);
            g.deny = g.deny.or(Tri::Maybe);
            for grant in g.grant.iter_mut() {
                *grant = grant.or(Tri::Maybe);
            }
            if g.deny != Tri::Yes {
                g.outcome = GateOutcome::Unknown;
                g.note = Some("its policies could not be read");
            }
        }
        let relevant = match unknown {
            GateKind::Scp
            | GateKind::IdentityBased
            | GateKind::PermissionsBoundary
            | GateKind::Session => identity_side,
            _ => true,
        };
        if !found && relevant {
            let mut g = gate(*unknown, None);
            g.applies = true;
            g.allow = Tri::Maybe;
            g.deny = Tri::Maybe;
            g.grant = [Tri::Maybe; 3];
            g.note = Some("its policies could not be read");
            g.outcome = GateOutcome::Unknown;
            gates.push(g);
        }
    }
    let boundary_idx = boundary_idx.or_else(|| {
        gates
            .iter()
            .position(|g| g.kind == GateKind::PermissionsBoundary)
    });
    let session_idx =
        session_idx.or_else(|| gates.iter().position(|g| g.kind == GateKind::Session));
    let any_unknown_gate = !set.unknown_gates.is_empty();
    let idx = Indices {
        resource: resource_idx,
        identity: identity_idx,
        boundary: boundary_idx,
        session: session_idx,
    };
    let must_grant = set.resource.as_ref().is_some_and(|r| r.kind.must_grant());
    let decision = combine(&mut gates, req, &idx, must_grant, Mode::Default, true);
    let (conclusive, range) = if unevaluated.is_empty() && !any_unknown_gate {
        (true, (decision, decision))
    } else {
        let low = combine(&mut gates, req, &idx, must_grant, Mode::Restrictive, false);
        let high = combine(&mut gates, req, &idx, must_grant, Mode::Permissive, false);
        (low == decision && high == decision, (low, high))
    };
    for g in gates.iter_mut() {
        if g.blocking
            && g.kind == GateKind::ResourceBased
            && g.outcome == GateOutcome::NotApplicable
        {
            g.outcome = GateOutcome::ImplicitDeny;
        }
    }
    Evaluation {
        decision,
        conclusive,
        decision_range: range,
        gates,
        unevaluated,
    }
}

struct Indices {
    resource: usize,
    identity: usize,
    boundary: Option<usize>,
    session: Option<usize>,
}

/// Combines the gates into a decision under `mode`; with `mark`, also sets each gate's
/// `blocking` and `missing_allow` (read by nothing here, so later passes are not affected).
fn combine(
    gates: &mut [GateResult],
    req: &Request,
    idx: &Indices,
    must_grant: bool,
    mode: Mode,
    mark: bool,
) -> Decision {
    let mut any_deny = false;
    let mut any_missing = false;
    for g in gates.iter_mut() {
        let deny = g.applies && holds(g.deny, Effect::Deny, mode);
        let missing = g.applies
            && matches!(
                g.kind,
                GateKind::Scp | GateKind::Rcp | GateKind::VpcEndpoint
            )
            && !holds(g.allow, Effect::Allow, mode);
        any_deny |= deny;
        any_missing |= missing;
        if mark {
            g.blocking = deny || missing;
            g.missing_allow = missing;
        }
    }
    let kind = req.principal.principal_type();
    let allows = |i: usize| {
        gates
            .get(i)
            .is_some_and(|g| holds(g.allow, Effect::Allow, mode))
    };
    let id_allow = allows(idx.identity);
    let bd_ok = idx.boundary.is_none_or(allows);
    let ss_ok = idx.session.is_none_or(allows);
    let grant = gates.get(idx.resource).and_then(|rg| {
        [Grant::Direct, Grant::Underlying, Grant::Account]
            .into_iter()
            .find(|g| rg.applies && holds(rg.grant[*g as usize], Effect::Allow, mode))
    });
    // Which allows this principal needs, given how the resource policy names it.
    let session_like = matches!(
        kind,
        PrincipalType::AssumedRole | PrincipalType::FederatedUser
    );
    let (need_resource, need_identity, need_limits) = if !kind.has_identity_side() {
        (true, false, false)
    } else if req.is_cross_account() {
        (true, true, true)
    } else {
        match grant {
            Some(Grant::Direct) => (false, false, false),
            Some(Grant::Underlying) => (false, false, true),
            // The fix names the role (or user) behind a session, which boundaries limit.
            None if must_grant => (true, false, session_like),
            Some(Grant::Account) | None => (false, true, true),
        }
    };
    let mut missing = |gate: Option<usize>, needed: bool, ok: bool| {
        if let (Some(i), true, false) = (gate, needed, ok) {
            any_missing = true;
            if let (true, Some(g)) = (mark, gates.get_mut(i)) {
                g.blocking = true;
                g.missing_allow = true;
            }
        }
    };
    missing(Some(idx.resource), need_resource, grant.is_some());
    missing(Some(idx.identity), need_identity, id_allow);
    missing(idx.boundary, need_limits, bd_ok);
    missing(idx.session, need_limits, ss_ok);
    if any_deny {
        Decision::ExplicitDeny
    } else if any_missing {
        Decision::ImplicitDeny
    } else {
        Decision::Allowed
    }
}
