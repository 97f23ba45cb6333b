//! Lenient argument decoding. Models sometimes send `"4711"` for `4711`, or one id where a list is
//! asked for; both are accepted, while the schema advertises the one clean form.

use serde::Deserialize;
use serde::de::{self, Deserializer};

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
