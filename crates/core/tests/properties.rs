//! Property tests: the wildcard matcher against a regex model, policy parse → serialize → parse
//! round trips, and engine invariants (a matching Deny always wins; adding an Allow never turns
//! an allowed request into a denied one).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use access_undenied_core::eval::{
    evaluate, Context, Decision, NamedPolicy, PolicySet, Principal, Request, ResourceKind,
    ResourceSide,
};
use access_undenied_core::policy::{pattern_glob, Matcher, Pattern, Policy};
use proptest::prelude::*;
use serde_json::{json, Value};

fn regex_model(pattern: &str) -> regex::Regex {
    let mut re = String::from("(?s)^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn wildcard_matches_regex_model(pattern in "[ab*?é:/]{0,10}", subject in "[abé:/]{0,12}") {
        let parsed = Pattern::parse(&pattern, false);
        prop_assert_eq!(pattern_glob(&parsed.parts, &subject), regex_model(&pattern).is_match(&subject));
    }

    /// The compiled matcher (exact, prefix, suffix, any, glob) gives the model's answer too.
    #[test]
    fn compiled_matcher_matches_regex_model(pattern in "[ab*?é:/]{0,10}", subject in "[abé:/]{0,12}") {
        let compiled = Matcher::glob(&Pattern::parse(&pattern, false).parts);
        prop_assert_eq!(compiled.whole(&subject), Some(regex_model(&pattern).is_match(&subject)));
    }
}

fn action() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "s3:GetObject",
        "s3:Get*",
        "*",
        "kms:Decrypt",
        "iam:PassRole",
        "ec2:Describe*",
        "S3:putobject",
    ])
    .prop_map(str::to_string)
}

fn resource() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "*",
        "arn:aws:s3:::bucket/*",
        "arn:aws:s3:::bucket/home/${aws:username}/*",
        "arn:aws:kms:us-east-1:111122223333:key/*",
        "arn:aws:iam::111122223333:role/r?",
    ])
    .prop_map(str::to_string)
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop::sample::select(vec![
        json!({"StringEquals": {"aws:username": "alice"}}),
        json!({"StringLike": {"s3:prefix": ["home/*", "public/?"]}}),
        json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}}),
        json!({"NumericLessThan": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": true}}),
        json!({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}),
        json!({"StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}),
        json!({"Null": {"aws:MultiFactorAuthAge": "true"}}),
    ]))
}

prop_compose! {
    fn statement()(
        sid in prop::option::of("[A-Za-z0-9]{1,8}"),
        deny in any::<bool>(),
        not_action in any::<bool>(),
        actions in prop::collection::vec(action(), 1..3),
        resources in prop::collection::vec(resource(), 1..3),
        cond in condition(),
        principal in prop::option::of(prop::sample::select(vec![
            json!("*"),
            json!({"AWS": "arn:aws:iam::111122223333:user/alice"}),
            json!({"AWS": ["111122223333", "arn:aws:iam::444455556666:root"], "Service": "s3.amazonaws.com"}),
        ])),
    ) -> Value {
        let mut s = serde_json::Map::new();
        if let Some(sid) = sid { s.insert("Sid".into(), json!(sid)); }
        s.insert("Effect".into(), json!(if deny { "Deny" } else { "Allow" }));
        if let Some(p) = principal { s.insert("Principal".into(), p); }
        let a = if actions.len() == 1 { json!(actions[0]) } else { json!(actions) };
        s.insert(if not_action { "NotAction" } else { "Action" }.into(), a);
        s.insert("Resource".into(), json!(resources));
        if let Some(c) = cond { s.insert("Condition".into(), c); }
        Value::Object(s)
    }
}

prop_compose! {
    fn policy_doc()(statements in prop::collection::vec(statement(), 1..4), single in any::<bool>()) -> Value {
        if single && statements.len() == 1 {
            json!({"Version": "2012-10-17", "Statement": statements[0]})
        } else {
            json!({"Version": "2012-10-17", "Statement": statements})
        }
    }
}

