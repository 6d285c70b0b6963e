//! Strings of policies that may hold `*` / `?` wildcards and `${...}` policy variables.
//!
//! A [`Pattern`] is parsed once into parts. Variables (`${aws:username}`, with an optional
//! `'default'`) are resolved against the request at evaluation time; the escapes `${*}`, `${?}`
//! and `${$}` become literal characters that never act as wildcards. In policies without
//! `"Version": "2012-10-17"` the `${...}` text is literal, as AWS treats it.

use super::matcher::Matcher;

/// A policy variable reference such as `${aws:PrincipalTag/team, 'none'}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The key as written.
    pub key: String,
    /// The key lowercased (condition keys are case-insensitive).
    pub key_lower: String,
    /// The default value used when the key has no single value.
    pub default: Option<String>,
}

/// One part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternPart {
    Literal(String),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    Question,
    Variable(Variable),
}

/// A parsed pattern string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The text as written in the policy.
    pub original: String,
    pub parts: Vec<PatternPart>,
    pub has_variables: bool,
    /// The cheapest test the pattern allows when matched as an ARN (`Resource`, `Arn*`
    /// operators), compiled once here.
    pub matcher: Matcher,
}

impl Pattern {
    /// Parses `text`; `variables` says whether `${...}` is interpreted (2012-10-17 policies).
    pub fn parse(text: &str, variables: bool) -> Pattern {
        let mut parts: Vec<PatternPart> = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        let mut has_variables = false;
        while let Some(c) = rest.chars().next() {
            if variables && rest.starts_with("${") {
                if let Some(end) = rest.find('}') {
                    let inner = &rest[2..end];
                    if let Some(part) = parse_variable(inner) {
                        match part {
                            PatternPart::Literal(l) => literal.push_str(&l),
                            other => {
                                flush(&mut parts, &mut literal);
                                has_variables = true;
                                parts.push(other);
                            }
                        }
                        rest = &rest[end + 1..];
                        continue;
                    }
                }
            }
            match c {
                '*' => {
                    flush(&mut parts, &mut literal);
                    if parts.last() != Some(&PatternPart::Star) {
                        parts.push(PatternPart::Star);
                    }
                }
                '?' => {
                    flush(&mut parts, &mut literal);
                    parts.push(PatternPart::Question);
                }
                _ => literal.push(c),
            }
            rest = &rest[c.len_utf8()..];
        }
        flush(&mut parts, &mut literal);
        let matcher = Matcher::arn(&parts);
        Pattern {
            original: text.to_string(),
            parts,
            has_variables,
            matcher,
        }
    }

    /// Whether the pattern is exactly `*`.
    pub fn is_any(&self) -> bool {
        self.parts.len() == 1 && self.parts[0] == PatternPart::Star
    }

    /// Every variable the pattern refers to.
    pub fn variables(&self) -> impl Iterator<Item = &Variable> {
        self.parts.iter().filter_map(|p| match p {
            PatternPart::Variable(v) => Some(v),
            _ => None,
        })
    }
}

fn flush(parts: &mut Vec<PatternPart>, literal: &mut String) {
    if !literal.is_empty() {
        parts.push(PatternPart::Literal(std::mem::take(literal)));
    }
}

/// Parses the inside of `${...}`; `None` when it is not a valid variable (then it stays text).
fn parse_variable(inner: &str) -> Option<PatternPart> {
    match inner.trim() {
        "*" => return Some(PatternPart::Literal("*".into())),
        "?" => return Some(PatternPart::Literal("?".into())),
        "$" => return Some(PatternPart::Literal("$".into())),
        _ => {}
    }
    let (key, default) = match inner.find(',') {
        Some(i) => (
            inner[..i].trim(),
            Some(parse_default(inner[i + 1..].trim())?),
        ),
        None => (inner.trim(), None),
    };
    if key.is_empty() || key.chars().any(char::is_whitespace) || !key.contains(':') {
        return None;
    }
    Some(PatternPart::Variable(Variable {
        key: key.to_string(),
        key_lower: key.to_ascii_lowercase(),
        default,
    }))
}

