//! What the tests that run against both drivers share: the drivers served
//! in this process (`slow_consumer.rs`, `live.rs`), and for the launchers
//! of the external suites (`interop.rs`: the
//! Node.js clients, `python.rs`: python-socketio, `browser.rs`: headless
//! Chromium on the chat page, `cluster.rs`: a Redis cluster with a
//! Node.js node): the drivers and their example binaries,
//! free ports, the server process (started, waited for, stopped with
//! SIGTERM), `npm ci` from the committed lock files, the Python
//! virtualenv, running a suite under a time limit, and the rule for
//! missing tools: "SKIPPED" locally, a failure under `CI`.
#![allow(dead_code)]

use std::env;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use socketio_http::{Builder, Cookie, HandshakeRequest, Refusal};
use socketio_sansio::app::App;
use socketio_sansio::ConfigBuilder;

/// The `allow_request` hook of [`HttpOptions`].
pub type Allow = Arc<dyn Fn(&HandshakeRequest<'_>) -> Result<(), Refusal> + Send + Sync>;

/// Options of the shared HTTP builder, set alike on either driver.
#[derive(Clone, Default)]
pub struct HttpOptions {
    /// `Builder::allow_request`.
    pub allow: Option<Allow>,
    /// `Builder::cookie`.
    pub cookie: Option<Cookie>,
    /// `Builder::http_compression`, if not the default.
    pub compression: Option<Option<usize>>,
    /// `Builder::ws_close_timeout`, if not the default.
    pub ws_close_timeout: Option<Duration>,
}

impl HttpOptions {
    fn apply<T>(&self, mut b: Builder<T>) -> Builder<T> {
        if let Some(allow) = self.allow.clone() {
            b = b.allow_request(move |req| allow(req));
        }
        if let Some(cookie) = self.cookie.clone() {
            b = b.cookie(cookie);
        }
        if let Some(threshold) = self.compression {
            b = b.http_compression(threshold);
        }
        if let Some(timeout) = self.ws_close_timeout {
            b = b.ws_close_timeout(timeout);
        }
        b
    }
}

/// A driver of the workspace, serving the applications of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// `socketio-blocking`: threads + tungstenite.
    Blocking,
    /// `socketio-mio`: one mio event loop.
    Mio,
}

impl Driver {
    /// The name in messages and in the chat example's `--driver`.
    pub fn name(self) -> &'static str {
        match self {
            Driver::Blocking => "blocking",
            Driver::Mio => "mio",
        }
    }

    /// The package and example name of its conformance server.
    fn conformance_example(self) -> (&'static str, &'static str) {
        match self {
            Driver::Blocking => ("socketio-blocking", "conformance"),
            Driver::Mio => ("socketio-mio", "mio_conformance"),
        }
    }

    /// Builds the driver's conformance example (release) and returns the
    /// binary's path.
    pub fn conformance_binary(self) -> PathBuf {
        let (package, example) = self.conformance_example();
        build_example(package, example, true)
    }
}

/// One test per scenario and driver: `on_both_drivers!(a, b)` defines the
/// tests `blocking::a`, `mio::a`, `blocking::b`, `mio::b`, which call the
/// scenario functions `a(Driver::Blocking)`, `a(Driver::Mio)`, ...
#[allow(unused_macros)]
macro_rules! on_both_drivers {
    ($($scenario:ident),* $(,)?) => {
        mod blocking {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario(crate::support::Driver::Blocking);
                }
            )*
        }
        mod mio {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario(crate::support::Driver::Mio);
                }
            )*
        }
    };
}

/// A server of a driver in this process (the tests that run their
/// scenarios against both drivers in process).
pub struct Served {
    pub addr: SocketAddr,
    stop: Box<dyn FnOnce()>,
}

impl Served {
    /// Shuts the server down and waits for it.
    pub fn shutdown(self) {
        (self.stop)()
    }
}