fn without_raw(p: &Policy) -> Policy {
    let mut p = p.clone();
    for s in &mut p.statements {
        s.raw = Value::Null;
    }
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn parse_serialize_parse_round_trips(doc in policy_doc()) {
        let first = Policy::from_value(&doc).unwrap();
        let again = Policy::from_value(&first.to_value()).unwrap();
        prop_assert_eq!(without_raw(&first), without_raw(&again));
        prop_assert_eq!(first.to_value(), again.to_value());
    }

    #[test]
    fn matching_deny_wins_and_allows_are_monotone(doc in policy_doc(), extra in statement()) {
        let policy = Policy::from_value(&doc).unwrap();
        let principal = Principal::from_arn("arn:aws:iam::111122223333:user/alice");
        let mut ctx = Context::new();
        ctx.set("aws:SourceIp", "203.0.113.9");
        ctx.set("aws:CurrentTime", "2024-05-01T00:00:00Z");
        let req = Request::new(principal, "s3:GetObject", "arn:aws:s3:::bucket/home/alice/x", None, ctx);
        let named = |p: Policy, n: &str| NamedPolicy { name: n.into(), arn: None, attached_to: None, policy: std::sync::Arc::new(p) };
        let mut set = PolicySet::default();
        set.identity.push(named(policy.clone(), "P"));
        let before = evaluate(&req, &set);

        // Adding an Allow never turns Allowed into a denial.
        let mut allow = extra.clone();
        allow["Effect"] = json!("Allow");
        allow.as_object_mut().unwrap().remove("Principal");
        let added = Policy::from_value(&json!({"Version": "2012-10-17", "Statement": allow})).unwrap();
        let mut more = set.clone();
        more.identity.push(named(added, "Extra"));
        let after = evaluate(&req, &more);
        if before.decision == Decision::Allowed {
            prop_assert_eq!(after.decision, Decision::Allowed);
        }

        // A Deny that matches everything always wins.
        let deny = Policy::from_value(&json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}})).unwrap();
        let mut denied = set.clone();
        denied.identity.push(named(deny, "DenyAll"));
        prop_assert_eq!(evaluate(&req, &denied).decision, Decision::ExplicitDeny);
    }
}

/// A resource-policy statement: `statement()` naming its principals with `Principal` or
/// `NotPrincipal` (with either effect, `Allow` + `NotPrincipal` included).
fn resource_statement() -> impl Strategy<Value = Value> {
    (statement(), any::<bool>(), prop::sample::select(vec![
        json!("*"),
        json!({"AWS": "arn:aws:iam::111122223333:user/alice"}),
        json!({"AWS": ["111122223333", "arn:aws:iam::444455556666:root"]}),
        json!({"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:role/R", "arn:aws:sts::111122223333:assumed-role/R/s"]}),
    ]))
        .prop_map(|(mut s, not, p)| {
            let obj = s.as_object_mut().unwrap();
            obj.remove("Principal");
            obj.insert(if not { "NotPrincipal" } else { "Principal" }.into(), p);
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// No gate says two things at once: an `Allow` outcome never blocks, an `ExplicitDeny`
    /// always does, an exempt or inapplicable gate never does — for every principal type,
    /// same- and cross-account, with a boundary or not.
    #[test]
    fn gate_outcomes_and_blocking_agree(
        identity in policy_doc(),
        resource in prop::collection::vec(resource_statement(), 1..4),
        boundary in prop::option::of(policy_doc()),
        caller in prop::sample::select(vec![
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:sts::111122223333:assumed-role/R/s",
            "arn:aws:sts::111122223333:federated-user/alice",
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::444455556666:user/bob",
            "arn:aws:sts::444455556666:assumed-role/R/s",
        ]),
    ) {
        let mut ctx = Context::new();
        ctx.set("aws:SourceIp", "203.0.113.9");
        let req = Request::new(Principal::from_arn(caller), "s3:GetObject", "arn:aws:s3:::bucket/home/alice/x", Some("111122223333".into()), ctx);
        let named = |doc: &Value, n: &str| NamedPolicy { name: n.into(), arn: None, attached_to: None, policy: std::sync::Arc::new(Policy::from_value(doc).unwrap()) };
        let mut set = PolicySet::default();
        set.identity.push(named(&identity, "P"));
        set.permissions_boundary = boundary.as_ref().map(|b| named(b, "B"));
        set.resource = Some(ResourceSide {
            kind: ResourceKind::S3Bucket,
            policy: Some(named(&json!({"Version": "2012-10-17", "Statement": resource}), "BucketPolicy")),
        });
        let e = evaluate(&req, &set);
        for g in &e.gates {
            prop_assert!(g.is_consistent(), "{:?} contradicts itself in {:#?}", g, e);
        }
    }
}
