//! The evidence rules on small hand-made cases: what the message says, AWS's recorded
//! evaluation against the engine, and what changed since the event.

use serde_json::{json, Value};

use super::troubleshooter::CapturedAuthorization;
use super::*;
use crate::assemble::{CollectError, PolicyDoc};
use crate::eval::{Decision, PolicySet, Principal, Request};
use crate::event::parse_message;
use crate::explain::diagnose;
use crate::policy::PolicyCache;

const USER: &str = "arn:aws:iam::111122223333:user/alice";
const BUCKET_OBJ: &str = "arn:aws:s3:::reports/q1.csv";
const DENY_ARN: &str = "arn:aws:iam::111122223333:policy/DenyReports";
const ALLOW_ARN: &str = "arn:aws:iam::111122223333:policy/ReadReports";

fn principal() -> Principal {
    Principal::from_arn(USER)
}

fn doc(effect: &str, sid: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": sid, "Effect": effect, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}
    ]})
}

fn named(arn: &str, document: Value) -> crate::eval::NamedPolicy {
    PolicyDoc {
        name: arn.rsplit('/').next().unwrap_or(arn).to_string(),
        arn: arn.to_string(),
        attached_to: USER.to_string(),
        document,
    }
    .to_named()
    .expect("policy parses")
}

/// The request and set read now: `policies` attached to alice.
fn now(policies: &[(&str, Value)]) -> Vec<(Request, PolicySet)> {
    let set = PolicySet {
        identity: policies.iter().map(|(a, d)| named(a, d.clone())).collect(),
        ..PolicySet::default()
    };
    let request = Request::new(
        principal(),
        "s3:GetObject",
        BUCKET_OBJ,
        Some("111122223333".into()),
        crate::eval::Context::new(),
    );
    vec![(request, set)]
}

/// AWS's record: `effect` for s3:GetObject, the policies (uri → document) evaluated, and the
/// statements it matched.
fn captured(effect: &str, policies: &[(&str, Value)], matched: Value) -> CapturedAuthorization {
    let details = json!({
        "requestContext": {"aws:SecureTransport": true, "aws:SourceIp": "198.51.100.7"},
        "evaluations": [{
            "action": "s3:GetObject",
            "resource": BUCKET_OBJ,
            "evaluatedEffect": effect,
            "matchedPolicies": matched,
        }],
        "policies": policies.iter().map(|(uri, _)| json!({
            "type": "IDENTITY_BASED_POLICY", "inline": false, "uri": uri,
            "attachedTo": [{"arn": USER}]
        })).collect::<Vec<_>>(),
    });
    CapturedAuthorization {
        details: serde_json::from_value(details).expect("wire shape"),
        documents: policies
            .iter()
            .map(|(uri, d)| (uri.to_string(), Ok(d.clone())))
            .collect(),
    }
}

fn verdict(c: &CapturedAuthorization, current: &[(Request, PolicySet)]) -> DiagnosisResult {
    with_troubleshooter(
        "e1",
        "abc123",
        c,
        &principal(),
        current,
        None,
        &mut PolicyCache::default(),
    )
}

fn deny_match() -> Value {
    json!([{"uri": DENY_ARN, "matchedStatements": [{"sid": "NoReports", "evaluatedEffect": "DENY"}]}])
}

#[test]
fn troubleshooter_agreeing_explicit_deny_quotes_the_captured_statement() {
    let policies = [
        (DENY_ARN, doc("Deny", "NoReports")),
        (ALLOW_ARN, doc("Allow", "Read")),
    ];
    let r = verdict(
        &captured("EXPLICIT_DENY", &policies, deny_match()),
        &now(&policies),
    );
    assert_eq!(r.assessment_result, Assessment::ExplicitDenyIdentity);
    let e = &r.evidence;
    assert_eq!(e.source, EvidenceSource::AccessTroubleshooter);
    assert_eq!(e.authorization_id.as_deref(), Some("abc123"));
    assert_eq!(e.policies_as_of, PoliciesAsOf::EventTime);
    assert_eq!(e.aws_decision, Some(AwsDecision::ExplicitDeny));
    assert_eq!(
        e.aws_denying,
        vec![AwsDenying {
            policy_arn: Some(DENY_ARN.into()),
            policy_type: crate::eval::GateKind::IdentityBased,
            sids: vec!["NoReports".into()],
        }]
    );
    assert_eq!(e.engine_agrees, Some(true));
    assert!(e.changed_since.is_empty());
    assert!(!e.fixed_since);
    assert_eq!(
        r.result_details.explicit_deny_policies[0].policy_arn,
        DENY_ARN
    );
}

