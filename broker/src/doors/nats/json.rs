//! Decoding JSON members the way Go's `encoding/json` (v1) decodes them into
//! nats-server's structs, so a `CONNECT` or `INFO` is accepted or refused exactly as
//! nats-server would.
//!
//! What Go does and serde's derive does not: object keys match field names without
//! regard to case (including `ſ` for `s` and the Kelvin sign for `k`); members apply in
//! order, so a repeated key's last value wins; `null` leaves a field as it was; unknown
//! keys are skipped but must still be valid JSON; a top-level `null` is an empty
//! object. This module must never accept a value Go refuses for the field's type, nor
//! refuse one Go accepts (the known gaps are listed in `broker/docs/nats-door.md`).

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A value nats-server's decoder refuses (bad syntax or the wrong type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Malformed;

impl From<serde_json::Error> for Malformed {
    fn from(_: serde_json::Error) -> Self {
        Malformed
    }
}

/// The members of a JSON object, in document order, keys unescaped, values raw.
pub(crate) type Members<'a> = Vec<(String, &'a RawValue)>;

/// Reads `text` as a JSON object (`Some`) or `null` (`None`), nothing else.
pub(crate) fn object_members(text: &str) -> Result<Option<Members<'_>>, Malformed> {
    let object: Object<'_> = serde_json::from_str(text)?;
    Ok(object.0)
}

struct Object<'a>(Option<Members<'a>>);

impl<'de> Deserialize<'de> for Object<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ObjectVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Object<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object or null")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Object(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
            members.push(member);
        }
        Ok(Object(Some(members)))
    }
}

/// The field among `fields` (lowercase ASCII names) that Go matches `key` to.
pub(crate) fn field_name<'f>(key: &str, fields: &[&'f str]) -> Option<&'f str> {
    fields
        .iter()
        .copied()
        .find(|field| key.chars().map(fold).eq(field.chars()))
}

/// Go's key folding (`encoding/json/fold.go`), towards lowercase: ASCII letters, and
/// the two non-ASCII runes whose fold set holds an ASCII letter.
fn fold(character: char) -> char {
    match character {
        '\u{17F}' => 's',
        '\u{212A}' => 'k',
        other => other.to_ascii_lowercase(),
    }
}

/// A Go `bool`: `true`, `false`, or `null` (unchanged).
pub(crate) fn boolean(raw: &RawValue) -> Result<Option<bool>, Malformed> {
    Ok(serde_json::from_str(raw.get())?)
}

/// A Go `string`: a JSON string, or `null` (unchanged).
pub(crate) fn text(raw: &RawValue) -> Result<Option<String>, Malformed> {
    Ok(serde_json::from_str(raw.get())?)
}

/// A Go signed integer within `minimum..=maximum`: an integer literal (no fraction,
/// no exponent), or `null` (unchanged).
pub(crate) fn signed(raw: &RawValue, minimum: i64, maximum: i64) -> Result<Option<i64>, Malformed> {
    // serde_json reads `-0` as a float; Go's strconv.ParseInt reads it as 0.
    let value: Option<i64> = if raw.get() == "-0" {
        Some(0)
    } else {
        serde_json::from_str(raw.get())?
    };
    match value {
        Some(number) if number < minimum || number > maximum => Err(Malformed),
        other => Ok(other),
    }
}

/// A Go unsigned integer up to `maximum`: a non-negative integer literal, or `null`.
pub(crate) fn unsigned(raw: &RawValue, maximum: u64) -> Result<Option<u64>, Malformed> {
    let value: Option<u64> = serde_json::from_str(raw.get())?;
    match value {
        Some(number) if number > maximum => Err(Malformed),
        other => Ok(other),
    }
}

/// A Go `[]string`: an array of strings (or `null`s), or `null`.
pub(crate) fn texts(raw: &RawValue) -> Result<(), Malformed> {
    let _: Option<Vec<Option<String>>> = serde_json::from_str(raw.get())?;
    Ok(())
}

/// A Go `*SubjectPermission` (`{"allow": []string, "deny": []string}`), or `null`.
pub(crate) fn permission(raw: &RawValue) -> Result<(), Malformed> {
    for (key, value) in object_members(raw.get())?.unwrap_or_default() {
        if field_name(&key, &["allow", "deny"]).is_some() {
            texts(value)?;
        }
    }
    Ok(())
}

