//! The one place the steps are wired: event → request(s) → policies (through a
//! [`PolicySource`]) → engine → explanation. Anything that could not be read becomes an unknown
//! gate, so the result never claims a cause it could not see.

use access_undenied_core::eval::GateKind;
use access_undenied_core::eval::{
    evaluate, NamedPolicy, OrgLevel, PolicySet, Principal, PrincipalType, ResourceKind,
    ResourceSide,
};
use access_undenied_core::event::reader::Item;
use access_undenied_core::event::{read_event, AccessDeniedEvent, PrincipalInfo, Reading};
use access_undenied_core::explain::{explain, DiagnosisResult, Evaluated};

use crate::collect::{OrgData, PolicyDoc, PolicySource};

/// Diagnoses one item of the record reader.
pub async fn diagnose_item(item: &Item, source: &dyn PolicySource) -> DiagnosisResult {
    match item {
        Item::Error { event_id, error } => DiagnosisResult::error(event_id, error.to_string()),
        Item::Denial(ev) => diagnose_event(ev, source).await,
    }
}

/// The principal behind a unique id, from the ARN the source found.
fn principal_from(arn: &str, account: &str, unique_id: &str) -> Principal {
    let session = unique_id.split_once(':').map(|(_, s)| s.to_string());
    let mut p = Principal {
        account: Some(account.to_string()),
        principal_id: Some(unique_id.to_string()),
        ..Principal::default()
    };
    if let (Some(name_part), Some(session)) = (arn.split(":role/").nth(1), session) {
        let name = name_part.rsplit('/').next().unwrap_or(name_part);
        p.kind = Some(PrincipalType::AssumedRole);
        p.arn = Some(format!(
            "arn:aws:sts::{account}:assumed-role/{name}/{session}"
        ));
        p.role_arn = Some(arn.to_string());
    } else {
        p.arn = Some(arn.to_string());
    }
    p.normalized()
}

/// Where a request's resource-based policy lives: its kind and the ARN of the holder.
pub fn resource_holder(action: &str, resource: &str) -> Option<(ResourceKind, String)> {
    if !resource.starts_with("arn:") {
        return None;
    }
    let fields: Vec<&str> = resource.splitn(6, ':').collect();
    let rest = fields.get(5).copied().unwrap_or("");
    let kind = ResourceKind::for_action(action);
    let holder = match kind {
        ResourceKind::S3Bucket if fields.get(2) == Some(&"s3") => {
            format!("arn:aws:s3:::{}", rest.split('/').next().unwrap_or(rest))
        }
        ResourceKind::KmsKey if rest.starts_with("key/") || rest.starts_with("alias/") => {
            resource.to_string()
        }
        ResourceKind::SecretsManagerSecret if rest.starts_with("secret:") => resource.to_string(),
        ResourceKind::SqsQueue | ResourceKind::SnsTopic => resource.to_string(),
        ResourceKind::LambdaFunction if rest.starts_with("function:") => {
            let name = rest.split(':').nth(1).unwrap_or("");
            format!("{}:function:{name}", fields[..5].join(":"))
        }
        ResourceKind::EcrRepository if rest.starts_with("repository/") => resource.to_string(),
        ResourceKind::RoleTrust if rest.starts_with("role/") => {
            format!(
                "arn:aws:iam::{}:{rest}",
                fields.get(4).copied().unwrap_or("")
            )
        }
        _ => return None,
    };
    Some((kind, holder))
}

fn named(
    docs: &[PolicyDoc],
    unknown: &mut Vec<(GateKind, String)>,
    gate: GateKind,
) -> Vec<NamedPolicy> {
    docs.iter()
        .filter_map(|d| match d.to_named() {
            Ok(n) => Some(n),
            Err(e) => {
                unknown.push((gate, e));
                None
            }
        })
        .collect()
}

fn levels(org: &OrgData, scps: bool, unknown: &mut Vec<(GateKind, String)>) -> Vec<OrgLevel> {
    let gate = if scps { GateKind::Scp } else { GateKind::Rcp };
    org.path
        .iter()
        .map(|n| OrgLevel {
            node_id: n.id.clone(),
            node_arn: Some(n.arn.clone()),
            policies: named(if scps { &n.scps } else { &n.rcps }, unknown, gate),
        })
        .collect()
}

