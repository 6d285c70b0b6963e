//! The Lambda's configuration: defaults, every variable validated at start, every problem
//! reported at once with a clear message.

use std::collections::HashMap;

use access_undenied::lambda::{Config, ConfigError, HandlerError};
use access_undenied::sink::SinkError;
use lambda_runtime::Diagnostic;

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:access-undenied-alerts";

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

fn problems(vars: &[(&str, &str)]) -> Vec<String> {
    match config(vars) {
        Err(ConfigError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
        Ok(c) => panic!("accepted: {c:?}"),
    }
}

#[test]
fn the_two_required_variables_and_the_defaults() {
    let c = config(&[("RESULTS_TABLE", "results"), ("ALERTS_TOPIC_ARN", TOPIC)]).unwrap();
    assert_eq!(c.results_table, "results");
    assert_eq!(c.alerts_topic_arn, TOPIC);
    assert_eq!(c.cross_account_role_name, "AccessUndeniedRole");
    assert_eq!(c.management_account_role_arn, None);
    assert_eq!(c.external_id, None);
    assert_eq!(c.retention_days, 90);
    assert_eq!(c.dedupe_window_minutes, 60);
    assert_eq!(c.policy_cache_seconds, 300);
    let s = c.aws_settings();
    assert_eq!(s.cross_account_role_name, "AccessUndeniedRole");
    assert_eq!(s.profile, None);
    let d = c.dynamodb_settings();
    assert_eq!(
        (d.table.as_str(), d.retention_days, d.dedupe_window_minutes),
        ("results", 90, 60)
    );
}

#[test]
fn every_variable_is_read() {
    let c = config(&[
        ("RESULTS_TABLE", "access-undenied.results_v2"),
        (
            "ALERTS_TOPIC_ARN",
            "arn:aws-us-gov:sns:us-gov-west-1:123456789012:alerts",
        ),
        ("CROSS_ACCOUNT_ROLE_NAME", "Audit.Reader@org"),
        (
            "MANAGEMENT_ACCOUNT_ROLE_ARN",
            "arn:aws:iam::999999999999:role/org/OrgReader",
        ),
        (
            "FUNCTION_ROLE_ARN",
            "arn:aws:iam::999999999999:role/access-undenied-FunctionRole-AB12",
        ),
        ("EXTERNAL_ID", "o-abc123/access-undenied"),
        ("RETENTION_DAYS", "0"),
        ("DEDUPE_WINDOW_MINUTES", "1440"),
        ("POLICY_CACHE_SECONDS", "0"),
    ])
    .unwrap();
    assert_eq!(c.cross_account_role_name, "Audit.Reader@org");
    assert_eq!(
        c.management_account_role_arn.as_deref(),
        Some("arn:aws:iam::999999999999:role/org/OrgReader")
    );
    assert_eq!(c.external_id.as_deref(), Some("o-abc123/access-undenied"));
    assert_eq!(
        c.own_roles(),
        access_undenied::lambda::OwnRoles {
            role_arn: Some(
                "arn:aws:iam::999999999999:role/access-undenied-FunctionRole-AB12".into()
            ),
            cross_account_role_name: Some("Audit.Reader@org".into()),
        }
    );
    assert_eq!(c.retention_days, 0);
    assert_eq!(c.dedupe_window_minutes, 1440);
    assert_eq!(c.policy_cache_seconds, 0);
    assert_eq!(
        c.aws_settings().management_account_role_arn.as_deref(),
        Some("arn:aws:iam::999999999999:role/org/OrgReader")
    );
}

#[test]
fn empty_values_count_as_unset() {
    // CloudFormation passes optional parameters as empty strings.
    let c = config(&[
        ("RESULTS_TABLE", "results"),
        ("ALERTS_TOPIC_ARN", TOPIC),
        ("CROSS_ACCOUNT_ROLE_NAME", ""),
        ("MANAGEMENT_ACCOUNT_ROLE_ARN", ""),
        ("EXTERNAL_ID", "  "),
    ])
    .unwrap();
    assert_eq!(c.cross_account_role_name, "AccessUndeniedRole");
    assert_eq!(c.management_account_role_arn, None);
    assert_eq!(c.external_id, None);
}

#[test]
fn missing_required_variables_are_all_reported() {
    let p = problems(&[]);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].contains("RESULTS_TABLE is required"), "{p:?}");
    assert!(p[1].contains("ALERTS_TOPIC_ARN is required"), "{p:?}");
    let message = config(&[]).unwrap_err().to_string();
    assert!(
        message.starts_with("invalid lambda configuration: RESULTS_TABLE"),
        "{message}"
    );
}