/// `'text'` with `''` standing for one quote.
fn parse_default(text: &str) -> Option<String> {
    let body = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return None;
        }
        out.push(c);
    }
    Some(out)
}

/// Splits pattern parts into the six colon-separated ARN fields; `None` when there are fewer.
pub fn split_arn(parts: &[PatternPart]) -> Option<Vec<Vec<PatternPart>>> {
    let mut segments: Vec<Vec<PatternPart>> = vec![Vec::new()];
    for part in parts {
        match part {
            PatternPart::Literal(l) if segments.len() < 6 => {
                let mut rest = l.as_str();
                while segments.len() < 6 {
                    match rest.find(':') {
                        Some(i) => {
                            if i > 0 {
                                push(&mut segments, PatternPart::Literal(rest[..i].to_string()));
                            }
                            segments.push(Vec::new());
                            rest = &rest[i + 1..];
                        }
                        None => break,
                    }
                }
                if !rest.is_empty() {
                    push(&mut segments, PatternPart::Literal(rest.to_string()));
                }
            }
            other => push(&mut segments, other.clone()),
        }
    }
    (segments.len() == 6).then_some(segments)
}

fn push(segments: &mut [Vec<PatternPart>], part: PatternPart) {
    if let Some(last) = segments.last_mut() {
        last.push(part);
    }
}

/// One step of a glob, borrowed: text to match exactly, `*`, `?`, or a part that matches
/// nothing (an unresolved variable). The engine builds these on the stack when it substitutes
/// policy variables, so that matching never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Star,
    Question,
    Never,
}

impl PatternPart {
    /// This part as a glob step (a variable matches nothing until it is resolved).
    pub fn piece(&self) -> Piece<'_> {
        match self {
            PatternPart::Literal(l) => Piece::Text(l),
            PatternPart::Star => Piece::Star,
            PatternPart::Question => Piece::Question,
            PatternPart::Variable(_) => Piece::Never,
        }
    }
}

/// Glob match of resolved parts (no variables) against `s`: `*` any run, `?` one character.
/// Case-sensitive; callers lowercase both sides where matching is case-insensitive.
pub fn glob_match(parts: &[PatternPart], s: &str) -> bool {
    match parts {
        [] => s.is_empty(),
        [PatternPart::Star] => true,
        [PatternPart::Literal(l)] => l == s,
        [PatternPart::Literal(l), PatternPart::Star] => s.starts_with(l.as_str()),
        [PatternPart::Star, PatternPart::Literal(l)] => s.ends_with(l.as_str()),
        [PatternPart::Literal(a), PatternPart::Star, PatternPart::Literal(b)] => {
            s.len() >= a.len() + b.len() && s.starts_with(a.as_str()) && s.ends_with(b.as_str())
        }
        _ => glob_steps(parts.len(), |i| parts.get(i).map(PatternPart::piece), s),
    }
}

