//! An HTTP client in front of moto that changes its answers on the wire ([`Rule`]): injected
//! faults, and what moto does not model (user permissions boundaries).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use access_undenied::collect::aws::{AwsSettings, AwsSource};
use aws_config::BehaviorVersion;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;

use super::http_client;

/// A change made on the wire to what moto answers (see [`Patched`]).
#[derive(Debug, Clone)]
pub enum Rule {
    /// Adds this permissions boundary to every `iam:GetUser` answer: moto has no
    /// `PutUserPermissionsBoundary` (nor any boundary on users).
    UserBoundary(String),
    /// Answers the first `times` requests of `action` with an error, without asking moto.
    Fail {
        action: &'static str,
        status: u16,
        code: &'static str,
        times: usize,
    },
    /// Leaves the first `times` requests of `action` unanswered (30 s, far past any timeout the
    /// tests set): the endpoint accepted the request and hangs.
    Hang { action: &'static str, times: usize },
    /// Answers the first `times` requests of `action` with this JSON error body (`__type` and
    /// all), without asking moto: errors with members, e.g. DynamoDB's cancelled transaction.
    FailWith {
        action: &'static str,
        status: u16,
        body: serde_json::Value,
        times: usize,
    },
    /// Holds moto's answers to the first `parties` requests of `action` until all of them were
    /// answered: so many callers read the same state before any of them goes on (a race made
    /// certain). Built by [`Rule::gather`].
    Gather {
        action: &'static str,
        parties: usize,
        barrier: Arc<tokio::sync::Barrier>,
    },
}

impl Rule {
    /// [`Rule::Gather`] of `parties` requests of `action`.
    pub fn gather(action: &'static str, parties: usize) -> Rule {
        Rule::Gather {
            action,
            parties,
            barrier: Arc::new(tokio::sync::Barrier::new(parties)),
        }
    }

    /// DynamoDB's `TransactionCanceledException` with these cancellation reason codes, one per
    /// item of the transaction (`None` for an item that did not fail), for the first `times`
    /// `TransactWriteItems` requests.
    pub fn cancel_transaction(codes: &[&str], times: usize) -> Rule {
        let reasons: Vec<serde_json::Value> = codes
            .iter()
            .map(|code| match *code {
                "None" => serde_json::json!({"Code": "None"}),
                code => serde_json::json!({"Code": code, "Message": format!("patched: {code}")}),
            })
            .collect();
        Rule::FailWith {
            action: "TransactWriteItems",
            status: 400,
            body: serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": format!(
                    "Transaction cancelled, please refer cancellation reasons for specific \
                     reasons [{}]",
                    codes.join(", ")
                ),
                "CancellationReasons": reasons,
            }),
            times,
        }
    }
}

/// An HTTP client that forwards to moto, applying [`Rule`]s, and counts requests per action.
#[derive(Debug, Clone)]
pub struct Patched {
    inner: SharedHttpClient,
    rules: Arc<Vec<Rule>>,
    /// Requests seen per action (every attempt, retries included).
    seen: Arc<Mutex<HashMap<String, usize>>>,
}

impl Patched {
    pub fn new(rules: Vec<Rule>) -> Patched {
        Patched {
            inner: http_client(),
            rules: Arc::new(rules),
            seen: Arc::default(),
        }
    }

    /// How many requests of `action` went out.
    pub fn seen(&self, action: &str) -> usize {
        self.seen.lock().unwrap().get(action).copied().unwrap_or(0)
    }

    /// A DynamoDB client (of the environment's configuration) whose calls go through this
    /// client, without the SDK's own retries: every attempt is the caller's.
    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .http_client(SharedHttpClient::new(self.clone()))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await;
        aws_sdk_dynamodb::Client::new(&sdk)
    }

    /// An adapter whose calls go through this client.
    pub async fn source(&self, settings: AwsSettings) -> AwsSource {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .http_client(SharedHttpClient::new(self.clone()))
            .load()
            .await;
        AwsSource::from_sdk_config(settings, sdk)
    }
}

#[derive(Debug)]
struct PatchedConnector {
    inner: SharedHttpConnector,
    patch: Patched,
}

