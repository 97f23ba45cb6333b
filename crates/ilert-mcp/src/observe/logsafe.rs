//! What reaches a log: user-supplied text with its control characters escaped (a newline in a
//! client name cannot forge a log line), and no request or answer payloads from rmcp (tool
//! arguments and results may hold integration keys and other secrets), at any level.

use std::borrow::Cow;

/// `text` with control characters (newlines, escape sequences, ...) escaped as `\n`, `\u{1b}`.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether an event may be logged: not one of rmcp's that carry a whole message (`?request`,
/// `?result` at DEBUG, `?message` at TRACE). Everything else passes to the level filter.
pub fn allowed(metadata: &tracing::Metadata<'_>) -> bool {
    if !metadata.target().starts_with("rmcp") || !metadata.is_event() {
        return true;
    }
    if *metadata.level() == tracing::Level::TRACE {
        return false;
    }
    !metadata
        .fields()
        .iter()
        .any(|f| matches!(f.name(), "request" | "result" | "params" | "arguments"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escaped("Claude"), "Claude");
        assert_eq!(
            escaped("Evil\nINFO forged\r\u{1b}[2J"),
            "Evil\\nINFO forged\\r\\u{1b}[2J"
        );
    }
}
