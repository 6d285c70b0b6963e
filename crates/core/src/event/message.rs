//! Reading the `errorMessage` of a CloudTrail access-denied record into a [`MessageHint`].
//!
//! AWS words most denials as
//! `User: <principal> is not authorized to perform: <action> [on resource: <arn>] <context>`,
//! where `<context>` is `because no <type> allows the <action> action` (an implicit deny) or
//! `with an explicit deny in a <type>` (an explicit deny), and newer messages append the ARN of
//! the denying policy (`...: arn:aws:iam::111122223333:policy/Name`,
//! `...: arn:aws:organizations::...:policy/o-.../service_control_policy/p-...`). EC2 and a few
//! other services add `Encoded authorization failure message: <blob>`. This module pulls those
//! pieces out with hand-written, allocation-light parsing that never panics on any input.
//!
//! What it returns is only a *hint*: messages are free text, differ between services, are
//! sometimes truncated by CloudTrail, and name at most one of the policy types that denied.
//! The engine decides; the hint only tells it what AWS said (for instance which action to
//! evaluate, or which policy type to show first).
//!
//! Forms understood (whitespace, line breaks and letter case of the fixed words are tolerated,
//! as is any text before `User:` such as
//! `An error occurred (AccessDenied) when calling the X operation: `):
//!
//! * `User: <p> is not authorized to perform: <action>` alone, `on resource: <arn>`,
//!   `on resource: "<arn>"` / `'<arn>'` (S3 quotes it), `on "<arn>"`, or
//!   `on this resource` (KMS: no resource named);
//! * `because no <type> allows the <action> action` → implicit deny;
//! * `with an explicit deny in <a|an|the|-> <type>[: <policy-arn>]` (also
//!   `due to an explicit deny in ...`, and `... <type> transitively through <type>`, where the
//!   second type is the one reported, as the IAM User Guide says to look there);
//! * the KMS form `... on this resource because the resource does not exist in this Region, no
//!   resource-based policies allow access, or a resource-based policy explicitly denies access`
//!   → a resource-based policy, explicit or implicit unknown;
//! * `<type>` is one of: identity-based policy, resource-based policy, permissions boundary,
//!   session policy (also `sessions policy`), service control policy, resource control policy,
//!   VPC endpoint policy, role trust policy (plural forms and spaces for hyphens accepted);
//! * `You are not authorized to perform this operation. [...] Encoded authorization failure
//!   message: <blob>` (EC2), with or without a `User: ...` sentence in between;
//! * `User: anonymous is not authorized ...` (the principal is reported as `anonymous`);
//! * anything else (`Access Denied`, service-specific prose) gives a mostly empty hint.

use serde::{Deserialize, Serialize};

/// The policy type an access-denied message names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyTypeHint {
    /// `identity-based policy`: a policy attached to the user, role or group.
    IdentityBased,
    /// `resource-based policy`: bucket policy, key policy, queue policy, ...
    ResourceBased,
    /// `permissions boundary`.
    PermissionsBoundary,
    /// `session policy` (AWS also writes `sessions policy`).
    SessionPolicy,
    /// `service control policy` (AWS Organizations SCP).
    ServiceControlPolicy,
    /// `resource control policy` (AWS Organizations RCP).
    ResourceControlPolicy,
    /// `VPC endpoint policy`.
    VpcEndpointPolicy,
    /// `role trust policy` (the role's assume-role policy).
    RoleTrustPolicy,
}

/// What an access-denied `errorMessage` says. Every field is optional: a message that does
/// not follow a known form gives `MessageHint::default()`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageHint {
    /// The caller after `User:` (an ARN, or `anonymous`), or a bare ARN right before
    /// `is not authorized` when there is no `User:`.
    pub principal_arn: Option<String>,
    /// The action after `is not authorized to perform:`, exactly as written (`s3:GetObject`,
    /// `SNS:Publish`): only set when it looks like `<service>:<Action>`.
    pub action: Option<String>,
    /// The value after `on resource:` (quotes stripped), when present; not always an ARN.
    pub resource: Option<String>,
    /// The policy type the message names.
    pub policy_type: Option<PolicyTypeHint>,
    /// `Some(true)` for `with an explicit deny`, `Some(false)` for `because no ... allows`,
    /// `None` when the message does not say.
    pub explicit_deny: Option<bool>,
    /// The ARN of the denying policy that newer messages append after the type.
    pub policy_arn: Option<String>,
    /// The text after `Encoded authorization failure message:` (for
    /// `sts:DecodeAuthorizationMessage`).
    pub encoded_message: Option<String>,
    /// The encoded blob looks cut off. CloudTrail truncates long `errorMessage`s, and the blob
    /// is opaque, so this is a heuristic: the message is at least 1000 characters long and
    /// the blob runs to the very end of the message (or into a `...` / `…` ellipsis) without
    /// base64 `=` padding. A complete blob that happens to end a long message is therefore
    /// also reported; treat `true` as "may be truncated, decoding may fail".
    pub encoded_truncated: bool,
    /// The message says the request itself was malformed or invalid (`The request is
    /// malformed`, `MalformedPolicyDocument`, `... is not a valid ...`, `not well-formed`).
    /// Conservative: never set when the message is a recognised authorization denial (it names
    /// an action or a deny context), and the caller, resource, policy ARN and blob are not
    /// searched.
    pub malformed_request: bool,
    /// The IAM Access Troubleshooter authorization ID (`... call the
    /// GetRequestAuthorizationDetails API with the following authorization id: <id>`, or the
    /// last segment of the console link): the key to AWS's own recorded evaluation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_id: Option<String>,
    /// The console link to the same evaluation (`https://…/iam/home…#/authorization-details/<id>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_link: Option<String>,
    /// The resource the message names when it is not a usable ARN (a literal `null` segment, a
    /// placeholder, cut off), with why; `resource` is then `None`, so the resource comes from
    /// the event and this text never reaches a request or a fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unusable_resource: Option<String>,
}

/// Messages at least this long (in characters) may have been truncated by CloudTrail.
const TRUNCATION_MIN_CHARS: usize = 1000;

/// Lower-case markers of a malformed or invalid request.
const MALFORMED_MARKERS: &[&str] = &[
    "malformed",
    "is not a valid",
    "not well-formed",
    "not well formed",
];

