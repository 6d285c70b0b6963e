//! AWS's own evidence first, the engine as cross-check: IAM Access Troubleshooter answers served
//! by the stand-in (`support::standin`, the real rest-json wire protocol) while the policies of
//! today live in moto. Each scenario checks the result and its `Evidence` (CONTRACT §1b).

use serde_json::{json, Value};

use super::{add, analyze_one, deny, dynamodb, own, table};
use crate::support::events::{iam_user, message, RecordExt};
use crate::support::run::allow;
use crate::support::standin::{evidence, EvidenceEnv};
use crate::support::world::policy;
use crate::support::ACCOUNT;

const ID: &str = "a1b2c3d4e5f6g7h8i9j0";

fn alice() -> Value {
    iam_user(ACCOUNT, "/", "alice")
}

fn alice_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/alice")
}

/// A Troubleshooter-era message: the denial, then the link and the authorization ID.
fn troubleshooter_message(action: &str, because: &str) -> String {
    format!(
        "{}. Go to https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/{ID} for complete details, or call the GetRequestAuthorizationDetails API with the following authorization id: {ID}",
        message(&alice(), action, &table(ACCOUNT, "orders"), because)
    )
}

/// alice's denied `dynamodb:GetItem` on `orders`, with the Troubleshooter message.
fn get_item(n: u32, because: &str) -> Value {
    dynamodb(n, &alice(), "GetItem", "orders", ACCOUNT)
        .msg(troubleshooter_message("dynamodb:GetItem", because))
}

/// [`details`] with alice's inline allow (`inline1dynamodbaccess`) first among the policies.
fn details_with_inline(effect: &str, others: &[(&str, &str, &str)], matched: Value) -> Value {
    let alice = alice_arn();
    let mut policies = vec![(
        "IDENTITY_BASED_POLICY",
        "inline1dynamodbaccess",
        alice.as_str(),
    )];
    policies.extend_from_slice(others);
    details(effect, &policies, matched)
}

/// `GetRequestAuthorizationDetails`' output for alice's GetItem: `effect`, the evaluated
/// policies `(type, uri, attached to)`, and the statements AWS matched.
fn details(effect: &str, policies: &[(&str, &str, &str)], matched: Value) -> Value {
    json!({
        "requestContext": {
            "aws:PrincipalArn": alice_arn(),
            "aws:SecureTransport": true,
            "aws:SourceIp": "203.0.113.7",
            "aws:RequestedRegion": "us-east-1"
        },
        "evaluations": [{
            "action": "dynamodb:GetItem",
            "resource": table(ACCOUNT, "orders"),
            "evaluatedEffect": effect,
            "matchedPolicies": matched
        }],
        "policies": policies.iter().map(|(t, uri, at)| json!({
            "type": t,
            "inline": !uri.starts_with("arn:"),
            "uri": uri,
            "attachedTo": [{"arn": at}]
        })).collect::<Vec<_>>()
    })
}

fn matched(uri: &str, sid: &str, effect: &str) -> Value {
    json!([{"uri": uri, "matchedStatements": [{"sid": sid, "evaluatedEffect": effect}]}])
}

fn deny_get_item() -> Value {
    json!({"Sid": "NoReads", "Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": "*"})
}

fn get_item_allowed() -> Value {
    policy(json!([allow("dynamodb:*", "*")]))
}

/// alice with an inline allow of everything in DynamoDB, plus a managed `DenyReads` when
/// `with_deny`; returns the managed policy's ARN (created either way, attached only then).
async fn alice_world(with_deny: Option<&Value>) -> String {
    let a = own().await;
    a.user("alice", "/", &[]).await;
    a.user_policy("alice", "dynamodb-access", &get_item_allowed())
        .await;
    let deny_doc = with_deny
        .cloned()
        .unwrap_or_else(|| policy(json!([deny_get_item()])));
    let arn = a.managed("DenyReads", &deny_doc).await;
    if with_deny.is_some() {
        a.attach_user("alice", &arn).await;
    }
    arn
}