impl Driver {
    /// Binds 127.0.0.1 on a free port with `config` and serves `app` on
    /// background threads (the mio driver: its loop thread).
    pub fn serve(self, config: impl FnOnce(ConfigBuilder) -> ConfigBuilder, app: App) -> Served {
        self.serve_with(config, &HttpOptions::default(), app)
    }

    /// [`Driver::serve`] with options of the shared HTTP builder.
    pub fn serve_with(
        self,
        config: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
        options: &HttpOptions,
        app: App,
    ) -> Served {
        match self {
            Driver::Blocking => {
                let handle = options
                    .apply(socketio_blocking::SocketIo::builder())
                    .config(config)
                    .bind("127.0.0.1:0", app)
                    .expect("bind");
                Served {
                    addr: handle.local_addr(),
                    stop: Box::new(move || handle.shutdown()),
                }
            }
            Driver::Mio => {
                let server = options
                    .apply(socketio_mio::MioServer::builder())
                    .config(config)
                    .bind("127.0.0.1:0", app)
                    .expect("bind");
                let addr = server.local_addr();
                let handle = server.spawn().expect("spawn");
                Served {
                    addr,
                    stop: Box::new(move || handle.shutdown().expect("loop result")),
                }
            }
        }
    }
}

/// One external suite at a time in a test binary: the per-driver tests of
/// a suite would otherwise run in parallel and share 2 loaded cores (the
/// suites' heartbeat windows assume they do not), and race in `npm ci`.
pub fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

pub fn target_dir() -> PathBuf {
    let root = workspace_root();
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir), // an absolute CARGO_TARGET_DIR replaces root
        None => root.join("target"),
    }
}

/// A directory of this crate's tests (`interop`, `python`, `browser`).
pub fn suite_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

pub fn in_ci() -> bool {
    env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// A prerequisite is missing: fails under `CI`, else says "SKIPPED".
/// Returns so the test can `return`.
pub fn skip(suite: &str, why: &str) {
    if in_ci() {
        panic!("{suite}: {why}; CI is set, so this is a failure");
    }
    eprintln!("{suite}: SKIPPED: {why}");
}

pub fn npm_program() -> &'static str {
    if cfg!(windows) {
        "npm.cmd"
    } else {
        "npm"
    }
}

/// Whether `program --version` runs successfully.
pub fn tool_available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Why node and npm cannot be used, if they cannot.
pub fn missing_node() -> Option<String> {
    let (node, npm) = (tool_available("node"), tool_available(npm_program()));
    (!(node && npm))
        .then(|| format!("node and npm are needed (node found: {node}, npm found: {npm})"))
}

