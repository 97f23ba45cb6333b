//! Answers: how a tool's result is built (structured content with a text mirror, one line per
//! item), how an ilert error becomes a sentence a model can act on, and the macros every tool body
//! uses to return early with such a sentence.

/// The caller's ilert session, or return the tool error saying why there is none.
macro_rules! session {
    ($server:expr, $ext:expr) => {
        match $server.session(&$ext) {
            Ok(api) => api,
            Err(result) => return result,
        }
    };
}

/// Awaits an ilert call; on failure returns the tool error that explains it for `$subject`.
macro_rules! ilert {
    ($call:expr, $subject:expr) => {
        match $call.await {
            Ok(value) => value,
            Err(e) => return $crate::rules::failure($crate::rules::explain(&e, &$subject)),
        }
    };
}

/// Unwraps a `Result<_, String>` whose error is already a sentence for the model.
macro_rules! check {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(message) => return $crate::rules::failure(message),
        }
    };
}

pub(crate) use {check, ilert, session};

use ilert_client::ApiError;
use rmcp::model::{CallToolResult, ContentBlock};
use serde::Serialize;
use serde_json::Value;

/// A successful result: `structuredContent` for programs, a compact text rendering for the model.
pub fn structured<T: Serialize>(value: &T, text: String) -> CallToolResult {
    match serde_json::to_value(value) {
        Ok(structured) => structured_value(structured, text),
        Err(e) => failure(format!(
            "ilert-mcp could not serialise its own answer ({e}); please report this bug."
        )),
    }
}

/// [`structured`] for an answer already built as JSON.
pub fn structured_value(value: Value, text: String) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(value);
    result
}

/// A result's text content, joined.
pub fn result_text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` without pointers to the `hidden` tools: a parenthesis or a trailing "; ..." or
/// ", or ..." clause naming one is cut, any other sentence naming one is left out.
pub fn without_tools(text: &str, hidden: &[&str]) -> String {
    let names = |s: &str| {
        hidden.iter().any(|h| {
            s.match_indices(h).any(|(at, _)| {
                let before = s.get(..at).and_then(|b| b.chars().next_back());
                let after = s.get(at + h.len()..).and_then(|a| a.chars().next());
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !word(before) && !word(after)
            })
        })
    };
    if !names(text) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut kept: Vec<String> = Vec::new();
        for sentence in line.split_inclusive(". ") {
            if !names(sentence) {
                kept.push(sentence.to_owned());
                continue;
            }
            let mut s = sentence.to_owned();
            while let (Some(open), Some(close)) = (s.find(" ("), s.find(')'))
                && open < close
                && names(s.get(open..=close).unwrap_or(""))
            {
                s.replace_range(open..=close, "");
            }
            for joint in ["; ", ", or "] {
                if names(&s)
                    && let Some(at) = s.rfind(joint)
                    && !names(s.get(..at).unwrap_or(""))
                {
                    let end = if s.ends_with(' ') { ". " } else { "." };
                    s = format!("{}{end}", s.get(..at).unwrap_or(""));
                }
            }
            if !names(&s) {
                kept.push(s);
            }
        }
        out.push_str(kept.concat().trim_end_matches(' '));
        if line.ends_with('\n') && !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// One line per item, or `empty` when there are none: the text mirror of a list.
pub fn lines_or<T>(items: &[T], line: impl Fn(&T) -> String, empty: &str) -> String {
    if items.is_empty() {
        return empty.to_owned();
    }
    items.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// A tool-level error (`isError: true`) whose text says what to do next.
pub fn failure(text: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text.into())])
}

/// What a failed call was about, for the error sentence: "alert 4711", "your user". ilert's own
/// message may repeat what third parties wrote (a name, a summary), so it is shown quoted.
pub fn explain(error: &ApiError, subject: &str) -> String {
    use crate::rules::untrusted::{inline, quoted};
    match error {
        ApiError::Unauthorized { .. } | ApiError::InvalidKey { .. } => format!(
            "ilert rejected the API key ({}). Check the `Authorization: Bearer <API key>` header (or \
             ILERT_API_KEY for stdio) and that the key is still active in ilert under Profile → API Keys.",
            error
                .status()
                .map_or_else(|| "auth".to_owned(), |s| s.to_string())
        ),
        ApiError::Forbidden { message, .. } => format!(
            "Your ilert user is not allowed to do this for {subject}: ilert said {}. \
             Your role in ilert limits what you may change (stakeholders and guests only read; responders \
             work alerts and incidents but not schedules); ask an ilert admin if you need more.",
            quoted(message)
        ),
        ApiError::NotFound { .. } => format!(
            "{} was not found, or your ilert user cannot see it. Check the id and try again.",
            capitalise(subject)
        ),
        ApiError::RateLimited { message } => format!(
            "The rate limit for this API key is used up ({}). Wait until it resets before \
             calling ilert tools again.",
            inline(message)
        ),
        ApiError::Rejected {
            status, message, ..
        } => {
            format!(
                "ilert refused the request for {subject} ({status}): {}. Adjust the arguments and retry.",
                quoted(message)
            )
        }
        ApiError::Upstream { status, .. } => format!(
            "ilert is having problems (HTTP {status}) and could not handle the request for {subject}. \
             Try again in a minute."
        ),
        ApiError::Transport {
            kind: ilert_client::TransportKind::Timeout,
            ..
        } => {
            format!(
                "ilert did not answer in time for {subject}. It may be slow or down; try again in a minute."
            )
        }
        ApiError::Transport { message, .. } => format!(
            "ilert-mcp could not reach ilert ({}). Check the network and the ilert URL \
             (ILERT_BASE_URL / --ilert-url), then retry.",
            inline(message)
        ),
        ApiError::Decode { message } => format!(
            "ilert sent an answer for {subject} that ilert-mcp cannot read ({}). This is a bug in \
             ilert-mcp; please report it.",
            inline(message)
        ),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_tools;

    #[test]
    fn errors_name_only_tools_the_caller_has() {
        let hidden = ["find_users", "list_alert_sources"];
        assert_eq!(
            without_tools(
                "No user matches \"zed\". Known: Ana (id 1). Use an id, or find_users to search.",
                &hidden
            ),
            "No user matches \"zed\". Known: Ana (id 1). Use an id."
        );
        assert_eq!(
            without_tools(
                "No source for X. Pass `source` (list_alert_sources shows them).",
                &hidden
            ),
            "No source for X. Pass `source`."
        );
        assert_eq!(
            without_tools(
                "Name the source or the `service`; list_alert_sources shows the sources.",
                &hidden
            ),
            "Name the source or the `service`."
        );
        assert_eq!(
            without_tools("Check the user with find_users.\nNext line.", &hidden),
            "\nNext line."
        );
        let offered = "Use an id, or list_teams to search.";
        assert_eq!(without_tools(offered, &hidden), offered);
        // A name inside a longer word is not the tool.
        assert_eq!(
            without_tools("see find_users_v2.", &hidden),
            "see find_users_v2."
        );
    }
}