/// alice denied by the attached `DenyReads`, and AWS's record of it seeded with `fault`; the
/// policy's ARN and the message's deny clause.
async fn alice_denied(env: &EvidenceEnv, fault: Value) -> (String, String) {
    let deny_arn = alice_world(Some(&policy(json!([deny_get_item()])))).await;
    seed_identity_deny(env, &deny_arn, fault);
    let because = format!("with an explicit deny in an identity-based policy: {deny_arn}");
    (deny_arn, because)
}

/// AWS's record of alice's GetItem denied by `statement` in one policy of type `t` (plus her
/// inline allow).
fn seed_one_deny(env: &EvidenceEnv, t: &str, uri: &str, attached: &str, statement: Value) {
    env.authorization(
        ID,
        details_with_inline(
            "EXPLICIT_DENY",
            &[(t, uri, attached)],
            matched(uri, "NoReads", "DENY"),
        ),
        json!({uri: policy(json!([statement])), "inline1dynamodbaccess": get_item_allowed()}),
        Value::Null,
    );
}

fn seed_identity_deny(env: &EvidenceEnv, deny_arn: &str, fault: Value) {
    env.authorization(
        ID,
        details(
            "EXPLICIT_DENY",
            &[
                ("IDENTITY_BASED_POLICY", deny_arn, &alice_arn()),
                ("IDENTITY_BASED_POLICY", "inline1dynamodbaccess", &alice_arn()),
            ],
            matched(deny_arn, "NoReads", "DENY"),
        ),
        json!({deny_arn: policy(json!([deny_get_item()])), "inline1dynamodbaccess": get_item_allowed()}),
        fault,
    );
}

#[track_caller]
fn expect_evidence(r: &Value, source: &str, as_of: &str, agrees: Value) {
    let pretty = serde_json::to_string_pretty(r).unwrap();
    let e = &r["Evidence"];
    assert_eq!(e["Source"], json!(source), "{pretty}");
    assert_eq!(e["PoliciesAsOf"], json!(as_of), "{pretty}");
    assert_eq!(e["EngineAgrees"], agrees, "{pretty}");
}

#[tokio::test]
async fn troubleshooter_identity_deny_agrees_with_the_engine() {
    let env = evidence().await;
    let (deny_arn, because) = alice_denied(&env, Value::Null).await;

    let r = analyze_one(get_item(101, &because)).await;

    assert_eq!(
        r["AssessmentResult"],
        "Explicit deny in an identity-based policy"
    );
    assert_eq!(
        r["ResultDetails"]["ExplicitDenyPolicies"],
        json!([deny(&alice_arn(), &deny_arn, "DenyReads", &deny_get_item())])
    );
    expect_evidence(&r, "AccessTroubleshooter", "EventTime", json!(true));
    let e = &r["Evidence"];
    assert_eq!(e["AuthorizationId"], ID);
    assert_eq!(e["AwsDecision"], "ExplicitDeny");
    assert_eq!(
        e["AwsDenying"],
        json!([{"PolicyArn": deny_arn, "PolicyType": "IdentityBased", "Sids": ["NoReads"]}])
    );
    assert_eq!(e["ChangedSince"], json!([]));
    assert_eq!(e["FixedSince"], false);
    // Details, then one captured document per policy.
    let ops: Vec<String> = env
        .requests()
        .iter()
        .filter(|q| q["Service"] == "iam-toolbox")
        .map(|q| q["Operation"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        ops,
        [
            "GetRequestAuthorizationDetails",
            "GetRequestAuthorizationPolicy",
            "GetRequestAuthorizationPolicy"
        ]
    );
}

#[tokio::test]
async fn troubleshooter_policy_changed_since_quotes_then_fixes_now() {
    let env = evidence().await;
    // Today the deny covers another table only, and alice lost her allow.
    let a = own().await;
    a.user("alice", "/", &[]).await;
    let narrowed = json!({"Sid": "NoReads", "Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": table(ACCOUNT, "audit")});
    let deny_arn = a.managed("DenyReads", &policy(json!([narrowed]))).await;
    a.attach_user("alice", &deny_arn).await;
    seed_identity_deny(&env, &deny_arn, Value::Null);
    let because = format!("with an explicit deny in an identity-based policy: {deny_arn}");

    let r = analyze_one(get_item(102, &because)).await;

    assert_eq!(
        r["AssessmentResult"],
        "Explicit deny in an identity-based policy"
    );
    assert_eq!(
        r["ResultDetails"]["ExplicitDenyPolicies"][0]["PolicyStatement"],
        deny_get_item(),
        "quoted as captured"
    );
    assert_eq!(
        r["ResultDetails"]["PoliciesToAdd"],
        json!([add(
            &alice_arn(),
            json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table(ACCOUNT, "orders")})
        )]),
        "the allow missing today"
    );
    assert_eq!(r["FixVerified"], true);
    expect_evidence(&r, "AccessTroubleshooter", "EventTime", json!(true));
    let changed = &r["Evidence"]["ChangedSince"];
    assert!(
        changed
            .as_array()
            .unwrap()
            .contains(&json!({"PolicyArn": deny_arn, "Change": "Modified"})),
        "{changed}"
    );
}

