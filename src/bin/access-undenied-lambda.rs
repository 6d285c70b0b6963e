//! The Lambda entry point (EventBridge → diagnose → DynamoDB + SNS): a thin binary over
//! [`access_undenied::lambda`]. The environment is validated and the clients and caches are
//! built once per container, before the first invocation; a bad configuration stops the
//! container at init with the list of problems in the log.

use access_undenied::lambda::{init_logging, Config, Handler};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = std::time::Instant::now();
    init_logging();
    let config = Config::from_env().map_err(|e| {
        tracing::error!(error = %e, "configuration rejected");
        e
    })?;
    let handler = Handler::from_config(&config).await;
    tracing::info!(
        table = %config.results_table,
        topic = %config.alerts_topic_arn,
        cross_account_role_name = %config.cross_account_role_name,
        retention_days = config.retention_days,
        dedupe_window_minutes = config.dedupe_window_minutes,
        init_ms = started.elapsed().as_secs_f64() * 1000.0,
        "ready"
    );
    let handler = &handler;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move { handler.invoke(event).await },
    ))
    .await
}