/// A Go `[]byte`: a string of padded standard base64 (Go skips `\r` and `\n` in it),
/// or `null`.
pub(crate) fn base64(raw: &RawValue) -> Result<(), Malformed> {
    let Some(encoded) = text(raw)? else {
        return Ok(());
    };
    let symbols: Vec<u8> = encoded
        .bytes()
        .filter(|&byte| byte != b'\r' && byte != b'\n')
        .collect();
    if !symbols.len().is_multiple_of(4) {
        return Err(Malformed);
    }
    let padding = symbols
        .iter()
        .rev()
        .take_while(|&&byte| byte == b'=')
        .count();
    let data = symbols.len().saturating_sub(padding);
    let alphabet = |byte: &u8| byte.is_ascii_alphanumeric() || *byte == b'+' || *byte == b'/';
    let valid = padding <= 2 && symbols.iter().take(data).all(alphabet);
    if valid { Ok(()) } else { Err(Malformed) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn members_keep_order_and_repeats() {
        let members = object_members(r#"{"echo":true,"Echo":false}"#)
            .unwrap()
            .unwrap();
        let keys: Vec<&str> = members.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["echo", "Echo"]);
        assert!(object_members("null").unwrap().is_none());
        assert!(object_members(" {} ").unwrap().unwrap().is_empty());
        for bad in ["", "[]", "1", "\"x\"", "{} x", "{", "true", "{\"a\":01}"] {
            assert!(object_members(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_fold_like_go() {
        let fields = ["verbose", "pass", "lang"];
        assert_eq!(field_name("VERBOSE", &fields), Some("verbose"));
        assert_eq!(field_name("Verbose", &fields), Some("verbose"));
        assert_eq!(field_name("pa\u{17F}\u{17F}", &fields), Some("pass"));
        assert_eq!(field_name("verbose ", &fields), None);
        assert_eq!(field_name("LANG", &fields), Some("lang"));
        assert_eq!(field_name("\u{212A}", &["k"]), Some("k"));
        assert_eq!(field_name("\u{130}d", &["id"]), None);
    }

    #[test]
    fn scalar_types_follow_go() {
        assert_eq!(boolean(&raw("true")), Ok(Some(true)));
        assert_eq!(boolean(&raw("null")), Ok(None));
        assert_eq!(boolean(&raw("1")), Err(Malformed));
        assert_eq!(boolean(&raw("\"true\"")), Err(Malformed));
        assert_eq!(text(&raw("\"a\\u0062\"")), Ok(Some("ab".to_owned())));
        assert_eq!(text(&raw("5")), Err(Malformed));
        assert_eq!(signed(&raw("1"), i64::MIN, i64::MAX), Ok(Some(1)));
        assert_eq!(signed(&raw("-0"), i64::MIN, i64::MAX), Ok(Some(0)));
        assert_eq!(signed(&raw("1.0"), i64::MIN, i64::MAX), Err(Malformed));
        assert_eq!(signed(&raw("1e2"), i64::MIN, i64::MAX), Err(Malformed));
        assert_eq!(signed(&raw("\"1\""), i64::MIN, i64::MAX), Err(Malformed));
        assert_eq!(
            signed(&raw("9223372036854775808"), i64::MIN, i64::MAX),
            Err(Malformed)
        );
        assert_eq!(
            signed(&raw("2147483648"), -2147483648, 2147483647),
            Err(Malformed)
        );
        assert_eq!(unsigned(&raw("255"), 255), Ok(Some(255)));
        assert_eq!(unsigned(&raw("256"), 255), Err(Malformed));
        assert_eq!(unsigned(&raw("-1"), 255), Err(Malformed));
    }

    #[test]
    fn compound_types_follow_go() {
        assert_eq!(texts(&raw(r#"["a",null]"#)), Ok(()));
        assert_eq!(texts(&raw("null")), Ok(()));
        assert_eq!(texts(&raw("[1]")), Err(Malformed));
        assert_eq!(texts(&raw("\"a\"")), Err(Malformed));
        assert_eq!(permission(&raw(r#"{"Allow":["a"],"x":1}"#)), Ok(()));
        assert_eq!(permission(&raw(r#"{"deny":"a"}"#)), Err(Malformed));
        assert_eq!(permission(&raw("[]")), Err(Malformed));
        assert_eq!(base64(&raw("\"QUJD\"")), Ok(()));
        assert_eq!(base64(&raw("\"QQ==\"")), Ok(()));
        assert_eq!(base64(&raw("\"QU\\r\\nJD\"")), Ok(()));
        assert_eq!(base64(&raw("\"QQ\"")), Err(Malformed));
        assert_eq!(base64(&raw("\"Q===\"")), Err(Malformed));
        assert_eq!(base64(&raw("\"QQ=A\"")), Err(Malformed));
    }
}
