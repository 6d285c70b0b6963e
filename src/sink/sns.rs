//! The SNS adapter of [`Notifier`]: one `Publish` per new finding with
//! `MessageStructure=json` (bodies from [`crate::render::alert`]), a short `Subject`, and `String`
//! message attributes (`AssessmentResult`, `Cause`, `AccountId`, `EventSource`, `EventName`,
//! `Region`, `FixVerified`) for subscription filter policies; and the one "alerts suppressed"
//! notice of an account past its hourly alert budget (`Cause` = `AlertsSuppressed`).

use access_undenied_core::explain::DiagnosisResult;
use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;

use super::{describe_sdk_error, EventMeta, Notifier, SinkError};

/// Publishes alerts to one topic.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        SnsNotifier {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn notify(
        &self,
        result: &DiagnosisResult,
        meta: &EventMeta,
    ) -> Result<String, SinkError> {
        let alert = crate::render::alert::build(result, meta)?;
        let fail = |message: String, retryable: bool| SinkError::Publish {
            event_id: meta.event_id.clone(),
            message,
            retryable,
        };
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message_structure("json")
            .message(alert.message())
            .subject(&alert.subject);
        for (name, value) in &alert.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| fail(format!("message attribute {name}: {e}"), false))?;
            request = request.message_attributes(name, attribute);
        }
        let out = request.send().await.map_err(|e| {
            let (message, retryable) = describe_sdk_error(&e);
            fail(message, retryable)
        })?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }

    async fn notify_suppressed(
        &self,
        account: &str,
        budget: u64,
        hour: &str,
    ) -> Result<String, SinkError> {
        let message = format!(
            "Account {account} reached its alert budget: {budget} alerts in the hour from {hour}. \
             Its further findings this hour are diagnosed and stored (access-undenied history \
             --account {account}) but not alerted."
        );
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("AlertsSuppressed")
            .build();
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(format!("Access Undenied: alerts suppressed for {account}"))
            .message(message);
        if let Ok(a) = attribute {
            request = request.message_attributes("Cause", a);
        }
        let out = request.send().await.map_err(|e| {
            let (message, retryable) = describe_sdk_error(&e);
            SinkError::Publish {
                event_id: format!("alert-budget-{account}-{hour}"),
                message,
                retryable,
            }
        })?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }

    async fn notify_summary(
        &self,
        cause: &str,
        subject: &str,
        text: &str,
    ) -> Result<String, SinkError> {
        // SNS subjects: at most 100 characters, ASCII, no line breaks.
        let subject: String = subject
            .chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .take(100)
            .collect();
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(text);
        if let Ok(a) = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(cause)
            .build()
        {
            request = request.message_attributes("Cause", a);
        }
        let out = request.send().await.map_err(|e| {
            let (message, retryable) = describe_sdk_error(&e);
            SinkError::Publish {
                event_id: cause.to_string(),
                message,
                retryable,
            }
        })?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }
}
