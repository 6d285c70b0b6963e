//! Fixtures shared by the Lambda, sink and history tests: the results table and alerts topic
//! created in moto as `template.yaml` declares them, an SQS queue subscribed to the topic with
//! raw delivery, moto's record of what SNS published, and the bundled sample events diagnosed
//! from the bundled snapshot.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use access_undenied::app::diagnose_item;
use access_undenied::collect::snapshot::{Snapshot, SnapshotSource};
use access_undenied::core::event::reader::{Item, RecordReader};
use access_undenied::core::explain::DiagnosisResult;
use access_undenied::sink::dynamodb::{
    DynamoDbSettings, DynamoDbSink, BY_ACCOUNT_INDEX, BY_PRINCIPAL_INDEX,
};
use access_undenied::sink::EventMeta;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde_json::Value;

use crate::support::root;

pub const TABLE: &str = "access-undenied-results";
pub const KMS_EVENT_ID: &str = "11111111-0000-4000-8000-000000000003";

/// A JSON file of the repository.
pub fn json_file(rel: &str) -> Value {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The DynamoDB sink on moto's [`TABLE`] (90 days' retention, `window` minutes' dedupe).
pub fn table_sink(config: &SdkConfig, window: u32) -> Arc<DynamoDbSink> {
    Arc::new(DynamoDbSink::new(
        aws_sdk_dynamodb::Client::new(config),
        DynamoDbSettings {
            table: TABLE.into(),
            retention_days: 90,
            dedupe_window_minutes: window,
        },
    ))
}

/// `text` gzipped, as CloudTrail writes its log objects.
pub fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

/// Writes `objects` (key, body) into `bucket`.
pub async fn put_objects(s3: &aws_sdk_s3::Client, bucket: &str, objects: Vec<(String, Vec<u8>)>) {
    for (key, body) in objects {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
}

/// A key of the organization trail's layout (`day` as `YYYY-MM-DD`).
pub fn trail_key(account: &str, region: &str, day: &str, file: &str) -> String {
    format!(
        "AWSLogs/o-exampleorg/{account}/CloudTrail/{region}/{}/{file}",
        day.replace('-', "/")
    )
}

/// A handler on the bundled snapshot and moto's table whose backfill mode reads `s3`; its
/// notifier, to count what it sent.
pub fn backfill_handler(
    config: &SdkConfig,
    s3: &aws_sdk_s3::Client,
) -> (
    access_undenied::lambda::Handler,
    Arc<access_undenied::sink::memory::MemoryNotifier>,
) {
    let notifier = Arc::new(access_undenied::sink::memory::MemoryNotifier::new());
    let h = access_undenied::lambda::Handler::new(
        access_undenied::lambda::PolicySources::Fixed(snapshot_source()),
        table_sink(config, 60),
        notifier.clone(),
    )
    .with_objects(Arc::new(s3.clone()));
    (h, notifier)
}

/// The bundled EventBridge envelope of a denied `kms:Decrypt`.
pub fn kms_envelope() -> Value {
    json_file("events/eventbridge-kms-decrypt.json")
}

/// The same envelope with another event id and time (a repeat of the same finding).
pub fn kms_envelope_as(event_id: &str, time: &str) -> Value {
    let mut e = kms_envelope();
    e["detail"]["eventID"] = Value::from(event_id);
    e["detail"]["eventTime"] = Value::from(time);
    e["time"] = Value::from(time);
    e
}

/// A record of the bundled batch, by event id.
pub fn batch_record(event_id: &str) -> Value {
    json_file("events/sample-batch.json")["Records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["eventID"] == event_id)
        .cloned()
        .unwrap_or_else(|| panic!("no record {event_id} in events/sample-batch.json"))
}

/// The policies of the bundled events.
pub fn snapshot_source() -> Arc<SnapshotSource> {
    let snapshot = Snapshot::load(&root().join("events/sample-snapshot.json")).unwrap();
    Arc::new(SnapshotSource { snapshot })
}

/// Diagnoses one payload (its single access-denied record) from the bundled snapshot.
pub async fn diagnose(payload: &Value) -> (DiagnosisResult, EventMeta) {
    let bytes = payload.to_string().into_bytes();
    let items: Vec<Item> = RecordReader::new(bytes.as_slice()).collect();
    assert_eq!(items.len(), 1, "one record expected");
    let source = snapshot_source();
    let result = diagnose_item(&items[0], source.as_ref()).await;
    let meta = match &items[0] {
        Item::Denial(ev) => EventMeta::from_event(ev),
        Item::Error { event_id, .. } => EventMeta {
            event_id: event_id.clone(),
            ..EventMeta::default()
        },
    };
    (result, meta)
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .unwrap()
}

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap()
}

fn index(name: &str, hash: &str) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash))
        .key_schema(key("EventTime", KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(
                    access_undenied::sink::dynamodb::INDEX_ATTRIBUTES
                        .iter()
                        .map(|a| a.to_string())
                        .collect(),
                ))
                .build(),
        )
        .build()
        .unwrap()
}

