//! Standard base64 (RFC 4648 alphabet, `=` padding), as Node's `Buffer`
//! writes it. Decoding is strict: characters outside the alphabet, bad
//! padding or a bad length are an error (Node's decoder skips them).

use super::DecodeError;

/// Appends the padded base64 form of `data` to `out`.
pub fn encode(data: &[u8], out: &mut String) {
    let _ = (data, out);
    todo!("wire::base64::encode")
}

/// Decodes padded (or unpadded, when the length allows no ambiguity) base64.
pub fn decode(input: &str) -> Result<Vec<u8>, DecodeError> {
    let _ = input;
    todo!("wire::base64::decode")
}
