//! The request context an event allows: every key CloudTrail lets us derive is set, the keys
//! the event proves absent are marked absent, and every other key is *unknown* (so a condition
//! on it is reported, never guessed). Keys that need IAM or Organizations (principal tags, org
//! ids, resource tags) stay unknown until the collection layer supplies them.

use serde_json::Value;

use crate::eval::{parse_date, Context, Principal, PrincipalType};

use super::AccessDeniedEvent;

/// Builds the context of one request of `event`.
pub fn context_for(
    event: &AccessDeniedEvent,
    principal: &Principal,
    action: &str,
    resource: &str,
) -> Context {
    let mut c = Context::new();
    let kind = principal.principal_type();
    let session = event
        .raw
        .user_identity
        .as_ref()
        .and_then(|u| u.session_context.as_ref());
    let attributes = session.and_then(|s| s.attributes.as_ref());

    // Everything not set below is unknown, except what the event proves absent.
    c.mark_unknown("*");

    if let Some(r) = &event.region {
        c.set("aws:RequestedRegion", r.clone());
    }
    if let Some(t) = &event.event_time {
        c.set("aws:CurrentTime", t.clone());
        if let Some(secs) = parse_date(t) {
            c.set("aws:EpochTime", format!("{}", secs as i64));
        }
    }
    c.set("aws:SecureTransport", "true");
    if let Some(ua) = &event.user_agent {
        c.set("aws:UserAgent", ua.clone());
    }
    // Source IP: through a VPC endpoint AWS sets aws:VpcSourceIp and not aws:SourceIp.
    let ip = event
        .source_ip
        .as_deref()
        .filter(|s| s.parse::<std::net::IpAddr>().is_ok());
    match (&event.vpc_endpoint_id, ip) {
        (Some(vpce), ip) => {
            c.set("aws:SourceVpce", vpce.clone());
            if let Some(ip) = ip {
                c.set("aws:VpcSourceIp", ip);
            }
            c.mark_absent("aws:SourceIp");
        }
        (None, Some(ip)) => {
            c.set("aws:SourceIp", ip);
            for k in ["aws:SourceVpce", "aws:SourceVpc", "aws:VpcSourceIp"] {
                c.mark_absent(k);
            }
        }
        (None, None) => {
            for k in ["aws:SourceVpce", "aws:SourceVpc", "aws:VpcSourceIp"] {
                c.mark_absent(k);
            }
        }
    }
    // Calls a service makes on the principal's behalf.
    let invoked_by = event
        .raw
        .user_identity
        .as_ref()
        .and_then(|u| u.invoked_by.clone());
    let via_service = invoked_by
        .as_deref()
        .is_some_and(|s| s.ends_with(".amazonaws.com"))
        && kind != PrincipalType::Service;
    c.set(
        "aws:ViaAWSService",
        if via_service { "true" } else { "false" },
    );
    if !via_service {
        for k in ["aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast"] {
            c.mark_absent(k);
        }
    }
    if kind != PrincipalType::Service {
        for k in [
            "aws:SourceArn",
            "aws:SourceAccount",
            "aws:SourceOrgID",
            "aws:SourceOrgPaths",
        ] {
            c.mark_absent(k);
        }
    }
    // Temporary credentials: token issue time and MFA.
    let mfa = attributes.and_then(|a| match &a.mfa_authenticated {
        Some(Value::String(s)) => Some(s.eq_ignore_ascii_case("true")),
        Some(Value::Bool(b)) => Some(*b),
        _ => None,
    });
    let created = attributes.and_then(|a| a.creation_date.clone());
    match (&created, mfa) {
        (Some(created), mfa) => {
            c.set("aws:TokenIssueTime", created.clone());
            let mfa = mfa.unwrap_or(false);
            c.set(
                "aws:MultiFactorAuthPresent",
                if mfa { "true" } else { "false" },
            );
            match (
                mfa,
                event.event_time.as_deref().and_then(parse_date),
                parse_date(created),
            ) {
                (true, Some(now), Some(then)) => c.set(
                    "aws:MultiFactorAuthAge",
                    format!("{}", (now - then).max(0.0) as i64),
                ),
                (false, _, _) => c.mark_absent("aws:MultiFactorAuthAge"),
                _ => {}
            }
        }
        (None, _)
            if kind == PrincipalType::User
                && event
                    .raw
                    .user_identity
                    .as_ref()
                    .is_some_and(|u| u.access_key_id.is_some()) =>
        {
            // Long-term access keys: no token, no MFA keys (IAM User Guide, condition keys).
            for k in [
                "aws:TokenIssueTime",
                "aws:MultiFactorAuthPresent",
                "aws:MultiFactorAuthAge",
            ] {
                c.mark_absent(k);
            }
        }
        _ => {}
    }
    match session.and_then(|s| s.source_identity.clone()) {
        Some(si) => c.set("aws:SourceIdentity", si),
        None if session.is_some() => c.mark_absent("aws:SourceIdentity"),
        None => {}
    }
    match session
        .and_then(|s| s.web_id_federation_data.as_ref())
        .and_then(|w| w.federated_provider.clone())
    {
        Some(fp) => c.set("aws:FederatedProvider", fp),
        None if kind != PrincipalType::WebIdentityUser => c.mark_absent("aws:FederatedProvider"),
        None => {}
    }
    if kind == PrincipalType::AssumedRole {
        if let Some(name) = principal.arn.as_deref().and_then(|a| a.rsplit('/').next()) {
            c.set("aws:RoleSessionName", name);
        }
    }
    if kind != PrincipalType::User {
        c.mark_absent("aws:username");
    }
    service_keys(event, principal, action, resource, &mut c);
    c
}

