//! The request context an event allows: every key CloudTrail lets us derive is set, the keys
//! the event proves absent are marked absent, and every other key is *unknown* (so a condition
//! on it is reported, never guessed). Keys that need IAM or Organizations (principal tags, org
//! ids, resource tags) stay unknown until the collection layer supplies them.
//!
//! Besides the global keys (time, Region, source IP or VPC endpoint, user agent, token and MFA
//! from `sessionContext`, forward access sessions from `invokedBy`), `requestParameters` gives
//! service keys: S3 listing keys and `x-amz-*` headers (`s3:x-amz-acl`, object tags), KMS
//! encryption context and `kms:ViaService` (the calling service's regional endpoint), STS
//! session name, source identity and session tags, and the SAML / OIDC keys a federated
//! caller's `userIdentity` shows (`saml:namequalifier`, `saml:sub`, `<provider>:sub`).

use crate::policy::scalar_text as scalar;
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
    // AWS APIs take HTTPS only, except S3: there the record's `tlsDetails`, or the
    // `CipherSuite` S3 writes into `additionalEventData` for a TLS request, shows TLS. Neither:
    // unknown (a record that omits them proves no plain-HTTP request).
    let cipher_suite = event
        .raw
        .additional_event_data
        .as_ref()
        .and_then(|d| d.get("CipherSuite"))
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    if event.raw.tls_details.as_ref().is_some_and(|t| !t.is_null())
        || cipher_suite
        || event.service() != "s3"
    {
        c.set("aws:SecureTransport", "true");
    }
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
    // Calls a service makes with the principal's credentials (forward access sessions). Not
    // the console's `signin.amazonaws.com`, nor a service acting as its service-linked role.
    let via_service = via_service(event, principal).is_some();
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
            // The legacy key SNS and SQS default policies use for service-originated requests.
            "aws:SourceOwner",
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
            if matches!(kind, PrincipalType::User | PrincipalType::Root)
                && event
                    .raw
                    .user_identity
                    .as_ref()
                    .and_then(|u| u.access_key_id.as_deref())
                    .is_some_and(|k| k.starts_with("AKIA")) =>
        {
            // Long-term access keys (`AKIA…`): no token, no MFA keys (IAM User Guide,
            // condition keys). Temporary keys (`ASIA…`) without a session context, or an
            // empty key id, prove nothing.
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
    // Only role sessions carry a source identity (set when the role was assumed).
    match session.and_then(|s| s.source_identity.clone()) {
        Some(si) => c.set("aws:SourceIdentity", si),
        None if session.is_some() || kind != PrincipalType::AssumedRole => {
            c.mark_absent("aws:SourceIdentity")
        }
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
        if let Some(name) = principal.arn().and_then(|a| a.rsplit('/').next()) {
            c.set("aws:RoleSessionName", name);
        }
    } else {
        c.mark_absent("aws:RoleSessionName");
    }
    if kind != PrincipalType::User {
        c.mark_absent("aws:username");
    }
    if kind == PrincipalType::Anonymous {
        // Unsigned requests carry no principal keys.
        for k in [
            "aws:PrincipalArn",
            "aws:PrincipalAccount",
            "aws:PrincipalOrgID",
            "aws:PrincipalOrgPaths",
            "aws:PrincipalTag/*",
            "aws:userid",
            "aws:TokenIssueTime",
            "aws:MultiFactorAuthPresent",
            "aws:MultiFactorAuthAge",
        ] {
            c.mark_absent(k);
        }
    }
    federation_keys(event, kind, &mut c);
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
                ("versionId", "s3:versionid"),
            ] {
                if let Some(v) = get(param).and_then(scalar) {
                    c.set(key, v);
                }
            }
            // Request headers CloudTrail records under their own names are S3 condition keys
            // of the same name (`s3:x-amz-acl`, `s3:x-amz-server-side-encryption`, ...).
            for (param, v) in params.into_iter().flatten() {
                let lower = param.to_ascii_lowercase();
                if lower.starts_with("x-amz-") && lower != "x-amz-tagging" {
                    if let Some(v) = scalar(v) {
                        c.set(&format!("s3:{lower}"), v);
                    }
                }
            }
            // `x-amz-tagging: k1=v1&k2=v2` → `s3:RequestObjectTag/<k>`, `s3:RequestObjectTagKeys`.
            if let Some(tagging) = get("x-amz-tagging").and_then(scalar) {
                let mut keys = Vec::new();
                for pair in tagging.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    c.set(&format!("s3:RequestObjectTag/{k}"), v);
                    keys.push(k.to_string());
                }
                c.set_list("s3:RequestObjectTagKeys", keys);
            }
            // An object write that sent no ACL or tagging header set no ACL and no tags.
            let write = matches!(
                event.event_name.to_ascii_lowercase().as_str(),
                "putobject" | "copyobject" | "createmultipartupload"
            );
            if write && params.is_some() {
                for (header, keys) in [
                    ("x-amz-acl", &["s3:x-amz-acl"][..]),
                    (
                        "x-amz-tagging",
                        &["s3:RequestObjectTagKeys", "s3:RequestObjectTag/*"][..],
                    ),
                ] {
                    if get(header).is_none() {
                        for k in keys {
                            c.mark_absent(k);
                        }
                    }
                }
            }
            if action.eq_ignore_ascii_case("s3:ListBucket") && get("prefix").is_none() {
                c.mark_absent("s3:prefix");
            }
            if params.is_some() && get("versionId").is_none() {
                c.mark_absent("s3:versionid");
            }
        }
        "kms" => {
            if let Some(acct) = &principal.account {
                c.set("kms:CallerAccount", acct.clone());
            }
            // CloudTrail records the whole encryption context of a cryptographic operation:
            // pairs it does not show were not in the request.
            match get("encryptionContext") {
                Some(Value::Object(ec)) => {
                    let mut keys = Vec::new();
                    for (k, v) in ec {
                        if let Some(v) = scalar(v) {
                            c.set(&format!("kms:EncryptionContext:{k}"), v);
                        }
                        keys.push(k.clone());
                    }
                    c.set_list("kms:EncryptionContextKeys", keys);
                    c.mark_absent("kms:EncryptionContext:*");
                }
                None if params.is_some() && takes_encryption_context(action) => {
                    c.mark_absent("kms:EncryptionContext:*");
                    c.mark_absent("kms:EncryptionContextKeys");
                }
                _ => {}
            }
            if let Some(v) = get("encryptionAlgorithm").and_then(scalar) {
                c.set("kms:EncryptionAlgorithm", v);
            }
            // `kms:ViaService` names the calling service's regional endpoint
            // (`s3.us-east-1.amazonaws.com`), as KMS key policies write it.
            match via_service(event, principal) {
                Some(host) => c.set("kms:ViaService", regional(host, event.region.as_deref())),
                None => c.mark_absent("kms:ViaService"),
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
            // A source identity set on the calling session persists through a role chain.
            let inherited = event
                .raw
                .user_identity
                .as_ref()
                .and_then(|u| u.session_context.as_ref())
                .and_then(|s| s.source_identity.clone());
            match get("sourceIdentity").and_then(scalar).or(inherited) {
                Some(v) => c.set("sts:SourceIdentity", v),
                None if params.is_some() => c.mark_absent("sts:SourceIdentity"),
                None => {}
            }
            session_tags(event, action, c);
        }
        _ => {}
    }
}

