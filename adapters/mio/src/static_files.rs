//! Optional serving of a static directory (for examples): a GET or HEAD for
//! a path outside the Socket.IO path is answered from the directory given
//! to [`Builder::serve_static`](crate::Builder::serve_static), with the
//! rules of the blocking driver's: the request path is percent-decoded,
//! split on `/`, and every segment must be a plain file name (`..`, `.`,
//! backslashes, `:`, control characters are refused with 400); the file is
//! canonicalized (symlinks resolved) and must lie inside the canonical
//! root, or the answer is 404. `/` and any directory map to `index.html`.
//! Files are read on the loop thread: meant for an example's few small
//! assets, not for a file server.

use std::fs;
use std::path::{Component, Path, PathBuf};

/// Files larger than this are not served (examples have small assets).
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// A static response: status, content type, extra headers, body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
    /// A HEAD request: the head of the GET answer, without the body.
    pub(crate) head_only: bool,
}

impl Reply {
    fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: vec![("X-Content-Type-Options", "nosniff".into())],
            body: body.as_bytes().to_vec(),
            head_only: false,
        }
    }
}

/// The answer to `method path` from `root` (canonical); HEAD gets the
/// headers of GET without the body.
pub(crate) fn respond(method: &str, path: &str, root: &Path) -> Reply {
    let with_body = match method {
        "GET" => true,
        "HEAD" => false,
        _ => {
            let mut reply = Reply::text(405, "Method Not Allowed");
            reply.headers.push(("Allow", "GET, HEAD".into()));
            return reply;
        }
    };
    let mut reply = match resolve(root, path) {
        Err(400) => Reply::text(400, "Bad Request"),
        Err(_) => Reply::text(404, "Not Found"),
        Ok(file) => match fs::read(&file) {
            Ok(body) => Reply {
                status: 200,
                content_type: content_type(&file),
                headers: vec![
                    ("X-Content-Type-Options", "nosniff".into()),
                    ("Cache-Control", "no-cache".into()),
                ],
                body,
                head_only: false,
            },
            Err(e) => {
                log::debug!("cannot read {}: {e}", file.display());
                Reply::text(404, "Not Found")
            }
        },
    };
    reply.head_only = !with_body;
    reply
}

/// Maps a request path to a file under `root` (canonical), or the status
/// to answer (400 or 404).
fn resolve(root: &Path, url_path: &str) -> Result<PathBuf, u16> {
    let relative = relative_path(url_path).ok_or(400u16)?;
    let mut candidate = root.join(relative);
    let mut meta = fs::metadata(&candidate).map_err(|_| 404u16)?;
    if meta.is_dir() {
        candidate.push("index.html");
        meta = fs::metadata(&candidate).map_err(|_| 404u16)?;
    }
    if !meta.is_file() || meta.len() > MAX_FILE {
        return Err(404);
    }
    // Symlinks may point anywhere: only what resolves inside the root is served.
    let canonical = candidate.canonicalize().map_err(|_| 404u16)?;
    if !canonical.starts_with(root) {
        return Err(404);
    }
    Ok(canonical)
}

/// The checked relative path a request path names (empty for `/`).
fn relative_path(url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path.strip_prefix('/')?)?;
    let mut relative = PathBuf::new();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment == "."
            || segment == ".."
            || segment.contains('\\')
            || segment.contains(':')
            || segment.chars().any(char::is_control)
        {
            return None;
        }
        // The OS must see exactly one ordinary component.
        let mut components = Path::new(segment).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(_)), None) => relative.push(segment),
            _ => return None,
        }
    }
    (!relative.is_absolute()).then_some(relative)
}

/// Decodes `%XX` escapes; `None` for a malformed escape or invalid UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The content type for a file, by extension.
fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html") | Some("htm") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked() {
        assert_eq!(relative_path("/"), Some(PathBuf::new()));
        assert_eq!(relative_path("/a/b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(relative_path("/a%20b"), Some(PathBuf::from("a b")));
        for bad in [
            "",
            "/..",
            "/a/../b",
            "/%2e%2e/x",
            "/a\\b",
            "/c:x",
            "/a%00",
            "/%zz",
            "/%ff",
        ] {
            assert_eq!(relative_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn files_inside_the_root_only() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .canonicalize()
            .unwrap();
        let ok = respond("GET", "/static_files.rs", &root);
        assert_eq!(ok.status, 200);
        assert!(!ok.body.is_empty());
        assert_eq!(respond("GET", "/nope.html", &root).status, 404);
        assert_eq!(respond("GET", "/../Cargo.toml", &root).status, 400);
        assert_eq!(respond("POST", "/", &root).status, 405);
    }
}