/// Policy type phrases, longest alternatives first where one is a prefix of another.
const POLICY_TYPES: &[(&[&str], PolicyTypeHint)] = &[
    (&["identity-based", "policy"], PolicyTypeHint::IdentityBased),
    (
        &["identity-based", "policies"],
        PolicyTypeHint::IdentityBased,
    ),
    (
        &["identity", "based", "policy"],
        PolicyTypeHint::IdentityBased,
    ),
    (
        &["identity", "based", "policies"],
        PolicyTypeHint::IdentityBased,
    ),
    (&["resource-based", "policy"], PolicyTypeHint::ResourceBased),
    (
        &["resource-based", "policies"],
        PolicyTypeHint::ResourceBased,
    ),
    (
        &["resource", "based", "policy"],
        PolicyTypeHint::ResourceBased,
    ),
    (
        &["resource", "based", "policies"],
        PolicyTypeHint::ResourceBased,
    ),
    (
        &["permissions", "boundary", "policy"],
        PolicyTypeHint::PermissionsBoundary,
    ),
    (
        &["permissions", "boundary"],
        PolicyTypeHint::PermissionsBoundary,
    ),
    (
        &["permissions", "boundaries"],
        PolicyTypeHint::PermissionsBoundary,
    ),
    (
        &["permission", "boundary", "policy"],
        PolicyTypeHint::PermissionsBoundary,
    ),
    (
        &["permission", "boundary"],
        PolicyTypeHint::PermissionsBoundary,
    ),
    (
        &["permission", "boundaries"],
        PolicyTypeHint::PermissionsBoundary,
    ),
    (&["session", "policy"], PolicyTypeHint::SessionPolicy),
    (&["session", "policies"], PolicyTypeHint::SessionPolicy),
    (&["sessions", "policy"], PolicyTypeHint::SessionPolicy),
    (&["sessions", "policies"], PolicyTypeHint::SessionPolicy),
    (
        &["service", "control", "policy"],
        PolicyTypeHint::ServiceControlPolicy,
    ),
    (
        &["service", "control", "policies"],
        PolicyTypeHint::ServiceControlPolicy,
    ),
    (
        &["resource", "control", "policy"],
        PolicyTypeHint::ResourceControlPolicy,
    ),
    (
        &["resource", "control", "policies"],
        PolicyTypeHint::ResourceControlPolicy,
    ),
    (
        &["vpc", "endpoint", "policy"],
        PolicyTypeHint::VpcEndpointPolicy,
    ),
    (
        &["vpc", "endpoint", "policies"],
        PolicyTypeHint::VpcEndpointPolicy,
    ),
    (
        &["role", "trust", "policy"],
        PolicyTypeHint::RoleTrustPolicy,
    ),
    (
        &["role", "trust", "policies"],
        PolicyTypeHint::RoleTrustPolicy,
    ),
    (&["trust", "policy"], PolicyTypeHint::RoleTrustPolicy),
];

/// Why an ARN a message names cannot be used as the request's resource: a literal `null` (or
/// `undefined`) segment, a placeholder (`${…}`, `<…>`, `{…}`), or a cut-off text (`...`, `…`).
/// `None` for usable ARNs and for text that is not an ARN at all.
fn unusable_arn(text: &str) -> Option<&'static str> {
    if !text.starts_with("arn:") {
        return None;
    }
    if text.ends_with("...") || text.ends_with('…') {
        return Some("cut off");
    }
    if text.contains("${") || text.contains(['<', '>', '{', '}']) {
        return Some("a placeholder");
    }
    let literal_null = text
        .split([':', '/'])
        .any(|seg| seg.eq_ignore_ascii_case("null") || seg.eq_ignore_ascii_case("undefined"));
    if literal_null {
        return Some("a literal null segment");
    }
    None
}

/// At most 200 characters of `text`, for a note.
fn shorten(text: &str) -> String {
    if text.chars().count() <= 200 {
        return text.to_string();
    }
    let mut s: String = text.chars().take(200).collect();
    s.push('…');
    s
}

/// Reads an access-denied `errorMessage` into a hint. Never panics; unknown text gives a
/// mostly empty hint.
pub fn parse_message(message: &str) -> MessageHint {
    let mut hint = MessageHint::default();

    // Where the context (`because ...` / `with an explicit deny ...`) is searched from.
    let mut tail = message;
    if let Some(anchor) = find_anchor(message) {
        hint.principal_arn = principal_before(prefix_before(message, anchor.start));
        tail = anchor.after;
        if let Some((action, after_action)) = anchor.action {
            hint.action = Some(action.to_string());
            tail = after_action;
            if let Some((resource, after_resource)) = parse_resource(after_action) {
                match resource.as_deref().and_then(unusable_arn) {
                    Some(why) => {
                        hint.unusable_resource =
                            resource.map(|r| format!("`{}`: {why}", shorten(&r)));
                    }
                    None => hint.resource = resource,
                }
                tail = after_resource;
            }
        }
    }
    parse_context(tail, &mut hint);

    if let Some((blob, truncated)) = parse_encoded(message) {
        hint.encoded_message = Some(blob.to_string());
        hint.encoded_truncated = truncated;
    }

    let (link, id) = parse_authorization(message);
    hint.console_link = link.map(str::to_string);
    hint.authorization_id = id.map(str::to_string);

    let is_denial = hint.action.is_some() || hint.explicit_deny.is_some();
    hint.malformed_request = !is_denial && looks_malformed(message, &hint);
    hint
}

/// Where `not authorized to perform` was found.
struct Anchor<'a> {
    /// The message from the phrase on.
    start: &'a str,
    /// The message after the phrase.
    after: &'a str,
    /// The action that follows, and the message after it.
    action: Option<(&'a str, &'a str)>,
}

/// The first `not authorized to perform` followed by an action; else the first one at all
/// (EC2's `You are not authorized to perform this operation.` has no action, but a
/// `User: ... is not authorized to perform: ec2:RunInstances` sentence may follow it).
fn find_anchor(message: &str) -> Option<Anchor<'_>> {
    const PHRASE: &[&str] = &["not", "authorized", "to", "perform"];
    let mut first: Option<Anchor<'_>> = None;
    let mut search = message;
    while let Some((start, after)) = find_words(search, PHRASE) {
        if let Some(action) = parse_action(after) {
            return Some(Anchor {
                start,
                after,
                action: Some(action),
            });
        }
        if first.is_none() {
            first = Some(Anchor {
                start,
                after,
                action: None,
            });
        }
        search = after;
    }
    first
}

/// `: s3:GetObject ...` → (`s3:GetObject`, the rest).
fn parse_action(after_phrase: &str) -> Option<(&str, &str)> {
    let rest = after_phrase.trim_start();
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
    let (token, after) = split_token(rest);
    let action = trim_token(token);
    is_action(action).then_some((action, after))
}

/// `<service>:<Action>`, letters as written (`SNS:Publish`, `s3:Get*`).
fn is_action(s: &str) -> bool {
    let Some((service, name)) = s.split_once(':') else {
        return false;
    };
    let service_ok = !service.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let name_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '*')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?' || c == '_' || c == '-');
    service_ok && name_ok
}

/// The caller named before `is not authorized`: after the last `User:`, else a bare ARN.
fn principal_before(before: &str) -> Option<String> {
    let before = before.trim_end();
    let before = strip_trailing_word(before, "is")
        .or_else(|| strip_trailing_word(before, "are"))
        .unwrap_or(before);
    let mut after_user = None;
    let mut search = before;
    while let Some((_, after)) = find_words(search, &["user:"]) {
        after_user = Some(after);
        search = after;
    }
    let candidate = match after_user {
        Some(after) => strip_quotes(after.trim()),
        None => {
            let last = before.rsplit(char::is_whitespace).next().unwrap_or("");
            let last = strip_quotes(last);
            if !last.starts_with("arn:") {
                return None;
            }
            last
        }
    };
    (!candidate.is_empty() && !candidate.contains(char::is_whitespace))
        .then(|| candidate.to_string())
}

/// After the action: `on resource: X`, `on resource: "X"`, `on "X"`. Returns the resource
/// (`None` when quoted but never closed) and the message after it; `None` when the message
/// names no resource there.
fn parse_resource(after_action: &str) -> Option<(Option<String>, &str)> {
    let rest = after_action.trim_start();
    let value = if let Some(after) = strip_words(rest, &["on", "resource"]) {
        let after = after.trim_start();
        after.strip_prefix(':').unwrap_or(after).trim_start()
    } else {
        let after = strip_words(rest, &["on"])?.trim_start();
        if !after.starts_with(['"', '\'']) {
            return None;
        }
        after
    };
    let mut chars = value.chars();
    match chars.next() {
        Some(quote @ ('"' | '\'')) => {
            let inner = chars.as_str();
            match inner.find(quote) {
                Some(end) => {
                    let resource = inner.get(..end).unwrap_or("").trim();
                    let after = inner.get(end + quote.len_utf8()..).unwrap_or("");
                    Some((non_empty(resource), after))
                }
                // Unclosed quote: the value cannot be trusted.
                None => Some((None, inner)),
            }
        }
        _ => {
            let (token, after) = split_token(value);
            // A cut-off value keeps its ellipsis, so that it is recognised as unusable.
            let cut = token.starts_with("arn:") && (token.ends_with("...") || token.ends_with('…'));
            Some((
                non_empty(if cut { token } else { trim_token(token) }),
                after,
            ))
        }
    }
}

