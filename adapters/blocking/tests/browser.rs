//! The chat example in a real browser: builds and starts
//! `examples/chat` on a free port, then runs `tests/browser/chat.e2e.js`
//! (`node --test`, playwright-core driving Debian's `/usr/bin/chromium`)
//! against it. Installs the test's npm packages and the chat page's
//! (`npm ci`) when `node_modules` is missing or older than
//! `package-lock.json`.
//!
//! Without node, npm or `/usr/bin/chromium` the test is skipped with a
//! message, unless `CI` is set: then it fails.
//!
//! `CHAT_E2E_QUERY=transports=websocket` appends a query to the page's URL
//! (the page then uses only those transports). By default the page uses the
//! client's default transports, and the test checks that both pages end on
//! WebSocket after starting on polling (the upgrade).

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Kills the server however the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `Some(reason)` when a prerequisite is missing.
fn missing_prerequisite() -> Option<String> {
    if !runs("node") {
        return Some("node is not installed".into());
    }
    if !runs("npm") {
        return Some("npm is not installed".into());
    }
    if !Path::new(CHROMIUM).exists() {
        return Some(format!(
            "{CHROMIUM} is missing (apt-get install -y chromium)"
        ));
    }
    None
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn npm_ci_if_needed(dir: &Path) {
    let installed = modified(&dir.join("node_modules"));
    let locked = modified(&dir.join("package-lock.json"));
    let fresh = matches!((installed, locked), (Some(i), Some(l)) if i >= l);
    if fresh {
        return;
    }
    eprintln!("browser: npm ci in {}", dir.display());
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output()
        .expect("run npm ci");
    assert!(
        out.status.success(),
        "npm ci failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn build_example(root: &Path) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", "socketio-blocking", "--example", "chat"])
        .current_dir(root)
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build --example chat failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    target
        .join("debug/examples")
        .join(format!("chat{}", std::env::consts::EXE_SUFFIX))
}

/// Starts the example on a port the OS picks; returns it and its URL (from
/// its one line of output).
fn start_server(root: &Path, binary: &Path) -> (Server, String) {
    let mut child = Command::new(binary)
        .args(["--port", "0", "--host", "127.0.0.1"])
        .current_dir(root)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the chat example");
    let stdout = child.stdout.take().expect("piped stdout");
    let server = Server(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
        // Keep the pipe open (the example prints nothing more).
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the chat example prints its address");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (server, url)
}

fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|_| panic!("not an address: {url}"))
}

fn wait_until_accepting(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err() {
        assert!(Instant::now() < deadline, "the chat example never accepted");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn chat_page_in_headless_chromium() {
    if let Some(why) = missing_prerequisite() {
        if std::env::var_os("CI").is_some() {
            panic!("browser test cannot run under CI: {why}");
        }
        eprintln!("browser: SKIPPED: {why}");
        return;
    }
    let root = workspace_root();
    let dir = root.join("adapters/blocking/tests/browser");
    let binary = build_example(&root);
    npm_ci_if_needed(&dir);
    // The page's socket.io-client bundle (the example would install it too).
    npm_ci_if_needed(&root.join("adapters/blocking/examples/chat"));
    let (server, url) = start_server(&root, &binary);
    let addr = addr_of(&url);
    wait_until_accepting(addr);

    let query = std::env::var("CHAT_E2E_QUERY").unwrap_or_default();
    let page = if query.is_empty() {
        url
    } else {
        format!("{url}?{query}")
    };
    let out = Command::new("node")
        .args(["--test", "chat.e2e.js"])
        .env("CHAT_URL", &page)
        .current_dir(&dir)
        .output()
        .expect("run node --test");
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser test failed against {page}:\n{stdout}\n{stderr}"
    );
    eprintln!("browser: passed against {page}");
}
