//! The chat page's socket.io-client browser bundle comes from npm
//! (`examples/chat/package.json`, pinned by the committed
//! `package-lock.json`), not from this repository: the page loads
//! `node_modules/socket.io-client/dist/socket.io.min.js`, and this module
//! installs it with `npm ci` on the example's first run.

use std::path::{Path, PathBuf};
use std::process::{exit, Command, Stdio};

/// The bundle the page loads, relative to the chat directory.
const BUNDLE: &str = "node_modules/socket.io-client/dist/socket.io.min.js";

/// The directory holding the page and its `package.json`.
pub fn chat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/chat")
}

/// Makes sure the browser bundle is installed in [`chat_dir`]: runs
/// `npm ci --no-audit --no-fund` there when it is missing. Exits the process
/// with a message when npm is absent or fails.
pub fn ensure_client_bundle() {
    let dir = chat_dir();
    if dir.join(BUNDLE).is_file() {
        return;
    }
    eprintln!(
        "chat: installing the socket.io-client browser bundle (npm ci in {})",
        dir.display()
    );
    // npm's output goes to stderr: stdout carries only the example's address line.
    let status = Command::new(npm())
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .status();
    match status {
        Ok(s) if s.success() && dir.join(BUNDLE).is_file() => {}
        Ok(s) => fail(&dir, &format!("`npm ci` failed ({s})")),
        Err(e) => fail(&dir, &format!("npm could not be run ({e})")),
    }
}

fn npm() -> &'static str {
    if cfg!(windows) {
        "npm.cmd"
    } else {
        "npm"
    }
}

fn fail(dir: &Path, why: &str) -> ! {
    eprintln!(
        "chat: {why}.\nThe chat page needs the socket.io-client browser bundle from npm: \
         install Node.js/npm, or run `npm ci` in {}",
        dir.display()
    );
    exit(1)
}