#[test]
fn troubleshooter_changed_policy_quotes_then_and_fixes_now() {
    // At request time the deny covered reports/*; now it names another bucket, and no allow
    // exists: the cause is the captured deny, the fix is the missing allow of today.
    let then = [(DENY_ARN, doc("Deny", "NoReports"))];
    let today = [(
        DENY_ARN,
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoReports", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}
        ]}),
    )];
    let r = verdict(
        &captured("EXPLICIT_DENY", &then, deny_match()),
        &now(&today),
    );
    assert_eq!(r.assessment_result, Assessment::ExplicitDenyIdentity);
    assert_eq!(
        r.result_details.explicit_deny_policies[0].policy_statement["Resource"],
        json!("arn:aws:s3:::reports/*"),
        "quoted as captured"
    );
    assert_eq!(
        r.result_details.policies_to_add.len(),
        1,
        "the allow missing now"
    );
    assert_eq!(r.fix_verified, Some(true));
    assert_eq!(
        r.evidence.changed_since,
        vec![PolicyChange {
            policy_arn: DENY_ARN.into(),
            change: Change::Modified
        }]
    );
    assert!(!r.evidence.fixed_since);
}

#[test]
fn troubleshooter_fixed_since_when_today_allows() {
    let then = [
        (DENY_ARN, doc("Deny", "NoReports")),
        (ALLOW_ARN, doc("Allow", "Read")),
    ];
    let today = [(ALLOW_ARN, doc("Allow", "Read"))];
    let r = verdict(
        &captured("EXPLICIT_DENY", &then, deny_match()),
        &now(&today),
    );
    assert_eq!(r.assessment_result, Assessment::ExplicitDenyIdentity);
    assert!(r.evidence.fixed_since);
    assert!(r.result_details.policies_to_add.is_empty());
    assert_eq!(r.fix_verified, None);
    assert_eq!(
        r.evidence.changed_since,
        vec![PolicyChange {
            policy_arn: DENY_ARN.into(),
            change: Change::Detached
        }]
    );
    assert!(r
        .explanation
        .as_deref()
        .is_some_and(|x| x.contains("fixed since")));
}

#[test]
fn troubleshooter_disagreement_is_reported_never_hidden() {
    // AWS says an implicit deny, but the captured allow covers the request: one of the two is
    // wrong, and the result says so.
    let policies = [(ALLOW_ARN, doc("Allow", "Read"))];
    let r = verdict(
        &captured("IMPLICIT_DENY", &policies, json!([])),
        &now(&policies),
    );
    assert_eq!(r.evidence.engine_agrees, Some(false));
    assert_eq!(r.evidence.policies_as_of, PoliciesAsOf::Now);
    assert!(r.evidence.notes.iter().any(|n| n.contains("decides allow")));
}

#[test]
fn troubleshooter_implicit_deny_names_the_gate_without_allow() {
    let r = verdict(&captured("IMPLICIT_DENY", &[], json!([])), &now(&[]));
    assert_eq!(r.assessment_result, Assessment::MissingAllowIdentity);
    assert_eq!(r.evidence.aws_decision, Some(AwsDecision::ImplicitDeny));
    assert_eq!(r.evidence.engine_agrees, Some(true));
    assert_eq!(r.result_details.policies_to_add.len(), 1);
}

