//! Query-string parsing shared by every ilert list endpoint: repeated (form/explode) parameters,
//! legacy aliases, `start-index`/`max-results` paging with ilert's hard caps, `include`.

use std::collections::BTreeSet;
use std::str::FromStr;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::time;

/// All query pairs in order. axum's `Query<T>` keeps only one value per name, but ilert's
/// arrays repeat the name (`?states=PENDING&states=ACCEPTED`).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(pairs)| Params(pairs))
            .map_err(|_| ApiError::bad_request("Malformed query string"))
    }
}

/// Offset paging as ilert does it: no totals, a too large `max-results` is an error, not a clamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub start_index: i64,
    pub max_results: i64,
}

impl Params {
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Params(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    /// Every value given under any of `names`, comma lists split, blanks dropped. Returns the
    /// name each value came with, for error messages.
    pub fn values<'a>(&'a self, names: &[&str]) -> Vec<(&'a str, &'a str)> {
        self.0
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .flat_map(|(k, v)| v.split(',').map(move |part| (k.as_str(), part.trim())))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// Every value given for `name`, unsplit (for values that are JSON).
    pub fn raw<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The last non-blank value of a single-valued parameter.
    pub fn single(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    pub fn parsed_list<T: FromStr>(
        &self,
        names: &[&str],
        expected: &str,
    ) -> Result<Vec<T>, ApiError> {
        self.values(names)
            .into_iter()
            .map(|(name, v)| v.parse().map_err(|_| invalid(name, v, expected)))
            .collect()
    }

    pub fn ids(&self, names: &[&str]) -> Result<Vec<i64>, ApiError> {
        self.parsed_list(names, "a numeric id")
    }

    pub fn datetime(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.single(name) {
            None => Ok(None),
            Some(v) => time::parse(v).map(Some).ok_or_else(|| {
                invalid(
                    name,
                    v,
                    "an ISO-8601 date-time such as 2026-05-25T21:24:56.771Z",
                )
            }),
        }
    }

    pub fn includes(&self) -> BTreeSet<String> {
        self.values(&["include"])
            .into_iter()
            .map(|(_, v)| v.to_owned())
            .collect()
    }

    /// Paging where an `include` lowers the cap (incidents, services), with ilert's own wording
    /// for that case, which ilert's CLI parses to retry with a smaller page.
    pub fn paging_with_include(
        &self,
        default_max: i64,
        cap: i64,
        include_cap: Option<i64>,
    ) -> Result<Paging, ApiError> {
        let paging = self.paging(default_max, cap)?;
        match (include_cap, self.single("max-results")) {
            (Some(limit), Some(_)) if paging.max_results > limit => Err(ApiError::bad_request(
                format!("'max-results' must not be above {limit}, when using 'include'"),
            )),
            _ => Ok(paging),
        }
    }

    pub fn paging(&self, default_max: i64, cap: i64) -> Result<Paging, ApiError> {
        let start_index = match self.single("start-index") {
            None => 0,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 0 => n,
                _ => return Err(invalid("start-index", v, "an integer of 0 or more")),
            },
        };
        let max_results = match self.single("max-results") {
            None => default_max,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=cap).contains(&n) => n,
                Ok(_) => {
                    return Err(ApiError::bad_request(format!(
                        "Query parameter 'max-results' must be between 1 and {cap}, got {v}"
                    )));
                }
                Err(_) => return Err(invalid("max-results", v, "an integer")),
            },
        };
        Ok(Paging {
            start_index,
            max_results,
        })
    }
}

pub fn invalid(name: &str, value: &str, expected: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid value '{value}' for query parameter '{name}': expected {expected}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_comma_and_alias_values() {
        let p = Params::from_pairs(&[
            ("states", "PENDING"),
            ("state", "ACCEPTED,RESOLVED"),
            ("states", ""),
            ("other", "x"),
        ]);
        let v: Vec<&str> = p
            .values(&["states", "state"])
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(v, ["PENDING", "ACCEPTED", "RESOLVED"]);
    }

    #[test]
    fn paging_caps_are_hard_errors() {
        let ok = Params::from_pairs(&[("start-index", "5"), ("max-results", "100")]);
        assert_eq!(
            ok.paging(50, 100).unwrap(),
            Paging {
                start_index: 5,
                max_results: 100
            }
        );
        assert_eq!(Params::default().paging(50, 100).unwrap().max_results, 50);
        for bad in [
            ("max-results", "101"),
            ("max-results", "0"),
            ("max-results", "x"),
            ("start-index", "-1"),
        ] {
            let err = Params::from_pairs(&[bad]).paging(50, 100).unwrap_err();
            assert!(err.message().contains(bad.0), "{err}");
        }
    }
}
