//! IAM Access Troubleshooter's recorded evaluation of a denied request: the answer of
//! `GetRequestAuthorizationDetails` (all pages merged) in its wire shape, plus each policy
//! document `GetRequestAuthorizationPolicy` returned as captured with the request. From it come
//! the requests AWS evaluated (action, resource, context keys), the policy set it evaluated them
//! against (session and VPC endpoint policies included), AWS's decision per request, and the
//! statements it matched.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::assemble::{resource_holder, CollectError, PolicyDoc};
use crate::eval::{
    Context, Decision, GateKind, NamedPolicy, OrgLevel, PolicySet, Principal, Request,
    ResourceKind, ResourceSide, UnknownGate, Unreadable,
};
use crate::policy::PolicyCache;

use super::{AwsDecision, AwsDenying};

/// `GetRequestAuthorizationDetails`' output, every page's `evaluations` merged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthorizationDetails {
    pub request_context: Map<String, Value>,
    pub evaluations: Vec<AwsEvaluation>,
    pub policies: Vec<PolicyInfo>,
}

/// One action/resource pair AWS evaluated.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AwsEvaluation {
    pub action: String,
    pub resource: String,
    pub context: Map<String, Value>,
    /// `ALLOW`, `EXPLICIT_DENY` or `IMPLICIT_DENY`.
    pub evaluated_effect: Option<String>,
    pub matched_policies: Vec<MatchedPolicy>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MatchedPolicy {
    pub uri: String,
    pub matched_statements: Vec<MatchedStatement>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MatchedStatement {
    pub sid: Option<String>,
    /// `ALLOW` or `DENY`.
    pub evaluated_effect: Option<String>,
}

/// One policy AWS evaluated.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicyInfo {
    /// `IDENTITY_BASED_POLICY`, `PERMISSIONS_BOUNDARY`, `RESOURCE_BASED_POLICY`,
    /// `SESSION_POLICY`, `SERVICE_CONTROL_POLICY`, `RESOURCE_CONTROL_POLICY`,
    /// `VPC_ENDPOINT_POLICY`.
    #[serde(rename = "type")]
    pub policy_type: Option<String>,
    pub inline: Option<bool>,
    /// The ARN of a managed policy; an opaque id for an inline one.
    pub uri: Option<String>,
    pub attached_to: Vec<AttachedTo>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AttachedTo {
    pub arn: Option<String>,
}

/// Everything read for one authorization ID: the details and each captured document by URI
/// (a document that could not be fetched keeps its error).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CapturedAuthorization {
    pub details: AuthorizationDetails,
    pub documents: BTreeMap<String, Result<Value, CollectError>>,
}

/// The gate a policy type of the API belongs to.
pub fn gate_of_type(t: &str) -> Option<GateKind> {
    Some(match t {
        "IDENTITY_BASED_POLICY" => GateKind::IdentityBased,
        "PERMISSIONS_BOUNDARY" => GateKind::PermissionsBoundary,
        "RESOURCE_BASED_POLICY" => GateKind::ResourceBased,
        "SESSION_POLICY" => GateKind::Session,
        "SERVICE_CONTROL_POLICY" => GateKind::Scp,
        "RESOURCE_CONTROL_POLICY" => GateKind::Rcp,
        "VPC_ENDPOINT_POLICY" => GateKind::VpcEndpoint,
        _ => return None,
    })
}

/// AWS's decision on one evaluation (`None` for a value the API does not document).
pub fn aws_decision(e: &AwsEvaluation) -> Option<AwsDecision> {
    Some(match e.evaluated_effect.as_deref()? {
        "ALLOW" => AwsDecision::Allow,
        "EXPLICIT_DENY" => AwsDecision::ExplicitDeny,
        "IMPLICIT_DENY" => AwsDecision::ImplicitDeny,
        _ => return None,
    })
}

