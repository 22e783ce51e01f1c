//! Interop with the official Python client: runs the `unittest` suite in
//! `tests/python/` (python-socketio 5.x, synchronous `socketio.Client`;
//! pins in `tests/python/requirements.txt`) against the conformance server
//! of each driver (built in release mode), one `#[test]` per driver, once
//! per transport variant.
//!
//! Needs `python3` with the `venv` module. The tests create a virtualenv in
//! `<target>/python-interop-venv` and `pip install` the pinned requirements
//! into it from PyPI; it is reused until `requirements.txt` (or the Python
//! version) changes. Without Python the tests are skipped with a message,
//! except under `CI` (any non-empty value), where they fail.
//! `SOCKETIO_PYTHON_TRANSPORTS` (e.g. `websocket;polling`) overrides the
//! transport variants to run.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{Driver, PerTransport, SuiteRun};

/// Transport variants to run (the suite's `TRANSPORTS`), one server and one
/// suite run each: WebSocket only, long-polling only, and the client's
/// default (polling, then the upgrade to WebSocket).
const TRANSPORTS: &[&str] = &["websocket", "polling", "polling,websocket"];

/// Time limit for one run of the Python suite (it takes seconds).
const SUITE_TIMEOUT: Duration = Duration::from_secs(300);

/// 1000/2000 ms heartbeats, so a loaded 2-core machine cannot time
/// clients out.
const SERVER_ARGS: &[&str] = &["--ping-interval", "1000", "--ping-timeout", "2000"];

fn python_suite(driver: Driver) {
    let _one_at_a_time = support::exclusive();
    let suite = format!("python ({})", driver.name());
    let Some(version) = support::python_version() else {
        let why = format!(
            "`{}` with the venv and ensurepip modules is needed",
            support::python_program()
        );
        return support::skip(&suite, &why);
    };
    let started = Instant::now();
    let dir = support::suite_dir("python");
    let python = support::ensure_venv(&version, &dir.join("requirements.txt"));
    let per_transport = PerTransport {
        suite: &suite,
        driver,
        server_args: SERVER_ARGS,
        transports: support::transports("SOCKETIO_PYTHON_TRANSPORTS", TRANSPORTS),
        limit: SUITE_TIMEOUT,
    };
    let command = |url: &str, transport: &str| {
        let mut unittest = Command::new(&python);
        unittest
            .args(["-m", "unittest", "-v", "test_interop"])
            .current_dir(&dir)
            .env("SERVER_URL", url)
            .env("TRANSPORTS", transport)
            .env("PYTHONDONTWRITEBYTECODE", "1") // no __pycache__ in the source tree
            .env("PYTHONUNBUFFERED", "1");
        unittest
    };
    // unittest's closing lines: "Ran N tests in Xs" and "OK (...)".
    let summary = |run: &SuiteRun| {
        run.stderr
            .lines()
            .filter(|l| l.starts_with("Ran ") || l.starts_with("OK") || l.starts_with("FAILED"))
            .map(str::to_owned)
            .collect()
    };
    per_transport.run(command, summary);
    eprintln!("{suite}: done in {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn python_suite_blocking() {
    python_suite(Driver::Blocking);
}

#[test]
fn python_suite_mio() {
    python_suite(Driver::Mio);
}
