//! The function's settings: every environment variable read and validated once, at start,
//! with every problem reported at once.

use access_undenied_core::arn::Arn;
use thiserror::Error;

use super::admission::OwnRoles;
use crate::collect::aws::AwsSettings;
use crate::sink::dynamodb::DynamoDbSettings;

/// The default of `CROSS_ACCOUNT_ROLE_NAME`.
pub const DEFAULT_CROSS_ACCOUNT_ROLE_NAME: &str = "AccessUndeniedRole";
/// The default of `RETENTION_DAYS`.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// The default of `DEDUPE_WINDOW_MINUTES`.
pub const DEFAULT_DEDUPE_WINDOW_MINUTES: u32 = 60;
/// The default of `POLICY_CACHE_SECONDS`.
pub const DEFAULT_POLICY_CACHE_SECONDS: u64 = 300;
/// Alerts per account and hour before the rest of the hour's findings are only stored.
pub const DEFAULT_ALERT_BUDGET_PER_HOUR: u64 = 50;
/// Every variable [`Config`] reads (`RUST_LOG` is read by [`super::init_logging`]).
pub const ENV_VARS: &[&str] = &[
    "RESULTS_TABLE",
    "ALERTS_TOPIC_ARN",
    "CROSS_ACCOUNT_ROLE_NAME",
    "MANAGEMENT_ACCOUNT_ROLE_ARN",
    "FUNCTION_ROLE_ARN",
    "EXTERNAL_ID",
    "RETENTION_DAYS",
    "DEDUPE_WINDOW_MINUTES",
    "POLICY_CACHE_SECONDS",
    "ALERT_BUDGET_PER_HOUR",
];

/// The function's settings, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `RESULTS_TABLE`: the DynamoDB table (required).
    pub results_table: String,
    /// `ALERTS_TOPIC_ARN`: the SNS topic (required).
    pub alerts_topic_arn: String,
    /// `CROSS_ACCOUNT_ROLE_NAME`: assumed in every other account.
    pub cross_account_role_name: String,
    /// `MANAGEMENT_ACCOUNT_ROLE_ARN`: assumed to read Organizations (optional).
    pub management_account_role_arn: Option<String>,
    /// `FUNCTION_ROLE_ARN`: the function's own role (optional; the template sets it), whose
    /// denied calls are ignored like those of the cross-account role's sessions.
    pub function_role_arn: Option<String>,
    /// `EXTERNAL_ID`: `sts:ExternalId` of the cross-account role (optional).
    pub external_id: Option<String>,
    /// `RETENTION_DAYS`: days results are kept (TTL); 0 keeps them forever.
    pub retention_days: u32,
    /// `DEDUPE_WINDOW_MINUTES`: repeats of a finding within it raise no new alert; 0 = off.
    pub dedupe_window_minutes: u32,
    /// `POLICY_CACHE_SECONDS`: how long a warm container reuses the policies it read.
    pub policy_cache_seconds: u64,
    /// `ALERT_BUDGET_PER_HOUR`: alerts per account and hour; past it, findings are stored and
    /// counted, one "alerts suppressed" notice is sent, no alert (default 50; 0: no budget).
    pub alert_budget_per_hour: u64,
}

/// Why the environment was rejected (every problem at once).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("invalid lambda configuration: {}", join(.0))]
    Invalid(Vec<ConfigProblem>),
}

fn join(problems: &[ConfigProblem]) -> String {
    let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
    texts.join("; ")
}

/// One variable's problem.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigProblem {
    #[error("RESULTS_TABLE is required (the DynamoDB table name)")]
    NoResultsTable,
    #[error("RESULTS_TABLE `{0}` is not a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)")]
    BadResultsTable(String),
    #[error("ALERTS_TOPIC_ARN is required (the SNS topic ARN)")]
    NoAlertsTopic,
    #[error(
        "ALERTS_TOPIC_ARN `{0}` is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)"
    )]
    BadAlertsTopic(String),
    #[error(
        "CROSS_ACCOUNT_ROLE_NAME `{0}` is not an IAM role name \
         (1-64 of a-z A-Z 0-9 + = , . @ _ -; a name, not an ARN)"
    )]
    BadRoleName(String),
    #[error(
        "MANAGEMENT_ACCOUNT_ROLE_ARN `{0}` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
    )]
    BadManagementRole(String),
    #[error("FUNCTION_ROLE_ARN `{0}` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")]
    BadFunctionRole(String),
    #[error("EXTERNAL_ID must be 2-1224 of a-z A-Z 0-9 + = , . @ : / _ -")]
    BadExternalId,
    #[error("{key} `{value}` must be a whole number from 0 to {max}")]
    BadNumber {
        key: String,
        value: String,
        max: u64,
    },
}

pub(super) use access_undenied_core::arn::is_account_id as is_account;

/// Whether `arn` is an IAM role ARN (`arn:<partition>:iam::<account>:role/<path/name>`).
fn is_role_arn(arn: &str) -> bool {
    matches!(arn_fields(arn), Some([_, _, "iam", "", account, rest])
        if is_account(account) && rest.strip_prefix("role/").is_some_and(|n| !n.is_empty()))
}

