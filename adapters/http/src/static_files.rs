//! Optional serving of a static directory (for examples): a GET or HEAD for
//! a path outside the Socket.IO path is answered from a directory (the
//! drivers' `Builder::serve_static`). The only part of this crate that
//! touches the filesystem.
//!
//! The request path is percent-decoded, split on `/`, and every segment must
//! be a plain file name: `..`, `.`, backslashes, NUL and other control
//! characters, and anything the OS would read as a root or a drive prefix
//! are refused. The result is canonicalized (symlinks resolved) and must
//! still lie inside the canonical root, or the answer is 404. `/` and any
//! directory map to its `index.html`. Every response closes the connection.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::head::RequestHead;
use crate::response::put_head;

/// Files larger than this are not served (examples have small assets).
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// Why a request path does not name a servable file.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The path is not acceptable (traversal, bad encoding, odd characters).
    BadPath,
    /// Nothing servable there.
    NotFound,
}

/// The canonical form of `dir`, which must be an existing directory: what
/// [`response`] and [`resolve`] expect as their root.
pub fn canonical_root(dir: &Path) -> io::Result<PathBuf> {
    let canonical = dir.canonicalize().map_err(|e| {
        io::Error::new(e.kind(), format!("static directory {}: {e}", dir.display()))
    })?;
    if !canonical.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("static directory {} is not a directory", dir.display()),
        ));
    }
    Ok(canonical)
}

/// The whole answer (closing the connection) to one request for a file
/// under `root` (canonical, see [`canonical_root`]): 200 with the file, 404,
/// 400 for a refused path, 405 for a method other than GET and HEAD (the
/// head only for HEAD).
pub fn response(head: &RequestHead, root: &Path) -> Vec<u8> {
    const TEXT: &str = "text/plain; charset=utf-8";
    let with_body = match head.method.as_str() {
        "GET" => true,
        "HEAD" => false,
        _ => {
            return answer(
                405,
                TEXT,
                &[("Allow", "GET, HEAD")],
                b"Method Not Allowed",
                true,
            )
        }
    };
    let file = match resolve(root, head.path()) {
        Ok(file) => file,
        Err(Refused::BadPath) => return answer(400, TEXT, &[], b"Bad Request", with_body),
        Err(Refused::NotFound) => return answer(404, TEXT, &[], b"Not Found", with_body),
    };
    match fs::read(&file) {
        Ok(body) => answer(
            200,
            content_type(&file),
            &[("Cache-Control", "no-cache")],
            &body,
            with_body,
        ),
        Err(e) => {
            log::debug!("cannot read {}: {e}", file.display());
            answer(404, TEXT, &[], b"Not Found", with_body)
        }
    }
}

/// Maps a request path (without the query) to a file under `root`, which
/// must be canonical.
pub fn resolve(root: &Path, url_path: &str) -> Result<PathBuf, Refused> {
    let relative = relative_path(url_path)?;
    let mut candidate = root.join(relative);
    let mut meta = fs::metadata(&candidate).map_err(|_| Refused::NotFound)?;
    if meta.is_dir() {
        candidate.push("index.html");
        meta = fs::metadata(&candidate).map_err(|_| Refused::NotFound)?;
    }
    if !meta.is_file() || meta.len() > MAX_FILE {
        return Err(Refused::NotFound);
    }
    // Symlinks may point anywhere: only what resolves inside the root is served.
    let canonical = candidate.canonicalize().map_err(|_| Refused::NotFound)?;
    if !canonical.starts_with(root) {
        return Err(Refused::NotFound);
    }
    Ok(canonical)
}

/// The checked relative path a request path names (empty for `/`).
pub fn relative_path(url_path: &str) -> Result<PathBuf, Refused> {
    let rest = url_path.strip_prefix('/').ok_or(Refused::BadPath)?;
    let decoded = percent_decode(rest).ok_or(Refused::BadPath)?;
    let mut relative = PathBuf::new();
    for segment in decoded.split('/') {
        if segment.is_empty() {
            // `//` or a trailing slash.
            continue;
        }
        if segment == "."
            || segment == ".."
            || segment.contains('\\')
            || segment.contains(':')
            || segment.chars().any(char::is_control)
        {
            return Err(Refused::BadPath);
        }
        // The OS must see exactly one ordinary component.
        let mut components = Path::new(segment).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(_)), None) => relative.push(segment),
            _ => return Err(Refused::BadPath),
        }
    }
    if relative.is_absolute() {
        return Err(Refused::BadPath);
    }
    Ok(relative)
}

