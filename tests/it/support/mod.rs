//! Test support: a local moto server (the AWS stand-in) and SDK fixtures built against it.
//!
//! One `moto_server` per test run (the single `it` binary starts it on first use, from
//! `.venv/bin/moto_server`, made by `scripts/setup-tools`), or the one at `MOTO_URL` when set.
//! Tests take [`moto()`]: a global lock (the SDK reads the process environment, so tests that
//! use moto or set variables run one at a time), a reset server, and the environment pointed at
//! it (`AWS_ENDPOINT_URL`, dummy credentials, `us-east-1`).
//!
//! Also here: the CloudTrail records ([`events`]), the world built through the AWS APIs
//! ([`world`]) and the pipeline runner ([`run`]) of the end-to-end tests, and the fixtures of
//! the Lambda and sink tests ([`lambda`]).

pub mod events;
pub mod lambda;
pub mod run;
pub mod world;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use access_undenied::collect::aws::{AwsSettings, AwsSource};
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls;
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

/// moto's account for the dummy credentials.
pub const ACCOUNT: &str = "123456789012";
/// Another account, entered with `sts:AssumeRole` (moto takes the account from the role ARN).
pub const OTHER_ACCOUNT: &str = "222222222222";
pub const REGION: &str = "us-east-1";
/// The cross-account role name of the tests (moto does not check that it exists or trusts us).
pub const CROSS_ROLE: &str = "AccessUndeniedAudit";

/// Kills moto_server when the test process goes away, even without running destructors: it
/// waits for its stdin to close, then terminates the server.
const WATCHDOG: &str = r#"
import subprocess, sys
server = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
try:
    sys.stdin.read()
finally:
    server.terminate()
    try:
        server.wait(5)
    except Exception:
        server.kill()
"#;

/// A running moto server.
pub struct Moto {
    pub url: String,
    process: Mutex<Option<(Child, ChildStdin)>>,
}

impl Moto {
    /// The server at `MOTO_URL`, or a new one on a free 127.0.0.1 port.
    pub fn start() -> Moto {
        if let Ok(url) = std::env::var("MOTO_URL") {
            let url = url.trim_end_matches('/').to_string();
            assert!(
                wait_ready(&url, Duration::from_secs(10)),
                "MOTO_URL={url} does not answer GET /moto-api/"
            );
            return Moto {
                url,
                process: Mutex::new(None),
            };
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let server = root.join(".venv/bin/moto_server");
        let python = root.join(".venv/bin/python");
        assert!(
            server.exists() && python.exists(),
            "{} is missing: run `scripts/setup-tools` first (it installs moto into .venv)",
            server.display()
        );
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let log_path =
            std::env::temp_dir().join(format!("access-undenied-moto-{}.log", std::process::id()));
        let log = std::fs::File::create(&log_path).expect("create the moto log file");
        let mut child = Command::new(&python)
            .arg("-c")
            .arg(WATCHDOG)
            .arg(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("spawn moto_server");
        let stdin = child.stdin.take().expect("watchdog stdin");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !wait_ready(&url, Duration::from_millis(200)) {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("moto_server exited ({status}): {}", read_log(&log_path));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "moto_server did not answer at {url} within 30 s: {}",
                    read_log(&log_path)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto {
            url,
            process: Mutex::new(Some((child, stdin))),
        }
    }

    /// `POST /moto-api/reset`: forgets every resource.
    pub fn reset(&self) {
        let (status, body) = http(&self.url, "POST", "/moto-api/reset").expect("reset moto");
        assert!(
            status.contains(" 200"),
            "moto reset answered {status}: {body}"
        );
    }

    /// Stops the server (when this process started it).
    pub fn stop(&self) {
        let taken = self
            .process
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some((mut child, stdin)) = taken {
            drop(stdin); // the watchdog terminates the server
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn read_log(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// A minimal HTTP/1.0 exchange: (status line, body).
fn http(url: &str, method: &str, path: &str) -> std::io::Result<(String, String)> {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.lines().next().unwrap_or_default().to_string();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn wait_ready(url: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok((status, _)) = http(url, "GET", "/moto-api/") {
            if status.starts_with("HTTP/1") {
                return true;
            }
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

static MOTO: OnceLock<Moto> = OnceLock::new();
static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A test's hold on the shared, freshly reset moto server.
pub struct TestEnv {
    pub url: String,
    _guard: tokio::sync::MutexGuard<'static, ()>,
}

/// Takes the lock, resets the server and points the AWS environment at it.
pub async fn moto() -> TestEnv {
    let guard = LOCK.lock().await;
    let moto = MOTO.get_or_init(Moto::start);
    moto.reset();
    set_aws_env(&moto.url);
    TestEnv {
        url: moto.url.clone(),
        _guard: guard,
    }
}

/// The environment every test starts with (a test that changes it restores it with [`EnvVars`]).
pub fn set_aws_env(url: &str) {
    for (key, value) in [
        ("AWS_ENDPOINT_URL", url),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", REGION),
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/access-undenied/config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/access-undenied/credentials",
        ),
    ] {
        std::env::set_var(key, value);
    }
    for key in [
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ] {
        std::env::remove_var(key);
    }
}

/// Restores the variables it changed when dropped.
pub struct EnvVars {
    saved: Vec<(String, Option<String>)>,
}

impl EnvVars {
    pub fn new() -> EnvVars {
        EnvVars { saved: Vec::new() }
    }

    pub fn set(&mut self, key: &str, value: Option<&str>) {
        self.saved.push((key.to_string(), std::env::var(key).ok()));
        match value {
            Some(v) => std::env::set_var(key, v),
            None => std::env::remove_var(key),
        }
    }
}

impl Drop for EnvVars {
    fn drop(&mut self) {
        for (key, value) in self.saved.drain(..).rev() {
            match value {
                Some(v) => std::env::set_var(&key, v),
                None => std::env::remove_var(&key),
            }
        }
    }
}

/// The HTTP client of the project (rustls with ring).
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The fixtures' SDK configuration: the environment's (moto, dummy credentials).
pub async fn config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .load()
        .await
}

/// A configuration acting in `account` (an assumed role: moto takes the account from it).
pub async fn config_for(account: &str) -> SdkConfig {
    let base = config().await;
    if account == ACCOUNT {
        return base;
    }
    let sts = aws_sdk_sts::Client::new(&base);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/fixture-admin"))
        .role_session_name("fixtures")
        .send()
        .await
        .expect("assume the fixture role");
    let c = out.credentials().expect("credentials");
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "fixtures",
    );
    base.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build()
}

/// The S3 client of the fixtures (path-style: moto).
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

pub fn settings() -> AwsSettings {
    AwsSettings {
        cross_account_role_name: CROSS_ROLE.into(),
        ..AwsSettings::default()
    }
}

/// The adapter under test, from the environment.
pub async fn source() -> AwsSource {
    AwsSource::new(settings()).await.expect("AwsSource::new")
}

/// A one-statement policy document.
pub fn doc(effect: &str, action: &str, resource: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]
    })
}

/// A one-statement resource policy allowing `principal` (an AWS principal ARN or account).
pub fn resource_doc(principal: &str, action: &str, resource: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Grant",
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": action,
            "Resource": resource
        }]
    })
}

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
