//! `--procs P`: helper processes that open part of the connections and
//! hold them, for runs that need more descriptors than one process may
//! have (each helper is this program again, with `--hold`).

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::opts::Options;

struct Helper {
    child: Child,
    stdin: Option<ChildStdin>,
    held: mpsc::Receiver<usize>,
}

/// The running helpers.
pub(crate) struct Holders {
    helpers: Vec<Helper>,
    /// The connections the helpers were asked to open.
    pub(crate) clients: usize,
}

/// Starts `o.procs - 1` helpers, each with `o.clients / o.procs`
/// connections.
pub(crate) fn spawn(o: &Options) -> Result<Holders, String> {
    let exe = std::env::current_exe().map_err(|e| format!("--procs: this program: {e}"))?;
    let share = o.clients / o.procs;
    let hold_for = o.timeout + o.settle + o.duration + Duration::from_secs(30);
    let mut holders = Holders {
        helpers: Vec::new(),
        clients: 0,
    };
    for p in 1..o.procs {
        let mut child = Command::new(&exe)
            .arg(&o.case)
            .args(["--host", &o.host.to_string()])
            .args(["--port", &o.port.to_string()])
            .args(["-c", &share.to_string()])
            .args(["--settle", "0", "--warmup", "0"])
            .args(["--duration", &hold_for.as_secs().to_string()])
            .args(["--timeout-ms", &o.timeout.as_millis().to_string()])
            .args(["--connecting", &o.connecting.to_string()])
            .args(["--sources", &o.sources.to_string()])
            .args(["--source-offset", &(p * share).to_string()])
            .args(["--seed", &(o.seed + p as u64).to_string()])
            .args(["--eio", &o.eio.to_string()])
            .args(["--nsp", &o.nsp])
            .args(["--hold", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("--procs: cannot start a helper: {e}"))?;
        let stdin = child.stdin.take();
        let (tx, held) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            // The helper prints `held N` once connected, then its result.
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if let Some(n) = line.strip_prefix("held ") {
                        let _ = tx.send(n.trim().parse().unwrap_or(0));
                    }
                }
            });
        }
        holders.clients += share;
        holders.helpers.push(Helper { child, stdin, held });
    }
    Ok(holders)
}

impl Holders {
    /// Waits (at most `timeout` in all) until every helper has connected;
    /// returns the connections they hold.
    pub(crate) fn wait_held(&mut self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        self.helpers
            .iter()
            .map(|h| {
                let left = deadline.saturating_duration_since(Instant::now());
                h.held.recv_timeout(left).unwrap_or(0)
            })
            .sum()
    }

    /// Lets the helpers go (their stdin closes) and waits for them.
    pub(crate) fn release(mut self) {
        for h in &mut self.helpers {
            drop(h.stdin.take());
        }
        for h in &mut self.helpers {
            let _ = h.child.wait();
        }
    }
}

impl Drop for Holders {
    fn drop(&mut self) {
        for h in &mut self.helpers {
            if h.stdin.take().is_some() {
                // Not released (an error on the way): stop it.
                let _ = h.child.kill();
                let _ = h.child.wait();
            }
        }
    }
}
