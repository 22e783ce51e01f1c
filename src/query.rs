//! URL query strings: `application/x-www-form-urlencoded` decoding, as the
//! reference's `URLSearchParams` does it (`+` is a space, `%XX` escapes,
//! invalid escapes kept literally, invalid UTF-8 replaced).

use std::borrow::Cow;

use serde_json::{Map, Value};

/// A decoded query string, in order, duplicates kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

/// A parameter that must appear at most once appeared several times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateParam(pub String);

impl Query {
    /// Parses `a=1&b=two%20words` (without the leading `?`).
    pub fn parse(query: &str) -> Self {
        let pairs = query
            .split('&')
            .filter(|part| !part.is_empty())
            .map(|part| {
                let (k, v) = part.split_once('=').unwrap_or((part, ""));
                (decode_component(k), decode_component(v))
            })
            .collect();
        Query { pairs }
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, which must appear at most once.
    pub fn get_unique(&self, key: &str) -> Result<Option<&str>, DuplicateParam> {
        let mut found = None;
        for (k, v) in &self.pairs {
            if k == key {
                if found.is_some() {
                    return Err(DuplicateParam(key.to_owned()));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found)
    }

    /// All pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The pairs as a JSON object (a later duplicate wins), the shape the
    /// reference gives a rev 4 namespace query as `auth`.
    pub fn to_json_object(&self) -> Value {
        let mut map = Map::new();
        for (k, v) in &self.pairs {
            map.insert(k.clone(), Value::String(v.clone()));
        }
        Value::Object(map)
    }
}

/// A query looked at once (the routing of every polling request): the
/// pairs borrow the query string unless they need decoding, so a plain
/// `EIO=4&transport=polling&sid=…` costs one allocation, not one per key
/// and value.
pub(crate) struct QueryRef<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> QueryRef<'a> {
    /// Parses as [`Query::parse`].
    pub(crate) fn parse(query: &'a str) -> Self {
        let mut pairs = Vec::with_capacity(query.bytes().filter(|&b| b == b'&').count() + 1);
        pairs.extend(
            query
                .split('&')
                .filter(|part| !part.is_empty())
                .map(|part| {
                    let (k, v) = part.split_once('=').unwrap_or((part, ""));
                    (decode_cow(k), decode_cow(v))
                }),
        );
        QueryRef { pairs }
    }

    /// As [`Query::get`].
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }

    /// As [`Query::get_unique`].
    pub(crate) fn get_unique(&self, key: &str) -> Result<Option<&str>, DuplicateParam> {
        let mut found = None;
        for (k, v) in &self.pairs {
            if k == key {
                if found.is_some() {
                    return Err(DuplicateParam(key.to_owned()));
                }
                found = Some(v.as_ref());
            }
        }
        Ok(found)
    }
}

/// [`decode_component`], borrowing what needs no decoding.
fn decode_cow(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b == b'%' || b == b'+') {
        Cow::Owned(decode_component(s))
    } else {
        Cow::Borrowed(s)
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one component: `+` → space, `%XX` → byte; bad escapes stay literal.
pub(crate) fn decode_component(s: &str) -> String {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_urlsearchparams() {
        let q = Query::parse("EIO=4&transport=websocket&name=a+b%20c&bad=%zz%4&empty=&flag");
        assert_eq!(q.get("EIO"), Some("4"));
        assert_eq!(q.get("name"), Some("a b c"));
        assert_eq!(q.get("bad"), Some("%zz%4"));
        assert_eq!(q.get("empty"), Some(""));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("missing"), None);
        assert_eq!(decode_component("%F0%9F%98%80"), "😀");
        assert_eq!(decode_component("%FF"), "\u{fffd}");
    }

    #[test]
    fn duplicates_are_detected_and_json_takes_the_last() {
        let r = QueryRef::parse("EIO=4&transport=polling&name=a+b%20c&&sid=x&sid=y");
        assert_eq!(r.get("EIO"), Some("4"));
        assert!(matches!(r.pairs[0].1, Cow::Borrowed(_)));
        assert_eq!(r.get("name"), Some("a b c"));
        assert_eq!(r.get_unique("transport"), Ok(Some("polling")));
        assert_eq!(r.get_unique("nope"), Ok(None));
        assert_eq!(r.get_unique("sid"), Err(DuplicateParam("sid".into())));
        let q = Query::parse("sid=a&sid=b");
        assert_eq!(q.get_unique("sid"), Err(DuplicateParam("sid".into())));
        assert_eq!(q.to_json_object(), serde_json::json!({"sid": "b"}));
        assert_eq!(
            Query::parse("token=abc").to_json_object(),
            serde_json::json!({"token": "abc"})
        );
    }
}