impl HttpClient for Patched {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PatchedConnector {
            inner: self.inner.http_connector(settings, components),
            patch: self.clone(),
        })
    }
}

/// The operation of a request: `Action=…` of query protocols (IAM, STS, SNS) or the
/// `x-amz-target` header of JSON protocols.
fn action_of(request: &HttpRequest) -> String {
    if let Some(target) = request.headers().get("x-amz-target") {
        return target.rsplit('.').next().unwrap_or(target).to_string();
    }
    let body = request
        .body()
        .bytes()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    body.strip_prefix("Action=")
        .and_then(|rest| rest.split('&').next())
        .unwrap_or_default()
        .to_string()
}

/// An AWS error answer, in XML (query protocols: IAM, STS, SNS) or JSON (`x-amz-target`
/// protocols: Organizations, KMS, Secrets Manager, …).
fn error_response(status: u16, code: &str, action: &str, json: bool) -> HttpResponse {
    let message = format!("patched: {action} answered {code}");
    let (body, content_type) = if json {
        (
            serde_json::json!({"__type": code, "message": message}).to_string(),
            "application/x-amz-json-1.1",
        )
    } else {
        (
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>{message}</Message></Error>\
                 <RequestId>patched</RequestId></ErrorResponse>"
            ),
            "text/xml",
        )
    };
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).expect("status code"),
        SdkBody::from(body),
    );
    response.headers_mut().insert("content-type", content_type);
    response
}

impl HttpConnector for PatchedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let action = action_of(&request);
        let json = request.headers().get("x-amz-target").is_some();
        let count = {
            let mut seen = self.patch.seen.lock().unwrap();
            let n = seen.entry(action.clone()).or_default();
            *n += 1;
            *n
        };
        let mut boundary = None;
        for rule in self.patch.rules.iter() {
            match rule {
                Rule::Fail {
                    action: failing,
                    status,
                    code,
                    times,
                } if *failing == action && count <= *times => {
                    let response = error_response(*status, code, &action, json);
                    return HttpConnectorFuture::ready(Ok(response));
                }
                Rule::FailWith {
                    action: failing,
                    status,
                    body,
                    times,
                } if *failing == action && count <= *times => {
                    let mut response = HttpResponse::new(
                        StatusCode::try_from(*status).expect("status code"),
                        SdkBody::from(body.to_string()),
                    );
                    response
                        .headers_mut()
                        .insert("content-type", "application/x-amz-json-1.0");
                    return HttpConnectorFuture::ready(Ok(response));
                }
                Rule::Gather {
                    action: gathered,
                    parties,
                    barrier,
                } if *gathered == action && count <= *parties => {
                    let answer = self.inner.call(request);
                    let barrier = barrier.clone();
                    return HttpConnectorFuture::new(async move {
                        let response = answer.await;
                        barrier.wait().await;
                        response
                    });
                }
                Rule::Hang {
                    action: hanging,
                    times,
                } if *hanging == action && count <= *times => {
                    let answer = self.inner.call(request);
                    return HttpConnectorFuture::new(async move {
                        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                        answer.await
                    });
                }
                Rule::UserBoundary(arn) if action == "GetUser" => boundary = Some(arn.clone()),
                _ => {}
            }
        }
        let answer = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let response = answer.await?;
            let Some(arn) = boundary.filter(|_| response.status().is_success()) else {
                return Ok(response);
            };
            let status = response.status();
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let bytes = ByteStream::new(response.into_body())
                .collect()
                .await
                .map_err(|e| ConnectorError::other(Box::new(e), None))?
                .into_bytes();
            let element = format!(
                "<PermissionsBoundary><PermissionsBoundaryType>PermissionsBoundaryPolicy\
                 </PermissionsBoundaryType><PermissionsBoundaryArn>{arn}</PermissionsBoundaryArn>\
                 </PermissionsBoundary></User>"
            );
            let text = String::from_utf8_lossy(&bytes).replacen("</User>", &element, 1);
            let mut patched = HttpResponse::new(status, SdkBody::from(text));
            for (k, v) in headers
                .into_iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("content-length"))
            {
                patched.headers_mut().insert(k, v);
            }
            Ok(patched)
        })
    }
}
