//! The SNS notifier against moto: one `MessageStructure=json` publish whose `default` body (what
//! an SQS queue subscribed with raw delivery receives) is the result JSON, whose `email` body is
//! readable text with the fix and the statements, whose `https` body is AWS Chatbot's custom
//! notification, with a short subject and filterable message attributes.

use access_undenied::sink::sns::SnsNotifier;
use access_undenied::sink::{Notifier, SinkError};
use serde_json::Value;

use crate::support;
use crate::support::lambda::{
    batch_record, create_topic_with_queue, diagnose, kms_envelope, published, receive_all,
    KMS_EVENT_ID,
};

#[tokio::test]
async fn one_publish_with_every_body_and_the_attributes() {
    let env = support::moto().await;
    let config = support::config().await;
    let (topic, queue) = create_topic_with_queue(&config).await;
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&config), topic);
    let (result, meta) = diagnose(&kms_envelope()).await;

    let id = notifier.notify(&result, &meta).await.unwrap();
    assert!(!id.is_empty());

    // The raw SQS subscriber gets `default`: the result JSON, and the attributes.
    let delivered = receive_all(&config, &queue).await;
    assert_eq!(delivered.len(), 1);
    let body: Value = serde_json::from_str(&delivered[0].body).unwrap();
    assert_eq!(body, serde_json::to_value(&result).unwrap());
    let attrs = &delivered[0].attributes;
    assert_eq!(
        attrs["AssessmentResult"],
        "Missing allow in a resource-based policy"
    );
    assert_eq!(attrs["AccountId"], "111122223333");
    assert_eq!(attrs["EventSource"], "kms.amazonaws.com");
    assert_eq!(attrs["EventName"], "Decrypt");
    assert_eq!(attrs["Cause"], "MissingAllow");
    assert_eq!(attrs["FixVerified"], "true");

    // The whole structure, as published.
    let sent = published(&env.url);
    assert_eq!(sent.len(), 1);
    let subject = sent[0].subject.clone().unwrap();
    assert!(subject.len() < 100 && subject.is_ascii(), "{subject}");
    assert_eq!(
        subject,
        "Missing allow in a resource-based policy: kms:Decrypt by user/bob"
    );
    let structure: Value = serde_json::from_str(&sent[0].message).unwrap();
    let email = structure["email"].as_str().unwrap();
    for needle in [
        "arn:aws:iam::111122223333:user/bob",
        "kms:Decrypt",
        "Missing allow in a resource-based policy",
        "No resource-based policy allows it.",
        "THE FIX",
        "Add this policy to arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab:",
        "\"Action\": \"kms:Decrypt\"",
        "the engine allows the request",
        KMS_EVENT_ID,
    ] {
        assert!(email.contains(needle), "email lacks {needle:?}:\n{email}");
    }
    assert!(
        !email.contains("http://") && !email.contains("https://"),
        "link-free:\n{email}"
    );

    let chatbot: Value = serde_json::from_str(structure["https"].as_str().unwrap()).unwrap();
    assert_eq!(chatbot["version"], "1.0");
    assert_eq!(chatbot["source"], "custom");
    assert_eq!(chatbot["content"]["textType"], "client-markdown");
    let title = chatbot["content"]["title"].as_str().unwrap();
    assert!(
        title.contains("kms:Decrypt") && title.contains("user/bob"),
        "{title}"
    );
    let description = chatbot["content"]["description"].as_str().unwrap();
    assert!(
        description.contains("*Missing allow in a resource-based policy*"),
        "{description}"
    );
    assert!(
        description.contains("```{\"Version\":\"2012-10-17\""),
        "{description}"
    );
    assert_eq!(
        chatbot["metadata"]["additionalContext"]["EventId"],
        KMS_EVENT_ID
    );

    let default: Value = serde_json::from_str(structure["default"].as_str().unwrap()).unwrap();
    assert_eq!(default["EventId"], KMS_EVENT_ID);

    // moto keeps the attributes too.
    assert_eq!(
        sent[0].attributes["AssessmentResult"]["Value"],
        "Missing allow in a resource-based policy"
    );
}

#[tokio::test]
async fn an_explicit_deny_alert_quotes_the_statement() {
    let env = support::moto().await;
    let config = support::config().await;
    let (topic, _queue) = create_topic_with_queue(&config).await;
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&config), topic);
    let (result, meta) = diagnose(&batch_record("11111111-0000-4000-8000-000000000002")).await;
    assert_eq!(
        result.assessment_result.as_str(),
        "Explicit deny in a service-control policy"
    );
    notifier.notify(&result, &meta).await.unwrap();
    let sent = published(&env.url);
    let structure: Value = serde_json::from_str(&sent[0].message).unwrap();
    let email = structure["email"].as_str().unwrap();
    assert!(
        email.contains("Remove or narrow this statement of DenyLambdaOutsidePlatform"),
        "{email}"
    );
    assert!(email.contains("\"Sid\": \"NoLambdaChanges\""), "{email}");
    let chatbot: Value = serde_json::from_str(structure["https"].as_str().unwrap()).unwrap();
    assert!(chatbot["content"]["description"]
        .as_str()
        .unwrap()
        .contains("*Denied by* `DenyLambdaOutsidePlatform`"));
    assert_eq!(sent[0].attributes["Cause"]["Value"], "ExplicitDeny");
    assert_eq!(
        sent[0].subject.as_deref(),
        Some(
            "Explicit deny in a service-control policy: lambda:CreateFunction by Deployer/pipeline"
        )
    );
}

#[tokio::test]
async fn a_missing_topic_is_a_permanent_publish_error() {
    let _env = support::moto().await;
    let config = support::config().await;
    let notifier = SnsNotifier::new(
        aws_sdk_sns::Client::new(&config),
        "arn:aws:sns:us-east-1:123456789012:no-such-topic",
    );
    let (result, meta) = diagnose(&kms_envelope()).await;
    let err = notifier.notify(&result, &meta).await.unwrap_err();
    assert!(matches!(err, SinkError::Publish { .. }), "{err:?}");
    assert!(!err.retryable(), "{err}");
}

#[tokio::test]
async fn a_summary_is_one_plain_publish_with_its_cause() {
    let env = support::moto().await;
    let config = support::config().await;
    let (topic, queue) = create_topic_with_queue(&config).await;
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&config), topic);
    let subject = format!(
        "Access Undenied digest: 2026-11-27 to 2026-12-03 {}",
        "é".repeat(3)
    );
    let id = notifier
        .notify_summary("Digest", &subject, "# Access denied\n\n3 denials")
        .await
        .unwrap();
    assert!(!id.is_empty());
    let delivered = receive_all(&config, &queue).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].body, "# Access denied\n\n3 denials");
    assert_eq!(delivered[0].attributes["Cause"], "Digest");
    let sent = published(&env.url);
    // SNS subjects are ASCII: what is not is left out.
    assert_eq!(
        sent[0].subject.as_deref(),
        Some("Access Undenied digest: 2026-11-27 to 2026-12-03 ")
    );
}