/// The results table as `template.yaml` declares it.
pub async fn create_table(config: &SdkConfig, name: &str) -> aws_sdk_dynamodb::Client {
    let ddb = aws_sdk_dynamodb::Client::new(config);
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("EventId", KeyType::Hash))
        .attribute_definitions(attr("EventId"))
        .attribute_definitions(attr("Principal"))
        .attribute_definitions(attr("AccountId"))
        .attribute_definitions(attr("EventTime"))
        .global_secondary_indexes(index(BY_PRINCIPAL_INDEX, "Principal"))
        .global_secondary_indexes(index(BY_ACCOUNT_INDEX, "AccountId"))
        .send()
        .await
        .unwrap();
    ddb.update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("ExpiresAt")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    ddb
}

/// Every item of the table, by `EventId`.
pub async fn scan(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> HashMap<String, HashMap<String, AttributeValue>> {
    let out = ddb.scan().table_name(table).send().await.unwrap();
    out.items()
        .iter()
        .map(|i| (i["EventId"].as_s().unwrap().clone(), i.clone()))
        .collect()
}

pub fn s<'a>(item: &'a HashMap<String, AttributeValue>, key: &str) -> &'a str {
    item.get(key)
        .unwrap_or_else(|| panic!("no {key} in {item:?}"))
        .as_s()
        .unwrap()
}

pub fn n(item: &HashMap<String, AttributeValue>, key: &str) -> i64 {
    item.get(key)
        .unwrap_or_else(|| panic!("no {key} in {item:?}"))
        .as_n()
        .unwrap()
        .parse()
        .unwrap()
}

pub fn b(item: &HashMap<String, AttributeValue>, key: &str) -> bool {
    *item
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in {item:?}"))
        .as_bool()
        .unwrap()
}

/// The alerts topic with an SQS queue subscribed with raw delivery: (topic ARN, queue URL).
pub async fn create_topic_with_queue(config: &SdkConfig) -> (String, String) {
    let sns = aws_sdk_sns::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    let topic = sns
        .create_topic()
        .name("access-undenied-alerts")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_string();
    let queue_url = sqs
        .create_queue()
        .queue_name("alerts-subscriber")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();
    (topic, queue_url)
}

/// One message delivered to the subscribed queue.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub body: String,
    pub attributes: HashMap<String, String>,
}

/// Drains the queue.
pub async fn receive_all(config: &SdkConfig, queue_url: &str) -> Vec<Delivered> {
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .wait_time_seconds(0)
            .send()
            .await
            .unwrap();
        let messages = got.messages();
        if messages.is_empty() {
            return out;
        }
        for m in messages {
            out.push(Delivered {
                body: m.body().unwrap_or_default().to_string(),
                attributes: m
                    .message_attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| {
                                (k.clone(), v.string_value().unwrap_or_default().to_string())
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            });
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

/// One publish as moto recorded it (`GET /moto-api/data.json`).
#[derive(Debug, Clone)]
pub struct Published {
    pub message: String,
    pub subject: Option<String>,
    pub attributes: Value,
}

/// What SNS published to topics, in order.
///
/// Strict about moto's layout: a topic must exist and every field be where it is read, so a
/// changed layout fails here instead of reading as "nothing published".
pub fn published(moto_url: &str) -> Vec<Published> {
    let data = get_json(moto_url, "/moto-api/data.json");
    let topics = data["sns"]["Topic"]
        .as_array()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| panic!("moto's data.json has no sns.Topic list: {data:#}"));
    let mut out = Vec::new();
    for topic in topics {
        let sent = topic["sent_notifications"]
            .as_array()
            .unwrap_or_else(|| panic!("an sns topic without sent_notifications: {topic:#}"));
        for n in sent {
            let message = n[1]
                .as_str()
                .unwrap_or_else(|| panic!("a notification without its message: {n}"));
            out.push(Published {
                message: message.to_string(),
                subject: n[2].as_str().map(str::to_string),
                attributes: n[3].clone(),
            });
        }
    }
    out
}

/// `GET path` on moto, as JSON.
pub fn get_json(url: &str, path: &str) -> Value {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body:.300}"))
}
