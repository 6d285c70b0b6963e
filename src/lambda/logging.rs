//! The function's logs: structured JSON lines on stdout, at the level `RUST_LOG` (or Lambda's
//! `AWS_LAMBDA_LOG_LEVEL`) asks for.

/// Structured JSON logs on stdout (CloudWatch Logs Insights reads the fields). The level comes
/// from `RUST_LOG` (`info`, `debug`, or `info,access_undenied=debug`…), else from Lambda's
/// `AWS_LAMBDA_LOG_LEVEL`, else `info`; the SDK's own chatter is kept at `warn`. At `info`
/// the logs carry ids, principals, actions and outcomes — never policy documents or
/// credentials; `debug` adds the result JSON.
pub fn init_logging() {
    use tracing_subscriber::util::SubscriberInitExt;
    // A second initialisation (tests) keeps the first subscriber.
    let _ = log_subscriber(&log_level_from_env(), std::io::stdout).try_init();
}

/// The level spec [`init_logging`] uses: `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else `info`.
pub fn log_level_from_env() -> String {
    std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("AWS_LAMBDA_LOG_LEVEL")
                .ok()
                .map(|v| v.to_ascii_lowercase())
        })
        .unwrap_or_else(|| "info".to_string())
}

/// The function's log subscriber for a level spec (`info`, `debug`, or a full
/// `target=level,…` list), writing JSON lines to `writer`.
pub fn log_subscriber<W>(level: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt;
    let spec = if level.contains('=') {
        level.to_string()
    } else {
        format!(
            "warn,access_undenied={level},access_undenied_lambda={level},lambda_runtime={level}"
        )
    };
    let targets: tracing_subscriber::filter::Targets = spec.parse().unwrap_or_else(|_| {
        tracing_subscriber::filter::Targets::new()
            .with_default(tracing::Level::WARN)
            .with_target("access_undenied", tracing::Level::INFO)
    });
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer);
    tracing_subscriber::registry().with(targets).with(fmt)
}
