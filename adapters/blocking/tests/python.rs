//! Interop with the official Python client: runs the `unittest` suite in
//! `tests/python/` (python-socketio 5.x, synchronous `socketio.Client`; pins
//! in `tests/python/requirements.txt`) against the `conformance` example,
//! built in release mode, once per transport variant.
//!
//! Needs `python3` with the `venv` module. The test creates a virtualenv in
//! `<target>/python-interop-venv` and `pip install`s the pinned requirements
//! into it from PyPI; it is reused until `requirements.txt` (or the Python
//! version) changes. Without Python the test is skipped with a message, except
//! under `CI` (any non-empty value), where it fails.
//! `SOCKETIO_PYTHON_TRANSPORTS` (e.g. `websocket;polling`) overrides the
//! transport variants to run.

use std::env;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Transport variants to run (the suite's `TRANSPORTS`), one server and one
/// suite run each: WebSocket only, long-polling only, and the client's
/// default (polling, then the upgrade to WebSocket).
const TRANSPORTS: &[&str] = &["websocket", "polling", "polling,websocket"];

/// Time limit for one run of the Python suite (it takes seconds).
const SUITE_TIMEOUT: Duration = Duration::from_secs(300);

/// Extra server arguments for a transport variant: 1000/2000 ms heartbeats
/// for every variant, so a loaded 2-core machine cannot time clients out.
fn server_args(transports: &str) -> &'static [&'static str] {
    let _ = transports;
    &["--ping-interval", "1000", "--ping-timeout", "2000"]
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn target_dir() -> PathBuf {
    let root = workspace_root();
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir), // an absolute CARGO_TARGET_DIR replaces root
        None => root.join("target"),
    }
}

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

fn in_ci() -> bool {
    env::var_os("CI").is_some_and(|v| !v.is_empty())
}

fn python_program() -> &'static str {
    if cfg!(windows) {
        "python"
    } else {
        "python3"
    }
}

/// The interpreter inside a virtualenv.
fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts/python.exe")
    } else {
        venv.join("bin/python")
    }
}

/// `program args...` with stdin closed; `None` if it cannot be started.
fn run(program: &Path, args: &[&str], dir: Option<&Path>) -> Option<Output> {
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    cmd.output().ok()
}

/// The `python3 --version` text if python3 runs and has `venv` and `ensurepip`.
fn python_version() -> Option<String> {
    let python = Path::new(python_program());
    let out = run(
        python,
        &[
            "-c",
            "import sys, venv, ensurepip; print(sys.version.split()[0])",
        ],
        None,
    )?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn output_text(out: &Output) -> String {
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Creates (or re-creates) the virtualenv unless its marker file records the
/// same Python version and `requirements.txt` content; returns its python.
fn ensure_venv(python_version: &str) -> PathBuf {
    let venv = target_dir().join("python-interop-venv");
    let marker = venv.join("socketio-interop-requirements.txt");
    let requirements_path = suite_dir().join("requirements.txt");
    let requirements =
        fs::read_to_string(&requirements_path).expect("tests/python/requirements.txt is missing");
    let wanted = format!("# python {python_version}\n{requirements}");
    let python = venv_python(&venv);
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
    let venv_arg = venv.to_str().expect("non-UTF-8 target directory");
    let out = run(Path::new(python_program()), &["-m", "venv", venv_arg], None)
        .expect("cannot run python3");
    assert!(
        out.status.success(),
        "`python3 -m venv` failed ({})\n{}",
        out.status,
        output_text(&out)
    );
    let requirements_arg = requirements_path
        .to_str()
        .expect("non-UTF-8 source directory");
    let out = run(
        &python,
        &[
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
            "-r",
            requirements_arg,
        ],
        None,
    )
    .expect("cannot run the virtualenv's python");
    assert!(
        out.status.success(),
        "`pip install -r requirements.txt` failed ({})\n{}",
        out.status,
        output_text(&out)
    );
    fs::write(&marker, wanted).expect("cannot write the virtualenv marker file");
    eprintln!(
        "python: virtualenv ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    python
}

/// Builds the conformance example (release) and returns its path.
fn build_conformance() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-p",
            "socketio-blocking",
            "--example",
            "conformance",
        ])
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .status()
        .expect("cannot run cargo");
    assert!(
        status.success(),
        "building the conformance example failed ({status})"
    );
    let exe = target_dir()
        .join("release/examples/conformance")
        .with_extension(env::consts::EXE_EXTENSION);
    assert!(
        exe.is_file(),
        "conformance binary not found at {}",
        exe.display()
    );
    exe
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("cannot pick a free port")
        .port()
}