/// [`glob_match`] over borrowed steps (consecutive texts match one after the other, as the
/// one text they make would).
pub fn glob_pieces(pieces: &[Piece<'_>], s: &str) -> bool {
    glob_steps(pieces.len(), |i| pieces.get(i).copied(), s)
}

/// The general glob: one pass with backtracking to the last `*`, over `len` steps read
/// through `step`.
fn glob_steps<'p>(len: usize, step: impl Fn(usize) -> Option<Piece<'p>>, s: &str) -> bool {
    let bytes = s.as_bytes();
    let (mut ti, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if ti < len {
            match step(ti) {
                Some(Piece::Star) => {
                    star = Some((ti + 1, si));
                    ti += 1;
                    continue;
                }
                Some(Piece::Question) => {
                    if let Some(&b) = bytes.get(si) {
                        si += utf8_len(b);
                        ti += 1;
                        continue;
                    }
                }
                Some(Piece::Text(l)) => {
                    if bytes
                        .get(si..)
                        .is_some_and(|rest| rest.starts_with(l.as_bytes()))
                    {
                        si += l.len();
                        ti += 1;
                        continue;
                    }
                }
                Some(Piece::Never) | None => return false,
            }
        } else if si == bytes.len() {
            return true;
        }
        // Mismatch: let the last `*` swallow one more character.
        match star {
            Some((sti, ssi)) if ssi < bytes.len() => {
                let next = ssi + bytes.get(ssi).map_or(1, |b| utf8_len(*b));
                star = Some((sti, next));
                ti = sti;
                si = next;
            }
            _ => return false,
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        b if b < 0x80 => 1,
        b if b >= 0xF0 => 4,
        b if b >= 0xE0 => 3,
        _ => 2,
    }
}

/// The parts rendered as text with `*` and `?` literal (for equality operators).
pub fn render(parts: &[PatternPart]) -> String {
    let mut out = String::new();
    for p in parts {
        match p {
            PatternPart::Literal(l) => out.push_str(l),
            PatternPart::Star => out.push('*'),
            PatternPart::Question => out.push('?'),
            PatternPart::Variable(v) => {
                out.push_str("${");
                out.push_str(&v.key);
                out.push('}');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(&Pattern::parse(p, true).parts, s)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", ""));
        assert!(m("s3:Get*", "s3:GetObject"));
        assert!(!m("s3:Get*", "s3:PutObject"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(m("a*b*c", "abbbc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("é?", "éü"));
        // The shapes decided without the general loop: `a*`, `*b`, `a*b`.
        assert!(m("arn:aws:iam::*:root", "arn:aws:iam::111122223333:root"));
        assert!(!m(
            "arn:aws:iam::*:root",
            "arn:aws:iam::111122223333:role/x"
        ));
        assert!(m("ab*ba", "abba"));
        assert!(!m("ab*ba", "aba"));
        assert!(m("*:root", ":root"));
        assert!(!m("*:root", "root"));
    }

    #[test]
    fn pieces_match_as_their_joined_text() {
        use Piece::*;
        assert!(glob_pieces(
            &[Text("home/"), Text("bob"), Text("/"), Star],
            "home/bob/x"
        ));
        assert!(!glob_pieces(
            &[Text("home/"), Text("bob"), Text("/"), Star],
            "home/bobby/x"
        ));
        assert!(glob_pieces(
            &[Text("a"), Star, Text("b"), Question],
            "aXXbc"
        ));
        assert!(!glob_pieces(&[Text("a"), Never], "a"));
        assert!(glob_pieces(&[], ""));
        assert!(!glob_pieces(&[], "x"));
        // A substituted value is text: its `*` is not a wildcard.
        assert!(!glob_pieces(&[Text("a"), Text("*")], "ab"));
        assert!(glob_pieces(&[Text("a"), Text("*")], "a*"));
    }

    #[test]
    fn escapes_are_literal() {
        let p = Pattern::parse("a${*}b", true);
        assert_eq!(p.parts, vec![PatternPart::Literal("a*b".into())]);
        assert!(!glob_match(&p.parts, "aXb"));
        assert!(glob_match(&p.parts, "a*b"));
        let p = Pattern::parse("${$}{x}", true);
        assert_eq!(p.parts, vec![PatternPart::Literal("${x}".into())]);
    }

    #[test]
    fn variables_and_defaults() {
        let p = Pattern::parse("home/${aws:username}/*", true);
        assert!(p.has_variables);
        let p = Pattern::parse("${aws:PrincipalTag/team, 'it''s'}", true);
        match &p.parts[0] {
            PatternPart::Variable(v) => {
                assert_eq!(v.key_lower, "aws:principaltag/team");
                assert_eq!(v.default.as_deref(), Some("it's"));
            }
            other => unreachable!("{other:?}"),
        }
        let p = Pattern::parse("home/${aws:username}", false);
        assert!(!p.has_variables);
        assert_eq!(render(&p.parts), "home/${aws:username}");
    }
}
