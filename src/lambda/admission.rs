//! Which payloads the function acts on, decided before any AWS call.
//!
//! The EventBridge rules match `detail-type` and `detail.errorCode`, which anyone can write into
//! `PutEvents`; the organization's bus admits every member. So the handler admits an EventBridge
//! envelope only when it can be what AWS sends: its `source` starts with `aws.` (a prefix
//! reserved for AWS services, which EventBridge refuses in customer events), not `aws.partner/`
//! (partner event sources); its `account` is the record's
//! `recipientAccountId`; and it carries exactly one record. And it never diagnoses a denial of
//! its own sessions (its role, or a session of the cross-account role it assumes): with
//! read-only management events on, each of its own denied reads would otherwise trigger it again.
//! A rejected payload is logged and counted, stored nowhere, alerts nobody.

use access_undenied_core::arn::Arn;
use serde_json::Value;

use super::payload::Labels;

/// The function's own roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnRoles {
    /// The function's execution role ARN.
    pub role_arn: Option<String>,
    /// The role it assumes in each account (a name: the same in every account).
    pub cross_account_role_name: Option<String>,
}

/// Why a payload is not acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the EventBridge envelope has no `source`")]
    NoSource,
    #[error(
        "source `{0}` is not an AWS service: only AWS sends events whose source starts with `aws.`"
    )]
    NotAws(String),
    #[error("source `{0}` is a partner event source, not an AWS service")]
    Partner(String),
    #[error(
        "the envelope's account `{envelope}` is not the record's recipientAccountId `{record}`"
    )]
    AccountMismatch { envelope: String, record: String },
    #[error("the envelope carries {0} records; an AWS API call event carries exactly one")]
    NotOneRecord(usize),
    #[error("a denial of the function's own session `{0}`: not diagnosed (it would feed itself)")]
    OwnSession(String),
    #[error(
        "event id `{0}` is in the findings' key namespace (`FINDING#`): not a CloudTrail event id"
    )]
    ReservedEventId(String),
}

fn text(v: &Option<Value>) -> Option<&str> {
    v.as_ref().and_then(Value::as_str)
}

/// The role name of a role ARN (`…:role/path/Name`) or of a role-session ARN
/// (`…:assumed-role/Name/session`).
fn role_name(arn: &str) -> Option<&str> {
    let resource = Arn::parse(arn)?.resource;
    match resource.strip_prefix("role/") {
        Some(path) => path.rsplit('/').next(),
        None => resource.strip_prefix("assumed-role/")?.split('/').next(),
    }
}

