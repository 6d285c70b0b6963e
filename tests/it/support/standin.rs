//! The stand-in for the AWS APIs moto lacks (`scripts/standin/evidence_standin.py`: IAM Toolbox
//! and `sts:DecodeAuthorizationMessage`, other STS calls forwarded to moto), started once per
//! run next to moto, and the environment that routes only those services to it
//! (`AWS_ENDPOINT_URL_IAM_TOOLBOX`, `AWS_ENDPOINT_URL_STS`) for every test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;

use super::{moto, root, TestEnv};

/// The running stand-in.
struct StandIn {
    url: String,
    _process: Mutex<(Child, ChildStdin)>,
}

impl StandIn {
    fn start(moto_url: &str) -> StandIn {
        let python = root().join(".venv/bin/python");
        let script = root().join("scripts/standin/evidence_standin.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .args([
                "--port",
                "0",
                "--moto-url",
                moto_url,
                "--exit-on-stdin-close",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the stand-in (run scripts/setup-tools first)");
        let stdin = child.stdin.take().expect("stand-in stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stand-in stdout"))
            .read_line(&mut line)
            .expect("the stand-in's first line");
        let url = line
            .trim()
            .strip_prefix("standin listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the stand-in: {line:?}"))
            .to_string();
        StandIn {
            url,
            _process: Mutex::new((child, stdin)),
        }
    }
}

static STANDIN: OnceLock<StandIn> = OnceLock::new();

/// Starts the stand-in once (next to moto at `moto_url`), resets it and routes IAM Toolbox and
/// STS to it; returns its URL. Every test gets this through [`moto()`]: like AWS, the tests'
/// STS knows `DecodeAuthorizationMessage` (an unknown message is refused), and iam-toolbox
/// knows no authorization ID until one is seeded.
pub(super) fn route(moto_url: &str) -> String {
    let standin = STANDIN.get_or_init(|| StandIn::start(moto_url));
    post(&standin.url, "/_standin/reset", &Value::Null);
    std::env::set_var("AWS_ENDPOINT_URL_IAM_TOOLBOX", &standin.url);
    std::env::set_var("AWS_ENDPOINT_URL_STS", &standin.url);
    standin.url.clone()
}

/// A test's hold on moto and the stand-in, both reset, with the seeding helpers.
pub struct EvidenceEnv {
    _env: TestEnv,
    pub url: String,
}

pub async fn evidence() -> EvidenceEnv {
    let env = moto().await;
    let url = env.standin.clone();
    EvidenceEnv { _env: env, url }
}

impl EvidenceEnv {
    /// Seeds AWS's recorded evaluation for `id`: `details` is `GetRequestAuthorizationDetails`'
    /// output, `policies` maps each policy URI to its captured document.
    pub fn authorization(&self, id: &str, details: Value, policies: Value, fault: Value) {
        post(
            &self.url,
            "/_standin/authorizations",
            &serde_json::json!({
                "AuthorizationId": id,
                "Details": details,
                "Policies": policies,
                "PageSize": 1,
                "Fault": fault,
            }),
        );
    }

    /// Seeds what `sts:DecodeAuthorizationMessage` answers for `encoded` (`decoded` is sent as
    /// its JSON text).
    pub fn encoded_message(&self, encoded: &str, decoded: &Value, fault: Value) {
        post(
            &self.url,
            "/_standin/encoded-messages",
            &serde_json::json!({
                "EncodedMessage": encoded,
                "DecodedMessage": decoded.to_string(),
                "Fault": fault,
            }),
        );
    }

    /// A fault for every call of `service` (`iam-toolbox` or `sts`).
    pub fn service_fault(&self, service: &str, fault: Value) {
        post(
            &self.url,
            "/_standin/fault",
            &serde_json::json!({"Service": service, "Fault": fault}),
        );
    }

    /// The API requests the stand-in served.
    pub fn requests(&self) -> Vec<Value> {
        requests(&self.url)
    }
}

/// The API requests the stand-in at `url` served (STS calls forwarded to moto included).
pub fn requests(url: &str) -> Vec<Value> {
    let (_, body) = exchange(url, "GET", "/_standin/requests", "");
    serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

fn post(url: &str, path: &str, body: &Value) {
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (status, answer) = exchange(url, "POST", path, &text);
    assert!(
        status.contains(" 200"),
        "{path} answered {status}: {answer}"
    );
}

/// One HTTP/1.0 exchange: (status line, body).
fn exchange(url: &str, method: &str, path: &str, body: &str) -> (String, String) {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).expect("connect to the stand-in");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write to the stand-in");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the stand-in's answer");
    let status = response.lines().next().unwrap_or_default().to_string();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