#[test]
fn troubleshooter_document_not_fetched_makes_its_gate_unknown() {
    let policies = [(DENY_ARN, doc("Deny", "NoReports"))];
    let mut c = captured("EXPLICIT_DENY", &policies, deny_match());
    c.documents.insert(
        DENY_ARN.into(),
        Err(CollectError::AccessDenied {
            what: "iam-toolbox:GetRequestAuthorizationPolicy".into(),
            message: "no".into(),
        }),
    );
    let e = &c.details.evaluations[0];
    let set = c.policy_set(e, &mut PolicyCache::default());
    assert_eq!(set.unknown_gates.len(), 1);
    assert!(set.identity.is_empty());
}

#[test]
fn troubleshooter_context_is_what_aws_recorded() {
    let c = captured("IMPLICIT_DENY", &[], json!([]));
    let r = c.request(&principal(), &c.details.evaluations[0]);
    use crate::eval::Lookup as ContextLookup;
    assert!(
        matches!(r.context.lookup("aws:securetransport"), ContextLookup::Present(v) if v.values == ["true"])
    );
    assert!(matches!(
        r.context.lookup("aws:sourceip"),
        ContextLookup::Present(_)
    ));
    assert!(matches!(
        r.context.lookup("aws:sourcevpce"),
        ContextLookup::Absent
    ));
}

#[test]
fn troubleshooter_sets_every_gate_from_policy_types() {
    let types = [
        (
            "SERVICE_CONTROL_POLICY",
            "arn:aws:organizations::999999999999:policy/o-a/service_control_policy/p-1",
            "arn:aws:organizations::999999999999:root/o-a/r-1",
        ),
        (
            "SERVICE_CONTROL_POLICY",
            "arn:aws:organizations::999999999999:policy/o-a/service_control_policy/p-2",
            "arn:aws:organizations::999999999999:account/o-a/111122223333",
        ),
        (
            "RESOURCE_CONTROL_POLICY",
            "arn:aws:organizations::999999999999:policy/o-a/resource_control_policy/p-3",
            "arn:aws:organizations::999999999999:root/o-a/r-1",
        ),
        ("SESSION_POLICY", "sessionpolicy1", USER),
        (
            "VPC_ENDPOINT_POLICY",
            "vpce1",
            "arn:aws:ec2:us-east-1:111122223333:vpc-endpoint/vpce-1",
        ),
        (
            "PERMISSIONS_BOUNDARY",
            "arn:aws:iam::111122223333:policy/Boundary",
            USER,
        ),
        (
            "RESOURCE_BASED_POLICY",
            "bucketpolicy1",
            "arn:aws:s3:::reports",
        ),
    ];
    let details = json!({
        "evaluations": [{"action": "s3:GetObject", "resource": BUCKET_OBJ, "evaluatedEffect": "IMPLICIT_DENY"}],
        "policies": types.iter().map(|(t, uri, at)| json!({"type": t, "uri": uri, "attachedTo": [{"arn": at}]})).collect::<Vec<_>>(),
    });
    let c = CapturedAuthorization {
        details: serde_json::from_value(details).expect("wire"),
        documents: types
            .iter()
            .map(|(_, uri, _)| (uri.to_string(), Ok(doc("Allow", "A"))))
            .collect(),
    };
    let set = c.policy_set(&c.details.evaluations[0], &mut PolicyCache::default());
    let scps = set.scps.as_ref().expect("scps");
    assert_eq!(scps.len(), 2);
    assert_eq!(scps[0].node_id, "r-1", "root first");
    assert_eq!(scps[1].node_id, "111122223333");
    assert_eq!(set.rcps.as_ref().map(Vec::len), Some(1));
    assert_eq!(set.session.len(), 1);
    assert!(!set.session_policies_unknown);
    assert_eq!(set.vpc_endpoints.len(), 1);
    assert!(set.permissions_boundary.is_some());
    assert!(set.resource.as_ref().is_some_and(|r| r.policy.is_some()));
    assert!(set.unknown_gates.is_empty());
    // The engine: the boundary, session, SCPs, RCP, VPCE and bucket allow; no identity policy
    // allows (the bucket policy's principal is not set: it grants nobody).
    let r = c.request(&principal(), &c.details.evaluations[0]);
    assert_ne!(crate::eval::evaluate(&r, &set).decision, Decision::Allowed);
}

