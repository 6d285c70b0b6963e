//! JSON text read strictly: an object that names the same key twice is an error.
//!
//! serde_json keeps the last of two duplicated keys, so `{"Effect": "Deny", "Effect": "Allow"}`
//! would silently read as an Allow. Which one AWS would honour is not documented (IAM refuses
//! such documents when they are written), so every document this project reads — CloudTrail
//! records, policy documents, snapshots and `simulate` input — goes through [`from_str`] or
//! [`from_slice`] and a duplicated key is reported with its name, never guessed.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};
use std::fmt;

/// Parses JSON text into a [`Value`], refusing objects with a duplicated key.
pub fn from_str(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<Strict>(text).map(|s| s.0)
}

/// Parses JSON bytes into a [`Value`], refusing objects with a duplicated key.
pub fn from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<Strict>(bytes).map(|s| s.0)
}

/// A [`Value`] whose objects were checked for duplicated keys while being read.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Strict::deserialize(d).map(|s| s.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key `{}`",
                    shorten(&key)
                )));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A key as quoted in an error: at most 64 characters.
fn shorten(key: &str) -> String {
    match key.char_indices().nth(64) {
        Some((at, _)) => format!("{}…", &key[..at]),
        None => key.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_serde_json_reads() {
        let text =
            r#"{"b": [1, -2, 3.5, true, null, "x"], "a": {"c": {}}, "n": 18446744073709551615}"#;
        let strict = from_str(text).unwrap();
        let plain: Value = serde_json::from_str(text).unwrap();
        assert_eq!(strict, plain);
        // Key order is kept (preserve_order).
        let keys: Vec<_> = strict.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["b", "a", "n"]);
        assert_eq!(from_slice(b"[]").unwrap(), json!([]));
    }

    #[test]
    fn a_duplicated_key_is_an_error_naming_it() {
        let e = from_str(r#"{"Statement": [{"Effect": "Deny", "Effect": "Allow"}]}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key `Effect`"), "{e}");
        let e = from_str(r#"{"a": 1, "a": 1}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key `a`"), "{e}");
        // The same key in different objects is fine.
        assert!(from_str(r#"[{"a": 1}, {"a": 2, "b": {"a": 3}}]"#).is_ok());
    }

    #[test]
    fn escaped_spellings_of_one_key_are_the_same_key() {
        let e = from_str(r#"{"Effect": 1, "Eff\u0065ct": 2}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key"), "{e}");
    }

    #[test]
    fn long_keys_are_shortened_in_the_message() {
        let key = "k".repeat(500);
        let e = from_str(&format!(r#"{{"{key}": 1, "{key}": 2}}"#)).unwrap_err();
        assert!(e.to_string().len() < 200, "{e}");
    }

    #[test]
    fn deep_nesting_stops_at_the_recursion_limit() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = from_str(&deep).unwrap_err();
        assert!(e.to_string().contains("recursion limit"), "{e}");
    }
}