#[tokio::test]
async fn troubleshooter_fixed_since_when_today_allows() {
    let env = evidence().await;
    let deny_arn = alice_world(None).await; // the deny exists but is no longer attached
    seed_identity_deny(&env, &deny_arn, Value::Null);
    let because = format!("with an explicit deny in an identity-based policy: {deny_arn}");

    let r = analyze_one(get_item(103, &because)).await;

    assert_eq!(
        r["AssessmentResult"],
        "Explicit deny in an identity-based policy"
    );
    assert_eq!(r["ResultDetails"]["PoliciesToAdd"], json!([]));
    assert_eq!(r["Evidence"]["FixedSince"], true);
    assert_eq!(
        r["Evidence"]["ChangedSince"],
        json!([{"PolicyArn": deny_arn, "Change": "Detached"}])
    );
    assert!(r["Explanation"].as_str().unwrap().contains("fixed since"));
}

/// Session and VPC endpoint policies are invisible in CloudTrail; AWS's record shows them.
#[tokio::test]
async fn troubleshooter_session_and_vpc_endpoint_denies_become_visible_gates() {
    for (n, t, uri, at, assessment) in [
        (
            104,
            "SESSION_POLICY",
            "sessionpolicy1",
            alice_arn(),
            "Explicit deny in a session policy",
        ),
        (
            105,
            "VPC_ENDPOINT_POLICY",
            "vpcepolicy1",
            format!("arn:aws:ec2:us-east-1:{ACCOUNT}:vpc-endpoint/vpce-0abc"),
            "Explicit deny in a VPC endpoint policy",
        ),
    ] {
        let env = evidence().await;
        alice_world(None).await;
        seed_one_deny(&env, t, uri, &at, deny_get_item());
        let words = if t == "SESSION_POLICY" {
            "a session policy"
        } else {
            "a VPC endpoint policy"
        };
        let r = analyze_one(get_item(n, &format!("with an explicit deny in {words}"))).await;
        assert_eq!(r["AssessmentResult"], assessment, "{r:#}");
        expect_evidence(&r, "AccessTroubleshooter", "EventTime", json!(true));
        // Today's reading cannot see that policy: not claimed fixed, and said why.
        assert_eq!(r["Evidence"]["FixedSince"], false, "{r:#}");
        assert!(
            r["Evidence"]["Notes"]
                .to_string()
                .contains("cannot be read now"),
            "{r:#}"
        );
        assert_eq!(r["ResultDetails"]["PoliciesToAdd"], json!([]));
        drop(env);
    }
}

#[tokio::test]
async fn troubleshooter_scp_and_boundary_from_the_captured_set() {
    let env = evidence().await;
    alice_world(None).await;
    let scp =
        "arn:aws:organizations::999999999999:policy/o-exampleorg/service_control_policy/p-deny";
    let full = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess";
    let root = "arn:aws:organizations::999999999999:root/o-exampleorg/r-ab12";
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/Boundary");
    env.authorization(
        ID,
        details_with_inline(
            "EXPLICIT_DENY",
            &[
                ("PERMISSIONS_BOUNDARY", &boundary, &alice_arn()),
                ("SERVICE_CONTROL_POLICY", full, root),
                ("SERVICE_CONTROL_POLICY", scp, root),
            ],
            matched(scp, "NoReads", "DENY"),
        ),
        json!({
            "inline1dynamodbaccess": get_item_allowed(),
            boundary.clone(): policy(json!([allow("s3:*", "*")])),
            full: policy(json!([allow("*", "*")])),
            scp: policy(json!([deny_get_item()])),
        }),
        Value::Null,
    );

    let r = analyze_one(get_item(
        106,
        "with an explicit deny in a service control policy",
    ))
    .await;

    assert_eq!(
        r["AssessmentResult"],
        "Explicit deny in a service-control policy"
    );
    assert_eq!(
        r["AllReasons"],
        json!([
            "Explicit deny in a service-control policy",
            "Missing allow in a permissions boundary policy"
        ])
    );
    expect_evidence(&r, "AccessTroubleshooter", "EventTime", json!(true));
    assert_eq!(r["Evidence"]["AwsDenying"][0]["PolicyType"], "Scp");
}

