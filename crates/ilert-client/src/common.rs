//! Small shapes shared by several resources: references by id and name, paging.

use serde::{Deserialize, Serialize};

/// A reference to a team (spec `TeamRel`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TeamRef {
    pub id: i64,
    pub name: Option<String>,
}

/// Offset paging as ilert does it: `start-index` and `max-results`, capped per endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    pub start_index: u32,
    /// 0 means the endpoint's default.
    pub max_results: u32,
}

impl Page {
    pub fn new(start_index: u32, max_results: u32) -> Self {
        Self {
            start_index,
            max_results,
        }
    }

    /// Query pairs, with `max_results` clamped to the endpoint's `cap` (more is a 400 at ilert).
    pub(crate) fn query(self, cap: u32) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if self.start_index > 0 {
            q.push(("start-index", self.start_index.to_string()));
        }
        if self.max_results > 0 {
            q.push(("max-results", self.max_results.min(cap).to_string()));
        }
        q
    }
}

pub(crate) fn repeat<'a, T: ToString>(
    name: &'static str,
    values: &'a [T],
) -> impl Iterator<Item = (&'static str, String)> + 'a {
    values.iter().map(move |v| (name, v.to_string()))
}