/// KMS operations whose `encryptionContext` request parameter CloudTrail records.
fn takes_encryption_context(action: &str) -> bool {
    matches!(
        action.to_ascii_lowercase().as_str(),
        "kms:encrypt"
            | "kms:decrypt"
            | "kms:generatedatakey"
            | "kms:generatedatakeywithoutplaintext"
            | "kms:generatedatakeypair"
            | "kms:generatedatakeypairwithoutplaintext"
    )
}

/// The service host behind a forward-access-session call (`invokedBy`), if the call is one.
fn via_service<'a>(event: &'a AccessDeniedEvent, principal: &Principal) -> Option<&'a str> {
    let host = event
        .raw
        .user_identity
        .as_ref()
        .and_then(|u| u.invoked_by.as_deref())?;
    let fas = host.ends_with(".amazonaws.com")
        && host != "signin.amazonaws.com"
        && principal.principal_type() != PrincipalType::Service
        && !principal.service_linked();
    fas.then_some(host)
}

/// `s3.amazonaws.com` + `us-east-1` → `s3.us-east-1.amazonaws.com` (kept when it already
/// names a Region or no Region is known).
fn regional(host: &str, region: Option<&str>) -> String {
    match (host.strip_suffix(".amazonaws.com"), region) {
        (Some(service), Some(region)) if !service.contains('.') => {
            format!("{service}.{region}.amazonaws.com")
        }
        _ => host.to_string(),
    }
}