#[tokio::test]
async fn troubleshooter_missing_allow_in_a_boundary() {
    let env = evidence().await;
    alice_world(None).await;
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/Boundary");
    env.authorization(
        ID,
        details_with_inline(
            "IMPLICIT_DENY",
            &[("PERMISSIONS_BOUNDARY", &boundary, &alice_arn())],
            matched("inline1dynamodbaccess", "", "ALLOW"),
        ),
        json!({
            "inline1dynamodbaccess": get_item_allowed(),
            boundary.clone(): policy(json!([allow("s3:*", "*")])),
        }),
        Value::Null,
    );

    let r = analyze_one(get_item(
        107,
        "because no permissions boundary allows the dynamodb:GetItem action",
    ))
    .await;

    assert_eq!(
        r["AssessmentResult"],
        "Missing allow in a permissions boundary policy"
    );
    expect_evidence(&r, "AccessTroubleshooter", "EventTime", json!(true));
    assert_eq!(
        r["Evidence"]["AwsDenying"],
        json!([{"PolicyArn": null, "PolicyType": "PermissionsBoundary", "Sids": []}])
    );
}

/// Every way of not getting AWS's record falls back to the policies of today, says why, and
/// never ends the batch.
#[tokio::test]
async fn troubleshooter_unavailable_falls_back_with_the_reason() {
    let cases: [(u32, &str, Value, &str); 4] = [
        (108, "expired", json!("NotFound"), "not found"),
        (109, "access denied", json!("AccessDenied"), "access denied"),
        (
            110,
            "organization not ours",
            json!({"Error": "AccessDenied", "Message": "The caller does not belong to the organization recorded for this request"}),
            "organization recorded",
        ),
        (
            111,
            "internal error",
            json!("Internal"),
            "InternalServerException",
        ),
    ];
    for (n, case, fault, needle) in cases {
        let env = evidence().await;
        let deny_doc = policy(json!([deny_get_item()]));
        let deny_arn = alice_world(Some(&deny_doc)).await;
        seed_identity_deny(&env, &deny_arn, fault);
        let because = format!("with an explicit deny in an identity-based policy: {deny_arn}");
        let r = analyze_one(get_item(n, &because)).await;
        assert_eq!(
            r["AssessmentResult"], "Explicit deny in an identity-based policy",
            "{case}: {r:#}"
        );
        expect_evidence(&r, "ErrorMessage", "Now", json!(true));
        assert_eq!(r["Evidence"]["AuthorizationId"], ID, "{case}");
        let notes = r["Evidence"]["Notes"].to_string();
        assert!(notes.contains(needle), "{case}: `{needle}` not in {notes}");
        drop(env);
    }
}

