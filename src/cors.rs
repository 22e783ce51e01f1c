//! CORS for the polling transport: explicit configuration, default deny
//! (no CORS headers at all unless configured), as the reference ≥ 3 does.
//! Pure header logic, shared by every host adapter.

use crate::http::HttpResponse;

/// Which origins may make cross-origin requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    origins: Origins,
    credentials: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Origins {
    Any,
    List(Vec<String>),
}

impl Cors {
    /// Any origin (`Access-Control-Allow-Origin: *`, or the request's origin
    /// when credentials are allowed).
    pub fn any_origin() -> Self {
        Cors {
            origins: Origins::Any,
            credentials: false,
        }
    }

    /// Only these origins (exact match, e.g. `https://example.com`).
    pub fn origins(list: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Cors {
            origins: Origins::List(list.into_iter().map(Into::into).collect()),
            credentials: false,
        }
    }

    /// Also allow credentials (cookies, HTTP auth).
    pub fn with_credentials(mut self) -> Self {
        self.credentials = true;
        self
    }

    /// The headers to add to a response to a request from `origin` (none
    /// when the origin is not allowed).
    pub fn headers(&self, origin: Option<&str>) -> Vec<(&'static str, String)> {
        let allow = match (&self.origins, origin) {
            (Origins::Any, Some(o)) if self.credentials => Some(o.to_owned()),
            (Origins::Any, _) => Some("*".to_owned()),
            (Origins::List(list), Some(o)) if list.iter().any(|a| a == o) => Some(o.to_owned()),
            (Origins::List(_), _) => None,
        };
        let mut headers = Vec::new();
        if let Some(allow) = allow {
            let vary = allow != "*";
            headers.push(("Access-Control-Allow-Origin", allow));
            if self.credentials {
                headers.push(("Access-Control-Allow-Credentials", "true".to_owned()));
            }
            if vary {
                headers.push(("Vary", "Origin".to_owned()));
            }
        }
        headers
    }

    /// The headers of a preflight answer (204), or `None` when the origin is
    /// not allowed.
    pub fn preflight(
        &self,
        origin: Option<&str>,
        requested_headers: Option<&str>,
    ) -> Option<Vec<(&'static str, String)>> {
        let mut headers = self.headers(origin);
        if headers.is_empty() {
            return None;
        }
        headers.push((
            "Access-Control-Allow-Methods",
            "GET,HEAD,PUT,PATCH,POST,DELETE".to_owned(),
        ));
        if let Some(h) = requested_headers {
            headers.push(("Access-Control-Allow-Headers", h.to_owned()));
            headers.push(("Vary", "Access-Control-Request-Headers".to_owned()));
        }
        Some(headers)
    }

    /// The whole answer to a preflight `OPTIONS`: 204 with
    /// [`Cors::preflight`]'s headers, or 403 for an origin not allowed.
    pub fn preflight_response(
        &self,
        origin: Option<&str>,
        requested_headers: Option<&str>,
    ) -> HttpResponse {
        match self.preflight(origin, requested_headers) {
            Some(headers) => HttpResponse {
                status: 204,
                content_type: None,
                headers,
                body: Vec::new(),
            },
            None => HttpResponse::empty(403),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_origin_and_allow_lists() {
        assert_eq!(
            Cors::any_origin().headers(Some("http://a")),
            [("Access-Control-Allow-Origin", "*".to_owned())]
        );
        let creds = Cors::any_origin()
            .with_credentials()
            .headers(Some("http://a"));
        assert!(creds.contains(&("Access-Control-Allow-Origin", "http://a".to_owned())));
        assert!(creds.contains(&("Access-Control-Allow-Credentials", "true".to_owned())));
        let list = Cors::origins(["http://ok"]);
        assert!(
            list.headers(Some("http://evil")).is_empty(),
            "default deny for unlisted origins"
        );
        assert!(list.headers(None).is_empty());
        assert!(list.preflight(Some("http://evil"), None).is_none());
        let pre = list
            .preflight(Some("http://ok"), Some("content-type"))
            .unwrap();
        assert!(pre.contains(&("Access-Control-Allow-Headers", "content-type".to_owned())));
        assert!(pre.contains(&(
            "Access-Control-Allow-Methods",
            "GET,HEAD,PUT,PATCH,POST,DELETE".to_owned()
        )));
    }
}