/// Whether the payload may be acted on; `records` is how many items the reader found in it.
/// A payload that is not an EventBridge envelope (a bare record: a direct invocation, which
/// needs `lambda:InvokeFunction`) is admitted unless it is a denial of the function itself.
pub(super) fn admit(env: &Labels, records: usize, own: &OwnRoles) -> Result<(), Rejection> {
    let envelope = env.detail.is_some() && (env.source.is_some() || env.detail_type.is_some());
    let identity = env
        .detail
        .as_ref()
        .and_then(|d| d.user_identity.as_ref())
        .or(env.user_identity.as_ref());
    let event_id = env
        .detail
        .as_ref()
        .and_then(|d| text(&d.event_id))
        .or(text(&env.event_id));
    if let Some(id) = event_id.filter(|id| id.starts_with(crate::sink::dynamodb::FINDING_PREFIX)) {
        return Err(Rejection::ReservedEventId(id.to_string()));
    }
    if let Some(id) = identity {
        let issuer = id
            .session_context
            .as_ref()
            .and_then(|c| c.session_issuer.as_ref())
            .and_then(|i| text(&i.arn));
        let session = text(&id.arn);
        // A session of a role names the role as its issuer and in its own ARN.
        let own_role = |arn: &str| {
            own.role_arn.as_deref() == Some(arn)
                || own.cross_account_role_name.is_some()
                    && role_name(arn) == own.cross_account_role_name.as_deref()
        };
        if issuer.is_some_and(own_role) || session.is_some_and(own_role) {
            let who = session.or(issuer).unwrap_or_default().to_string();
            return Err(Rejection::OwnSession(who));
        }
    }
    if !envelope {
        return Ok(());
    }
    let source = text(&env.source).ok_or(Rejection::NoSource)?;
    if source.starts_with("aws.partner/") {
        return Err(Rejection::Partner(source.to_string()));
    }
    if !source.starts_with("aws.") {
        return Err(Rejection::NotAws(source.to_string()));
    }
    let detail = env.detail.as_ref();
    if let Some(list) = detail.and_then(|d| d.records.as_ref()) {
        let n = list.as_array().map_or(0, Vec::len);
        return Err(Rejection::NotOneRecord(n));
    }
    // (No denial record at all is answered as such by the handler, also without an AWS call.)
    if records > 1 {
        return Err(Rejection::NotOneRecord(records));
    }
    let envelope_account = text(&env.account).unwrap_or("");
    let record_account = detail
        .and_then(|d| text(&d.recipient_account_id))
        .unwrap_or("");
    if envelope_account.is_empty() || envelope_account != record_account {
        return Err(Rejection::AccountMismatch {
            envelope: envelope_account.to_string(),
            record: record_account.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::lambda::Payload;
    use serde_json::json;

    fn own() -> OwnRoles {
        OwnRoles {
            role_arn: Some("arn:aws:iam::999999999999:role/access-undenied-FunctionRole-X".into()),
            cross_account_role_name: Some("AccessUndeniedRole".into()),
        }
    }

    fn envelope(source: &str, account: &str, recipient: &str) -> Value {
        json!({
            "version": "0", "id": "env-1", "detail-type": "AWS API Call via CloudTrail",
            "source": source, "account": account,
            "detail": {"eventID": "e-1", "recipientAccountId": recipient,
                       "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bob"}}
        })
    }

    fn check(v: &Value, records: usize) -> Result<(), Rejection> {
        // Unreadable payloads have no labels: the reader reports them (as that event's `Error`).
        admit(&Payload::from(v.to_string()).labels(), records, &own())
    }

    #[test]
    fn an_aws_envelope_of_its_own_account_is_admitted() {
        let v = envelope("aws.kms", "111122223333", "111122223333");
        assert_eq!(check(&v, 1), Ok(()));
    }

    #[test]
    fn forged_and_inconsistent_envelopes_are_rejected() {
        let v = envelope("my.app", "111122223333", "111122223333");
        assert_eq!(check(&v, 1), Err(Rejection::NotAws("my.app".into())));
        let v = envelope("aws.partner/example.com/1", "111122223333", "111122223333");
        assert!(matches!(check(&v, 1), Err(Rejection::Partner(_))));
        let v = envelope("aws.kms", "444455556666", "111122223333");
        assert_eq!(
            check(&v, 1),
            Err(Rejection::AccountMismatch {
                envelope: "444455556666".into(),
                record: "111122223333".into()
            })
        );
        let mut v = envelope("aws.kms", "111122223333", "111122223333");
        v["detail"]["Records"] = json!([{}, {}, {}]);
        assert_eq!(check(&v, 3), Err(Rejection::NotOneRecord(3)));
        let mut v = envelope("aws.kms", "111122223333", "111122223333");
        v.as_object_mut().unwrap().remove("source");
        assert_eq!(check(&v, 1), Err(Rejection::NoSource));
    }

    #[test]
    fn denials_of_the_functions_own_sessions_are_rejected() {
        let mut v = envelope("aws.iam", "111122223333", "111122223333");
        v["detail"]["userIdentity"] = json!({
            "type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/AccessUndeniedRole/access-undenied",
            "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111122223333:role/AccessUndeniedRole"}}
        });
        assert!(matches!(check(&v, 1), Err(Rejection::OwnSession(_))));
        // The function's own role, in the central account, even as a bare record.
        let bare = json!({"eventID": "e-2", "userIdentity": {
            "type": "AssumedRole",
            "arn": "arn:aws:sts::999999999999:assumed-role/access-undenied-FunctionRole-X/fn",
            "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::999999999999:role/access-undenied-FunctionRole-X"}}
        }});
        assert!(matches!(check(&bare, 1), Err(Rejection::OwnSession(_))));
        // Another role with a similar name is not the function.
        v["detail"]["userIdentity"]["arn"] =
            json!("arn:aws:sts::111122223333:assumed-role/AccessUndeniedRoleX/s");
        v["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] =
            json!("arn:aws:iam::111122223333:role/AccessUndeniedRoleX");
        assert_eq!(check(&v, 1), Ok(()));
    }

    #[test]
    fn an_event_id_in_the_findings_namespace_is_rejected() {
        let mut v = envelope("aws.kms", "111122223333", "111122223333");
        v["detail"]["eventID"] = json!("FINDING#0123456789abcdef0123456789abcdef");
        assert!(matches!(check(&v, 1), Err(Rejection::ReservedEventId(_))));
    }

    #[test]
    fn a_bare_record_is_admitted() {
        let bare = json!({"eventID": "e-3", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bob"}});
        assert_eq!(check(&bare, 1), Ok(()));
    }
}