#[test]
fn message_evidence_checks_the_named_type() {
    let m = "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::reports/q1.csv\" with an explicit deny in an identity-based policy: arn:aws:iam::111122223333:policy/DenyReports";
    let hint = parse_message(m);
    let policies = [(DENY_ARN, doc("Deny", "NoReports"))];
    let r = diagnose("e1", &now(&policies), Some(&hint));
    let e = from_message(&hint, &r, false);
    assert_eq!(e.source, EvidenceSource::ErrorMessage);
    assert_eq!(e.aws_decision, Some(AwsDecision::ExplicitDeny));
    assert_eq!(e.engine_agrees, Some(true));
    assert!(e.notes.is_empty());
    // Today nothing denies and an allow exists: AWS named a deny, the engine allows.
    let allowed = diagnose(
        "e1",
        &now(&[(ALLOW_ARN, doc("Allow", "Read"))]),
        Some(&hint),
    );
    let e = from_message(&hint, &allowed, false);
    assert_eq!(e.engine_agrees, Some(false));
    assert!(e.notes[0].contains("DenyReports"));
    // Another deny policy denies now: same type, but the named one is not among them.
    let other = diagnose(
        "e1",
        &now(&[("arn:aws:iam::111122223333:policy/Other", doc("Deny", "X"))]),
        Some(&hint),
    );
    let e = from_message(&hint, &other, false);
    assert_eq!(e.engine_agrees, Some(true));
    assert!(e.notes[0].contains("not among the denying statements"));
}

#[test]
fn message_without_type_rests_on_the_policies() {
    let hint = parse_message("Access Denied");
    let r = diagnose("e1", &now(&[]), Some(&hint));
    assert_eq!(
        from_message(&hint, &r, false).source,
        EvidenceSource::CurrentPolicies
    );
    let e = from_message(&hint, &r, true);
    assert_eq!(e.source, EvidenceSource::Snapshot);
    assert_eq!((e.aws_decision, e.engine_agrees), (None, None));
}

#[test]
fn evidence_serializes_every_field() {
    let v = serde_json::to_value(Evidence::default()).expect("serializes");
    let keys: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "Source",
            "AuthorizationId",
            "PoliciesAsOf",
            "AwsDecision",
            "AwsDenying",
            "EngineAgrees",
            "ChangedSince",
            "FixedSince",
            "Notes"
        ]
    );
    assert_eq!(v["Source"], "CurrentPolicies");
    assert_eq!(v["EngineAgrees"], Value::Null);
}

#[test]
fn decoded_message_parses_aws_shape() {
    let text = r#"{"allowed":false,"explicitDeny":true,"matchedStatements":{"items":[{"statementId":"OnlyTeamRed","effect":"DENY"}]},"failures":{"items":[]},"context":{"principal":{"id":"AIDAX","name":"bob","arn":"arn:aws:iam::111122223333:user/bob"},"action":"ec2:StopInstances","resource":"arn:aws:ec2:us-east-1:111122223333:instance/i-1","conditions":{"items":[{"key":"ec2:ResourceTag/Team","values":{"items":[{"value":"blue"}]}},{"key":"aws:Region","values":{"items":[{"value":"us-east-1"},{"value":"us-west-2"}]}}]}}}"#;
    let d = decoded::DecodedMessage::parse(text).expect("parses");
    assert_eq!(d.action, "ec2:StopInstances");
    assert_eq!(d.decision(), AwsDecision::ExplicitDeny);
    assert_eq!(d.matched_sids, ["OnlyTeamRed"]);
    assert_eq!(d.conditions[1].1, ["us-east-1", "us-west-2"]);
    let e = d.evidence(Some(Decision::ExplicitDeny));
    assert_eq!(
        (e.source, e.engine_agrees),
        (EvidenceSource::DecodedMessage, Some(true))
    );
    assert!(e.notes[0].contains("OnlyTeamRed"));
    assert_eq!(
        d.evidence(Some(Decision::Allowed)).engine_agrees,
        Some(false)
    );
    assert_eq!(d.evidence(None).engine_agrees, None);
}