#[test]
fn malformed_values_are_named() {
    let p = problems(&[
        ("RESULTS_TABLE", "my table"),
        ("ALERTS_TOPIC_ARN", "access-undenied-alerts"),
        (
            "CROSS_ACCOUNT_ROLE_NAME",
            "arn:aws:iam::123456789012:role/AccessUndeniedRole",
        ),
        ("MANAGEMENT_ACCOUNT_ROLE_ARN", "arn:aws:iam::99:user/x"),
        ("EXTERNAL_ID", "x"),
        ("RETENTION_DAYS", "ninety"),
        ("DEDUPE_WINDOW_MINUTES", "-5"),
        ("POLICY_CACHE_SECONDS", "999999999"),
    ]);
    let expect = [
        "RESULTS_TABLE `my table`",
        "ALERTS_TOPIC_ARN `access-undenied-alerts` is not an SNS topic ARN",
        "CROSS_ACCOUNT_ROLE_NAME `arn:aws:iam::123456789012:role/AccessUndeniedRole` is not an IAM role name",
        "MANAGEMENT_ACCOUNT_ROLE_ARN `arn:aws:iam::99:user/x` is not an IAM role ARN",
        "EXTERNAL_ID must be",
        "RETENTION_DAYS `ninety` must be a whole number",
        "DEDUPE_WINDOW_MINUTES `-5` must be a whole number",
        "POLICY_CACHE_SECONDS `999999999` must be a whole number from 0 to 86400",
    ];
    assert_eq!(p.len(), expect.len(), "{p:#?}");
    for (got, want) in p.iter().zip(expect) {
        assert!(got.starts_with(want), "{got:?} should start with {want:?}");
    }
}

#[test]
fn a_topic_arn_of_another_service_is_rejected() {
    let p = problems(&[
        ("RESULTS_TABLE", "results"),
        (
            "ALERTS_TOPIC_ARN",
            "arn:aws:sqs:us-east-1:123456789012:queue",
        ),
    ]);
    assert_eq!(p.len(), 1);
    assert!(p[0].contains("not an SNS topic ARN"));
}

#[test]
fn errors_map_to_lambda_diagnostics_that_say_whether_to_retry() {
    let cases = [
        (
            SinkError::Store {
                event_id: "e".into(),
                table: "t".into(),
                message: "ThrottlingException".into(),
                retryable: true,
            },
            "AccessUndenied.StoreFailed.Retryable",
        ),
        (
            SinkError::Store {
                event_id: "e".into(),
                table: "t".into(),
                message: "AccessDeniedException".into(),
                retryable: false,
            },
            "AccessUndenied.StoreFailed.Permanent",
        ),
        (
            SinkError::Publish {
                event_id: "e".into(),
                message: "timeout".into(),
                retryable: true,
            },
            "AccessUndenied.PublishFailed.Retryable",
        ),
        (
            SinkError::Encode {
                event_id: "e".into(),
                message: "bad".into(),
            },
            "AccessUndenied.EncodeFailed.Permanent",
        ),
    ];
    for (err, error_type) in cases {
        let message = err.to_string();
        let d = Diagnostic::from(HandlerError::from(err));
        assert_eq!(d.error_type, error_type);
        assert_eq!(d.error_message, message);
        assert!(d.error_message.chars().next().unwrap().is_lowercase());
    }
}

#[test]
fn numeric_and_length_limits_hold_at_their_boundaries() {
    let base = [("RESULTS_TABLE", "results"), ("ALERTS_TOPIC_ARN", TOPIC)];
    let with = |extra: &[(&str, &str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        config(&v)
    };
    // The largest accepted value of each number, and 0 (which turns the feature off).
    let c = with(&[
        ("RETENTION_DAYS", "36500"),
        ("DEDUPE_WINDOW_MINUTES", "43200"),
        ("POLICY_CACHE_SECONDS", "86400"),
        ("ALERT_BUDGET_PER_HOUR", "100000"),
    ])
    .unwrap();
    assert_eq!(c.alert_budget_per_hour, 100_000);
    assert_eq!(
        (
            c.retention_days,
            c.dedupe_window_minutes,
            c.policy_cache_seconds
        ),
        (36_500, 43_200, 86_400)
    );
    let c = with(&[
        ("RETENTION_DAYS", "0"),
        ("DEDUPE_WINDOW_MINUTES", "0"),
        ("POLICY_CACHE_SECONDS", "0"),
    ])
    .unwrap();
    assert_eq!(
        (
            c.retention_days,
            c.dedupe_window_minutes,
            c.policy_cache_seconds
        ),
        (0, 0, 0)
    );
    // One past each.
    for (key, value, max) in [
        ("RETENTION_DAYS", "36501", "36500"),
        ("DEDUPE_WINDOW_MINUTES", "43201", "43200"),
        ("POLICY_CACHE_SECONDS", "86401", "86400"),
        ("ALERT_BUDGET_PER_HOUR", "100001", "100000"),
    ] {
        let mut v = base.to_vec();
        v.push((key, value));
        let p = problems(&v);
        assert_eq!(
            p,
            vec![format!(
                "{key} `{value}` must be a whole number from 0 to {max}"
            )],
            "{key}"
        );
    }
    // EXTERNAL_ID: 2 to 1224 characters of IAM's external-id alphabet.
    let shortest = "ab".to_string();
    let longest = "x".repeat(1224);
    for ok in [shortest.as_str(), longest.as_str(), "a+=,.@:/_-9"] {
        let c = with(&[("EXTERNAL_ID", ok)]).unwrap();
        assert_eq!(c.external_id.as_deref(), Some(ok));
    }
    let too_long = "x".repeat(1225);
    for bad in ["a", too_long.as_str(), "has space", "ünïcode"] {
        let mut v = base.to_vec();
        v.push(("EXTERNAL_ID", bad));
        let p = problems(&v);
        assert_eq!(p.len(), 1, "{bad}: {p:?}");
        assert!(p[0].starts_with("EXTERNAL_ID must be"), "{bad}: {p:?}");
    }
}