/// Reads the deny context after the action / resource.
fn parse_context(tail: &str, hint: &mut MessageHint) {
    if let Some((_, after)) = find_words(tail, &["explicit", "deny"]) {
        hint.explicit_deny = Some(true);
        let rest = after.trim_start();
        let rest = strip_words(rest, &["in"]).unwrap_or(rest);
        if let Some((kind, rest)) = parse_policy_type(rest) {
            let (kind, rest) = transitive_type(kind, rest);
            hint.policy_type = Some(kind);
            hint.policy_arn = parse_policy_arn(rest).map(|(arn, _)| arn);
        }
        return;
    }
    let Some((_, after)) = find_words(tail, &["because"]) else {
        return;
    };
    let rest = after.trim_start();
    let (saw_no, rest) = match strip_words(rest, &["no"]) {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if let Some((kind, rest)) = parse_policy_type(rest) {
        hint.policy_type = Some(kind);
        let rest = match parse_policy_arn(rest) {
            Some((arn, r)) => {
                hint.policy_arn = Some(arn);
                r
            }
            None => rest,
        };
        // `because the role trust policy allows the ...` (the User Guide's wording) is also
        // an implicit deny.
        if saw_no || strip_words(rest.trim_start(), &["allows"]).is_some() {
            hint.explicit_deny = Some(false);
        }
        return;
    }
    // KMS: `... because the resource does not exist in this Region, no resource-based
    // policies allow access, or a resource-based policy explicitly denies access`.
    if find_words(after, &["no", "resource-based", "policies", "allow"]).is_some()
        || find_words(after, &["no", "resource-based", "policy", "allows"]).is_some()
    {
        hint.policy_type = Some(PolicyTypeHint::ResourceBased);
        return;
    }
    if saw_no && find_words(rest, &["allows"]).is_some() {
        hint.explicit_deny = Some(false);
    }
}

/// `[a|an|the] <type>` at the start of `s` → the type and the text after it.
fn parse_policy_type(s: &str) -> Option<(PolicyTypeHint, &str)> {
    let s = s.trim_start();
    let s = strip_article(s);
    POLICY_TYPES
        .iter()
        .find_map(|(words, kind)| strip_words(s, words).map(|rest| (*kind, rest)))
}

/// `<type> transitively through <type2>` → `<type2>` (where the User Guide says to look).
fn transitive_type(kind: PolicyTypeHint, rest: &str) -> (PolicyTypeHint, &str) {
    strip_words(rest.trim_start(), &["transitively", "through"])
        .and_then(parse_policy_type)
        .unwrap_or((kind, rest))
}

/// `: arn:...` right after the type → the ARN (trailing sentence punctuation removed).
fn parse_policy_arn(after_type: &str) -> Option<(String, &str)> {
    let rest = after_type.trim_start().strip_prefix(':')?.trim_start();
    let (token, after) = split_token(rest);
    let arn = trim_token(token);
    (arn.starts_with("arn:") && arn.len() > "arn:".len()).then(|| (arn.to_string(), after))
}

/// The blob after `Encoded authorization failure message:` and whether it looks truncated.
fn parse_encoded(message: &str) -> Option<(&str, bool)> {
    let (_, after) = find_words(message, &["encoded", "authorization", "failure", "message"])?;
    let rest = after.trim_start();
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
    let end = rest.find(|c: char| !is_blob_char(c)).unwrap_or(rest.len());
    let blob = rest.get(..end).filter(|b| !b.is_empty())?;
    let following = rest.get(end..).unwrap_or("").trim_start();
    let ellipsis = following.starts_with("...") || following.starts_with('\u{2026}');
    let ends_cleanly = blob.ends_with('=') || (!following.is_empty() && !ellipsis);
    let long = message.chars().count() >= TRUNCATION_MIN_CHARS;
    Some((blob, long && !ends_cleanly))
}

/// The console link and the authorization ID of an Access Troubleshooter message. The ID is
/// the token after `authorization id:`; without that sentence (CloudTrail may cut it off), the
/// link's last segment. Both are alphanumeric runs (AWS's API pattern is `[0-9a-z]+`, its
/// documentation's example mixes cases), at most 256 characters like the API's.
fn parse_authorization(message: &str) -> (Option<&str>, Option<&str>) {
    const MARKER: &str = "#/authorization-details/";
    let link = message.find(MARKER).and_then(|at| {
        let start = message.get(..at)?.rfind("https://")?;
        let rest = message.get(start..)?;
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(rest.len());
        let link = rest.get(..end)?.trim_end_matches(['.', ',', ';', ')']);
        Some(link).filter(|l| l.len() > MARKER.len())
    });
    let from_sentence =
        find_words(message, &["authorization", "id"]).and_then(|(_, after)| id_token(after));
    let from_link = link
        .and_then(|l| l.find(MARKER).and_then(|i| l.get(i + MARKER.len()..)))
        .and_then(id_token);
    (link, from_sentence.or(from_link))
}

/// The alphanumeric token after an optional `:` (an authorization ID).
fn id_token(s: &str) -> Option<&str> {
    let s = s.trim_start();
    let s = s.strip_prefix(':').unwrap_or(s).trim_start();
    let end = s
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(s.len());
    s.get(..end).filter(|t| !t.is_empty() && t.len() <= 256)
}

/// Base64 / base64url characters.
fn is_blob_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-')
}

/// Whether the prose of the message (without the values read from it) says the request was
/// malformed.
fn looks_malformed(message: &str, hint: &MessageHint) -> bool {
    let mut prose = message.to_string();
    let values = [
        &hint.principal_arn,
        &hint.resource,
        &hint.policy_arn,
        &hint.encoded_message,
        &hint.console_link,
    ];
    for value in values.into_iter().flatten() {
        prose = prose.replacen(value.as_str(), " ", 1);
    }
    let prose = prose.to_ascii_lowercase();
    MALFORMED_MARKERS.iter().any(|m| prose.contains(m))
}

// ---------------------------------------------------------------------------------------------
// Small text helpers. They work on suffixes of the message, so "the message after X" is just a
// `&str`, and they only slice with `get`, on boundaries found by `char_indices` / `find`.
// ---------------------------------------------------------------------------------------------

/// Matches `words` (ASCII, case-insensitive) at the very start of `s`, with at least one
/// whitespace between consecutive words, and returns the text after the match. A last word
/// ending in a letter or digit must not be followed by one (`policy` does not match
/// `policyX`).
fn strip_words<'a>(s: &'a str, words: &[&str]) -> Option<&'a str> {
    let mut rest = s;
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            let trimmed = rest.trim_start();
            if trimmed.len() == rest.len() {
                return None;
            }
            rest = trimmed;
        }
        let head = rest.get(..word.len())?;
        if !head.eq_ignore_ascii_case(word) {
            return None;
        }
        rest = rest.get(word.len()..)?;
    }
    let needs_boundary = words
        .last()
        .and_then(|w| w.chars().last())
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if needs_boundary && rest.chars().next().is_some_and(is_word_char) {
        return None;
    }
    Some(rest)
}