/// Service-specific keys that `requestParameters` shows.
fn service_keys(
    event: &AccessDeniedEvent,
    principal: &Principal,
    action: &str,
    _resource: &str,
    c: &mut Context,
) {
    let params = event.request_parameters.as_object();
    let get = |k: &str| params.and_then(|p| p.get(k));
    let service = action.split(':').next().unwrap_or("").to_ascii_lowercase();
    match service.as_str() {
        "s3" => {
            for (param, key) in [
                ("prefix", "s3:prefix"),
                ("delimiter", "s3:delimiter"),
                ("max-keys", "s3:max-keys"),
                ("x-amz-acl", "s3:x-amz-acl"),
                ("versionId", "s3:versionid"),
            ] {
                if let Some(v) = get(param).and_then(scalar) {
                    c.set(key, v);
                }
            }
            if action.eq_ignore_ascii_case("s3:ListBucket") && get("prefix").is_none() {
                c.mark_absent("s3:prefix");
            }
        }
        "kms" => {
            if let Some(acct) = &principal.account {
                c.set("kms:CallerAccount", acct.clone());
            }
            if let Some(Value::Object(ec)) = get("encryptionContext") {
                let mut keys = Vec::new();
                for (k, v) in ec {
                    if let Some(v) = scalar(v) {
                        c.set(&format!("kms:EncryptionContext:{k}"), v);
                    }
                    keys.push(k.clone());
                }
                c.set_list("kms:EncryptionContextKeys", keys);
            }
            if let Some(v) = get("encryptionAlgorithm").and_then(scalar) {
                c.set("kms:EncryptionAlgorithm", v);
            }
            let via = event
                .raw
                .user_identity
                .as_ref()
                .and_then(|u| u.invoked_by.clone());
            match via {
                Some(v) if v.ends_with(".amazonaws.com") => c.set("kms:ViaService", v),
                _ => c.mark_absent("kms:ViaService"),
            }
        }
        "iam" => {
            if let Some(v) = get("policyArn").and_then(scalar) {
                c.set("iam:PolicyARN", v);
            }
            if let Some(v) = get("permissionsBoundary").and_then(scalar) {
                c.set("iam:PermissionsBoundary", v);
            }
        }
        "sts" => {
            if let Some(v) = get("roleSessionName").and_then(scalar) {
                c.set("sts:RoleSessionName", v);
            }
            if let Some(v) = get("sourceIdentity").and_then(scalar) {
                c.set("sts:SourceIdentity", v);
            }
        }
        _ => {}
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
