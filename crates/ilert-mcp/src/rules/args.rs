//! Lenient argument decoding. Models sometimes send `"4711"` for `4711`, one id where a list is
//! asked for, or `"week"` for `WEEK`; all are accepted, while the schema advertises the one clean
//! form.

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde_json::Value;

/// Enum values in any case: every tool enum is SCREAMING_SNAKE_CASE on the wire, so strings
/// (alone, in a list, or in an option) are upper-cased, with `-` and spaces read as `_`, before
/// the enum reads them. Use as `#[serde(default, deserialize_with = "args::any_case")]`.
pub fn any_case<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<T, D::Error> {
    fn upper(v: Value) -> Value {
        match v {
            Value::String(s) => Value::String(s.trim().to_uppercase().replace(['-', ' '], "_")),
            Value::Array(items) => Value::Array(items.into_iter().map(upper).collect()),
            other => other,
        }
    }
    let value = upper(Value::deserialize(d)?);
    T::deserialize(value).map_err(de::Error::custom)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IdRepr {
    Int(i64),
    Str(String),
}

impl IdRepr {
    fn into_id<E: de::Error>(self) -> Result<i64, E> {
        match self {
            Self::Int(n) => Ok(n),
            Self::Str(s) => s
                .trim()
                .trim_start_matches('#')
                .parse()
                .map_err(|_| E::custom(format!("{s:?} is not a numeric ilert id"))),
        }
    }
}

/// One id, as a number or a numeric string.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let id = IdRepr::deserialize(d)?.into_id()?;
    if id <= 0 {
        return Err(de::Error::custom(format!(
            "{id} is not a valid ilert id (ids are positive)"
        )));
    }
    Ok(id)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<IdRepr>),
    One(IdRepr),
}

/// A list of ids; a single id is taken as a list of one.
pub fn ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    let reprs = match OneOrMany::deserialize(d)? {
        OneOrMany::Many(v) => v,
        OneOrMany::One(one) => vec![one],
    };
    let ids = reprs
        .into_iter()
        .map(IdRepr::into_id)
        .collect::<Result<Vec<i64>, D::Error>>()?;
    if let Some(bad) = ids.iter().find(|id| **id <= 0) {
        return Err(de::Error::custom(format!(
            "{bad} is not a valid ilert id (ids are positive)"
        )));
    }
    Ok(ids)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NameRepr {
    Num(i64),
    Text(String),
}

impl NameRepr {
    fn text(self) -> String {
        match self {
            Self::Num(n) => n.to_string(),
            Self::Text(s) => s,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NamesRepr {
    Many(Vec<NameRepr>),
    One(NameRepr),
}

/// Optional list of ids or names ("Datadog", 42, "me"); one value is a list of one.
pub fn opt_names<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let names = match Option::<NamesRepr>::deserialize(d)? {
        None => return Ok(None),
        Some(NamesRepr::Many(v)) => v.into_iter().map(NameRepr::text).collect(),
        Some(NamesRepr::One(one)) => vec![one.text()],
    };
    Ok(Some(names))
}

/// Like [`ids`], for optional filter lists.
pub fn opt_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
    ids(d).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct P {
        #[serde(deserialize_with = "super::ids")]
        ids: Vec<i64>,
        #[serde(deserialize_with = "super::id")]
        id: i64,
    }

    #[test]
    fn accepts_numbers_strings_and_single_values() {
        let p: P = serde_json::from_str(r##"{"ids": ["4711", 4712], "id": "#7"}"##).unwrap();
        assert_eq!((p.ids, p.id), (vec![4711, 4712], 7));
        let p: P = serde_json::from_str(r#"{"ids": 5, "id": 6}"#).unwrap();
        assert_eq!((p.ids, p.id), (vec![5], 6));
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    enum E {
        Week,
        InProgress,
    }

    #[derive(Deserialize)]
    struct Q {
        #[serde(default, deserialize_with = "super::any_case")]
        one: Option<E>,
        #[serde(default, deserialize_with = "super::any_case")]
        many: Option<Vec<E>>,
    }

    #[test]
    fn enums_are_read_in_any_case() {
        let q: Q =
            serde_json::from_str(r#"{"one": "week", "many": ["in-progress", "Week"]}"#).unwrap();
        assert_eq!(q.one, Some(E::Week));
        assert_eq!(q.many, Some(vec![E::InProgress, E::Week]));
        let q: Q = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!((q.one, q.many), (None, None));
        let e = serde_json::from_str::<Q>(r#"{"one": "year"}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("unknown variant `YEAR`"), "{e}");
    }

    #[test]
    fn rejects_non_numeric_and_non_positive_ids() {
        let e = serde_json::from_str::<P>(r#"{"ids": ["abc"], "id": 1}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not a numeric ilert id"), "{e}");
        assert!(serde_json::from_str::<P>(r#"{"ids": [1], "id": 0}"#).is_err());
        assert!(serde_json::from_str::<P>(r#"{"ids": [-3], "id": 1}"#).is_err());
        assert!(serde_json::from_str::<P>(r#"{"ids": [1.5], "id": 1}"#).is_err());
    }
}