/// Decodes `%XX` escapes; `None` for a malformed escape or invalid UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = hex(*bytes.get(i + 1)?)?;
                let lo = hex(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The content type for a file, by extension.
pub fn content_type(path: &Path) -> &'static str {
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

fn answer(
    status: u16,
    content_type: &str,
    extra_headers: &[(&str, &str)],
    body: &[u8],
    with_body: bool,
) -> Vec<u8> {
    let mut headers = vec![("X-Content-Type-Options", "nosniff".to_owned())];
    headers.extend(extra_headers.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let mut out = Vec::with_capacity(200 + body.len());
    put_head(
        &mut out,
        status,
        Some(content_type),
        &headers,
        body.len(),
        false,
    );
    if with_body {
        out.extend_from_slice(body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: &str, target: &str) -> RequestHead {
        crate::head::head(method, target, &[])
    }

    /// A fresh directory with `index.html`, `app.js`, `sub/index.html`, and a
    /// secret file beside (outside) it.
    fn fixture(name: &str) -> (PathBuf, PathBuf) {
        let base = std::env::temp_dir().join(format!(
            "sio-static-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&base);
        let root = base.join("www");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("index.html"), "<h1>hi</h1>").unwrap();
        fs::write(root.join("app.js"), "1").unwrap();
        fs::write(root.join("a b.txt"), "spaced").unwrap();
        fs::write(root.join("sub").join("index.html"), "sub").unwrap();
        fs::write(base.join("secret.txt"), "secret").unwrap();
        (base, root.canonicalize().unwrap())
    }

    fn get(root: &Path, method: &str, target: &str) -> String {
        String::from_utf8(response(&head(method, target), root)).unwrap()
    }

    #[test]
    fn relative_paths_refuse_traversal_and_odd_characters() {
        assert_eq!(relative_path("/").unwrap(), PathBuf::new());
        assert_eq!(relative_path("/a/b.js").unwrap(), PathBuf::from("a/b.js"));
        assert_eq!(relative_path("//a//b/").unwrap(), PathBuf::from("a/b"));
        assert_eq!(
            relative_path("/a%20b.txt").unwrap(),
            PathBuf::from("a b.txt")
        );
        for bad in [
            "",
            "a.js",
            "/..",
            "/../etc/passwd",
            "/a/../../b",
            "/%2e%2e/secret.txt",
            "/%2E%2E%2Fsecret.txt",
            "/./a",
            "/a\\..\\b",
            "/a%5c..%5cb",
            "/a%00.js",
            "/a\0.js",
            "/C:/windows",
            "/%",
            "/%zz",
            "/%c3",
            "/a%0a",
        ] {
            assert_eq!(relative_path(bad), Err(Refused::BadPath), "{bad:?}");
        }
    }

    #[test]
    fn resolves_files_and_directory_indexes_inside_the_root() {
        let (base, root) = fixture("resolve");
        assert_eq!(resolve(&root, "/").unwrap(), root.join("index.html"));
        assert_eq!(resolve(&root, "/app.js").unwrap(), root.join("app.js"));
        assert_eq!(resolve(&root, "/sub").unwrap(), root.join("sub/index.html"));
        assert_eq!(resolve(&root, "/missing"), Err(Refused::NotFound));
        assert_eq!(resolve(&root, "/../secret.txt"), Err(Refused::BadPath));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(base.join("secret.txt"), root.join("link.txt")).unwrap();
            assert_eq!(resolve(&root, "/link.txt"), Err(Refused::NotFound));
        }
        let _ = fs::remove_dir_all(base);
    }

    #[test]
    fn content_types_by_extension() {
        for (file, ct) in [
            ("a.html", "text/html; charset=utf-8"),
            ("a.HTM", "text/html; charset=utf-8"),
            ("a.js", "text/javascript; charset=utf-8"),
            ("a.css", "text/css; charset=utf-8"),
            ("a.svg", "image/svg+xml"),
            ("a.png", "image/png"),
            ("favicon.ico", "image/x-icon"),
            ("a.json", "application/json"),
            ("LICENSE.txt", "text/plain; charset=utf-8"),
            ("a.wasm", "application/octet-stream"),
            ("Makefile", "application/octet-stream"),
        ] {
            assert_eq!(content_type(Path::new(file)), ct, "{file}");
        }
    }

    #[test]
    fn responses() {
        let (base, root) = fixture("responses");
        let ok = get(&root, "GET", "/?x=1");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("Content-Type: text/html; charset=utf-8\r\n"));
        assert!(ok.contains("Content-Length: 11\r\n"));
        assert!(ok.ends_with("\r\n\r\n<h1>hi</h1>"));
        let head_only = get(&root, "HEAD", "/app.js");
        assert!(head_only.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(head_only.contains("Content-Length: 1\r\n"));
        assert!(head_only.ends_with("\r\n\r\n"));
        let spaced = get(&root, "GET", "/a%20b.txt");
        assert!(spaced.ends_with("spaced"), "{spaced}");
        let post = get(&root, "POST", "/");
        assert!(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(post.contains("Allow: GET, HEAD\r\n"));
        assert!(get(&root, "GET", "/nope.js").starts_with("HTTP/1.1 404 "));
        let traversal = get(&root, "GET", "/%2e%2e/secret.txt");
        assert!(traversal.starts_with("HTTP/1.1 400 "));
        assert!(!traversal.contains("secret"));
        let _ = fs::remove_dir_all(base);
    }
}