pub fn output_text(out: &Output) -> String {
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `cargo build [--release] -p package --example example`; the binary.
pub fn build_example(package: &str, example: &str, release: bool) -> PathBuf {
    let mut args = vec!["build", "-p", package, "--example", example];
    if release {
        args.push("--release");
    }
    let status = Command::new(env!("CARGO"))
        .args(&args)
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .status()
        .expect("cannot run cargo");
    assert!(
        status.success(),
        "cargo {} failed ({status})",
        args.join(" ")
    );
    let profile = if release { "release" } else { "debug" };
    let exe = target_dir()
        .join(profile)
        .join("examples")
        .join(example)
        .with_extension(env::consts::EXE_EXTENSION);
    assert!(exe.is_file(), "{example} not found at {}", exe.display());
    exe
}

/// Runs `npm ci` in `dir` unless `node_modules` is at least as new as
/// `package-lock.json` (npm writes `node_modules/.package-lock.json` on
/// every install).
pub fn npm_ci_if_needed(dir: &Path) {
    let modified = |p: PathBuf| fs::metadata(p).and_then(|m| m.modified()).ok();
    let lock = modified(dir.join("package-lock.json"))
        .unwrap_or_else(|| panic!("{}/package-lock.json is missing", dir.display()));
    let installed = modified(dir.join("node_modules/.package-lock.json"));
    if installed.is_some_and(|t| t >= lock) {
        return;
    }
    eprintln!("npm ci in {}", dir.display());
    let out = Command::new(npm_program())
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run npm");
    assert!(
        out.status.success(),
        "`npm ci` in {} failed ({})\n{}",
        dir.display(),
        out.status,
        output_text(&out)
    );
}

fn temp_file(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    env::temp_dir().join(format!("socketio-apps-{}-{n}.{name}", std::process::id()))
}

/// Sends SIGTERM (on Unix) and waits up to 5 s, then kills; returns
/// whether the process stopped by itself.
pub fn terminate(child: &mut Child) -> bool {
    if let Ok(Some(_)) = child.try_wait() {
        return true;
    }
    if cfg!(unix) {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// A server under test: `exe --port PORT args...` on a free port, output
/// in a log file; stopped (SIGTERM, then kill) on drop.
pub struct ServerProcess {
    child: Child,
    log: PathBuf,
    pub port: u16,
}

impl ServerProcess {
    /// Starts `exe` and waits until its port accepts connections.
    pub fn start(exe: &Path, args: &[&str]) -> ServerProcess {
        ServerProcess::start_with(exe, &[], args)
    }

    /// Starts `program leading... --port PORT args...` (a script and its
    /// interpreter: `node server.js --port ...`) and waits until its port
    /// accepts connections.
    pub fn start_with(program: &Path, leading: &[&str], args: &[&str]) -> ServerProcess {
        let exe = program;
        let port = socketio_apps::testing::free_port();
        let log = temp_file("server.log");
        let log_file = fs::File::create(&log).expect("cannot create the server log file");
        let child = Command::new(exe)
            .args(leading)
            .args(["--port", &port.to_string()])
            .args(args)
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("cannot clone the log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let mut server = ServerProcess { child, log, port };
        server.wait_accepting();
        server
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_accepting(&mut self) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited early ({status})\n{}", self.log_text());
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if Instant::now() > deadline {
                panic!("the server does not accept on {addr}\n{}", self.log_text());
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server; returns whether it stopped by itself within 5 s
    /// of SIGTERM.
    pub fn stop(&mut self) -> bool {
        terminate(&mut self.child)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_file(&self.log);
    }
}

/// How a suite run ended.
pub struct SuiteRun {
    /// `None`: killed at the time limit.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl SuiteRun {
    pub fn passed(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn outcome(&self, limit: Duration) -> String {
        match self.status {
            Some(status) => status.to_string(),
            None => format!("timed out after {} s", limit.as_secs()),
        }
    }

    /// Fails with `failure`, the outcome, the suite's output and the
    /// server's log unless the suite passed.
    pub fn assert_passed(&self, failure: &str, limit: Duration, server_log: &str) {
        assert!(
            self.passed(),
            "{failure} ({})\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- server log ---\n{server_log}",
            self.outcome(limit),
            self.stdout,
            self.stderr,
        );
    }
}

/// Runs `command` (stdin closed, output to files) for at most `limit`.
pub fn run_suite(mut command: Command, limit: Duration) -> SuiteRun {
    let (out_path, err_path) = (temp_file("stdout"), temp_file("stderr"));
    let out_file = fs::File::create(&out_path).expect("cannot create the suite's stdout file");
    let err_file = fs::File::create(&err_path).expect("cannot create the suite's stderr file");
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(err_file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let deadline = started + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(100)),
            _ => {
                terminate(&mut child);
                break None;
            }
        }
    };
    let run = SuiteRun {
        status,
        stdout: fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: fs::read_to_string(&err_path).unwrap_or_default(),
        elapsed: started.elapsed(),
    };
    let _ = fs::remove_file(&out_path);
    let _ = fs::remove_file(&err_path);
    run
}

/// A suite run once per transport variant against the conformance server
/// of a driver (a new server process each time).
pub struct PerTransport<'a> {
    /// The suite's name in messages, with the driver's.
    pub suite: &'a str,
    pub driver: Driver,
    /// The server's arguments besides `--port`.
    pub server_args: &'a [&'a str],
    /// The variants ([`transports`]).
    pub transports: Vec<String>,
    /// The time limit of one run.
    pub limit: Duration,
}

impl PerTransport<'_> {
    /// For each variant: starts the server, runs `command(server URL,
    /// variant)`, stops the server; fails if the suite failed or the server
    /// did not stop within 5 s of SIGTERM. `summary` picks the suite's
    /// closing counts from its output for the report.
    pub fn run(
        &self,
        command: impl Fn(&str, &str) -> Command,
        summary: impl Fn(&SuiteRun) -> Vec<String>,
    ) {
        let (suite, limit) = (self.suite, self.limit);
        let exe = self.driver.conformance_binary();
        for transport in &self.transports {
            let mut server = ServerProcess::start(&exe, self.server_args);
            let url = server.url();
            eprintln!("{suite}: TRANSPORTS={transport} SERVER_URL={url}");
            let run = run_suite(command(&url, transport), limit);
            let server_log = server.log_text();
            let stopped = server.stop();
            let failure = format!("{suite} failed with TRANSPORTS={transport}");
            run.assert_passed(&failure, limit, &server_log);
            eprintln!(
                "{suite}: TRANSPORTS={transport}: {} in {:.1} s",
                summary(&run).join(", "),
                run.elapsed.as_secs_f64()
            );
            assert!(
                stopped,
                "the {} conformance server did not stop within 5 s of SIGTERM\n{server_log}",
                self.driver.name()
            );
        }
    }
}

/// The transport variants: `var` (`;`-separated) or `default`.
pub fn transports(var: &str, default: &[&str]) -> Vec<String> {
    match env::var(var) {
        Ok(list) if !list.trim().is_empty() => {
            list.split(';').map(|s| s.trim().to_string()).collect()
        }
        _ => default.iter().map(|s| s.to_string()).collect(),
    }
}

// ---- Python ------------------------------------------------------------

pub fn python_program() -> &'static str {
    if cfg!(windows) {
        "python"
    } else {
        "python3"
    }
}

/// The Python version if `python3` runs and has `venv` and `ensurepip`.
pub fn python_version() -> Option<String> {
    let out = Command::new(python_program())
        .args([
            "-c",
            "import sys, venv, ensurepip; print(sys.version.split()[0])",
        ])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Creates (or re-creates) the virtualenv `<target>/python-interop-venv`
/// with `requirements` unless its marker file records the same Python
/// version and requirements; returns its python.
pub fn ensure_venv(python_version: &str, requirements_path: &Path) -> PathBuf {
    let venv = target_dir().join("python-interop-venv");
    let marker = venv.join("socketio-interop-requirements.txt");
    let requirements = fs::read_to_string(requirements_path)
        .unwrap_or_else(|e| panic!("{}: {e}", requirements_path.display()));
    let wanted = format!("# python {python_version}\n{requirements}");
    let python = if cfg!(windows) {
        venv.join("Scripts/python.exe")
    } else {
        venv.join("bin/python")
    };
    if python.is_file() && fs::read_to_string(&marker).is_ok_and(|m| m == wanted) {
        return python;
    }
    let started = Instant::now();
    eprintln!(
        "python: creating the virtualenv {} and installing {}",
        venv.display(),
        requirements_path.display()
    );
    if venv.exists() {
        fs::remove_dir_all(&venv).expect("cannot remove the old virtualenv");
    }
    let run = |program: &Path, args: &[&std::ffi::OsStr]| {
        let out = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        assert!(
            out.status.success(),
            "`{} {args:?}` failed ({})\n{}",
            program.display(),
            out.status,
            output_text(&out)
        );
    };
    run(
        Path::new(python_program()),
        &["-m".as_ref(), "venv".as_ref(), venv.as_os_str()],
    );
    run(
        &python,
        &[
            "-m".as_ref(),
            "pip".as_ref(),
            "install".as_ref(),
            "--disable-pip-version-check".as_ref(),
            "--no-input".as_ref(),
            "--quiet".as_ref(),
            "-r".as_ref(),
            requirements_path.as_os_str(),
        ],
    );
    fs::write(&marker, wanted).expect("cannot write the virtualenv marker file");
    eprintln!(
        "python: virtualenv ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    python
}
