//! Binary attachment placeholders (PROTOCOL.md §2.3, §5.1 CVE-2022-2421).
//!
//! A placeholder is an object whose `_placeholder` is boolean `true` and whose
//! `num` is an integer in `0..attachments`; keys may come in any order and
//! other keys are ignored. An object whose `_placeholder` is anything else is
//! an ordinary object. A placeholder is not searched further (the outer one
//! wins), as in the reference.

use serde_json::Value;

use super::DecodeError;

/// The placeholder object for attachment `num`: `{"_placeholder":true,"num":num}`.
pub fn placeholder(num: usize) -> Value {
    let _ = num;
    todo!("wire::binary::placeholder")
}

/// `Some(Ok(num))` for a valid placeholder, `Some(Err(..))` for an object that
/// claims to be one (`"_placeholder": true`) but whose `num` is not a
/// non-negative integer, `None` for any other value.
pub fn as_placeholder(value: &Value) -> Option<Result<usize, ()>> {
    let _ = value;
    todo!("wire::binary::as_placeholder")
}

/// Checks every placeholder in `values` (at any depth) against `attachments`:
/// each `num` must be an integer below `attachments`.
pub fn validate(values: &[Value], attachments: usize) -> Result<(), DecodeError> {
    let _ = (values, attachments);
    todo!("wire::binary::validate")
}

/// The attachment a placeholder value stands for.
pub fn resolve<'a>(value: &Value, binaries: &'a [Vec<u8>]) -> Option<&'a [u8]> {
    let _ = (value, binaries);
    todo!("wire::binary::resolve")
}
