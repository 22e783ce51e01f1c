//! The chat in a real browser: builds the chat example
//! (`socketio-blocking --example chat`, the application of
//! `socketio_apps::chat` and the page of `examples/chat/`), starts it on a
//! free port with `--driver blocking` and with `--driver mio` (one
//! `#[test]` each), then runs `tests/browser/chat.e2e.js` (`node --test`,
//! playwright-core driving Debian's `/usr/bin/chromium`) against it.
//! Installs the test's npm packages and the chat page's (`npm ci`) when
//! `node_modules` is missing or older than `package-lock.json`.
//!
//! Without node, npm or `/usr/bin/chromium` the tests are skipped with a
//! message, unless `CI` is set: then they fail.
//!
//! `CHAT_E2E_QUERY=transports=websocket` appends a query to the page's URL
//! (the page then uses only those transports). By default the page uses the
//! client's default transports, and the test checks that both pages end on
//! WebSocket after starting on polling (the upgrade).

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{Driver, ServerProcess};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Time limit for the browser test (it takes seconds).
const SUITE_TIMEOUT: Duration = Duration::from_secs(300);

fn chat_page(driver: Driver) {
    let _one_at_a_time = support::exclusive();
    let suite = format!("browser ({})", driver.name());
    if let Some(why) = support::missing_node() {
        return support::skip(&suite, &why);
    }
    if !Path::new(CHROMIUM).exists() {
        let why = format!("{CHROMIUM} is missing (apt-get install -y chromium)");
        return support::skip(&suite, &why);
    }
    let dir = support::suite_dir("browser");
    let binary = support::build_example("socketio-blocking", "chat", false);
    support::npm_ci_if_needed(&dir);
    // The page's socket.io-client bundle (the example would install it too).
    support::npm_ci_if_needed(&support::workspace_root().join("adapters/blocking/examples/chat"));
    let server = ServerProcess::start(&binary, &["--host", "127.0.0.1", "--driver", driver.name()]);

    let query = std::env::var("CHAT_E2E_QUERY").unwrap_or_default();
    let page = if query.is_empty() {
        format!("{}/", server.url())
    } else {
        format!("{}/?{query}", server.url())
    };
    let mut node = Command::new("node");
    node.args(["--test", "chat.e2e.js"])
        .env("CHAT_URL", &page)
        .current_dir(&dir);
    let run = support::run_suite(node, SUITE_TIMEOUT);
    let server_log = server.log_text();
    drop(server);
    let failure = format!("{suite}: the browser test failed against {page}");
    run.assert_passed(&failure, SUITE_TIMEOUT, &server_log);
    eprintln!(
        "{suite}: passed against {page} in {:.1} s",
        run.elapsed.as_secs_f64()
    );
}

#[test]
fn chat_page_blocking() {
    chat_page(Driver::Blocking);
}

#[test]
fn chat_page_mio() {
    chat_page(Driver::Mio);
}
