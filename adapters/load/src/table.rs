//! The side-by-side table: the script's `results.jsonl` (one line per
//! peer, case and round: `{"peer","case","round","result"}`) as Markdown,
//! each cell the median over the rounds with the spread `(min–max)`, and
//! the floor rows: a peer's server CPU per operation over that of the raw
//! WebSocket echo peer (`floor`) in the same run.

use std::collections::BTreeMap;

use serde_json::Value;

/// The order of the cases in the table.
const ORDER: &[&str] = &[
    "echo-lat",
    "echo-64",
    "echo-4k",
    "ack-64",
    "fanout-1k",
    "fanout-10k",
    "room-fanout",
    "poll-echo",
    "storm",
    "upgrade-storm",
    "idle-10k",
    "idle-100k",
];

fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn fmt(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    // Thousands separators on the integer part.
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
    let (sign, int) = int.strip_prefix('-').map_or(("", int), |i| ("-", i));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{out}")
    } else {
        format!("{sign}{out}.{frac}")
    }
}

fn cell(values: &[f64], digits: usize, spread: bool) -> String {
    let Some(m) = median(values) else {
        return "n/a".into();
    };
    if !spread || values.len() < 2 {
        return fmt(m, digits);
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "{} ({}–{})",
        fmt(m, digits),
        fmt(min, digits),
        fmt(max, digits)
    )
}

fn get(v: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_f64()
}

/// The Markdown table of a `results.jsonl`.
pub fn markdown(jsonl: &str) -> String {
    // Keyed by (case order, case, peer order): rows follow the run's peers.
    let mut groups: BTreeMap<(usize, String, usize), Vec<Value>> = BTreeMap::new();
    let mut peers: Vec<String> = Vec::new();
    let mut rounds = 0;
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(row) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let (Some(peer), Some(case)) = (row["peer"].as_str(), row["case"].as_str()) else {
            continue;
        };
        rounds = rounds.max(row["round"].as_u64().unwrap_or(1));
        let p = match peers.iter().position(|p| p == peer) {
            Some(p) => p,
            None => {
                peers.push(peer.to_owned());
                peers.len() - 1
            }
        };
        let order = ORDER.iter().position(|c| *c == case).unwrap_or(ORDER.len());
        groups
            .entry((order, case.to_owned(), p))
            .or_default()
            .push(row["result"].clone());
    }
    let mut out = format!(
        "Medians over {rounds} round(s); (min–max) is the spread over the rounds. \
         srv/lg cores: CPU time of the server / of the load generator over the \
         measured wall time; srv µs/op: server CPU per message, delivery or connection.\n\n\
         | case | peer | throughput | p50 | p99 | srv cores | lg cores | srv µs/op | RSS | errors |\n\
         |---|---|---|---|---|---|---|---|---|---|\n"
    );
    let mut per_op: BTreeMap<(String, String), f64> = BTreeMap::new();
    for ((_, case, p), rs) in &groups {
        let peer = &peers[*p];
        let col = |path: &[&str]| -> Vec<f64> { rs.iter().filter_map(|r| get(r, path)).collect() };
        let scenario = rs[0]["scenario"].as_str().unwrap_or("");
        let (thr, lat_key, unit, scale) = match scenario {
            "storm" | "upgrade-storm" => (
                format!("{} conn/s", cell(&col(&["conns_per_s"]), 0, true)),
                "setup_latency",
                "ms",
                1000.0,
            ),
            "fanout" | "room-fanout" => (
                format!("{} deliv/s", cell(&col(&["deliveries_per_s"]), 0, true)),
                "broadcast_latency",
                "ms",
                1000.0,
            ),
            "idle" => ("—".into(), "", "", 1.0),
            _ => (
                format!("{} msg/s", cell(&col(&["msgs_per_s"]), 0, true)),
                "latency",
                "µs",
                1.0,
            ),
        };
        let lat = |q: &str| {
            if lat_key.is_empty() {
                return "—".to_owned();
            }
            let v: Vec<f64> = col(&[lat_key, q]).iter().map(|x| x / scale).collect();
            format!(
                "{} {unit}",
                cell(&v, if scale > 1.0 { 2 } else { 0 }, false)
            )
        };
        let us = col(&["srv_us_per_op"]);
        if let Some(m) = median(&us) {
            per_op.insert((case.to_owned(), peer.to_owned()), m);
        }
        let rss = if scenario == "idle" || scenario.ends_with("storm") {
            let total = col(&["rss_total_kb_per_conn"]);
            let added = col(&["rss_added_kb_per_conn"]);
            match (median(&total), median(&added)) {
                (Some(t), Some(a)) => format!("{} kB/conn (+{})", fmt(t, 1), fmt(a, 1)),
                (Some(t), None) => format!("{} kB/conn", fmt(t, 1)),
                _ => "n/a".into(),
            }
        } else {
            let rss: Vec<f64> = col(&["server_rss_after_kb"])
                .iter()
                .map(|k| k / 1024.0)
                .collect();
            format!("{} MiB", cell(&rss, 0, false))
        };
        let errors: f64 = col(&["errors"]).iter().sum();
        out += &format!(
            "| {case} | {peer} | {thr} | {} | {} | {} | {} | {} | {rss} | {} |\n",
            lat("p50_us"),
            lat("p99_us"),
            cell(&col(&["server_cores"]), 2, false),
            cell(&col(&["loadgen_cores"]), 2, false),
            cell(&us, 2, true),
            fmt(errors, 0),
        );
    }
    let floor: Vec<_> = per_op
        .iter()
        .filter(|((_, p), _)| p == "floor")
        .map(|((c, _), v)| (c.clone(), *v))
        .collect();
    if !floor.is_empty() {
        out += "\nOver the floor (the raw WebSocket echo peer: the same mio loop and frame \
                codec, no Socket.IO): server CPU per operation ÷ the floor's.\n\n\
                | case | peer | srv µs/op | floor µs/op | ratio |\n|---|---|---|---|---|\n";
        for (case, f) in floor {
            for peer in peers.iter().filter(|p| *p != "floor") {
                if let Some(v) = per_op.get(&(case.clone(), peer.clone())) {
                    if f > 0.0 {
                        out += &format!("| {case} | {peer} | {v:.2} | {f:.2} | {:.2}× |\n", v / f);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_spread_and_floor_ratio() {
        let rows = [
            r#"{"peer":"mio","case":"echo-64","round":1,"result":{"scenario":"echo","msgs_per_s":1000,"latency":{"p50_us":10,"p99_us":20},"server_cores":0.5,"srv_us_per_op":2.0,"errors":0}}"#,
            r#"{"peer":"mio","case":"echo-64","round":2,"result":{"scenario":"echo","msgs_per_s":3000,"latency":{"p50_us":10,"p99_us":20},"server_cores":0.5,"srv_us_per_op":4.0,"errors":1}}"#,
            r#"{"peer":"floor","case":"echo-64","round":1,"result":{"scenario":"echo","msgs_per_s":9000,"srv_us_per_op":1.0,"errors":0}}"#,
        ]
        .join("\n");
        let t = markdown(&rows);
        assert!(
            t.contains("| echo-64 | mio | 2,000 (1,000–3,000) msg/s |"),
            "{t}"
        );
        assert!(t.contains("| echo-64 | mio | 3.00 | 1.00 | 3.00× |"), "{t}");
        assert!(t.contains("| 1 |"), "{t}");
        assert_eq!(fmt(1234567.0, 0), "1,234,567");
        assert_eq!(fmt(-1234.5, 1), "-1,234.5");
    }
}
