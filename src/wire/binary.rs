//! Binary attachment placeholders (socket.io-protocol v5, *Packet encoding*;
//! the `num` checks close CVE-2022-2421 of socket.io-parser).
//!
//! A placeholder is an object whose `_placeholder` is boolean `true` and whose
//! `num` is an integer in `0..attachments`; keys may come in any order and
//! other keys are ignored. An object whose `_placeholder` is anything else is
//! an ordinary object. A placeholder is not searched further (the outer one
//! wins), as in the reference.
//!
//! `num` must be a non-negative integer: a JSON integer, or a float with an
//! integral value (`1.0`, `1e0`: the same JavaScript number as `1`). Strings
//! (`"0"`, `"splice"`), `null`, a missing `num`, fractions and negative
//! numbers are refused; nothing is ever resolved by arbitrary key lookup.

use serde_json::{Map, Value};

use super::{DecodeError, DecodeErrorKind};

/// The placeholder object for attachment `num`: `{"_placeholder":true,"num":num}`.
///
/// ```
/// use socketio_sansio::wire::binary::placeholder;
/// assert_eq!(placeholder(3).to_string(), r#"{"_placeholder":true,"num":3}"#);
/// ```
pub fn placeholder(num: usize) -> Value {
    let mut map = Map::with_capacity(2);
    map.insert("_placeholder".to_owned(), Value::Bool(true));
    map.insert("num".to_owned(), Value::from(num));
    Value::Object(map)
}

/// `Some(Ok(num))` for a valid placeholder, `Some(Err(..))` for an object that
/// claims to be one (`"_placeholder": true`) but whose `num` is not a
/// non-negative integer, `None` for any other value.
///
/// ```
/// use serde_json::json;
/// use socketio_sansio::wire::binary::as_placeholder;
/// assert_eq!(as_placeholder(&json!({"num": 2, "_placeholder": true})), Some(Ok(2)));
/// assert_eq!(as_placeholder(&json!({"_placeholder": true, "num": "0"})), Some(Err(())));
/// assert_eq!(as_placeholder(&json!({"_placeholder": "true", "num": 0})), None);
/// ```
pub fn as_placeholder(value: &Value) -> Option<Result<usize, ()>> {
    let map = value.as_object()?;
    if map.get("_placeholder") != Some(&Value::Bool(true)) {
        return None;
    }
    Some(match map.get("num") {
        Some(Value::Number(n)) => number_index(n).ok_or(()),
        _ => Err(()),
    })
}

/// A JSON number as an index: non-negative and integral, else `None`.
fn number_index(n: &serde_json::Number) -> Option<usize> {
    if let Some(u) = n.as_u64() {
        return usize::try_from(u).ok();
    }
    if n.is_i64() {
        return None; // negative integer
    }
    let f = n.as_f64()?;
    // Integral, non-negative (-0.0 is 0 in JavaScript too) and exactly
    // representable: the cast below is then lossless.
    if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 9_007_199_254_740_992.0 {
        usize::try_from(f as u64).ok()
    } else {
        None
    }
}

/// Checks every placeholder in `values` (at any depth) against `attachments`:
/// each `num` must be an integer below `attachments`.
///
/// Duplicate `num`s and attachments no placeholder points to are accepted,
/// as by the reference. The walk is iterative: any depth is safe. The error
/// offset is 0 (the values no longer know where they were in the text).
///
/// ```
/// use serde_json::json;
/// use socketio_sansio::wire::{binary::validate, DecodeErrorKind};
/// let ok = [json!("x"), json!({"a": [{"_placeholder": true, "num": 1}]})];
/// assert!(validate(&ok, 2).is_ok());
/// assert_eq!(validate(&ok, 1).unwrap_err().kind, DecodeErrorKind::InvalidPlaceholder);
/// ```
pub fn validate(values: &[Value], attachments: usize) -> Result<(), DecodeError> {
    // Containers still to visit; scalars are never pushed.
    let mut stack: Vec<&Value> = Vec::new();
    for value in values {
        visit(value, attachments, &mut stack)?;
        while let Some(next) = stack.pop() {
            visit(next, attachments, &mut stack)?;
        }
    }
    Ok(())
}

/// Checks `value` itself; pushes the containers inside it that need a visit.
fn visit<'a>(
    value: &'a Value,
    attachments: usize,
    stack: &mut Vec<&'a Value>,
) -> Result<(), DecodeError> {
    match value {
        Value::Array(items) => stack.extend(items.iter().filter(|v| is_container(v))),
        Value::Object(map) => match as_placeholder(value) {
            Some(Ok(num)) if num < attachments => {}
            Some(_) => return Err(DecodeError::new(DecodeErrorKind::InvalidPlaceholder, 0)),
            None => stack.extend(map.values().filter(|v| is_container(v))),
        },
        _ => {}
    }
    Ok(())
}