/// The first place in `s` where `words` match (see [`strip_words`]) and are not preceded by a
/// letter or digit: (the text from the match on, the text after it).
fn find_words<'a>(s: &'a str, words: &[&str]) -> Option<(&'a str, &'a str)> {
    let first = char::from(*words.first()?.as_bytes().first()?);
    let mut prev: Option<char> = None;
    for (i, c) in s.char_indices() {
        if c.eq_ignore_ascii_case(&first) && !prev.is_some_and(is_word_char) {
            if let Some(from) = s.get(i..) {
                if let Some(rest) = strip_words(from, words) {
                    return Some((from, rest));
                }
            }
        }
        prev = Some(c);
    }
    None
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `a ` / `an ` / `the ` at the start of `s`, removed.
fn strip_article(s: &str) -> &str {
    ["an", "a", "the"]
        .iter()
        .find_map(|article| {
            strip_words(s, &[article]).filter(|rest| rest.starts_with(char::is_whitespace))
        })
        .map_or(s, str::trim_start)
}

/// `before` without a final whole word `word` (ASCII, case-insensitive).
fn strip_trailing_word<'a>(before: &'a str, word: &str) -> Option<&'a str> {
    let cut = before.len().checked_sub(word.len())?;
    let tail = before.get(cut..)?;
    if !tail.eq_ignore_ascii_case(word) {
        return None;
    }
    let head = before.get(..cut)?;
    if head.chars().next_back().is_some_and(is_word_char) {
        return None;
    }
    Some(head.trim_end())
}

/// The part of `whole` before its suffix `suffix`.
fn prefix_before<'a>(whole: &'a str, suffix: &str) -> &'a str {
    whole
        .get(..whole.len().saturating_sub(suffix.len()))
        .unwrap_or("")
}

/// The first whitespace-delimited token of `s` (which starts with no whitespace) and the rest.
fn split_token(s: &str) -> (&str, &str) {
    match s.find(char::is_whitespace) {
        Some(i) => (s.get(..i).unwrap_or(s), s.get(i..).unwrap_or("")),
        None => (s, ""),
    }
}

/// A token without surrounding quotes and trailing sentence punctuation.
fn trim_token(token: &str) -> &str {
    let token = strip_quotes(token);
    let token = token.trim_end_matches(['.', ',', ';', '"', '\'', '`']);
    if token.ends_with(')') && !token.contains('(') {
        token.trim_end_matches(')')
    } else {
        token
    }
}