/// `arn:<partition>:<service>:<region>:<account>:<rest>` split, when it has that shape.
fn arn_fields(arn: &str) -> Option<[&str; 6]> {
    Arn::parse(arn)
        .filter(|a| !a.partition.is_empty() && !a.resource.is_empty())
        .map(|a| {
            [
                "arn",
                a.partition,
                a.service,
                a.region,
                a.account,
                a.resource,
            ]
        })
}

fn role_name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the settings through `get` (an empty value counts as unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |key: &str| {
            get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();

        let results_table = get("RESULTS_TABLE").unwrap_or_default();
        if results_table.is_empty() {
            problems.push(ConfigProblem::NoResultsTable);
        } else if !(3..=255).contains(&results_table.len())
            || !results_table
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            problems.push(ConfigProblem::BadResultsTable(results_table.clone()));
        }

        let alerts_topic_arn = get("ALERTS_TOPIC_ARN").unwrap_or_default();
        if alerts_topic_arn.is_empty() {
            problems.push(ConfigProblem::NoAlertsTopic);
        } else {
            match arn_fields(&alerts_topic_arn) {
                Some([_, _, "sns", region, account, name])
                    if !region.is_empty() && is_account(account) && !name.contains(':') => {}
                _ => problems.push(ConfigProblem::BadAlertsTopic(alerts_topic_arn.clone())),
            }
        }

        let cross_account_role_name = get("CROSS_ACCOUNT_ROLE_NAME")
            .unwrap_or_else(|| DEFAULT_CROSS_ACCOUNT_ROLE_NAME.to_string());
        if !role_name_ok(&cross_account_role_name) {
            problems.push(ConfigProblem::BadRoleName(cross_account_role_name.clone()));
        }

        let management_account_role_arn = get("MANAGEMENT_ACCOUNT_ROLE_ARN");
        if let Some(arn) = management_account_role_arn
            .as_ref()
            .filter(|a| !is_role_arn(a))
        {
            problems.push(ConfigProblem::BadManagementRole(arn.clone()));
        }

        let function_role_arn = get("FUNCTION_ROLE_ARN");
        if let Some(arn) = function_role_arn.as_ref().filter(|a| !is_role_arn(a)) {
            problems.push(ConfigProblem::BadFunctionRole(arn.clone()));
        }

        let external_id = get("EXTERNAL_ID");
        if let Some(id) = &external_id {
            let ok = (2..=1224).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c));
            if !ok {
                problems.push(ConfigProblem::BadExternalId);
            }
        }

        let mut number = |key: &str, default: u64, max: u64| -> u64 {
            match get(key) {
                None => default,
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if n <= max => n,
                    _ => {
                        problems.push(ConfigProblem::BadNumber {
                            key: key.to_string(),
                            value: v,
                            max,
                        });
                        default
                    }
                },
            }
        };
        let retention_days = number("RETENTION_DAYS", u64::from(DEFAULT_RETENTION_DAYS), 36_500);
        let dedupe_window_minutes = number(
            "DEDUPE_WINDOW_MINUTES",
            u64::from(DEFAULT_DEDUPE_WINDOW_MINUTES),
            43_200,
        );
        let policy_cache_seconds =
            number("POLICY_CACHE_SECONDS", DEFAULT_POLICY_CACHE_SECONDS, 86_400);
        let alert_budget_per_hour = number(
            "ALERT_BUDGET_PER_HOUR",
            DEFAULT_ALERT_BUDGET_PER_HOUR,
            100_000,
        );

        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems));
        }
        Ok(Config {
            results_table,
            alerts_topic_arn,
            cross_account_role_name,
            management_account_role_arn,
            function_role_arn,
            external_id,
            retention_days: u32::try_from(retention_days).unwrap_or(DEFAULT_RETENTION_DAYS),
            dedupe_window_minutes: u32::try_from(dedupe_window_minutes)
                .unwrap_or(DEFAULT_DEDUPE_WINDOW_MINUTES),
            policy_cache_seconds,
            alert_budget_per_hour,
        })
    }

    /// The policy source's settings.
    /// The roles whose sessions are the function itself.
    pub fn own_roles(&self) -> OwnRoles {
        OwnRoles {
            role_arn: self.function_role_arn.clone(),
            cross_account_role_name: Some(self.cross_account_role_name.clone()),
        }
    }

    pub fn aws_settings(&self) -> AwsSettings {
        AwsSettings {
            profile: None,
            cross_account_role_name: self.cross_account_role_name.clone(),
            management_account_role_arn: self.management_account_role_arn.clone(),
            external_id: self.external_id.clone(),
            call_timeout: None,
            member_accounts_only: true,
        }
    }

    /// The table's settings.
    pub fn dynamodb_settings(&self) -> DynamoDbSettings {
        DynamoDbSettings {
            table: self.results_table.clone(),
            retention_days: self.retention_days,
            dedupe_window_minutes: self.dedupe_window_minutes,
        }
    }
}
