//! The trace of a run: one record per event (virtual time, node,
//! connection, direction, what), hashed as it goes so two runs compare in
//! O(1); kept in memory when asked, to write as JSONL, a readable
//! timeline, or a self-contained HTML picture.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

use serde_json::json;

use crate::rng::{fnv1a, FNV_OFFSET};

/// One traced event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    /// Virtual time since the start of the run, in microseconds.
    pub t_us: u64,
    /// `server` or `client<i>`: where it happened.
    pub node: String,
    /// The simulated connection (a WebSocket link or an HTTP exchange).
    pub conn: Option<u64>,
    /// `up` (client → server) or `down` (server → client).
    pub dir: Option<&'static str>,
    /// What: `ws-open`, `frame`, `http-request`, `http-response`, `close`,
    /// `event`, `fault`, `violation`...
    pub kind: &'static str,
    /// The packet (as on the wire) or the details.
    pub data: String,
}

impl TraceEvent {
    /// The JSONL form of the event.
    pub fn to_json(&self) -> String {
        json!({
            "t_us": self.t_us,
            "node": self.node,
            "conn": self.conn,
            "dir": self.dir,
            "kind": self.kind,
            "data": self.data,
        })
        .to_string()
    }

    /// One line of the readable timeline.
    pub fn to_line(&self) -> String {
        let secs = self.t_us as f64 / 1e6;
        let conn = self.conn.map_or(String::new(), |c| format!("#{c}"));
        format!(
            "{secs:>10.6}s {:<10} {:<6} {:<5} {:<14} {}",
            self.node,
            conn,
            self.dir.unwrap_or(""),
            self.kind,
            self.data
        )
    }
}

/// The trace of one run.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    hash: u64,
    count: u64,
    keep: bool,
    events: Vec<TraceEvent>,
}

impl Trace {
    pub(crate) fn new(keep: bool) -> Self {
        Trace {
            hash: FNV_OFFSET,
            count: 0,
            keep,
            events: Vec::new(),
        }
    }

    pub(crate) fn record(&mut self, event: TraceEvent) {
        self.count += 1;
        let line = event.to_json();
        self.hash = fnv1a(line.as_bytes(), self.hash);
        self.hash = fnv1a(b"\n", self.hash);
        if self.keep {
            self.events.push(event);
        }
    }

    /// The hash of every event so far (equal hashes: byte-identical traces).
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// The number of events so far.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True before the first event.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The events kept (empty unless the run kept its trace:
    /// [`crate::SimBuilder::keep_trace`]).
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// Writes the JSONL log (one JSON object per line).
    pub fn write_jsonl(&self, mut out: impl Write) -> io::Result<()> {
        for e in &self.events {
            writeln!(out, "{}", e.to_json())?;
        }
        Ok(())
    }

    /// The readable timeline, one event per line.
    pub fn timeline(&self) -> String {
        let mut s = String::new();
        for e in &self.events {
            s.push_str(&e.to_line());
            s.push('\n');
        }
        s
    }

    /// A self-contained HTML page picturing the run: one lane per node,
    /// a mark per event (frames up in blue, down in green, faults in red,
    /// violations in black), hover for details.
    pub fn write_html(&self, mut out: impl Write, title: &str) -> io::Result<()> {
        out.write_all(self.html(title).as_bytes())
    }

    fn html(&self, title: &str) -> String {
        let mut nodes: Vec<&str> = Vec::new();
        for e in &self.events {
            if !nodes.contains(&e.node.as_str()) {
                nodes.push(&e.node);
            }
        }
        nodes.sort_by_key(|n| (*n != "server", n.len(), *n));
        let end = self.events.last().map_or(1, |e| e.t_us.max(1));
        let (width, lane, left) = (1400.0_f64, 18.0_f64, 90.0_f64);
        let height = lane * (nodes.len() as f64 + 2.0);
        let x = |t: u64| left + (t as f64 / end as f64) * (width - left - 10.0);
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">"#
        );
        for (i, n) in nodes.iter().enumerate() {
            let y = lane * (i as f64 + 1.0);
            let _ = write!(
                svg,
                r##"<text x="2" y="{}">{}</text><line x1="{left}" x2="{width}" y1="{y}" y2="{y}" stroke="#ddd"/>"##,
                y + 4.0,
                escape(n)
            );
        }
        let lane_of = |node: &str| nodes.iter().position(|n| *n == node).unwrap_or(0);
        for e in &self.events {
            let y = lane * (lane_of(&e.node) as f64 + 1.0);
            let color = match (e.kind, e.dir) {
                ("fault", _) => "#d00",
                ("violation", _) => "#000",
                (_, Some("up")) => "#36c",
                (_, Some("down")) => "#3a3",
                _ => "#999",
            };
            let r = if matches!(e.kind, "fault" | "violation") {
                5
            } else {
                2
            };
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{y}" r="{r}" fill="{color}"><title>{}</title></circle>"#,
                x(e.t_us),
                escape(&e.to_line())
            );
            if e.kind == "fault" {
                let _ = write!(
                    svg,
                    r##"<line x1="{0:.1}" x2="{0:.1}" y1="0" y2="{height}" stroke="#d00" stroke-opacity="0.25"/>"##,
                    x(e.t_us)
                );
            }
        }
        let secs = Duration::from_micros(end).as_secs_f64();
        let _ = write!(
            svg,
            r#"<text x="{left}" y="{}">0 s</text><text x="{}" y="{}">{secs:.3} s</text></svg>"#,
            height - 4.0,
            width - 80.0,
            height - 4.0
        );
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
             <body><h1 style=\"font-family:sans-serif\">{t}</h1>\
             <p style=\"font-family:sans-serif\">{n} events; blue: client → server, green: server → client, \
             red: faults, black: invariant violations. Hover a mark for the event.</p>{svg}\
             <pre style=\"font-size:11px\">{tl}</pre></body></html>",
            t = escape(title),
            n = self.events.len(),
            tl = escape(&self.timeline()),
        )
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The first index where two traces differ (`None`: identical).
pub(crate) fn first_divergence(a: &[TraceEvent], b: &[TraceEvent]) -> Option<usize> {
    let n = a.len().min(b.len());
    (0..n)
        .find(|&i| a[i] != b[i])
        .or((a.len() != b.len()).then_some(n))
}
