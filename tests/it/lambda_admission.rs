//! Forged and self-made events never drive the function: each rejected payload is answered
//! with its reason, stored nowhere, alerts nobody and costs no AWS call (the policy source is a
//! recording: it must record nothing). The genuine event next to them is diagnosed.

use std::sync::Arc;

use access_undenied::collect::snapshot::{Recording, SnapshotSource};
use access_undenied::lambda::{Handler, OwnRoles, PolicySources};
use access_undenied::sink::memory::{MemoryNotifier, MemorySink};
use serde_json::{json, Value};

use crate::support::lambda::{kms_envelope, snapshot_source, KMS_EVENT_ID};

struct Fixture {
    handler: Handler,
    source: Arc<Recording<SnapshotSource>>,
    sink: Arc<MemorySink>,
    notifier: Arc<MemoryNotifier>,
}

fn fixture() -> Fixture {
    let snapshot = snapshot_source().snapshot.clone();
    let source = Arc::new(Recording::new(SnapshotSource { snapshot }));
    let sink = Arc::new(MemorySink::new(60));
    let notifier = Arc::new(MemoryNotifier::new());
    let handler = Handler::new(
        PolicySources::Fixed(source.clone()),
        sink.clone(),
        notifier.clone(),
    )
    .with_own_roles(OwnRoles {
        role_arn: Some("arn:aws:iam::999999999999:role/access-undenied-FunctionRole-AB12".into()),
        cross_account_role_name: Some("AccessUndeniedRole".into()),
    });
    Fixture {
        handler,
        source,
        sink,
        notifier,
    }
}

#[tokio::test]
async fn forged_envelopes_and_own_denials_are_rejected_before_any_aws_call() {
    let f = fixture();
    let account = kms_envelope()["account"].clone();
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    let mut custom = kms_envelope();
    custom["source"] = json!("com.example.forger");
    cases.push((
        "custom source",
        custom,
        "source `com.example.forger` is not an AWS service",
    ));
    let mut partner = kms_envelope();
    partner["source"] = json!("aws.partner/example.com/123/forged");
    cases.push(("partner source", partner, "is a partner event source"));
    let mut other = kms_envelope();
    other["account"] = json!("444455556666");
    cases.push((
        "another account's envelope",
        other,
        "the envelope's account `444455556666` is not the record's recipientAccountId",
    ));
    let mut many = kms_envelope();
    let record = many["detail"].clone();
    many["detail"] = json!({"Records": [record.clone(), record.clone(), record]});
    cases.push(("three records in one envelope", many, "carries 3 records"));
    let mut own = kms_envelope();
    own["detail"]["userIdentity"] = json!({
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:access-undenied",
        "arn": format!("arn:aws:sts::{}:assumed-role/AccessUndeniedRole/access-undenied", account.as_str().unwrap()),
        "accountId": account,
        "sessionContext": {"sessionIssuer": {"type": "Role",
            "arn": format!("arn:aws:iam::{}:role/AccessUndeniedRole", account.as_str().unwrap())}}
    });
    cases.push((
        "the function's own denied read",
        own,
        "the function's own session",
    ));
    let mut finding_shaped = kms_envelope();
    finding_shaped["detail"]["eventID"] = json!("FINDING#0123456789abcdef0123456789abcdef");
    cases.push((
        "a finding-shaped eventID",
        finding_shaped,
        "is in the findings' key namespace",
    ));

    for (name, payload, why) in cases {
        let out = f.handler.handle(payload).await.unwrap();
        let reason = out["Rejected"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "{name}: {out}");
        assert!(
            out.get("AssessmentResult").is_none(),
            "{name}: not a diagnosis"
        );
    }
    assert!(f.sink.events().is_empty(), "stored nowhere");
    assert!(f.notifier.sent().is_empty(), "alerted nobody");
    let read = f.source.snapshot();
    assert!(
        read.principals.is_empty()
            && read.identities.is_empty()
            && read.organizations.is_empty()
            && read.resource_policies.is_empty()
            && read.vpc_endpoints.is_empty(),
        "no policy was read, so no AWS call: {read:?}"
    );

    // The genuine event is diagnosed, stored and alerted on.
    let out = f.handler.handle(kms_envelope()).await.unwrap();
    assert_eq!(out["EventId"], KMS_EVENT_ID);
    assert_eq!(
        out["AssessmentResult"],
        "Missing allow in a resource-based policy"
    );
    assert_eq!(f.sink.events().len(), 1);
    assert_eq!(f.notifier.sent().len(), 1);
    assert!(
        !f.source.snapshot().resource_policies.is_empty(),
        "the recording records reads"
    );
}
