//! CloudTrail access-denied records as AWS writes them (userIdentity, eventSource/eventName,
//! errorCode/errorMessage, requestParameters, resources, recipientAccountId, sourceIPAddress,
//! sessionContext with MFA attributes).

use serde_json::{json, Value};

use crate::support::REGION;

/// A deterministic CloudTrail `eventID` for the n-th event of a test.
pub fn event_id(n: u32) -> String {
    format!("{n:08x}-5a1c-4e2b-9d3f-{n:012x}")
}

/// `userIdentity` of a role session. `role_path` like `/` or `/teams/`.
pub fn role_session(
    account: &str,
    role_path: &str,
    role: &str,
    role_id: &str,
    session: &str,
    mfa: bool,
) -> Value {
    json!({
        "type": "AssumedRole",
        "principalId": format!("{role_id}:{session}"),
        "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
        "accountId": account,
        "accessKeyId": "ASIAQEXAMPLE7QZ4NWJ2",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": format!("arn:aws:iam::{account}:role{role_path}{role}"),
                "accountId": account,
                "userName": role
            },
            "webIdFederationData": {},
            "attributes": {
                "creationDate": "2026-11-20T09:12:44Z",
                "mfaAuthenticated": if mfa { "true" } else { "false" }
            }
        }
    })
}

/// `userIdentity` of an IAM user calling with a long-term access key (`AKIA…`).
pub fn iam_user(account: &str, path: &str, name: &str) -> Value {
    json!({
        "type": "IAMUser",
        "principalId": "AIDAQEXAMPLEUSERID42",
        "arn": format!("arn:aws:iam::{account}:user{path}{name}"),
        "accountId": account,
        "accessKeyId": "AKIAQEXAMPLEKEY4CLI1",
        "userName": name
    })
}

/// `userIdentity` of an IAM user signed in to the console (temporary keys, MFA attributes).
pub fn console_user(account: &str, path: &str, name: &str, mfa: bool) -> Value {
    json!({
        "type": "IAMUser",
        "principalId": "AIDAQEXAMPLEUSERID42",
        "arn": format!("arn:aws:iam::{account}:user{path}{name}"),
        "accountId": account,
        "accessKeyId": "ASIAQEXAMPLECONSOLE1",
        "userName": name,
        "sessionContext": {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {
                "creationDate": "2026-11-20T09:50:00Z",
                "mfaAuthenticated": if mfa { "true" } else { "false" }
            }
        }
    })
}

/// `userIdentity` of a caller from another account, as the resource account's trail shows it.
pub fn aws_account(account: &str, principal_id: &str) -> Value {
    json!({"type": "AWSAccount", "principalId": principal_id, "accountId": account})
}

/// The error code the service writes.
fn error_code(source: &str) -> &'static str {
    match source {
        "s3.amazonaws.com" | "sqs.amazonaws.com" | "sts.amazonaws.com" | "iam.amazonaws.com" => {
            "AccessDenied"
        }
        "sns.amazonaws.com" => "AuthorizationError",
        "ec2.amazonaws.com" => "Client.UnauthorizedOperation",
        _ => "AccessDeniedException",
    }
}

/// The caller's ARN as error messages print it.
fn caller_arn(identity: &Value) -> String {
    identity["arn"].as_str().unwrap_or("").to_string()
}

/// One access-denied record. `recipient` is the account whose trail holds it.
pub fn record(
    n: u32,
    identity: &Value,
    source: &str,
    name: &str,
    params: Value,
    recipient: &str,
) -> Value {
    let mut r = json!({
        "eventVersion": "1.10",
        "userIdentity": identity,
        "eventTime": "2026-11-20T10:04:31Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.17.50 md/Botocore#1.35.16 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.12.6",
        "errorCode": error_code(source),
        "errorMessage": "Access Denied",
        "requestParameters": params,
        "responseElements": null,
        "requestID": format!("REQ{n:013}"),
        "eventID": event_id(n),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": recipient,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": format!("{}.{REGION}.amazonaws.com", source.split('.').next().unwrap_or(""))
        }
    });
    if source == "s3.amazonaws.com" {
        r["managementEvent"] = json!(false);
        r["eventCategory"] = json!("Data");
    }
    r
}

/// The error message of an implicit or explicit denial in the modern format:
/// `User: … is not authorized to perform: … on resource: … because …`.
pub fn message(identity: &Value, action: &str, resource: &str, because: &str) -> String {
    format!(
        "User: {} is not authorized to perform: {action} on resource: {resource} {because}",
        caller_arn(identity)
    )
}

/// Helpers to adjust a record.
pub trait RecordExt {
    fn set(self, key: &str, value: Value) -> Value;
    fn msg(self, text: String) -> Value;
}

impl RecordExt for Value {
    fn set(mut self, key: &str, value: Value) -> Value {
        self[key] = value;
        self
    }

    fn msg(self, text: String) -> Value {
        self.set("errorMessage", json!(text))
    }
}

/// `resources[]` of an S3 object event.
pub fn s3_object_resources(bucket: &str, key: &str, owner: &str) -> Value {
    json!([
        {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")},
        {"accountId": owner, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}
    ])
}

/// An S3 `GetObject`/`PutObject` record.
pub fn s3_object(
    n: u32,
    identity: &Value,
    name: &str,
    bucket: &str,
    key: &str,
    owner: &str,
    recipient: &str,
) -> Value {
    record(
        n,
        identity,
        "s3.amazonaws.com",
        name,
        json!({"bucketName": bucket, "key": key, "Host": format!("{bucket}.s3.{REGION}.amazonaws.com")}),
        recipient,
    )
    .set("resources", s3_object_resources(bucket, key, owner))
    .set(
        "additionalEventData",
        json!({"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
               "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "bytesTransferredOut": 243}),
    )
}

/// A KMS call on `key` (owned by `owner`) as the account `recipient` records it.
pub fn kms_event(
    n: u32,
    who: &Value,
    name: &str,
    key: &str,
    owner: &str,
    recipient: &str,
) -> Value {
    let params = if name == "Decrypt" {
        json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"app": "billing"}})
    } else {
        json!({"keyId": key, "pendingWindowInDays": 7})
    };
    record(n, who, "kms.amazonaws.com", name, params, recipient).set(
        "resources",
        json!([{"accountId": owner, "type": "AWS::KMS::Key", "ARN": key}]),
    )
}