/// Whether the engine's decision is the one AWS recorded.
pub fn agrees(aws: AwsDecision, engine: Decision) -> bool {
    matches!(
        (aws, engine),
        (AwsDecision::Allow, Decision::Allowed)
            | (AwsDecision::ExplicitDeny, Decision::ExplicitDeny)
            | (AwsDecision::ImplicitDeny, Decision::ImplicitDeny)
    )
}

impl CapturedAuthorization {
    fn info(&self, uri: &str) -> Option<&PolicyInfo> {
        self.details
            .policies
            .iter()
            .find(|p| p.uri.as_deref() == Some(uri))
    }

    /// The policies AWS names for a denied evaluation: for an explicit deny, every matched
    /// policy with a `DENY` statement (with the `Sid`s); for an implicit deny, each gate that
    /// had policies but no matched `ALLOW` statement (AWS names no policy then).
    pub fn denying(&self, e: &AwsEvaluation) -> Vec<AwsDenying> {
        let gate_of_uri = |uri: &str| {
            self.info(uri)
                .and_then(|i| i.policy_type.as_deref())
                .and_then(gate_of_type)
        };
        match aws_decision(e) {
            Some(AwsDecision::ExplicitDeny) => e
                .matched_policies
                .iter()
                .filter_map(|m| {
                    let denying: Vec<&MatchedStatement> = m
                        .matched_statements
                        .iter()
                        .filter(|s| s.evaluated_effect.as_deref() == Some("DENY"))
                        .collect();
                    (!denying.is_empty()).then(|| AwsDenying {
                        policy_arn: Some(m.uri.clone()).filter(|u| u.starts_with("arn:")),
                        policy_type: gate_of_uri(&m.uri).unwrap_or(GateKind::IdentityBased),
                        sids: denying
                            .iter()
                            .filter_map(|s| s.sid.clone())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    })
                })
                .collect(),
            Some(AwsDecision::ImplicitDeny) => {
                let mut gates: Vec<GateKind> = Vec::new();
                for p in &self.details.policies {
                    let Some(g) = p.policy_type.as_deref().and_then(gate_of_type) else {
                        continue;
                    };
                    if g == GateKind::ResourceBased || gates.contains(&g) {
                        continue;
                    }
                    let allows = e.matched_policies.iter().any(|m| {
                        gate_of_uri(&m.uri) == Some(g)
                            && m.matched_statements
                                .iter()
                                .any(|s| s.evaluated_effect.as_deref() == Some("ALLOW"))
                    });
                    if !allows {
                        gates.push(g);
                    }
                }
                gates
                    .into_iter()
                    .map(|g| AwsDenying {
                        policy_arn: None,
                        policy_type: g,
                        sids: Vec::new(),
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// The request AWS evaluated, made by `principal` (the event's caller): the request
    /// context AWS recorded plus the evaluation's own keys. Keys AWS did not record are absent.
    pub fn request(&self, principal: &Principal, e: &AwsEvaluation) -> Request {
        let mut context = Context::new();
        for (k, v) in self.details.request_context.iter().chain(e.context.iter()) {
            match v {
                Value::Array(items) => context.set_list(k, items.iter().map(scalar).collect()),
                Value::Null => {}
                other => context.set(k, scalar(other)),
            }
        }
        let resource_account = crate::arn::Arn::parse(&e.resource)
            .map(|a| a.account.to_string())
            .filter(|a| !a.is_empty());
        Request::new(
            principal.clone(),
            &e.action,
            &e.resource,
            resource_account,
            context,
        )
    }

    /// The policy set AWS evaluated `e` against, documents as captured. A document that could
    /// not be fetched (or parsed) makes its gate unknown.
    pub fn policy_set(&self, e: &AwsEvaluation, cache: &mut PolicyCache) -> PolicySet {
        let mut set = PolicySet::default();
        let mut unknown = Vec::new();
        let mut scps: Vec<OrgLevel> = Vec::new();
        let mut rcps: Vec<OrgLevel> = Vec::new();
        let mut resource_policy = None;
        for info in &self.details.policies {
            let (Some(t), Some(uri)) = (info.policy_type.as_deref(), info.uri.as_deref()) else {
                continue;
            };
            let Some(gate) = gate_of_type(t) else {
                unknown.push(UnknownGate {
                    gate: GateKind::IdentityBased,
                    why: Unreadable::Stated(format!(
                        "AWS evaluated a policy of a type this version does not know: {t} ({uri})"
                    )),
                });
                continue;
            };
            let attached = info
                .attached_to
                .iter()
                .find_map(|a| a.arn.clone())
                .unwrap_or_default();
            let named = match self.documents.get(uri) {
                Some(Ok(doc)) => PolicyDoc {
                    name: policy_name(uri, info.inline.unwrap_or(false)),
                    arn: uri.to_string(),
                    attached_to: attached.clone(),
                    document: doc.clone(),
                }
                .to_named_with(cache),
                Some(Err(error)) => Err(Unreadable::Captured {
                    uri: uri.to_string(),
                    error: error.clone(),
                }),
                None => Err(Unreadable::Captured {
                    uri: uri.to_string(),
                    error: CollectError::Unsupported {
                        what: format!("captured policy {uri}"),
                        why: "it was not fetched".into(),
                    },
                }),
            };
            let named = match named {
                Ok(n) => n,
                Err(why) => {
                    unknown.push(UnknownGate { gate, why });
                    continue;
                }
            };
            match gate {
                GateKind::IdentityBased => set.identity.push(named),
                GateKind::PermissionsBoundary => set.permissions_boundary = Some(named),
                GateKind::Session => set.session.push(named),
                GateKind::VpcEndpoint => set.vpc_endpoints.push(named),
                GateKind::ResourceBased => resource_policy = Some(named),
                GateKind::Scp => add_to_level(&mut scps, &attached, named),
                GateKind::Rcp => add_to_level(&mut rcps, &attached, named),
            }
        }
        let kind = ResourceKind::for_action(&e.action);
        set.resource = match resource_policy {
            Some(p) => Some(ResourceSide {
                kind,
                policy: Some(p),
            }),
            None => resource_holder(&e.action, &e.resource).map(|h| ResourceSide {
                kind: h.kind,
                policy: None,
            }),
        };
        sort_levels(&mut scps);
        sort_levels(&mut rcps);
        set.scps = (!scps.is_empty()).then_some(scps);
        set.rcps = (!rcps.is_empty()).then_some(rcps);
        set.unknown_gates = unknown;
        // AWS lists the session policies it evaluated: none listed means none.
        set.session_policies_unknown = false;
        set
    }
}

/// A JSON scalar as a context value (`true`, `42`, the string itself).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A managed policy's name is the last part of its ARN; an inline policy's URI is opaque.
fn policy_name(uri: &str, inline: bool) -> String {
    if inline || !uri.starts_with("arn:") {
        return format!("inline policy {uri}");
    }
    uri.rsplit('/').next().unwrap_or(uri).to_string()
}

/// Adds an SCP or RCP to the level of the node it is attached to.
fn add_to_level(levels: &mut Vec<OrgLevel>, node_arn: &str, policy: NamedPolicy) {
    match levels
        .iter_mut()
        .find(|l| l.node_arn.as_deref() == Some(node_arn))
    {
        Some(level) => level.policies.push(policy),
        None => levels.push(OrgLevel {
            node_id: node_arn.rsplit('/').next().unwrap_or(node_arn).to_string(),
            node_arn: Some(node_arn.to_string()),
            policies: vec![policy],
        }),
    }
}

/// Root first, then OUs, then the account (the order of the organization path; AWS lists the
/// policies, not the path, so OUs keep the order AWS listed them in).
fn sort_levels(levels: &mut [OrgLevel]) {
    let rank = |l: &OrgLevel| {
        let arn = l.node_arn.as_deref().unwrap_or_default();
        if arn.contains(":root/") {
            0
        } else if arn.contains(":ou/") {
            1
        } else {
            2
        }
    };
    levels.sort_by_key(rank);
}