fn is_container(value: &Value) -> bool {
    matches!(value, Value::Array(_) | Value::Object(_))
}

/// The attachment a placeholder value stands for.
///
/// ```
/// use socketio_sansio::wire::binary::{placeholder, resolve};
/// let binaries = vec![vec![1u8, 2], vec![3]];
/// assert_eq!(resolve(&placeholder(1), &binaries), Some(&[3u8][..]));
/// assert_eq!(resolve(&placeholder(2), &binaries), None);
/// ```
pub fn resolve<'a>(value: &Value, binaries: &'a [Vec<u8>]) -> Option<&'a [u8]> {
    match as_placeholder(value)? {
        Ok(num) => binaries.get(num).map(Vec::as_slice),
        Err(()) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholder_key_order() {
        assert_eq!(
            placeholder(0).to_string(),
            r#"{"_placeholder":true,"num":0}"#
        );
        assert_eq!(
            placeholder(10).to_string(),
            r#"{"_placeholder":true,"num":10}"#
        );
    }

    #[test]
    fn as_placeholder_cases() {
        assert_eq!(
            as_placeholder(&json!({"_placeholder": true, "num": 0})),
            Some(Ok(0))
        );
        assert_eq!(
            as_placeholder(&json!({"num": 4, "_placeholder": true, "x": 1})),
            Some(Ok(4))
        );
        assert_eq!(
            as_placeholder(&json!({"_placeholder": true, "num": 1.0})),
            Some(Ok(1))
        );
        for bad in [
            json!(0.5),
            json!(-1),
            json!("0"),
            json!("splice"),
            json!(null),
            json!([0]),
            json!(-0.5),
        ] {
            assert_eq!(
                as_placeholder(&json!({"_placeholder": true, "num": bad})),
                Some(Err(())),
                "{bad}"
            );
        }
        assert_eq!(
            as_placeholder(&json!({"_placeholder": true})),
            Some(Err(()))
        );
        assert_eq!(
            as_placeholder(&json!({"_placeholder": "true", "num": 0})),
            None
        );
        assert_eq!(as_placeholder(&json!({"_placeholder": 1, "num": 0})), None);
        assert_eq!(as_placeholder(&json!({"num": 0})), None);
        assert_eq!(as_placeholder(&json!([true, 0])), None);
        assert_eq!(as_placeholder(&json!(null)), None);
    }

    #[test]
    fn validate_depth_and_range() {
        let ph = |n: i64| json!({"_placeholder": true, "num": n});
        assert!(validate(&[json!({"a": [[ph(0)]]})], 1).is_ok());
        assert!(validate(&[json!({"a": [[ph(1)]]})], 1).is_err());
        assert!(validate(&[json!({"a": [[ph(-1)]]})], 1).is_err());
        // duplicates and unused attachments are fine
        assert!(validate(&[ph(0), ph(0)], 2).is_ok());
        // the outer placeholder wins: its contents are not visited
        let nested =
            json!({"_placeholder": true, "num": 0, "extra": {"_placeholder": true, "num": 99}});
        assert!(validate(&[nested], 1).is_ok());
        // a fake placeholder is an ordinary object, searched further
        let fake = json!({"_placeholder": "true", "num": 0, "in": ph(5)});
        assert!(validate(&[fake], 1).is_err());
        // no placeholder at all: always fine
        assert!(validate(&[json!([1, {"b": "c"}])], 0).is_ok());
    }

    #[test]
    fn validate_very_deep_value_is_iterative() {
        let mut v = ph_free_leaf();
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        assert!(validate(std::slice::from_ref(&v), 1).is_ok());
        // dropping a 100k-deep Value recurses in serde_json; unwind it by hand
        let mut cur = v;
        while let Value::Array(mut items) = cur {
            cur = items.pop().unwrap_or(Value::Null);
        }
    }

    fn ph_free_leaf() -> Value {
        json!({"_placeholder": true, "num": 0})
    }

    #[test]
    fn resolve_cases() {
        let bins = vec![vec![1u8], vec![2u8]];
        assert_eq!(resolve(&placeholder(0), &bins), Some(&[1u8][..]));
        assert_eq!(
            resolve(&json!({"_placeholder": true, "num": 2}), &bins),
            None
        );
        assert_eq!(
            resolve(&json!({"_placeholder": true, "num": "splice"}), &bins),
            None
        );
        assert_eq!(resolve(&json!("x"), &bins), None);
    }
}