fn strip_quotes(s: &str) -> &str {
    s.trim_matches(['"', '\'', '`'])
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn hint(
        principal: Option<&str>,
        action: Option<&str>,
        resource: Option<&str>,
        policy_type: Option<PolicyTypeHint>,
        explicit_deny: Option<bool>,
    ) -> MessageHint {
        MessageHint {
            principal_arn: principal.map(str::to_string),
            action: action.map(str::to_string),
            resource: resource.map(str::to_string),
            policy_type,
            explicit_deny,
            ..MessageHint::default()
        }
    }

    const JOHN: &str = "arn:aws:iam::123456789012:user/JohnDoe";

    // --- IAM User Guide examples -------------------------------------------------------------

    #[test]
    fn scp_explicit_without_resource() {
        let m = "User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: \
                 codecommit:ListRepositories with an explicit deny in a service control policy";
        assert_eq!(
            parse_message(m),
            hint(
                Some("arn:aws:iam::777788889999:user/JohnDoe"),
                Some("codecommit:ListRepositories"),
                None,
                Some(PolicyTypeHint::ServiceControlPolicy),
                Some(true)
            )
        );
    }

    #[test]
    fn vpc_endpoint_implicit_with_line_break() {
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \n\
                 codecommit:ListRepositories because no VPC endpoint policy allows the \
                 codecommit:ListRepositories action";
        assert_eq!(
            parse_message(m),
            hint(
                Some(JOHN),
                Some("codecommit:ListRepositories"),
                None,
                Some(PolicyTypeHint::VpcEndpointPolicy),
                Some(false)
            )
        );
    }

    #[test]
    fn vpc_endpoint_explicit_with_resource() {
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
                 codedeploy:ListDeployments on resource: \
                 arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit \
                 deny in a VPC endpoint policy";
        assert_eq!(
            parse_message(m),
            hint(
                Some(JOHN),
                Some("codedeploy:ListDeployments"),
                Some("arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*"),
                Some(PolicyTypeHint::VpcEndpointPolicy),
                Some(true)
            )
        );
    }

    #[test]
    fn permissions_boundary_implicit() {
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
                 codedeploy:ListDeployments on resource: \
                 arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* because no \
                 permissions boundary allows the codedeploy:ListDeployments action";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::PermissionsBoundary));
        assert_eq!(h.explicit_deny, Some(false));
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*")
        );
    }

    #[test]
    fn permissions_boundary_explicit() {
        let m = "User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: \
                 sagemaker:ListModels with an explicit deny in a permissions boundary";
        let h = parse_message(m);
        assert_eq!(h.action.as_deref(), Some("sagemaker:ListModels"));
        assert_eq!(h.policy_type, Some(PolicyTypeHint::PermissionsBoundary));
        assert_eq!(h.explicit_deny, Some(true));
        assert_eq!(h.resource, None);
    }

    #[test]
    fn session_policy_implicit() {
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
                 codecommit:ListRepositories because no session policy allows the \
                 codecommit:ListRepositories action";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::SessionPolicy));
        assert_eq!(h.explicit_deny, Some(false));
    }

    #[test]
    fn sessions_policy_spelling_explicit() {
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
                 codedeploy:ListDeployments on resource: \
                 arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit \
                 deny in a sessions policy";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::SessionPolicy));
        assert_eq!(h.explicit_deny, Some(true));
    }

    #[test]
    fn resource_based_implicit() {
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
                 secretsmanager:GetSecretValue because no resource-based policy allows the \
                 secretsmanager:GetSecretValue action";
        assert_eq!(
            parse_message(m),
            hint(
                Some(JOHN),
                Some("secretsmanager:GetSecretValue"),
                None,
                Some(PolicyTypeHint::ResourceBased),
                Some(false)
            )
        );
    }

    #[test]
    fn resource_based_explicit() {
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
                 secretsmanager:GetSecretValue on resource: \
                 arn:aws:secretsmanager:us-east-1:123456789012:secret:* with an explicit deny \
                 in a resource-based policy";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ResourceBased));
        assert_eq!(h.explicit_deny, Some(true));
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:*")
        );
    }

    #[test]
    fn role_trust_policy_guide_wording_without_no() {
        // The User Guide's example really reads "because the role trust policy allows".
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
                 sts:AssumeRole because the role trust policy allows the sts:AssumeRole action";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::RoleTrustPolicy));
        assert_eq!(h.explicit_deny, Some(false));
        assert_eq!(h.action.as_deref(), Some("sts:AssumeRole"));
    }

    #[test]
    fn role_trust_policy_implicit_with_no() {
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
                 sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Target because no \
                 role trust policy allows the sts:AssumeRole action";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::RoleTrustPolicy));
        assert_eq!(h.explicit_deny, Some(false));
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:iam::123456789012:role/Target")
        );
    }

    #[test]
    fn role_trust_policy_explicit_with_the() {
        let m = "User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: \
                 sts:AssumeRole with an explicit deny in the role trust policy";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::RoleTrustPolicy));
        assert_eq!(h.explicit_deny, Some(true));
    }

    #[test]
    fn identity_based_implicit() {
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
                 codecommit:ListRepositories because no identity-based policy allows the \
                 codecommit:ListRepositories action";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::IdentityBased));
        assert_eq!(h.explicit_deny, Some(false));
        assert_eq!(h.policy_arn, None);
    }

    #[test]
    fn identity_based_explicit_with_an() {
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
                 codedeploy:ListDeployments on resource: \
                 arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit \
                 deny in an identity-based policy";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::IdentityBased));
        assert_eq!(h.explicit_deny, Some(true));
    }

    #[test]
    fn resource_control_policy_explicit() {
        let m = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
                 s3:GetObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket/key\" with an \
                 explicit deny in a resource control policy";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ResourceControlPolicy));
        assert_eq!(h.explicit_deny, Some(true));
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:s3:::amzn-s3-demo-bucket/key")
        );
    }

    #[test]
    fn transitively_through_reports_the_second_type() {
        let m = "User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is \
                 not authorized to perform: \nSNS:Publish on resource: \
                 arn:aws:sns:us-east-1:444455556666:role-name-2 \nwith an explicit deny in a \
                 VPC endpoint policy transitively through a service control policy";
        let h = parse_message(m);
        assert_eq!(
            h.principal_arn.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/role-name/role-session-name")
        );
        assert_eq!(h.action.as_deref(), Some("SNS:Publish"));
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:sns:us-east-1:444455556666:role-name-2")
        );
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ServiceControlPolicy));
        assert_eq!(h.explicit_deny, Some(true));
    }

    // --- Policy ARNs (2025/2026 messages) ----------------------------------------------------

    #[test]
    fn scp_arn_with_cli_prefix() {
        let m = "An error occurred (AccessDenied) when calling the ListRoles operation: User: \
                 arn:aws:iam::123456789012:user/Matt is not authorized to perform: \
                 iam:ListRoles on resource: arn:aws:iam::123456789012:role/* with an explicit \
                 deny in a service control policy: \
                 arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd";
        let h = parse_message(m);
        assert_eq!(
            h.principal_arn.as_deref(),
            Some("arn:aws:iam::123456789012:user/Matt")
        );
        assert_eq!(h.action.as_deref(), Some("iam:ListRoles"));
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:iam::123456789012:role/*")
        );
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ServiceControlPolicy));
        assert_eq!(h.explicit_deny, Some(true));
        assert_eq!(
            h.policy_arn.as_deref(),
            Some("arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd")
        );
    }

    /// The IAM User Guide's Access Troubleshooter example, whole.
    const TROUBLESHOOTER_EXAMPLE: &str = "User: arn:aws:iam::123456789012:user/janedoe is not \
        authorized to perform: iam:CreateInstanceProfile on resource: \
        arn:aws:iam::123456789012:instance-profile/my-instance-profile with an explicit deny in \
        an identity-based policy: arn:aws:iam::123456789012:policy/ExampleDenyPolicy. Go to \
        https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/EXAMPLE1a2b3c4d5e6f7g8h9i0j \
        for complete details, or call the GetRequestAuthorizationDetails API with the following \
        authorization id: EXAMPLE1a2b3c4d5e6f7g8h9i0j";

    #[test]
    fn troubleshooter_authorization_id_and_link() {
        let h = parse_message(TROUBLESHOOTER_EXAMPLE);
        assert_eq!(
            h.authorization_id.as_deref(),
            Some("EXAMPLE1a2b3c4d5e6f7g8h9i0j")
        );
        assert_eq!(
            h.console_link.as_deref(),
            Some("https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/EXAMPLE1a2b3c4d5e6f7g8h9i0j")
        );
        assert_eq!(h.explicit_deny, Some(true));
        assert_eq!(
            h.policy_arn.as_deref(),
            Some("arn:aws:iam::123456789012:policy/ExampleDenyPolicy")
        );
        assert!(!h.malformed_request);
    }

    #[test]
    fn authorization_id_from_the_link_when_the_sentence_is_cut() {
        let cut = TROUBLESHOOTER_EXAMPLE
            .split(" for complete details")
            .next()
            .unwrap_or_default();
        let h = parse_message(cut);
        assert_eq!(
            h.authorization_id.as_deref(),
            Some("EXAMPLE1a2b3c4d5e6f7g8h9i0j")
        );
        // A link cut inside its marker gives neither.
        let h = parse_message("User: arn:aws:iam::1:user/x is not authorized to perform: s3:GetObject. Go to https://x#/authorization-de");
        assert_eq!((h.authorization_id, h.console_link), (None, None));
    }

    #[test]
    fn no_authorization_id_in_other_prose() {
        for m in [
            "Access Denied",
            "User: arn:aws:iam::1:user/x is not authorized to perform: s3:GetObject because no identity-based policy allows the s3:GetObject action",
            "the authorization identity is unknown",
            "authorization id: ",
        ] {
            let h = parse_message(m);
            assert_eq!(h.authorization_id, None, "{m}");
            assert_eq!(h.console_link, None, "{m}");
        }
    }

    #[test]
    fn identity_policy_arn_with_trailing_link_sentence() {
        let m = "User: arn:aws:iam::123456789012:user/janedoe is not authorized to perform: \
                 iam:CreateInstanceProfile on resource: \
                 arn:aws:iam::123456789012:instance-profile/my-instance-profile with an \
                 explicit deny in an identity-based policy: \
                 arn:aws:iam::123456789012:policy/ExampleDenyPolicy. Go to \
                 https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/EXAMPLE1a2b3c4d5e";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::IdentityBased));
        assert_eq!(
            h.policy_arn.as_deref(),
            Some("arn:aws:iam::123456789012:policy/ExampleDenyPolicy")
        );
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:iam::123456789012:instance-profile/my-instance-profile")
        );
        assert!(!h.malformed_request);
    }

    #[test]
    fn rcp_arn() {
        let m = "User: arn:aws:iam::111122223333:role/R is not authorized to perform: \
                 s3:PutObject on resource: \"arn:aws:s3:::bucket/a b.txt\" with an explicit \
                 deny in a resource control policy: \
                 arn:aws:organizations::111122223333:policy/o-abc/resource_control_policy/p-xyz.";
        let h = parse_message(m);
        assert_eq!(h.resource.as_deref(), Some("arn:aws:s3:::bucket/a b.txt"));
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ResourceControlPolicy));
        assert_eq!(
            h.policy_arn.as_deref(),
            Some("arn:aws:organizations::111122223333:policy/o-abc/resource_control_policy/p-xyz")
        );
    }

    #[test]
    fn permissions_boundary_and_session_policy_arns() {
        let m = "User: arn:aws:sts::111122223333:assumed-role/R/s is not authorized to \
                 perform: ec2:RunInstances with an explicit deny in a permissions boundary: \
                 arn:aws:iam::111122223333:policy/Boundary";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::PermissionsBoundary));
        assert_eq!(
            h.policy_arn.as_deref(),
            Some("arn:aws:iam::111122223333:policy/Boundary")
        );

        let m = "User: arn:aws:sts::111122223333:assumed-role/R/s is not authorized to \
                 perform: s3:ListBucket with an explicit deny in a session policy: \
                 arn:aws:iam::aws:policy/ReadOnlyAccess";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::SessionPolicy));
        assert_eq!(
            h.policy_arn.as_deref(),
            Some("arn:aws:iam::aws:policy/ReadOnlyAccess")
        );
    }

    #[test]
    fn non_arn_after_colon_is_not_a_policy_arn() {
        let m = "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject with \
                 an explicit deny in a service control policy: (details withheld)";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ServiceControlPolicy));
        assert_eq!(h.policy_arn, None);
    }

    // --- Articles, spacing, punctuation ------------------------------------------------------

    #[test]
    fn no_article_and_upper_case_type() {
        let m = "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject due to \
                 an explicit deny in Service Control Policy";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ServiceControlPolicy));
        assert_eq!(h.explicit_deny, Some(true));
    }

    #[test]
    fn extra_whitespace_everywhere() {
        let m =
            "  User:   arn:aws:iam::1:user/u\tis  not\nauthorized   to perform:\t\ts3:GetObject \
                 on   resource:   arn:aws:s3:::b/k    because   no   identity-based \
                 policy   allows the s3:GetObject action.  ";
        assert_eq!(
            parse_message(m),
            hint(
                Some("arn:aws:iam::1:user/u"),
                Some("s3:GetObject"),
                Some("arn:aws:s3:::b/k"),
                Some(PolicyTypeHint::IdentityBased),
                Some(false)
            )
        );
    }

    #[test]
    fn trailing_period_after_type() {
        let m = "User: arn:aws:iam::1:user/u is not authorized to perform: \
                 dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:1:table/T with an \
                 explicit deny in an identity-based policy.";
        let h = parse_message(m);
        assert_eq!(h.policy_type, Some(PolicyTypeHint::IdentityBased));
        assert_eq!(h.policy_arn, None);
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:dynamodb:us-east-1:1:table/T")
        );
    }

    #[test]
    fn resource_followed_by_period_at_end() {
        let m = "User: arn:aws:iam::1:user/u is not authorized to perform: \
                 lambda:GetFunction on resource: arn:aws:lambda:us-east-1:1:function:f.";
        let h = parse_message(m);
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:lambda:us-east-1:1:function:f")
        );
        assert_eq!(h.policy_type, None);
        assert_eq!(h.explicit_deny, None);
    }

    #[test]
    fn resource_without_space_after_colon() {
        let m = "User: arn:aws:iam::123456789012:user/mateojackson is not authorized to \
                 perform: lambda:GetWidget\non resource:my-example-widget";
        let h = parse_message(m);
        assert_eq!(h.action.as_deref(), Some("lambda:GetWidget"));
        assert_eq!(h.resource.as_deref(), Some("my-example-widget"));
    }

    // --- S3 ------------------------------------------------------------------------------------

    #[test]
    fn s3_double_quoted_resource() {
        let m = "User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform: \
                 s3:GetObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket/object-name\" \
                 because no identity-based policy allows the s3:GetObject action";
        assert_eq!(
            parse_message(m),
            hint(
                Some("arn:aws:iam::123456789012:user/MaryMajor"),
                Some("s3:GetObject"),
                Some("arn:aws:s3:::amzn-s3-demo-bucket/object-name"),
                Some(PolicyTypeHint::IdentityBased),
                Some(false)
            )
        );
    }

    #[test]
    fn s3_single_quoted_resource() {
        let m = "User: arn:aws:iam::1:user/u is not authorized to perform: s3:ListBucket on \
                 resource: 'arn:aws:s3:::bucket' because no VPC endpoint policy allows the \
                 s3:ListBucket action";
        let h = parse_message(m);
        assert_eq!(h.resource.as_deref(), Some("arn:aws:s3:::bucket"));
        assert_eq!(h.policy_type, Some(PolicyTypeHint::VpcEndpointPolicy));
    }

    #[test]
    fn s3_quoted_resource_without_resource_keyword() {
        let m = "User arn:aws:iam::1:user/u is not authorized to perform s3:GetObject on \
                 \"arn:aws:s3:::bucket/k\" because no resource-based policy allows the \
                 s3:GetObject action";
        let h = parse_message(m);
        assert_eq!(h.action.as_deref(), Some("s3:GetObject"));
        assert_eq!(h.resource.as_deref(), Some("arn:aws:s3:::bucket/k"));
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ResourceBased));
        // No `User:` with a colon: the bare ARN before `is` is taken.
        assert_eq!(h.principal_arn.as_deref(), Some("arn:aws:iam::1:user/u"));
    }

    #[test]
    fn s3_quoted_key_with_deny_words_inside() {
        let m = "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject on \
                 resource: \"arn:aws:s3:::b/because no session policy allows\" with an explicit \
                 deny in a resource-based policy";
        let h = parse_message(m);
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:s3:::b/because no session policy allows")
        );
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ResourceBased));
        assert_eq!(h.explicit_deny, Some(true));
    }

    #[test]
    fn s3_plain_access_denied() {
        assert_eq!(parse_message("Access Denied"), MessageHint::default());
        assert_eq!(parse_message("Access Denied."), MessageHint::default());
    }

    #[test]
    fn anonymous_principal() {
        let m = "User: anonymous is not authorized to perform: s3:GetObject on resource: \
                 \"arn:aws:s3:::public-bucket/x\" because no resource-based policy allows the \
                 s3:GetObject action";
        let h = parse_message(m);
        assert_eq!(h.principal_arn.as_deref(), Some("anonymous"));
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ResourceBased));
    }

    // --- Service-specific forms --------------------------------------------------------------

    #[test]
    fn sqs_resource_based_implicit() {
        let m = "User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: \
                 sqs:SendMessage on resource: arn:aws:sqs:us-east-1:2:queue because no \
                 resource-based policy allows the sqs:SendMessage action";
        assert_eq!(
            parse_message(m),
            hint(
                Some("arn:aws:sts::1:assumed-role/R/s"),
                Some("sqs:SendMessage"),
                Some("arn:aws:sqs:us-east-1:2:queue"),
                Some(PolicyTypeHint::ResourceBased),
                Some(false)
            )
        );
    }

    #[test]
    fn sns_authorization_error_keeps_upper_case_prefix() {
        let m = "An error occurred (AuthorizationError) when calling the Publish operation: \
                 User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: \
                 SNS:Publish on resource: arn:aws:sns:us-east-1:1:topic";
        assert_eq!(
            parse_message(m),
            hint(
                Some("arn:aws:sts::1:assumed-role/R/s"),
                Some("SNS:Publish"),
                Some("arn:aws:sns:us-east-1:1:topic"),
                None,
                None
            )
        );
    }

    #[test]
    fn sns_with_sdk_suffix() {
        let m = "User: arn:aws:sts::754256621582:assumed-role/irsa/aws-sdk-java-1 is not \
                 authorized to perform: SNS:GetTopicAttributes on resource: \
                 arn:aws:sns:eu-west-2:754256621582:topic because no identity-based policy \
                 allows the SNS:GetTopicAttributes action (Service: Sns, Status Code: 403, \
                 Request ID: 48f35812-f079-5095-9234-065c120a3856)";
        let h = parse_message(m);
        assert_eq!(h.action.as_deref(), Some("SNS:GetTopicAttributes"));
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:sns:eu-west-2:754256621582:topic")
        );
        assert_eq!(h.policy_type, Some(PolicyTypeHint::IdentityBased));
        assert_eq!(h.explicit_deny, Some(false));
    }

    #[test]
    fn kms_this_resource_ambiguous() {
        let m = "User: arn:aws:iam::111122223333:user/u is not authorized to perform: \
                 kms:Decrypt on this resource because the resource does not exist in this \
                 Region, no resource-based policies allow access, or a resource-based policy \
                 explicitly denies access";
        assert_eq!(
            parse_message(m),
            hint(
                Some("arn:aws:iam::111122223333:user/u"),
                Some("kms:Decrypt"),
                None,
                Some(PolicyTypeHint::ResourceBased),
                None
            )
        );
    }

    #[test]
    fn kms_identity_based_implicit() {
        let m = "An error occurred (AccessDeniedException) when calling the Decrypt operation: \
                 User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: \
                 kms:Decrypt on resource: arn:aws:kms:us-east-1:1:key/1234abcd because no \
                 identity-based policy allows the kms:Decrypt action";
        let h = parse_message(m);
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:kms:us-east-1:1:key/1234abcd")
        );
        assert_eq!(h.policy_type, Some(PolicyTypeHint::IdentityBased));
        assert_eq!(h.explicit_deny, Some(false));
    }

    #[test]
    fn dynamodb_access_denied_exception() {
        let m = "AccessDeniedException: User: arn:aws:sts::1:assumed-role/App/i-0abc is not \
                 authorized to perform: dynamodb:Query on resource: \
                 arn:aws:dynamodb:eu-west-1:1:table/Orders/index/ByDate with an explicit deny";
        let h = parse_message(m);
        assert_eq!(h.action.as_deref(), Some("dynamodb:Query"));
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:dynamodb:eu-west-1:1:table/Orders/index/ByDate")
        );
        assert_eq!(h.explicit_deny, Some(true));
        assert_eq!(h.policy_type, None);
    }

    #[test]
    fn lambda_resource_based_implicit() {
        let m = "User: arn:aws:sts::1:assumed-role/Caller/s is not authorized to perform: \
                 lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:2:function:fn \
                 because no resource-based policy allows the lambda:InvokeFunction action";
        let h = parse_message(m);
        assert_eq!(h.action.as_deref(), Some("lambda:InvokeFunction"));
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:lambda:us-east-1:2:function:fn")
        );
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ResourceBased));
    }

    #[test]
    fn sts_assume_role_without_context() {
        let m = "User: arn:aws:sts::123456789012:assumed-role/x/y is not authorized to \
                 perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/z";
        assert_eq!(
            parse_message(m),
            hint(
                Some("arn:aws:sts::123456789012:assumed-role/x/y"),
                Some("sts:AssumeRole"),
                Some("arn:aws:iam::210987654321:role/z"),
                None,
                None
            )
        );
    }

    #[test]
    fn cloudformation_wrapped_message_in_quotes() {
        let m = "Resource handler returned message: \"User: arn:aws:sts::1:assumed-role/R/s is \
                 not authorized to perform: sqs:CreateQueue on resource: \
                 arn:aws:sqs:us-east-1:1:q\" (RequestToken: abc, HandlerErrorCode: AccessDenied)";
        let h = parse_message(m);
        assert_eq!(h.action.as_deref(), Some("sqs:CreateQueue"));
        assert_eq!(h.resource.as_deref(), Some("arn:aws:sqs:us-east-1:1:q"));
    }

    #[test]
    fn missing_user_prefix_and_not_an_arn() {
        let m = "PostConfirmation is not authorized to perform: SNS:Publish on resource: \
                 +358.... because no identity-based policy allows the SNS:Publish action";
        let h = parse_message(m);
        assert_eq!(h.principal_arn, None);
        assert_eq!(h.action.as_deref(), Some("SNS:Publish"));
        assert_eq!(h.resource.as_deref(), Some("+358"));
        assert_eq!(h.policy_type, Some(PolicyTypeHint::IdentityBased));
    }

    // --- EC2 encoded messages ----------------------------------------------------------------

    #[test]
    fn ec2_encoded_short() {
        let m = "You are not authorized to perform this operation. Encoded authorization \
                 failure message: AbCd-12_xYz";
        let h = parse_message(m);
        assert_eq!(h.encoded_message.as_deref(), Some("AbCd-12_xYz"));
        assert!(!h.encoded_truncated);
        assert_eq!(h.action, None);
        assert_eq!(h.principal_arn, None);
        assert_eq!(h.explicit_deny, None);
        assert!(!h.malformed_request);
    }

    #[test]
    fn ec2_with_user_sentence_and_scp() {
        let m = "You are not authorized to perform this operation. User: \
                 arn:aws:sts::999888777666:assumed-role/ReadOnly/Tom is not authorized to \
                 perform: ec2:RunInstances on resource: \
                 arn:aws:ec2:us-east-1:999888777666:instance/* with an explicit deny in a \
                 service control policy. Encoded authorization failure message: \
                 XQ_jqde5rHje6j9P-qke7-HNpHWzSWvxYobhcCPSpfOmLTkOylRBKd0eE4Xx4U";
        let h = parse_message(m);
        assert_eq!(
            h.principal_arn.as_deref(),
            Some("arn:aws:sts::999888777666:assumed-role/ReadOnly/Tom")
        );
        assert_eq!(h.action.as_deref(), Some("ec2:RunInstances"));
        assert_eq!(
            h.resource.as_deref(),
            Some("arn:aws:ec2:us-east-1:999888777666:instance/*")
        );
        assert_eq!(h.policy_type, Some(PolicyTypeHint::ServiceControlPolicy));
        assert_eq!(h.explicit_deny, Some(true));
        assert_eq!(h.policy_arn, None);
        assert_eq!(
            h.encoded_message.as_deref(),
            Some("XQ_jqde5rHje6j9P-qke7-HNpHWzSWvxYobhcCPSpfOmLTkOylRBKd0eE4Xx4U")
        );
        assert!(!h.encoded_truncated);
    }

    fn long_blob(n: usize) -> String {
        "aB3-_".chars().cycle().take(n).collect()
    }

    #[test]
    fn ec2_long_blob_at_end_is_flagged_truncated() {
        let m = format!(
            "You are not authorized to perform this operation. Encoded authorization failure \
             message: {}",
            long_blob(1200)
        );
        let h = parse_message(&m);
        assert_eq!(h.encoded_message.as_deref().map(str::len), Some(1200));
        assert!(h.encoded_truncated);
    }

    #[test]
    fn ec2_long_blob_followed_by_text_is_not_truncated() {
        let m = format!(
            "You are not authorized to perform this operation. Encoded authorization failure \
             message: {} (Service: Ec2, Status Code: 403, Request ID: abc)",
            long_blob(1200)
        );
        let h = parse_message(&m);
        assert!(h.encoded_message.is_some());
        assert!(!h.encoded_truncated);
    }

    #[test]
    fn ec2_long_blob_with_padding_or_ellipsis() {
        let padded = format!(
            "Encoded authorization failure message: {}==",
            long_blob(1100)
        );
        let h = parse_message(&padded);
        assert!(h
            .encoded_message
            .as_deref()
            .is_some_and(|b| b.ends_with("==")));
        assert!(!h.encoded_truncated);

        let cut = format!(
            "Encoded authorization failure message: {}...",
            long_blob(1100)
        );
        let h = parse_message(&cut);
        assert_eq!(h.encoded_message.as_deref().map(str::len), Some(1100));
        assert!(h.encoded_truncated);
    }

    #[test]
    fn ec2_encoded_marker_without_blob() {
        let h = parse_message("You are not authorized to perform this operation. Encoded authorization failure message:");
        assert_eq!(h.encoded_message, None);
        assert!(!h.encoded_truncated);
    }

    // --- Malformed requests ------------------------------------------------------------------

    #[test]
    fn malformed_messages() {
        assert!(parse_message("The request is malformed.").malformed_request);
        assert!(
            parse_message("MalformedPolicyDocument: Syntax errors in policy.").malformed_request
        );
        assert!(parse_message("Value 'x' at 'roleArn' is not a valid ARN").malformed_request);
        assert!(
            parse_message("The XML you provided was not well-formed or did not validate")
                .malformed_request
        );
    }

    #[test]
    fn malformed_is_conservative() {
        // A real denial is never reported as malformed, whatever its resource is called.
        let m = "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject on \
                 resource: \"arn:aws:s3:::malformed-bucket/is not a valid key\" because no \
                 identity-based policy allows the s3:GetObject action";
        assert!(!parse_message(m).malformed_request);
        // Names read out of the message are not searched.
        let m = "User: arn:aws:iam::1:role/malformed-role is not authorized to perform this \
                 operation";
        let h = parse_message(m);
        assert_eq!(
            h.principal_arn.as_deref(),
            Some("arn:aws:iam::1:role/malformed-role")
        );
        assert!(!h.malformed_request);
        assert!(!parse_message("Access Denied").malformed_request);
        assert!(!parse_message("Invalid action").malformed_request);
    }

    // --- Garbage -------------------------------------------------------------------------------

    #[test]
    fn empty_and_blank() {
        assert_eq!(parse_message(""), MessageHint::default());
        assert_eq!(parse_message("   \n\t "), MessageHint::default());
    }

    #[test]
    fn very_long_input() {
        let m = "x".repeat(1_000_000);
        assert_eq!(parse_message(&m), MessageHint::default());
        let m = "User: ".repeat(50_000);
        assert_eq!(parse_message(&m), MessageHint::default());
        let m = "is not authorized to perform: ".repeat(20_000);
        let h = parse_message(&m);
        assert_eq!(h.action, None);
        assert_eq!(h.principal_arn, None);
    }

    #[test]
    fn non_ascii_input() {
        let h = parse_message("ユーザー: arn:aws:iam::1:user/テスト は実行する権限がありません");
        assert_eq!(h, MessageHint::default());
        let m = "User: arn:aws:iam::1:user/ü is not authorized to perform: s3:GetObject on \
                 resource: \"arn:aws:s3:::b/ファイル.txt\" because no identity-based policy \
                 allows the s3:GetObject action";
        let h = parse_message(m);
        assert_eq!(h.principal_arn.as_deref(), Some("arn:aws:iam::1:user/ü"));
        assert_eq!(h.resource.as_deref(), Some("arn:aws:s3:::b/ファイル.txt"));
        // Multi-byte characters right where words are compared.
        for m in [
            "é",
            "Usé",
            "User:é",
            "is not authorized to perform:é",
            "is not authorized to perform: s3:GetObject on resource: \"é",
            "because noé",
            "with an explicit deny in éé",
            "Encoded authorization failure message: é",
            "ŉot authorized to perform",
        ] {
            let _ = parse_message(m);
        }
    }

    #[test]
    fn unclosed_quotes() {
        let m = "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject on \
                 resource: \"arn:aws:s3:::bucket/key";
        let h = parse_message(m);
        assert_eq!(h.action.as_deref(), Some("s3:GetObject"));
        assert_eq!(h.resource, None);
        assert_eq!(h.policy_type, None);
        assert_eq!(parse_message("\"").resource, None);
        assert_eq!(parse_message("User: \"").principal_arn, None);
        assert_eq!(parse_message("on resource: '"), MessageHint::default());
    }

    #[test]
    fn truncated_templates() {
        for m in [
            "User:",
            "User: arn:aws:iam::1:user/u is",
            "User: arn:aws:iam::1:user/u is not authorized",
            "User: arn:aws:iam::1:user/u is not authorized to perform:",
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:",
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject on",
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject on resource:",
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject because",
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject because no",
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject with an \
             explicit deny in a",
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject with an \
             explicit deny in a service control policy:",
        ] {
            let h = parse_message(m);
            assert_eq!(h.resource, None, "{m}");
            assert_eq!(h.policy_arn, None, "{m}");
            assert!(!h.malformed_request, "{m}");
        }
        let h = parse_message(
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject because no",
        );
        assert_eq!(h.explicit_deny, None);
        assert_eq!(h.action.as_deref(), Some("s3:GetObject"));
    }

    #[test]
    fn random_prose_is_mostly_empty() {
        for m in [
            "Cross-account pass role is not allowed.",
            "The security token included in the request is expired",
            "User is not authorized to access this resource",
            "Request has expired",
            "policy policy because because explicit explicit",
        ] {
            let h = parse_message(m);
            assert_eq!(h.principal_arn, None, "{m}");
            assert_eq!(h.action, None, "{m}");
            assert_eq!(h.resource, None, "{m}");
            assert_eq!(h.policy_type, None, "{m}");
            assert_eq!(h.policy_arn, None, "{m}");
            assert_eq!(h.encoded_message, None, "{m}");
        }
    }

    #[test]
    fn words_need_boundaries() {
        // `explicitly denies` is not `explicit deny`; `sessionsx` is no type.
        let h = parse_message(
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject because a \
             policy explicitly denies it",
        );
        assert_eq!(h.explicit_deny, None);
        assert_eq!(h.policy_type, None);
        let h = parse_message(
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject with an \
             explicit deny in a sessions policyx",
        );
        assert_eq!(h.explicit_deny, Some(true));
        assert_eq!(h.policy_type, None);
    }

    #[test]
    fn not_an_action_after_perform() {
        let h = parse_message(
            "User: arn:aws:iam::1:user/u is not authorized to perform: arn:aws:s3:::b",
        );
        assert_eq!(h.action, None);
        assert_eq!(h.principal_arn.as_deref(), Some("arn:aws:iam::1:user/u"));
    }

    // --- Serialisation -------------------------------------------------------------------------

    #[test]
    fn serializes_pascal_case() {
        let h = parse_message(
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject with an \
             explicit deny in a service control policy",
        );
        let v = serde_json::to_value(&h).unwrap();
        assert_eq!(v["PrincipalArn"], "arn:aws:iam::1:user/u");
        assert_eq!(v["Action"], "s3:GetObject");
        assert_eq!(v["PolicyType"], "ServiceControlPolicy");
        assert_eq!(v["ExplicitDeny"], true);
        assert_eq!(v["EncodedTruncated"], false);
        assert_eq!(v["MalformedRequest"], false);
        assert!(v["Resource"].is_null());
        let back: PolicyTypeHint = serde_json::from_str("\"VpcEndpointPolicy\"").unwrap();
        assert_eq!(back, PolicyTypeHint::VpcEndpointPolicy);
    }

    #[test]
    fn unusable_resources_are_set_aside_with_why() {
        let m = |r: &str| {
            parse_message(&format!(
                "User: arn:aws:iam::111122223333:user/a is not authorized to perform: \
                 lambda:GetFunction on resource: {r} because no identity-based policy allows \
                 the lambda:GetFunction action"
            ))
        };
        for (arn, why) in [
            (
                "arn:aws:lambda:us-east-1:111122223333:function:null",
                "a literal null segment",
            ),
            ("arn:aws:s3:::null/reports/1.csv", "a literal null segment"),
            (
                "arn:aws:lambda:us-east-1:111122223333:function:${FunctionName}",
                "a placeholder",
            ),
            (
                "arn:aws:lambda:us-east-1:<account>:function:orders",
                "a placeholder",
            ),
            (
                "arn:aws:lambda:us-east-1:111122223333:function:ord...",
                "cut off",
            ),
        ] {
            let h = m(arn);
            assert_eq!(h.resource, None, "{arn}");
            assert_eq!(h.unusable_resource, Some(format!("`{arn}`: {why}")));
            assert_eq!(h.action.as_deref(), Some("lambda:GetFunction"));
        }
        let fine = m("arn:aws:lambda:us-east-1:111122223333:function:nullable-orders");
        assert_eq!(
            fine.resource.as_deref(),
            Some("arn:aws:lambda:us-east-1:111122223333:function:nullable-orders")
        );
        assert_eq!(fine.unusable_resource, None);
    }
}
