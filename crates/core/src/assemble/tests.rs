//! The assembly rules, tested without any port: an event, a set of facts, the result.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::eval::evaluate;
use crate::event::reader::{Item, RecordReader};
use crate::event::{read_event, Reading};
use crate::explain::{explain, Evaluated};

const ROLE: &str = "arn:aws:iam::111122223333:role/Dev";

fn requests(record: serde_json::Value) -> (Vec<EventRequest>, Vec<Lookup>) {
    let text = record.to_string();
    let ev = match RecordReader::new(text.as_bytes()).next() {
        Some(Item::Denial(e)) => e,
        other => panic!("not a denial: {other:?}"),
    };
    match read_event(&ev, None) {
        Ok(Reading::Requests {
            requests, lookups, ..
        }) => (requests, lookups),
        other => panic!("{other:?}"),
    }
}

fn role_record(
    partition: &str,
    region: &str,
    source: &str,
    name: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    json!({
        "eventID": "e1", "eventSource": source, "eventName": name, "awsRegion": region,
        "errorCode": "AccessDenied", "recipientAccountId": "111122223333",
        "userIdentity": {
            "type": "AssumedRole", "principalId": "AROAEXAMPLE:s", "accountId": "111122223333",
            "arn": format!("arn:{partition}:sts::111122223333:assumed-role/Dev/s"),
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:{partition}:iam::111122223333:role/Dev")}}
        },
        "requestParameters": params
    })
}