fn temp_file(name: &str, port: u16) -> PathBuf {
    env::temp_dir().join(format!(
        "socketio-python-{}-{port}.{name}",
        std::process::id()
    ))
}

/// Sends SIGTERM (on Unix) and waits up to 5 s, then kills; returns whether
/// the process stopped by itself.
fn terminate(child: &mut Child) -> bool {
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

/// The running conformance server; stopped (SIGTERM, then kill) on drop.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(exe: &Path, port: u16, extra: &[&str]) -> Server {
        let log = temp_file("server.log", port);
        let log_file = fs::File::create(&log).expect("cannot create the server log file");
        let child = Command::new(exe)
            .args(["--port", &port.to_string()])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(
                log_file
                    .try_clone()
                    .expect("cannot clone the log file handle"),
            )
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let mut server = Server { child, log };
        server.wait_accepting(port);
        server
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_accepting(&mut self, port: u16) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the conformance server exited early ({status})\n{}",
                    self.log_text()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "the conformance server does not accept on {addr}\n{}",
                    self.log_text()
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(&mut self) -> bool {
        terminate(&mut self.child)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_file(&self.log);
    }
}

/// Runs the suite once; returns its exit status (`None` on timeout) and
/// its stdout and stderr.
fn run_suite(
    python: &Path,
    url: &str,
    transports: &str,
    port: u16,
) -> (Option<ExitStatus>, String, String) {
    let out_path = temp_file("stdout", port);
    let err_path = temp_file("stderr", port);
    let out_file = fs::File::create(&out_path).expect("cannot create the suite's stdout file");
    let err_file = fs::File::create(&err_path).expect("cannot create the suite's stderr file");
    let mut child = Command::new(python)
        .args(["-m", "unittest", "-v", "test_interop"])
        .current_dir(suite_dir())
        .env("SERVER_URL", url)
        .env("TRANSPORTS", transports)
        .env("PYTHONDONTWRITEBYTECODE", "1") // no __pycache__ in the source tree
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(err_file)
        .spawn()
        .expect("cannot run the virtualenv's python");
    let deadline = Instant::now() + SUITE_TIMEOUT;
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
    let stdout = fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = fs::read_to_string(&err_path).unwrap_or_default();
    let _ = fs::remove_file(&out_path);
    let _ = fs::remove_file(&err_path);
    (status, stdout, stderr)
}

#[test]
fn python_client_interop() {
    let Some(version) = python_version() else {
        let msg = format!(
            "python: `{}` with the venv and ensurepip modules is needed",
            python_program()
        );
        if in_ci() {
            panic!("{msg}; CI is set, so this is a failure");
        }
        eprintln!("{msg}; SKIPPING the python-socketio interop test");
        return;
    };

    let started = Instant::now();
    let python = ensure_venv(&version);
    let exe = build_conformance();

    let transports: Vec<String> = match env::var("SOCKETIO_PYTHON_TRANSPORTS") {
        Ok(list) if !list.trim().is_empty() => {
            list.split(';').map(|s| s.trim().to_string()).collect()
        }
        _ => TRANSPORTS.iter().map(|s| s.to_string()).collect(),
    };

    for transport in &transports {
        let port = free_port();
        let mut server = Server::start(&exe, port, server_args(transport));
        let url = format!("http://127.0.0.1:{port}");
        eprintln!("python: TRANSPORTS={transport} SERVER_URL={url}");
        let (status, stdout, stderr) = run_suite(&python, &url, transport, port);
        let server_log = server.log_text();
        let stopped = server.stop();
        let outcome = match status {
            Some(status) => status.to_string(),
            None => format!("timed out after {} s", SUITE_TIMEOUT.as_secs()),
        };
        assert!(
            status.is_some_and(|s| s.success()),
            "python suite failed with TRANSPORTS={transport} ({outcome})\n\
             --- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--- server log ---\n{server_log}"
        );
        // unittest's closing lines: "Ran N tests in Xs" and "OK (...)".
        let summary: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("Ran ") || l.starts_with("OK") || l.starts_with("FAILED"))
            .collect();
        eprintln!("python: TRANSPORTS={transport}: {}", summary.join(", "));
        assert!(
            stopped,
            "the conformance server did not stop within 5 s of SIGTERM\n{server_log}"
        );
    }
    eprintln!("python: done in {:.1} s", started.elapsed().as_secs_f64());
}