/// What a federated caller's `userIdentity` shows of its provider's keys (CloudTrail User
/// Guide, "Values for AWS STS APIs with SAML and web identity federation"): for `SAMLUser`
/// `identityProvider` is `saml:namequalifier` and `userName` is `saml:sub`; for
/// `WebIdentityUser` `userName` is the token's subject, `<provider>:sub`.
fn federation_keys(event: &AccessDeniedEvent, kind: PrincipalType, c: &mut Context) {
    let Some(id) = event.raw.user_identity.as_ref() else {
        return;
    };
    let user = id.user_name.as_deref().filter(|s| !s.is_empty());
    match kind {
        PrincipalType::SamlUser => {
            if let Some(q) = id.identity_provider.as_deref().filter(|s| !s.is_empty()) {
                c.set("saml:namequalifier", q);
            }
            if let Some(u) = user {
                c.set("saml:sub", u);
            }
        }
        PrincipalType::WebIdentityUser => {
            let provider = id.identity_provider.as_deref().unwrap_or("");
            let host = provider
                .split_once(":oidc-provider/")
                .map_or(provider, |(_, h)| h);
            if let (false, Some(u)) = (host.is_empty(), user) {
                c.set(&format!("{host}:sub"), u);
            }
        }
        _ => {}
    }
}

/// Session tags passed to `AssumeRole*` (IAM User Guide, "Passing session tags in AWS STS"):
/// `tags` (`AssumeRole`, `GetFederationToken`) or `principalTags` (SAML and web identity,
/// from the assertion) → `aws:RequestTag/<key>` and `aws:TagKeys`; `transitiveTagKeys` →
/// `sts:TransitiveTagKeys`. An `AssumeRole` request without `tags` passed none.
fn session_tags(event: &AccessDeniedEvent, action: &str, c: &mut Context) {
    let Some(params) = event.request_parameters.as_object() else {
        return;
    };
    let mut tags: Vec<(String, String)> = Vec::new();
    if let Some(Value::Array(list)) = params.get("tags") {
        for t in list {
            let key = t.get("key").or_else(|| t.get("Key")).and_then(scalar);
            let value = t.get("value").or_else(|| t.get("Value")).and_then(scalar);
            if let (Some(k), Some(v)) = (key, value) {
                tags.push((k, v));
            }
        }
    }
    if let Some(Value::Object(map)) = params.get("principalTags") {
        for (k, v) in map {
            if let Some(v) = scalar(v) {
                tags.push((k.clone(), v));
            }
        }
    }
    if !tags.is_empty() {
        for (k, v) in &tags {
            c.set(&format!("aws:RequestTag/{k}"), v.clone());
        }
        c.set_list("aws:TagKeys", tags.into_iter().map(|(k, _)| k).collect());
    } else if action.eq_ignore_ascii_case("sts:AssumeRole")
        || action.eq_ignore_ascii_case("sts:GetFederationToken")
    {
        c.mark_absent("aws:RequestTag/*");
        c.mark_absent("aws:TagKeys");
    }
    if let Some(Value::Array(keys)) = params.get("transitiveTagKeys") {
        c.set_list(
            "sts:TransitiveTagKeys",
            keys.iter().filter_map(scalar).collect(),
        );
    }
}