#[test]
fn decoded_message_rejects_what_it_cannot_use() {
    for bad in [
        "not json",
        r#"{"allowed":false}"#,
        r#"{"context":{"action":"no-colon"}}"#,
        r#"{"context":{"action":"a:b","action":"c:d"}}"#,
    ] {
        assert!(decoded::DecodedMessage::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn changes_ignore_gates_the_record_does_not_cover() {
    // Today alice's account has an SCP; AWS's record lists none: not "attached since".
    let captured = now(&[(ALLOW_ARN, doc("Allow", "Read"))]).remove(0).1;
    let mut current = captured.clone();
    current.scps = Some(vec![crate::eval::OrgLevel {
        node_id: "r-1".into(),
        node_arn: Some("arn:aws:organizations::9:root/o-a/r-1".into()),
        policies: vec![named(
            "arn:aws:organizations::9:policy/o-a/service_control_policy/p-1",
            doc("Allow", "All"),
        )],
    }]);
    assert!(changed_since(&captured, &current).is_empty());
    // A boundary attached since is a change (AWS lists the boundary whenever there is one).
    current.permissions_boundary = Some(named(
        "arn:aws:iam::111122223333:policy/B",
        doc("Allow", "B"),
    ));
    assert_eq!(
        changed_since(&captured, &current),
        vec![PolicyChange {
            policy_arn: "arn:aws:iam::111122223333:policy/B".into(),
            change: Change::Attached
        }]
    );
}

#[test]
fn named_policy_read_by_arn_says_what_changed() {
    let items = now(&[(ALLOW_ARN, doc("Allow", "Read"))]);
    let hint = parse_message(&format!(
        "User: {USER} is not authorized to perform: s3:GetObject on resource: \"{BUCKET_OBJ}\" with an explicit deny in an identity-based policy: {DENY_ARN}"
    ));
    assert_eq!(missing_named_policy(&hint, &items), Some(DENY_ARN));
    let read = |document: Value| {
        Ok(PolicyDoc {
            name: "DenyReports".into(),
            arn: DENY_ARN.into(),
            attached_to: String::new(),
            document,
        })
    };
    let change = |r: Result<PolicyDoc, CollectError>| {
        let mut e = Evidence::default();
        check_named_policy(DENY_ARN, r, &items, &mut e);
        (e.changed_since.first().map(|c| c.change), e.notes.join(" "))
    };
    assert_eq!(
        change(read(doc("Deny", "NoReports"))).0,
        Some(Change::Detached)
    );
    let (c, note) = change(read(doc("Allow", "NowAnAllow")));
    assert_eq!(c, Some(Change::Modified));
    assert!(note.contains("no longer denies"), "{note}");
    assert_eq!(
        change(Err(CollectError::NotFound {
            what: DENY_ARN.into()
        }))
        .0,
        Some(Change::Deleted)
    );
    let (c, note) = change(Err(CollectError::AccessDenied {
        what: "iam:GetPolicy".into(),
        message: "no".into(),
    }));
    assert_eq!(c, None);
    assert!(note.contains("could not be read by ARN"), "{note}");
    // A policy that the sets contain, or an implicit deny, is not read by ARN.
    let known = now(&[(DENY_ARN, doc("Deny", "NoReports"))]);
    assert_eq!(missing_named_policy(&hint, &known), None);
    let implicit = parse_message(&format!(
        "User: {USER} is not authorized to perform: s3:GetObject because no identity-based policy allows the s3:GetObject action"
    ));
    assert_eq!(missing_named_policy(&implicit, &items), None);
}
