//! The moto server of the test run, the lock tests take before using it, and the process
//! environment pointed at it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::{root, REGION};

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
        let root = root();
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
    /// The stand-in of IAM Toolbox and STS (`support::standin`).
    pub standin: String,
    _guard: tokio::sync::MutexGuard<'static, ()>,
}

/// Takes the lock, resets the server and points the AWS environment at it.
pub async fn moto() -> TestEnv {
    let guard = LOCK.lock().await;
    let moto = MOTO.get_or_init(Moto::start);
    moto.reset();
    set_aws_env(&moto.url);
    let standin = super::standin::route(&moto.url);
    TestEnv {
        url: moto.url.clone(),
        standin,
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
        "AWS_ENDPOINT_URL_IAM_TOOLBOX",
        "AWS_ENDPOINT_URL_STS",
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
