//! Conversions into [`Args`], so emitting reads naturally:
//! `emit("x", json!("hi"))`, `emit("x", vec![json!(1), json!(2)])`, `emit("x", ())`.

use serde_json::Value;

use crate::wire::sio::Args;

impl From<Vec<Value>> for Args {
    /// Several JSON arguments.
    fn from(values: Vec<Value>) -> Self {
        Args::json(values)
    }
}

impl From<Value> for Args {
    /// One JSON argument.
    fn from(value: Value) -> Self {
        Args::json(vec![value])
    }
}

impl From<()> for Args {
    /// No arguments.
    fn from((): ()) -> Self {
        Args::default()
    }
}

impl From<&str> for Args {
    /// One string argument.
    fn from(s: &str) -> Self {
        Args::json(vec![Value::String(s.to_owned())])
    }
}

impl From<String> for Args {
    /// One string argument.
    fn from(s: String) -> Self {
        Args::json(vec![Value::String(s)])
    }
}

impl From<bool> for Args {
    /// One boolean argument.
    fn from(b: bool) -> Self {
        Args::json(vec![Value::Bool(b)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conversions() {
        assert_eq!(Args::from(()), Args::default());
        assert_eq!(Args::from("a").values, [json!("a")]);
        assert_eq!(Args::from(json!({"k": 1})).values, [json!({"k": 1})]);
        assert_eq!(Args::from(vec![json!(1), json!(2)]).values.len(), 2);
    }
}
