//! The SAM template and the member-account template, parsed: least privilege (no wildcard
//! write action, `sts:AssumeRole` only on the configured role names, writes only to the
//! stack's own resources), the EventBridge pattern equal to the reader's access-denied codes,
//! the table, the function settings and the environment the function reads.

use access_undenied::core::event::ACCESS_DENIED_CODES;
use access_undenied::lambda::ENV_VARS;
use access_undenied::sink::dynamodb::{BY_ACCOUNT_INDEX, BY_PRINCIPAL_INDEX};
use serde_json::{json, Map, Value};

use crate::support::root;

/// YAML → JSON, CloudFormation's short forms (`!Ref`, `!GetAtt A.B`, `!Sub`, `!If`, …) turned
/// into their long forms.
fn to_json(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(n).unwrap(),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other).unwrap().trim().to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = to_json(t.value);
            let (key, value) = match (name, inner) {
                ("Ref", v) => ("Ref".to_string(), v),
                ("GetAtt", Value::String(s)) => {
                    let parts: Vec<Value> = s.splitn(2, '.').map(Value::from).collect();
                    ("Fn::GetAtt".to_string(), Value::Array(parts))
                }
                ("Condition", v) => ("Condition".to_string(), v),
                (other, v) => (format!("Fn::{other}"), v),
            };
            json!({ key: value })
        }
    }
}

pub(crate) fn load(rel: &str) -> Value {
    let path = root().join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    to_json(serde_yaml::from_str(&text).unwrap())
}

pub(crate) fn resources(t: &Value) -> &Map<String, Value> {
    t["Resources"].as_object().unwrap()
}

