//! Text made to fit: cut to a number of bytes or characters, an ARN shortened to its last
//! segment (`user/bob`) for a title.

/// The last segment of an ARN (`user/bob`, `assumed-role/Dev/alice`), or the text.
pub(super) fn short_principal(principal: &str) -> &str {
    access_undenied_core::arn::Arn::parse(principal).map_or(principal, |a| a.resource)
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub(super) fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Cuts to `max` characters, ending in `...` when cut.
pub(super) fn ellipsis(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(3)).collect();
    s.push_str("...");
    s
}