/// Diagnoses one validated event.
pub async fn diagnose_event(ev: &AccessDeniedEvent, source: &dyn PolicySource) -> DiagnosisResult {
    let resolved = match &ev.principal {
        PrincipalInfo::Known(_) => None,
        PrincipalInfo::Unresolved { account, principal_id } => match source.principal_arn(account, principal_id).await {
            Ok(arn) => Some(principal_from(&arn, account, principal_id)),
            Err(e) => {
                return DiagnosisResult::error(
                    &ev.event_id,
                    format!("cannot resolve the cross-account caller `{principal_id}` of account {account}: {e}"),
                )
            }
        },
    };
    let requests = match read_event(ev, resolved) {
        Ok(Reading::Requests { requests, .. }) => requests,
        Ok(Reading::InvalidAction(why)) => {
            return DiagnosisResult::invalid_action(&ev.event_id, why)
        }
        Ok(Reading::NeedsPrincipal(n)) => {
            return DiagnosisResult::error(
                &ev.event_id,
                format!("the caller could not be resolved: {n:?}"),
            )
        }
        Err(e) => return DiagnosisResult::error(&ev.event_id, e.to_string()),
    };
    let region = ev.region.clone().unwrap_or_else(|| "us-east-1".to_string());
    let mut items = Vec::new();
    for er in requests {
        let mut req = er.request;
        let mut set = PolicySet {
            session_policies_unknown: true,
            ..PolicySet::default()
        };
        let mut unknown: Vec<(GateKind, String)> = Vec::new();
        let p = req.principal.clone();
        let kind = p.principal_type();
        let identity_arn = match kind {
            PrincipalType::User => p.arn.clone(),
            PrincipalType::AssumedRole => p.role_arn.clone(),
            PrincipalType::FederatedUser => p.user_arn.clone(),
            _ => None,
        };
        let holder = resource_holder(&req.action, &req.resource);
        let resource_account = req.resource_account.clone();
        let principal_account = p.account.clone();
        let identity_fut = async {
            match &identity_arn {
                Some(a) => Some(source.identity(a).await),
                None => None,
            }
        };
        let org_fut = async {
            match (&principal_account, kind.has_identity_side()) {
                (Some(a), true) => Some(source.organization(a).await),
                _ => None,
            }
        };
        let rorg_fut = async {
            match &resource_account {
                Some(a) if Some(a) != principal_account.as_ref() || !kind.has_identity_side() => {
                    Some(source.organization(a).await)
                }
                _ => None,
            }
        };
        let res_fut = async {
            match (&holder, &resource_account) {
                (Some((k, h)), Some(acct)) => {
                    Some(source.resource_policy(h, acct, &region, *k).await)
                }
                _ => None,
            }
        };
        let vpce_fut = async {
            match (&ev.vpc_endpoint_id, &principal_account) {
                (Some(id), Some(acct)) => Some(source.vpc_endpoint_policy(acct, &region, id).await),
                (Some(id), None) => Some(source.vpc_endpoint_policy("", &region, id).await),
                _ => None,
            }
        };
        let (identity, org, rorg, res, vpce) =
            futures::join!(identity_fut, org_fut, rorg_fut, res_fut, vpce_fut);

        match identity {
            Some(Ok(data)) => {
                set.identity = named(&data.policies, &mut unknown, GateKind::IdentityBased);
                if let Some(b) = &data.boundary {
                    match b.to_named() {
                        Ok(n) => set.permissions_boundary = Some(n),
                        Err(e) => unknown.push((GateKind::PermissionsBoundary, e)),
                    }
                }
                for (k, v) in &data.tags {
                    req.context.set(&format!("aws:PrincipalTag/{k}"), v.clone());
                }
                req.context.mark_absent("aws:PrincipalTag/*");
            }
            Some(Err(e)) => {
                unknown.push((
                    GateKind::IdentityBased,
                    format!(
                        "identity policies of {}: {e}",
                        identity_arn.clone().unwrap_or_default()
                    ),
                ));
                unknown.push((
                    GateKind::PermissionsBoundary,
                    format!(
                        "permissions boundary of {}: {e}",
                        identity_arn.clone().unwrap_or_default()
                    ),
                ));
            }
            None => {
                if matches!(kind, PrincipalType::Root) {
                    req.context.mark_absent("aws:PrincipalTag/*");
                }
            }
        }
        let principal_org = match org {
            Some(Ok(o)) => Some(o),
            Some(Err(e)) => {
                unknown.push((
                    GateKind::Scp,
                    format!(
                        "organization of account {}: {e}",
                        principal_account.clone().unwrap_or_default()
                    ),
                ));
                None
            }
            None => None,
        };
        if let Some(o) = &principal_org {
            match o {
                Some(o) => {
                    req.context
                        .set("aws:PrincipalOrgID", o.organization_id.clone());
                    req.context
                        .set_list("aws:PrincipalOrgPaths", vec![o.org_path()]);
                    set.management_account = Some(o.management_account.clone());
                    if o.scps_enabled {
                        set.scps = Some(levels(o, true, &mut unknown));
                    }
                }
                None => {
                    req.context.mark_absent("aws:PrincipalOrgID");
                    req.context.mark_absent("aws:PrincipalOrgPaths");
                }
            }
        }
        // The resource account's organization (RCPs): the principal's when the same account.
        let resource_org = match rorg {
            Some(Ok(o)) => Some(o),
            Some(Err(e)) => {
                unknown.push((
                    GateKind::Rcp,
                    format!(
                        "organization of account {}: {e}",
                        resource_account.clone().unwrap_or_default()
                    ),
                ));
                None
            }
            None => principal_org.clone(),
        };
        if let Some(Some(o)) = &resource_org {
            req.context
                .set("aws:ResourceOrgID", o.organization_id.clone());
            req.context
                .set_list("aws:ResourceOrgPaths", vec![o.org_path()]);
            if set.management_account.is_none() {
                set.management_account = Some(o.management_account.clone());
            }
            if o.rcps_enabled {
                set.rcps = Some(levels(o, false, &mut unknown));
            }
        }
        match (res, &holder) {
            (Some(Ok(data)), _) => {
                // The holder's full ARN (a secret named without its suffix) is the resource.
                if data.kind == ResourceKind::SecretsManagerSecret
                    && data.holder_arn != req.resource
                {
                    req.resource = data.holder_arn.clone();
                }
                let policy = match data.policy.as_ref().map(PolicyDoc::to_named) {
                    Some(Ok(n)) => Some(n),
                    Some(Err(e)) => {
                        unknown.push((GateKind::ResourceBased, e));
                        None
                    }
                    None => None,
                };
                set.resource = Some(ResourceSide {
                    kind: data.kind,
                    policy,
                });
            }
            (Some(Err(e)), Some((k, h))) => {
                unknown.push((
                    GateKind::ResourceBased,
                    format!("resource policy of {h}: {e}"),
                ));
                set.resource = Some(ResourceSide {
                    kind: *k,
                    policy: None,
                });
            }
            _ => {}
        }
        match vpce {
            Some(Ok(doc)) => match doc.to_named() {
                Ok(n) => set.vpc_endpoints.push(n),
                Err(e) => unknown.push((GateKind::VpcEndpoint, e)),
            },
            Some(Err(e)) => unknown.push((
                GateKind::VpcEndpoint,
                format!(
                    "VPC endpoint policy of {}: {e}",
                    ev.vpc_endpoint_id.clone().unwrap_or_default()
                ),
            )),
            None => {}
        }
        set.unknown_gates = unknown;
        items.push((req, set));
    }
    let evals: Vec<Evaluated<'_>> = items
        .iter()
        .map(|(r, s)| Evaluated {
            request: r,
            set: s,
            evaluation: evaluate(r, s),
        })
        .collect();
    explain(&ev.event_id, &evals, Some(&ev.hint))
}