/// Every policy document of the template: (where, document). Documents inside `Fn::If`
/// branches are included.
fn policy_documents(t: &Value) -> Vec<(String, Value)> {
    fn walk(path: &str, v: &Value, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let here = format!("{path}.{k}");
                    if (k == "PolicyDocument" || k == "AssumeRolePolicyDocument")
                        && child.get("Statement").is_some()
                    {
                        out.push((here.clone(), child.clone()));
                    }
                    walk(&here, child, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(&format!("{path}[{i}]"), child, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (name, r) in resources(t) {
        walk(name, r, &mut out);
    }
    out
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn is_read_only(action: &str) -> bool {
    // IAM files it under Write, but it only turns a denial message into text, and it takes no
    // resource type.
    if action == "sts:DecodeAuthorizationMessage" {
        return true;
    }
    let name = action.split_once(':').map(|(_, n)| n).unwrap_or(action);
    ["Get", "List", "Describe"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Whether an `Fn::Sub` ARN names the stack's own resource: it starts with one of its
/// resources (`${Bucket.Arn}/backfill/*`, `${Function.Arn}:*`), or is a state machine or
/// execution ARN of the name the stack gives its own state machine (`${AWS::StackName}-…`).
fn sub_names_own(text: &str, own: &[&String]) -> bool {
    let starts_with_own = text
        .strip_prefix("${")
        .and_then(|rest| rest.split(['}', '.']).next())
        .is_some_and(|name| own.iter().any(|o| o.as_str() == name));
    let own_state_machine = [
        ":stateMachine:${AWS::StackName}-",
        ":execution:${AWS::StackName}-",
    ]
    .iter()
    .any(|m| text.contains(m));
    starts_with_own || own_state_machine
}

/// The least-privilege problems of a template's allow statements.
fn privilege_problems(t: &Value) -> Vec<String> {
    let own: Vec<&String> = resources(t).keys().collect();
    let params: Vec<&String> = t["Parameters"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    let mut problems = Vec::new();
    for (path, doc) in policy_documents(t) {
        if path.ends_with("AssumeRolePolicyDocument") {
            continue; // trust policies: checked separately
        }
        for st in list(&doc["Statement"]) {
            if st["Effect"] != "Allow" {
                continue;
            }
            let actions: Vec<String> = list(&st["Action"])
                .iter()
                .map(|a| a.as_str().unwrap_or("?").to_string())
                .collect();
            let resources: Vec<Value> = list(&st["Resource"])
                .into_iter()
                .flat_map(|r| match r.get("Fn::If") {
                    // Both branches count.
                    Some(Value::Array(b)) if b.len() == 3 => vec![b[1].clone(), b[2].clone()],
                    _ => vec![r],
                })
                .filter(|r| r.get("Ref") != Some(&json!("AWS::NoValue")))
                .collect();
            if st.get("NotAction").is_some() || st.get("NotResource").is_some() {
                problems.push(format!("{path}: NotAction/NotResource in an allow"));
            }
            for a in &actions {
                if a == "*" || a.ends_with(":*") || (a.contains('*') && !is_read_only(a)) {
                    problems.push(format!("{path}: wildcard write action `{a}`"));
                }
                if is_read_only(a) {
                    continue;
                }
                if a.eq_ignore_ascii_case("sts:AssumeRole") {
                    for r in &resources {
                        let text = r.to_string();
                        let names_role = text.contains("${CrossAccountRoleName}")
                            || r.get("Ref") == Some(&json!("ManagementAccountRoleArn"));
                        if r == "*" || text.contains(":role/*") || !names_role {
                            problems.push(format!("{path}: sts:AssumeRole on {text}"));
                        }
                    }
                    continue;
                }
                // Any other write: only on the stack's own resources (or a key it was given).
                for r in &resources {
                    let target = r
                        .get("Ref")
                        .and_then(Value::as_str)
                        .or_else(|| r.pointer("/Fn::GetAtt/0").and_then(Value::as_str));
                    let ok = target.is_some_and(|x| {
                        own.iter().any(|o| o.as_str() == x)
                            || params.iter().any(|p| p.as_str() == x)
                    }) || r
                        .get("Fn::Sub")
                        .and_then(Value::as_str)
                        .is_some_and(|text| sub_names_own(text, &own));
                    if !ok {
                        problems.push(format!("{path}: write action `{a}` on {r}"));
                    }
                }
            }
        }
    }
    problems
}

fn error_codes(pattern: &Value) -> Vec<String> {
    assert_eq!(
        pattern["detail-type"],
        json!(["AWS API Call via CloudTrail"])
    );
    let mut codes: Vec<String> = pattern["detail"]["errorCode"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    codes.sort();
    codes
}

fn reader_codes() -> Vec<String> {
    let mut codes: Vec<String> = ACCESS_DENIED_CODES.iter().map(|c| c.to_string()).collect();
    codes.sort();
    codes
}

#[test]
fn the_central_template_is_least_privilege() {
    let t = load("template.yaml");
    let problems = privilege_problems(&t);
    assert!(problems.is_empty(), "{problems:#?}");
    // The role can assume exactly the two configured roles.
    let role = &resources(&t)["FunctionRole"];
    let enter = list(&role["Properties"]["Policies"])
        .into_iter()
        .find(|p| p["PolicyName"] == "enter-accounts")
        .unwrap();
    let st = &enter["PolicyDocument"]["Statement"][0];
    assert_eq!(st["Action"], "sts:AssumeRole");
    assert_eq!(
        st["Resource"][0]["Fn::Sub"],
        "arn:${AWS::Partition}:iam::*:role/${CrossAccountRoleName}"
    );
    // ... and only in the organization (or this account without one).
    assert_eq!(
        st["Condition"],
        json!({"Fn::If": ["HasOrganization",
            {"StringEquals": {"aws:ResourceOrgID": {"Ref": "OrganizationId"}}},
            {"StringEquals": {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}}]})
    );
}

#[test]
fn the_checker_catches_wildcards_and_assume_role_on_everything() {
    let mut t = load("template.yaml");
    let role = t
        .pointer_mut("/Resources/FunctionRole/Properties/Policies")
        .unwrap()
        .as_array_mut()
        .unwrap();
    role.push(json!({"PolicyName": "bad", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:*", "s3:Put*", "iam:GetRole"], "Resource": "*"},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:123456789012:other"}
    ]}}));
    let problems = privilege_problems(&t);
    let text = problems.join("\n");
    for needle in [
        "wildcard write action `dynamodb:*`",
        "wildcard write action `s3:Put*`",
        "sts:AssumeRole on \"*\"",
        "write action `sns:Publish` on \"arn:aws:sns:us-east-1:123456789012:other\"",
    ] {
        assert!(text.contains(needle), "{needle} not flagged in:\n{text}");
    }
    assert!(!text.contains("iam:GetRole"), "{text}");
}

#[test]
fn the_rules_match_every_access_denied_code_of_the_reader() {
    let t = load("template.yaml");
    let f = &resources(&t)["AccessUndeniedFunction"]["Properties"];
    assert_eq!(
        f["Events"]["AccessDenied"]["Type"], "EventBridgeRule",
        "the function is triggered by an EventBridge rule"
    );
    assert_eq!(
        error_codes(&f["Events"]["AccessDenied"]["Properties"]["Pattern"]),
        reader_codes()
    );
    let m = load("templates/member-account.yaml");
    assert_eq!(
        error_codes(&resources(&m)["ForwardAccessDenied"]["Properties"]["EventPattern"]),
        reader_codes()
    );
}

#[test]
fn the_function_is_built_and_configured_as_the_binary_expects() {
    let t = load("template.yaml");
    let f = &resources(&t)["AccessUndeniedFunction"];
    assert_eq!(f["Type"], "AWS::Serverless::Function");
    assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda");
    assert_eq!(
        f["Metadata"]["BuildProperties"]["Binary"],
        "access-undenied-lambda"
    );
    let p = &f["Properties"];
    assert_eq!(p["Runtime"], "provided.al2023");
    assert_eq!(p["Handler"], "bootstrap");
    assert_eq!(p["Architectures"], json!([{"Ref": "Architecture"}]));
    assert_eq!(
        t["Parameters"]["Architecture"]["AllowedValues"],
        json!(["arm64", "x86_64"])
    );
    let mut vars: Vec<&str> = p["Environment"]["Variables"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "RUST_LOG")
        .collect();
    vars.sort_unstable();
    let mut expected = ENV_VARS.to_vec();
    expected.sort_unstable();
    assert_eq!(
        vars, expected,
        "every variable the function reads, and no other"
    );
    assert_eq!(
        p["Environment"]["Variables"]["CROSS_ACCOUNT_ROLE_NAME"],
        json!({"Ref": "CrossAccountRoleName"})
    );
    assert_eq!(
        t["Parameters"]["CrossAccountRoleName"]["Default"],
        "AccessUndeniedRole"
    );
    assert!(t["Parameters"].get("ManagementAccountRoleArn").is_some());
    // Failures: bounded retries, bounded age, then the dead-letter queue.
    let invoke = &p["EventInvokeConfig"];
    assert_eq!(
        invoke["MaximumRetryAttempts"],
        json!({"Ref": "MaximumRetryAttempts"})
    );
    assert_eq!(
        invoke["MaximumEventAgeInSeconds"],
        json!({"Ref": "MaximumEventAgeInSeconds"})
    );
    assert_eq!(invoke["DestinationConfig"]["OnFailure"]["Type"], "SQS");
    assert!(
        t["Parameters"]["MaximumRetryAttempts"]["MaxValue"]
            .as_i64()
            .unwrap()
            <= 2
    );
    assert_eq!(
        p["ReservedConcurrentExecutions"],
        json!({"Ref": "ReservedConcurrency"}),
        "always reserved: never uncapped"
    );
    for output in [
        "ResultsTableName",
        "AlertsTopicArn",
        "FunctionName",
        "FunctionRoleArn",
    ] {
        assert!(t["Outputs"].get(output).is_some(), "output {output}");
    }
}

#[test]
fn the_table_matches_what_the_sink_writes() {
    let t = load("template.yaml");
    let table = &resources(&t)["ResultsTable"]["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(table["SSESpecification"]["SSEEnabled"], true);
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        "ExpiresAt"
    );
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(
        table["KeySchema"],
        json!([{"AttributeName": "EventId", "KeyType": "HASH"}])
    );
    let indexes = table["GlobalSecondaryIndexes"].as_array().unwrap();
    for (name, hash) in [
        (BY_PRINCIPAL_INDEX, "Principal"),
        (BY_ACCOUNT_INDEX, "AccountId"),
    ] {
        let index = indexes.iter().find(|i| i["IndexName"] == name).unwrap();
        assert_eq!(
            index["KeySchema"],
            json!([
                {"AttributeName": hash, "KeyType": "HASH"},
                {"AttributeName": "EventTime", "KeyType": "RANGE"}
            ]),
            "{name}"
        );
        // Keys and what `history` filters on; results are read from the table.
        assert_eq!(
            index["Projection"],
            json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": access_undenied::sink::dynamodb::INDEX_ATTRIBUTES}),
            "{name}"
        );
    }
    let topic = &resources(&t)["AlertsTopic"]["Properties"];
    assert!(
        topic["KmsMasterKeyId"]["Fn::If"].is_array(),
        "optional KMS key"
    );
    assert_eq!(
        resources(&t)["AlertEmailSubscription"]["Condition"],
        "HasAlertEmail"
    );
}

#[test]
fn the_bus_accepts_only_the_organization() {
    let t = load("template.yaml");
    let policy = &resources(&t)["OrganizationBusPolicy"];
    assert_eq!(policy["Type"], "AWS::Events::EventBusPolicy");
    let st = &policy["Properties"]["Statement"];
    assert_eq!(st["Action"], "events:PutEvents");
    assert_eq!(
        st["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
        json!({"Ref": "OrganizationId"})
    );
    // Members may forward only what AWS emits: CloudTrail API calls from an `aws.` source.
    assert_eq!(
        st["Condition"]["StringEquals"]["events:detail-type"],
        "AWS API Call via CloudTrail"
    );
    assert_eq!(st["Condition"]["StringLike"]["events:source"], "aws.*");
}

/// Forged events are kept out at the rules (an `aws.` source, which only AWS can set; the member
/// rule forwards only its own account's events), and read-only denials arrive (the rule state
/// that receives read-only management events, as a parameter defaulting to it).
#[test]
fn the_rules_admit_only_aws_sources_and_every_management_event() {
    let t = load("template.yaml");
    let m = load("templates/member-account.yaml");
    for (name, template) in [("central", &t), ("member", &m)] {
        let p = &template["Parameters"]["RuleState"];
        assert_eq!(
            p["Default"], "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
            "{name}"
        );
    }
    let central = &resources(&t)["AccessUndeniedFunction"]["Properties"]["Events"]["AccessDenied"]
        ["Properties"];
    assert_eq!(central["State"], json!({"Ref": "RuleState"}));
    assert_eq!(central["Pattern"]["source"], json!([{"prefix": "aws."}]));
    let member = &resources(&m)["ForwardAccessDenied"]["Properties"];
    assert_eq!(member["State"], json!({"Ref": "RuleState"}));
    assert_eq!(
        member["EventPattern"]["source"],
        json!([{"prefix": "aws."}])
    );
    assert_eq!(
        member["EventPattern"]["account"],
        json!([{"Ref": "AWS::AccountId"}])
    );
    // The function knows its own role, whose denied reads it must ignore.
    let vars = &resources(&t)["AccessUndeniedFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        vars["FUNCTION_ROLE_ARN"],
        json!({"Fn::GetAtt": ["FunctionRole", "Arn"]})
    );
}

#[test]
fn the_member_role_trusts_only_the_function_role_and_only_reads() {
    let m = load("templates/member-account.yaml");
    let role = &resources(&m)["AccessUndeniedRole"]["Properties"];
    assert_eq!(role["RoleName"], json!({"Ref": "RoleName"}));
    assert_eq!(m["Parameters"]["RoleName"]["Default"], "AccessUndeniedRole");
    let trust = list(&role["AssumeRolePolicyDocument"]["Statement"]);
    assert_eq!(trust.len(), 1);
    assert_eq!(trust[0]["Effect"], "Allow");
    assert_eq!(trust[0]["Action"], "sts:AssumeRole");
    assert_eq!(
        trust[0]["Principal"],
        json!({"AWS": {"Ref": "AccessUndeniedFunctionRoleArn"}})
    );
    for p in list(&role["Policies"]) {
        for st in list(&p["PolicyDocument"]["Statement"]) {
            for a in list(&st["Action"]) {
                let a = a.as_str().unwrap();
                assert!(
                    is_read_only(a) && !a.contains('*'),
                    "member role may only read: {a}"
                );
            }
        }
    }
    assert!(
        privilege_problems(&m).is_empty(),
        "{:#?}",
        privilege_problems(&m)
    );
    let targets = &resources(&m)["ForwardAccessDenied"]["Properties"]["Targets"];
    assert_eq!(targets[0]["Arn"], json!({"Ref": "CentralEventBusArn"}));
}

/// The alerts topic: only the function publishes, only over TLS, always encrypted at rest; the
/// function is never uncapped; alarms watch what could otherwise fail silently.
#[test]
fn the_topic_is_locked_the_function_capped_and_failures_alarmed() {
    let t = load("template.yaml");
    let r = resources(&t);
    let policy = &r["AlertsTopicPolicy"]["Properties"];
    assert_eq!(policy["Topics"], json!([{"Ref": "AlertsTopic"}]));
    let statements = list(&policy["PolicyDocument"]["Statement"]);
    let publish = statements
        .iter()
        .find(|s| s["Sid"] == "OnlyTheFunctionPublishes")
        .unwrap();
    assert_eq!(publish["Effect"], "Deny");
    assert_eq!(publish["Action"], "sns:Publish");
    assert_eq!(
        publish["Condition"]["ArnNotEquals"]["aws:PrincipalArn"],
        json!({"Fn::GetAtt": ["FunctionRole", "Arn"]})
    );
    let tls = statements.iter().find(|s| s["Sid"] == "TlsOnly").unwrap();
    assert_eq!(tls["Effect"], "Deny");
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");
    assert_eq!(
        r["AlertsTopic"]["Properties"]["KmsMasterKeyId"],
        json!({"Fn::If": ["HasKmsKey", {"Ref": "AlertsKmsKeyArn"}, "alias/aws/sns"]}),
        "encrypted with the given key, else AWS's SNS key"
    );

    assert_eq!(t["Parameters"]["ReservedConcurrency"]["MinValue"], 1);
    assert_eq!(
        r["AccessUndeniedFunction"]["Properties"]["ReservedConcurrentExecutions"],
        json!({"Ref": "ReservedConcurrency"})
    );

    let mut alarmed: Vec<(String, String)> = r
        .values()
        .filter(|v| v["Type"] == "AWS::CloudWatch::Alarm")
        .map(|v| {
            let p = &v["Properties"];
            (
                p["Namespace"].as_str().unwrap().to_string(),
                p["MetricName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    alarmed.sort();
    assert_eq!(
        alarmed,
        vec![
            ("AWS/Lambda".to_string(), "AsyncEventsDropped".to_string()),
            ("AWS/Lambda".into(), "Errors".into()),
            ("AWS/Lambda".into(), "Throttles".into()),
            (
                "AWS/SQS".into(),
                "ApproximateNumberOfMessagesVisible".into()
            ),
            ("AccessUndenied".into(), "EngineDisagreements".into()),
        ]
    );
}

/// The AWS-evidence reads (issue 12) are granted to both readers, exactly, and nothing broader.
#[test]
fn both_readers_may_read_aws_evidence_and_nothing_more() {
    let wanted = [
        "iam:GetRequestAuthorizationDetails",
        "iam:GetRequestAuthorizationPolicy",
        "sts:DecodeAuthorizationMessage",
    ];
    for file in ["template.yaml", "templates/member-account.yaml"] {
        let t = load(file);
        let statements: Vec<Value> = policy_documents(&t)
            .into_iter()
            .filter(|(path, _)| !path.ends_with("AssumeRolePolicyDocument"))
            .flat_map(|(_, doc)| list(&doc["Statement"]))
            .collect();
        let evidence: Vec<&Value> = statements
            .iter()
            .filter(|s| s["Sid"] == "ReadAwsEvidence")
            .collect();
        assert_eq!(evidence.len(), 1, "{file}");
        assert_eq!(evidence[0]["Effect"], "Allow");
        assert_eq!(evidence[0]["Action"], json!(wanted), "{file}");
        assert_eq!(evidence[0]["Resource"], "*", "{file}");
        // No other statement grants them, nor iam-toolbox or STS wildcards.
        for s in statements.iter().filter(|s| s["Sid"] != "ReadAwsEvidence") {
            for a in list(&s["Action"]) {
                let a = a.as_str().unwrap_or_default();
                assert!(!wanted.contains(&a), "{file}: {a} granted twice");
                assert!(
                    !a.starts_with("iam:GetRequest") && a != "sts:*" && a != "iam:*",
                    "{file}: {a}"
                );
            }
        }
        assert!(
            privilege_problems(&t).is_empty(),
            "{file}: {:?}",
            privilege_problems(&t)
        );
    }
}

/// Disagreements between AWS's evidence and the engine are counted from the log line the
/// pipeline writes (`disagreement = true` in `src/app.rs`), and alarmed.
#[test]
fn disagreements_are_counted_and_alarmed() {
    let t = load("template.yaml");
    let r = resources(&t);
    let filter = &r["EngineDisagreementsFilter"]["Properties"];
    assert_eq!(filter["FilterPattern"], "{ $.disagreement IS TRUE }");
    assert_eq!(filter["LogGroupName"], json!({"Ref": "FunctionLogGroup"}));
    let app = std::fs::read_to_string(crate::support::root().join("src/app.rs")).unwrap();
    assert!(
        app.contains("disagreement = true"),
        "the field the filter counts"
    );
    let alarm = &r["EngineDisagreementsAlarm"]["Properties"];
    assert_eq!(
        alarm["MetricName"],
        filter["MetricTransformations"][0]["MetricName"]
    );
    assert_eq!(alarm["Namespace"], "AccessUndenied");
}

#[test]
fn the_backfill_exists_only_with_a_trail_bucket_and_runs_as_a_distributed_map() {
    let t = load("template.yaml");
    let r = resources(&t);
    for name in [
        "BackfillStateMachine",
        "BackfillStateMachineRole",
        "BackfillResultsBucket",
        "BackfillResultsBucketPolicy",
    ] {
        assert_eq!(r[name]["Condition"], "HasBackfill", "{name}");
    }
    let trust =
        &r["BackfillStateMachineRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"]["Service"], "states.amazonaws.com");
    assert!(trust["Condition"]["StringEquals"]["aws:SourceAccount"].is_object());
    let map = &r["BackfillStateMachine"]["Properties"]["Definition"]["States"]["Backfill"];
    assert_eq!(
        map["ItemProcessor"]["ProcessorConfig"]["Mode"],
        "DISTRIBUTED"
    );
    assert_eq!(
        map["ItemReader"]["Resource"],
        "arn:aws:states:::s3:listObjectsV2"
    );
    assert_eq!(map["MaxConcurrencyPath"], "$.MaxConcurrency");
    assert_eq!(
        map["ToleratedFailurePercentagePath"],
        "$.ToleratedFailurePercentage"
    );
    assert_eq!(
        map["ResultWriter"]["Resource"],
        "arn:aws:states:::s3:putObject"
    );
    let retry =
        map["ItemProcessor"]["States"]["DiagnoseBatch"]["Retry"][0]["ErrorEquals"].to_string();
    assert!(retry.contains("Lambda.TooManyRequestsException"), "{retry}");
    assert!(
        retry.contains("AccessUndenied.StoreFailed.Retryable"),
        "{retry}"
    );
    // The state machine lists the trail; only the function reads its objects.
    let sm_policy = r["BackfillStateMachineRole"]["Properties"]["Policies"].to_string();
    assert!(!sm_policy.contains("\"s3:GetObject\",\"Resource\":{\"Fn::Sub\":\"arn:${AWS::Partition}:s3:::${TrailBucketName}"), "{sm_policy}");
    assert!(
        sm_policy.contains("s3:prefix"),
        "listing is limited to the trail prefix"
    );
}

#[test]
fn the_weekly_digest_is_scheduled_and_may_only_scan_the_table() {
    let t = load("template.yaml");
    let f = &resources(&t)["AccessUndeniedFunction"]["Properties"];
    let digest = &f["Events"]["WeeklyDigest"];
    assert_eq!(digest["Type"], "Schedule");
    assert_eq!(digest["Properties"]["Input"], r#"{"Digest": {"Days": 7}}"#);
    assert_eq!(
        t["Parameters"]["DigestSchedule"]["Default"],
        "cron(0 8 ? * MON *)"
    );
    let role = resources(&t)["FunctionRole"]["Properties"]["Policies"].to_string();
    assert!(role.contains("dynamodb:Scan"), "{role}");
}