#[tokio::test]
async fn troubleshooter_throttled_then_read() {
    let env = evidence().await;
    let (_, because) = alice_denied(&env, json!({"ThrottleTimes": 2})).await;

    let r = analyze_one(get_item(112, &because)).await;

    expect_evidence(&r, "AccessTroubleshooter", "EventTime", json!(true));
    let statuses: Vec<i64> = env
        .requests()
        .iter()
        .filter(|q| q["Operation"] == "GetRequestAuthorizationDetails")
        .map(|q| q["Status"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(statuses, [429, 429, 200]);
}

/// AWS and the engine disagree: the result says so and keeps both answers.
#[tokio::test]
async fn troubleshooter_disagreement_is_in_the_result() {
    let env = evidence().await;
    alice_world(None).await;
    // AWS says nothing allowed, but the captured inline policy allows the request.
    env.authorization(
        ID,
        details_with_inline("IMPLICIT_DENY", &[], json!([])),
        json!({"inline1dynamodbaccess": get_item_allowed()}),
        Value::Null,
    );

    let r = analyze_one(get_item(
        113,
        "because no identity-based policy allows the dynamodb:GetItem action",
    ))
    .await;

    expect_evidence(&r, "AccessTroubleshooter", "Now", json!(false));
    assert!(
        r["Evidence"]["Notes"].to_string().contains("decides allow"),
        "{r:#}"
    );
}

/// alice's denied GetItem whose message (no authorization ID) names `arn` as the explicit deny.
fn named_in_message(n: u32, arn: &str) -> Value {
    dynamodb(n, &alice(), "GetItem", "orders", ACCOUNT).msg(message(
        &alice(),
        "dynamodb:GetItem",
        &table(ACCOUNT, "orders"),
        &format!("with an explicit deny in an identity-based policy: {arn}"),
    ))
}

/// Without a record, the message's named policy is checked: AWS names a deny the policies of
/// today do not show, and the contradiction is flagged rather than a bare `Allowed`.
#[tokio::test]
async fn message_names_a_policy_we_cannot_see() {
    let _env = evidence().await;
    alice_world(None).await;
    let gone = format!("arn:aws:iam::{ACCOUNT}:policy/RemovedDeny");
    let r = analyze_one(named_in_message(114, &gone)).await;

    assert_eq!(r["AssessmentResult"], "Allowed");
    expect_evidence(&r, "ErrorMessage", "Now", json!(false));
    assert!(
        r["Evidence"]["Notes"].to_string().contains("RemovedDeny"),
        "{r:#}"
    );
    // Read by ARN: it does not exist any more.
    assert_eq!(
        r["Evidence"]["ChangedSince"],
        json!([{"PolicyArn": gone, "Change": "Deleted"}])
    );
}

/// The named policy still exists but is no longer attached: read by ARN, it denies the
/// request, so the change is named.
#[tokio::test]
async fn message_names_a_detached_policy_read_by_arn() {
    let _env = evidence().await;
    let detached = alice_world(None).await;
    let r = analyze_one(named_in_message(122, &detached)).await;

    assert_eq!(r["AssessmentResult"], "Allowed");
    expect_evidence(&r, "ErrorMessage", "Now", json!(false));
    assert_eq!(
        r["Evidence"]["ChangedSince"],
        json!([{"PolicyArn": detached, "Change": "Detached"}])
    );
    assert!(
        r["Evidence"]["Notes"]
            .to_string()
            .contains("read by ARN, it denies this request"),
        "{r:#}"
    );
}

/// The function may not call iam-toolbox at all: every event of the batch falls back, none is
/// lost.
#[tokio::test]
async fn troubleshooter_denied_for_the_whole_batch() {
    let env = evidence().await;
    let (_, because) = alice_denied(&env, Value::Null).await;
    env.service_fault("iam-toolbox", json!("AccessDenied"));

    let results = super::analyze(&[get_item(115, &because), get_item(116, &because)]).await;

    assert_eq!(results.len(), 2);
    for r in &results {
        assert_eq!(
            r["AssessmentResult"],
            "Explicit deny in an identity-based policy"
        );
        expect_evidence(r, "ErrorMessage", "Now", json!(true));
        assert!(
            r["Evidence"]["Notes"].to_string().contains("access denied"),
            "{r:#}"
        );
    }
    // One authorization ID is read once per batch, failure included.
    let calls = env
        .requests()
        .iter()
        .filter(|q| q["Service"] == "iam-toolbox")
        .count();
    assert_eq!(calls, 1);
}

/// An EC2 denial whose message carries only the encoded blob.
fn ec2_denial(n: u32, event: &str, params: Value, blob: &str) -> Value {
    crate::support::events::record(
        n,
        &iam_user(ACCOUNT, "/", "bob"),
        "ec2.amazonaws.com",
        event,
        params,
        ACCOUNT,
    )
    .set("errorCode", json!("Client.UnauthorizedOperation"))
    .msg(format!(
        "You are not authorized to perform this operation. Encoded authorization failure message: {blob}"
    ))
}

/// `DecodeAuthorizationMessage`'s JSON for bob: `action` on `resource` with `conditions`.
fn decoded(action: &str, resource: &str, explicit: bool, conditions: &[(&str, &str)]) -> Value {
    json!({
        "allowed": false,
        "explicitDeny": explicit,
        "matchedStatements": {"items": []},
        "failures": {"items": []},
        "context": {
            "principal": {"id": "AIDAEXAMPLEBOB", "name": "bob", "arn": format!("arn:aws:iam::{ACCOUNT}:user/bob")},
            "action": action,
            "resource": resource,
            "conditions": {"items": conditions.iter().map(|(k, v)| json!({
                "key": k, "values": {"items": [{"value": v}]}
            })).collect::<Vec<_>>()}
        }
    })
}

async fn bob_with(statements: Value) {
    let a = own().await;
    a.user("bob", "/", &[]).await;
    a.user_policy("bob", "ec2-access", &policy(statements))
        .await;
}

fn run_instances_params() -> Value {
    json!({
        "instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1}]},
        "instanceType": "m5.large",
        "iamInstanceProfile": {"arn": format!("arn:aws:iam::{ACCOUNT}:instance-profile/app")}
    })
}

/// `RunInstances` with an instance profile: the failed check was `iam:PassRole` on the role,
/// which only the decoded message says.
#[tokio::test]
async fn encoded_run_instances_needs_pass_role() {
    let env = evidence().await;
    bob_with(json!([allow("ec2:RunInstances", "*")])).await;
    let role = format!("arn:aws:iam::{ACCOUNT}:role/app-role");
    let blob = "EncodedPassRoleExample0123456789abcdefABCDEF";
    env.encoded_message(
        blob,
        &decoded(
            "iam:PassRole",
            &role,
            false,
            &[("iam:PassedToService", "ec2.amazonaws.com")],
        ),
        Value::Null,
    );

    let r = analyze_one(ec2_denial(
        117,
        "RunInstances",
        run_instances_params(),
        blob,
    ))
    .await;

    assert_eq!(
        r["AssessmentResult"], "Missing allow in an identity-based policy",
        "{r:#}"
    );
    assert_eq!(r["Request"][0]["Action"], "iam:PassRole");
    assert_eq!(r["Request"][0]["Resource"], json!(role));
    assert_eq!(
        r["ResultDetails"]["PoliciesToAdd"][0]["Policy"]["Statement"][0]["Action"],
        "iam:PassRole"
    );
    assert_eq!(r["FixVerified"], true);
    expect_evidence(&r, "DecodedMessage", "Now", json!(true));
    assert_eq!(r["Evidence"]["AwsDecision"], "ImplicitDeny");
    assert!(!r["Notes"]
        .to_string()
        .contains("decode-authorization-message"));
}

/// A condition on `ec2:InstanceType`: the decoded context gives its value.
#[tokio::test]
async fn encoded_instance_type_condition_is_evaluated() {
    let env = evidence().await;
    bob_with(json!([{
        "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
        "Condition": {"StringEquals": {"ec2:InstanceType": "t3.micro"}}
    }]))
    .await;
    let blob = "EncodedInstanceTypeExample0123456789abcdef";
    let instance = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*");
    env.encoded_message(
        blob,
        &decoded(
            "ec2:RunInstances",
            &instance,
            false,
            &[
                ("ec2:InstanceType", "m5.large"),
                ("aws:Region", "us-east-1"),
            ],
        ),
        Value::Null,
    );

    let r = analyze_one(ec2_denial(
        118,
        "RunInstances",
        run_instances_params(),
        blob,
    ))
    .await;

    assert_eq!(
        r["AssessmentResult"], "Missing allow in an identity-based policy",
        "{r:#}"
    );
    assert_eq!(r["Request"][0]["Context"]["ec2:instancetype"], "m5.large");
    expect_evidence(&r, "DecodedMessage", "Now", json!(true));
    assert_eq!(
        r["Unevaluated"],
        Value::Null,
        "nothing left unevaluated: {r:#}"
    );
}

/// A tag condition: EC2's decoded `ec2:ResourceTag/<k>` answers a policy written with
/// `aws:ResourceTag/<k>`; an explicit deny on it agrees with AWS's `explicitDeny`.
#[tokio::test]
async fn encoded_tag_condition_explicit_deny() {
    let env = evidence().await;
    let guard = json!({
        "Sid": "OnlyTeamRed", "Effect": "Deny", "Action": "ec2:StopInstances", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:ResourceTag/Team": "red"}}
    });
    bob_with(json!([allow("ec2:*", "*"), guard.clone()])).await;
    let blob = "EncodedTagExample0123456789abcdefABCDEF";
    let inst = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0123456789abcdef0");
    env.encoded_message(
        blob,
        &decoded(
            "ec2:StopInstances",
            &inst,
            true,
            &[("ec2:ResourceTag/Team", "blue")],
        ),
        Value::Null,
    );
    let params =
        json!({"instancesSet": {"items": [{"instanceId": "i-0123456789abcdef0"}]}, "force": false});

    let r = analyze_one(ec2_denial(119, "StopInstances", params, blob)).await;

    assert_eq!(
        r["AssessmentResult"], "Explicit deny in an identity-based policy",
        "{r:#}"
    );
    assert_eq!(
        r["ResultDetails"]["ExplicitDenyPolicies"][0]["PolicyStatement"],
        guard
    );
    expect_evidence(&r, "DecodedMessage", "Now", json!(true));
    assert_eq!(r["Evidence"]["AwsDecision"], "ExplicitDeny");
}

/// Decoding refused: the request is read from the event as before, and the result says why.
#[tokio::test]
async fn encoded_message_not_decodable_falls_back() {
    let env = evidence().await;
    bob_with(json!([allow("ec2:DescribeInstances", "*")])).await;
    let blob = "EncodedDeniedExample0123456789abcdefABCDEF";
    env.encoded_message(
        blob,
        &decoded("ec2:StopInstances", "*", false, &[]),
        json!("AccessDenied"),
    );
    let params =
        json!({"instancesSet": {"items": [{"instanceId": "i-0123456789abcdef0"}]}, "force": false});

    let r = analyze_one(ec2_denial(120, "StopInstances", params, blob)).await;

    assert_eq!(
        r["AssessmentResult"], "Missing allow in an identity-based policy",
        "{r:#}"
    );
    expect_evidence(&r, "CurrentPolicies", "Now", Value::Null);
    assert!(
        r["Evidence"]["Notes"]
            .to_string()
            .contains("could not be decoded"),
        "{r:#}"
    );
}

/// The Lambda end to end with the production wiring: the stored item and the alert carry AWS's
/// evidence.
#[tokio::test]
async fn lambda_stores_and_alerts_with_troubleshooter_evidence() {
    use crate::support::lambda::{
        create_table, create_topic_with_queue, receive_all, s, scan, TABLE,
    };
    use access_undenied::lambda::{Config, Handler};

    let env = evidence().await;
    let (_, because) = alice_denied(&env, Value::Null).await;
    let config = crate::support::config().await;
    let ddb = create_table(&config, TABLE).await;
    let (topic, queue) = create_topic_with_queue(&config).await;
    let cfg = Config::from_lookup(|key: &str| match key {
        "RESULTS_TABLE" => Some(TABLE.to_string()),
        "ALERTS_TOPIC_ARN" => Some(topic.clone()),
        "POLICY_CACHE_SECONDS" => Some("0".to_string()),
        _ => None,
    })
    .unwrap();
    let h = Handler::from_config(&cfg).await;
    let envelope = json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467799",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.dynamodb",
        "account": ACCOUNT,
        "time": "2026-11-20T10:04:31Z",
        "region": "us-east-1",
        "resources": [],
        "detail": get_item(121, &because),
    });

    let out = h.handle(envelope).await.unwrap();

    assert_eq!(
        out["AssessmentResult"],
        "Explicit deny in an identity-based policy"
    );
    assert_eq!(out["Evidence"]["Source"], "AccessTroubleshooter");
    assert_eq!(out["Evidence"]["EngineAgrees"], true);
    let items = scan(&ddb, TABLE).await;
    let stored: Value =
        serde_json::from_str(s(&items[out["EventId"].as_str().unwrap()], "Result")).unwrap();
    assert_eq!(stored["Evidence"], out["Evidence"]);
    let delivered = receive_all(&config, &queue).await;
    assert_eq!(delivered.len(), 1);
    let alert: Value = serde_json::from_str(&delivered[0].body).unwrap();
    assert_eq!(alert["Evidence"]["AuthorizationId"], ID);
    assert_eq!(
        delivered[0].attributes["EvidenceSource"],
        "AccessTroubleshooter"
    );
    assert_eq!(delivered[0].attributes["EngineAgrees"], "true");
}