fn s3_get(bucket_account: &str) -> serde_json::Value {
    let mut r = role_record(
        "aws",
        "eu-west-1",
        "s3.amazonaws.com",
        "GetObject",
        json!({"bucketName": "b", "key": "k"}),
    );
    r["resources"] =
        json!([{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b", "accountId": bucket_account}]);
    r
}

fn doc(name: &str, arn: &str, statement: serde_json::Value) -> PolicyDoc {
    PolicyDoc {
        name: name.into(),
        arn: arn.into(),
        attached_to: ROLE.into(),
        document: json!({"Version": "2012-10-17", "Statement": statement}),
    }
}

fn allow_all() -> serde_json::Value {
    json!({"Effect": "Allow", "Action": "*", "Resource": "*"})
}

fn org(scps: bool, rcps: bool) -> OrgData {
    let node = |id: &str, arn: &str| OrgNode {
        id: id.into(),
        arn: arn.into(),
        scps: vec![doc(
            "FullAWSAccess",
            "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
            allow_all(),
        )],
        rcps: vec![doc(
            "RCPFullAWSAccess",
            "arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess",
            allow_all(),
        )],
    };
    OrgData {
        organization_id: "o-abc".into(),
        management_account: "999999999999".into(),
        scps_enabled: scps,
        rcps_enabled: rcps,
        path: vec![
            node(
                "r-root",
                "arn:aws:organizations::999999999999:root/o-abc/r-root",
            ),
            node("ou-1", "arn:aws:organizations::999999999999:ou/o-abc/ou-1"),
            node(
                "111122223333",
                "arn:aws:organizations::999999999999:account/o-abc/111122223333",
            ),
        ],
    }
}

fn identity(tags: &[(&str, &str)]) -> IdentityData {
    IdentityData {
        arn: ROLE.into(),
        policies: vec![doc(
            "Read",
            "arn:aws:iam::111122223333:policy/Read",
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
        )],
        boundary: None,
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn the_plan_is_what_the_request_needs() {
    let (_, lookups) = requests(s3_get("444455556666"));
    assert_eq!(
        lookups,
        vec![
            Lookup::Identity { arn: ROLE.into() },
            Lookup::Organization {
                account: "111122223333".into()
            },
            Lookup::Organization {
                account: "444455556666".into()
            },
            Lookup::ResourcePolicy {
                holder_arn: "arn:aws:s3:::b".into(),
                kind: crate::eval::ResourceKind::S3Bucket,
                account: "444455556666".into(),
                region: "eu-west-1".into()
            },
        ]
    );
}

#[test]
fn facts_become_context_keys_before_the_request_is_built() {
    let (reqs, _) = requests(s3_get("111122223333"));
    let mut facts = Facts::default();
    facts
        .identities
        .insert(ROLE.into(), Ok(identity(&[("team", "data")])));
    facts
        .organizations
        .insert("111122223333".into(), Ok(Some(org(true, true))));
    facts.resource_policies.insert(
        "arn:aws:s3:::b".into(),
        Ok(ResourcePolicyData {
            holder_arn: "arn:aws:s3:::b".into(),
            kind: crate::eval::ResourceKind::S3Bucket,
            policy: None,
        }),
    );
    let (req, set) = assemble(&reqs[0], &facts, &mut PolicyCache::default());
    let value = |k: &str| match req.context.lookup(&k.to_ascii_lowercase()) {
        crate::eval::Lookup::Present(v) => v.values.clone(),
        other => panic!("{k}: {other:?}"),
    };
    assert_eq!(value("aws:PrincipalTag/team"), vec!["data"]);
    assert!(matches!(
        req.context.lookup("aws:principaltag/other"),
        crate::eval::Lookup::Absent
    ));
    assert_eq!(value("aws:PrincipalOrgID"), vec!["o-abc"]);
    assert_eq!(value("aws:PrincipalOrgPaths"), vec!["o-abc/r-root/ou-1/"]);
    // The same account: the resource's organization is the principal's.
    assert_eq!(value("aws:ResourceOrgID"), vec!["o-abc"]);
    assert_eq!(value("aws:ResourceAccount"), vec!["111122223333"]);
    assert_eq!(set.management_account.as_deref(), Some("999999999999"));
    assert_eq!(set.scps.as_ref().map(Vec::len), Some(3));
    assert_eq!(set.rcps.as_ref().map(Vec::len), Some(3));
    assert_eq!(set.identity.len(), 1);
    assert!(set.unknown_gates.is_empty());
    assert_eq!(
        evaluate(&req, &set).decision,
        crate::eval::Decision::Allowed
    );
}

#[test]
fn outside_an_organization_the_org_keys_are_absent_and_no_scp_gate_exists() {
    let (reqs, _) = requests(s3_get("111122223333"));
    let mut facts = Facts::default();
    facts.identities.insert(ROLE.into(), Ok(identity(&[])));
    facts.organizations.insert("111122223333".into(), Ok(None));
    facts.resource_policies.insert(
        "arn:aws:s3:::b".into(),
        Err(CollectError::NotFound {
            what: "bucket b".into(),
        }),
    );
    let (req, set) = assemble(&reqs[0], &facts, &mut PolicyCache::default());
    assert!(matches!(
        req.context.lookup("aws:principalorgid"),
        crate::eval::Lookup::Absent
    ));
    assert!(set.scps.is_none() && set.rcps.is_none() && set.management_account.is_none());
    assert_eq!(
        set.unknown_gates,
        vec![UnknownGate {
            gate: GateKind::ResourceBased,
            why: Unreadable::ResourcePolicy {
                holder: "arn:aws:s3:::b".into(),
                error: CollectError::NotFound {
                    what: "bucket b".into()
                }
            }
        }]
    );
    assert_eq!(
        set.unknown_gates[0].why.to_string(),
        "resource policy of arn:aws:s3:::b: bucket b not found"
    );
}

#[test]
fn what_could_not_be_read_is_a_typed_unknown_gate() {
    let (reqs, _) = requests(s3_get("444455556666"));
    let denied = CollectError::AccessDenied {
        what: "iam:GetRole".into(),
        message: "no".into(),
    };
    let mut facts = Facts::default();
    facts.identities.insert(ROLE.into(), Err(denied.clone()));
    facts
        .organizations
        .insert("111122223333".into(), Err(denied.clone()));
    // The resource account's organization and the bucket policy were never answered.
    let (_, set) = assemble(&reqs[0], &facts, &mut PolicyCache::default());
    let gates: Vec<(GateKind, String)> = set
        .unknown_gates
        .iter()
        .map(|u| (u.gate, u.why.to_string()))
        .collect();
    assert_eq!(
        gates,
        vec![
            (GateKind::IdentityBased, format!("identity policies of {ROLE}: access denied while reading iam:GetRole: no")),
            (GateKind::PermissionsBoundary, format!("permissions boundary of {ROLE}: access denied while reading iam:GetRole: no")),
            (GateKind::Scp, "organization of account 111122223333: access denied while reading iam:GetRole: no".into()),
            (GateKind::Rcp, "organization of account 444455556666: 444455556666 is not supported: it was not looked up".into()),
            (GateKind::ResourceBased, "resource policy of arn:aws:s3:::b: arn:aws:s3:::b is not supported: it was not looked up".into()),
        ]
    );
}

#[test]
fn a_malformed_document_is_an_unknown_gate_and_the_others_are_kept() {
    let (reqs, _) = requests(s3_get("111122223333"));
    let mut data = identity(&[]);
    data.policies.push(PolicyDoc {
        document: json!({"Statement": "nope"}),
        ..doc("Bad", "arn:aws:iam::111122223333:policy/Bad", json!([]))
    });
    let mut facts = Facts::default();
    facts.identities.insert(ROLE.into(), Ok(data));
    facts.organizations.insert("111122223333".into(), Ok(None));
    facts.resource_policies.insert(
        "arn:aws:s3:::b".into(),
        Ok(ResourcePolicyData {
            holder_arn: "arn:aws:s3:::b".into(),
            kind: crate::eval::ResourceKind::S3Bucket,
            policy: None,
        }),
    );
    let (req, set) = assemble(&reqs[0], &facts, &mut PolicyCache::default());
    assert_eq!(set.identity.len(), 1);
    assert!(matches!(
        &set.unknown_gates[..],
        [UnknownGate { gate: GateKind::IdentityBased, why: Unreadable::MalformedPolicy { arn, .. } }] if arn.ends_with("policy/Bad")
    ));
    // Possibly denied by the unreadable policy: not conclusive.
    assert!(!evaluate(&req, &set).conclusive);
}

#[test]
fn a_secret_named_without_its_suffix_becomes_the_holders_full_arn() {
    let name = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db";
    let full = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf";
    let (reqs, _) = requests(role_record(
        "aws",
        "eu-west-1",
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        json!({"secretId": name}),
    ));
    assert_eq!(reqs[0].request.resource, name);
    let mut facts = Facts::default();
    facts.identities.insert(ROLE.into(), Ok(identity(&[])));
    facts.organizations.insert("111122223333".into(), Ok(None));
    facts.resource_policies.insert(
        name.into(),
        Ok(ResourcePolicyData {
            holder_arn: full.into(),
            kind: crate::eval::ResourceKind::SecretsManagerSecret,
            policy: None,
        }),
    );
    let (req, _) = assemble(&reqs[0], &facts, &mut PolicyCache::default());
    assert_eq!(req.resource, full);
    assert_eq!(req.resource_account.as_deref(), Some("111122223333"));
}

#[test]
fn a_root_caller_has_no_principal_tags() {
    let record = json!({
        "eventID": "e1", "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1",
        "errorCode": "AccessDenied", "recipientAccountId": "111122223333",
        "userIdentity": {"type": "Root", "principalId": "111122223333", "accountId": "111122223333", "arn": "arn:aws:iam::111122223333:root"},
        "requestParameters": {"bucketName": "b", "key": "k"}
    });
    let (reqs, lookups) = requests(record);
    assert!(!lookups.iter().any(|l| matches!(l, Lookup::Identity { .. })));
    let (req, _) = assemble(&reqs[0], &Facts::default(), &mut PolicyCache::default());
    assert!(matches!(
        req.context.lookup("aws:principaltag/team"),
        crate::eval::Lookup::Absent
    ));
}

#[test]
fn each_distinct_document_is_parsed_once_per_batch() {
    let (reqs, _) = requests(s3_get("111122223333"));
    let mut facts = Facts::default();
    facts.identities.insert(ROLE.into(), Ok(identity(&[])));
    facts
        .organizations
        .insert("111122223333".into(), Ok(Some(org(true, false))));
    let mut cache = PolicyCache::default();
    let (_, a) = assemble(&reqs[0], &facts, &mut cache);
    let (_, b) = assemble(&reqs[0], &facts, &mut cache);
    assert!(Arc::ptr_eq(&a.identity[0].policy, &b.identity[0].policy));
    // Three levels carry the same FullAWSAccess document: one parse for all of them.
    let scps = a.scps.unwrap_or_default();
    assert!(Arc::ptr_eq(
        &scps[0].policies[0].policy,
        &scps[2].policies[0].policy
    ));
    assert_eq!(cache.len(), 2);
}

#[test]
fn fixes_are_written_in_the_callers_partition() {
    let mut record = role_record(
        "aws-cn",
        "cn-north-1",
        "s3.amazonaws.com",
        "GetObject",
        json!({"bucketName": "b", "key": "k"}),
    );
    record["resources"] = json!([{"type": "AWS::S3::Bucket", "ARN": "arn:aws-cn:s3:::b", "accountId": "444455556666"}]);
    let (reqs, lookups) = requests(record);
    let role = "arn:aws-cn:iam::111122223333:role/Dev";
    assert!(lookups.contains(&Lookup::Identity { arn: role.into() }));
    let mut facts = Facts::default();
    facts.identities.insert(
        role.into(),
        Ok(IdentityData {
            arn: role.into(),
            ..IdentityData::default()
        }),
    );
    facts.organizations = BTreeMap::from([
        ("111122223333".to_string(), Ok(None)),
        ("444455556666".to_string(), Ok(None)),
    ]);
    facts.resource_policies.insert(
        "arn:aws-cn:s3:::b".into(),
        Ok(ResourcePolicyData {
            holder_arn: "arn:aws-cn:s3:::b".into(),
            kind: crate::eval::ResourceKind::S3Bucket,
            policy: None,
        }),
    );
    let (req, set) = assemble(&reqs[0], &facts, &mut PolicyCache::default());
    assert_eq!(req.resource, "arn:aws-cn:s3:::b/k");
    let evaluation = evaluate(&req, &set);
    assert!(evaluation.conclusive);
    let result = explain(
        "e1",
        &[Evaluated {
            request: &req,
            set: &set,
            evaluation,
        }],
        None,
    );
    let targets: Vec<&str> = result
        .result_details
        .policies_to_add
        .iter()
        .map(|p| p.attachment_target_arn.as_str())
        .collect();
    assert_eq!(targets, vec!["arn:aws-cn:s3:::b", role]);
    let text = serde_json::to_string(&result.result_details).unwrap_or_default();
    assert!(!text.contains("arn:aws:"), "{text}");
    assert_eq!(result.fix_verified, Some(true));
}

#[test]
fn an_encoded_authorization_message_is_noted_in_the_result() {
    let mut record = role_record(
        "aws",
        "us-east-1",
        "ec2.amazonaws.com",
        "StopInstances",
        json!({"instancesSet": {"items": [{"instanceId": "i-0abc"}]}}),
    );
    record["errorCode"] = json!("Client.UnauthorizedOperation");
    record["errorMessage"] = json!("You are not authorized to perform this operation. Encoded authorization failure message: 4GIOHlTkIaWHQD0Q0m6XSnuUMCm-abcdefghijklmnopqrstuvwxyz0123456789");
    let text = record.to_string();
    let ev = match RecordReader::new(text.as_bytes()).next() {
        Some(Item::Denial(e)) => e,
        other => panic!("{other:?}"),
    };
    assert!(ev.hint.encoded_message.is_some());
    let (reqs, _) = requests(record);
    let (req, set) = assemble(&reqs[0], &Facts::default(), &mut PolicyCache::default());
    let evaluation = evaluate(&req, &set);
    let result = explain(
        "e1",
        &[Evaluated {
            request: &req,
            set: &set,
            evaluation,
        }],
        Some(&ev.hint),
    );
    assert!(
        result
            .notes
            .iter()
            .any(|n| n.contains("decode-authorization-message")),
        "{:?}",
        result.notes
    );
}