/// Run by `scripts/bench calls`: AWS calls for one cold event of alice's world, without
/// evidence, with AWS's recorded evaluation (details plus one call per captured policy), and
/// with a decoded message.
#[tokio::test]
#[ignore = "benchmark: run by scripts/bench calls"]
async fn bench_calls_with_evidence() {
    use crate::support::run::items;
    let env = evidence().await;
    let (_, because) = alice_denied(&env, Value::Null).await;
    let blob = "EncodedBenchExample0123456789abcdefABCDEF";
    env.encoded_message(
        blob,
        &decoded("dynamodb:GetItem", &table(ACCOUNT, "orders"), true, &[]),
        Value::Null,
    );
    let plain = dynamodb(130, &alice(), "GetItem", "orders", ACCOUNT).msg(message(
        &alice(),
        "dynamodb:GetItem",
        &table(ACCOUNT, "orders"),
        &because,
    ));
    let encoded = dynamodb(131, &alice(), "GetItem", "orders", ACCOUNT).msg(format!(
        "You are not authorized to perform this operation. Encoded authorization failure message: {blob}"
    ));
    println!();
    println!(
        "| {:<50} | AWS calls | source |",
        "one cold event (alice, identity deny)"
    );
    println!("|{}|----------:|--------|", "-".repeat(52));
    for (what, record) in [
        ("no evidence in the message", plain),
        (
            "authorization ID (details + 2 captured policies)",
            get_item(132, &because),
        ),
        ("encoded message (decoded)", encoded),
    ] {
        let source = crate::support::source().await;
        let r = access_undenied::app::diagnose_item(&items(&[record])[0], &source).await;
        println!(
            "| {what:<50} | {:>9} | {:?} |",
            source.calls(),
            r.evidence.source
        );
    }
}

/// A resource control policy and a resource-based policy AWS captured: each deny is the cause,
/// named with its type.
#[tokio::test]
async fn troubleshooter_rcp_and_resource_policy_denies() {
    let rcp =
        "arn:aws:organizations::999999999999:policy/o-exampleorg/resource_control_policy/p-rcp1";
    let root = "arn:aws:organizations::999999999999:root/o-exampleorg/r-ab12";
    let table_arn = table(ACCOUNT, "orders");
    for (n, t, uri, at, assessment, gate) in [
        (
            123,
            "RESOURCE_CONTROL_POLICY",
            rcp,
            root.to_string(),
            "Explicit deny in a resource control policy",
            "Rcp",
        ),
        (
            124,
            "RESOURCE_BASED_POLICY",
            "tablepolicy1",
            table_arn.clone(),
            "Explicit deny in a resource-based policy",
            "ResourceBased",
        ),
    ] {
        let env = evidence().await;
        alice_world(None).await;
        let mut deny = deny_get_item();
        deny["Principal"] = json!("*");
        seed_one_deny(&env, t, uri, &at, deny);
        let words = if gate == "Rcp" {
            "a resource control policy"
        } else {
            "a resource-based policy"
        };
        let r = analyze_one(get_item(n, &format!("with an explicit deny in {words}"))).await;
        assert_eq!(r["AssessmentResult"], assessment, "{r:#}");
        expect_evidence(&r, "AccessTroubleshooter", "EventTime", json!(true));
        assert_eq!(r["Evidence"]["AwsDenying"][0]["PolicyType"], gate);
        assert_eq!(r["Evidence"]["AwsDenying"][0]["Sids"], json!(["NoReads"]));
        drop(env);
    }
}
