//! `Action` and `Resource` patterns compiled once, when their policy is parsed, into the
//! cheapest test each allows: `*` matches anything, a pattern without wildcards is compared
//! whole, `text*` and `*text` are a prefix and a suffix test, and only the rest runs the
//! general glob. Patterns with policy variables stay on the slow path (resolved per request).
//!
//! The compiled forms give exactly the answers of the general matchers they replace
//! ([`super::pattern::glob_match`] and the field-by-field ARN match of `eval::matching`); the
//! unit tests below and the scenario and property tests hold them to it.

use super::pattern::{glob_match, split_arn, PatternPart};

/// How one pattern is tested against a value. Case is the caller's concern: action patterns
/// and actions are both lowercased (AWS matches action names case-insensitively), resource
/// ARNs are compared as written (case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// `*`: every value.
    Any,
    /// No wildcard: the value equals the text.
    Exact(String),
    /// `text*`: the value starts with the text.
    Prefix(String),
    /// `*text`: the value ends with the text.
    Suffix(String),
    /// Any other mix of `*` and `?`, matched against the whole value.
    Glob(Vec<PatternPart>),
    /// An ARN pattern with a wildcard in one of its first five fields, split into its six
    /// fields: matched field by field (a wildcard there must not cross a colon).
    ArnFields(Vec<Vec<PatternPart>>),
    /// The pattern holds policy variables: resolved against each request, then matched.
    /// `whole`: as a whole string, for an ARN pattern whose first five fields are literal text
    /// (every variable and wildcard after the fifth colon, where AWS substitutes variables);
    /// otherwise the resolved parts are split into fields again (the slow path).
    Variables { whole: bool },
}

impl Matcher {
    /// A pattern matched as a whole string (`Action`, `NotAction`).
    pub fn glob(parts: &[PatternPart]) -> Matcher {
        match parts {
            _ if has_variables(parts) => Matcher::Variables { whole: true },
            [] => Matcher::Exact(String::new()),
            [PatternPart::Star] => Matcher::Any,
            [PatternPart::Literal(l)] => Matcher::Exact(l.clone()),
            [PatternPart::Literal(l), PatternPart::Star] => Matcher::Prefix(l.clone()),
            [PatternPart::Star, PatternPart::Literal(l)] => Matcher::Suffix(l.clone()),
            _ => Matcher::Glob(parts.to_vec()),
        }
    }

    /// A pattern matched as an ARN (`Resource`, `NotResource`, the `Arn*` operators): field by
    /// field when a wildcard sits in one of the first five fields, else as a whole string,
    /// which gives the same answer (the first five fields are then literal text, and the sixth
    /// is the rest of the value, colons included).
    pub fn arn(parts: &[PatternPart]) -> Matcher {
        if has_variables(parts) {
            return Matcher::Variables {
                whole: literal_fields_first(parts),
            };
        }
        match split_arn(parts) {
            Some(fields) if fields[..5].iter().any(|f| !is_literal(f)) => {
                Matcher::ArnFields(fields)
            }
            _ => Matcher::glob(parts),
        }
    }

    /// Whether `value` matches, for every kind but [`Matcher::ArnFields`] and
    /// [`Matcher::Variables`], which need the caller's rules (`None`).
    #[inline]
    pub fn whole(&self, value: &str) -> Option<bool> {
        Some(match self {
            Matcher::Any => true,
            Matcher::Exact(t) => same_text(t, value),
            Matcher::Prefix(t) => same_start(t, value) && value.starts_with(t.as_str()),
            Matcher::Suffix(t) => value.ends_with(t.as_str()),
            Matcher::Glob(parts) => glob_match(parts, value),
            Matcher::ArnFields(_) | Matcher::Variables { .. } => return None,
        })
    }
}

/// `a == b`, with the first byte compared inline: most patterns a request meets differ from
/// it there (another service), and that spares the call into `memcmp`.
#[inline]
fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len() && same_start(a, b) && a == b
}

/// Whether `value` starts with the first byte of `text` (always, for an empty `text`).
#[inline]
fn same_start(text: &str, value: &str) -> bool {
    match text.as_bytes().first() {
        Some(c) => value.as_bytes().first() == Some(c),
        None => true,
    }
}

/// The services a statement's `Action` element may name, as a 64-bit set of hashed service
/// prefixes: a request whose service is not in it cannot match the element, so the statement is
/// passed over without reading its patterns. Over-approximate by design (two services may share
/// a bit; a wildcard in a pattern's service part, or `NotAction`, sets every bit): it only ever
/// spares work, never changes an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceSet(u64);

impl ServiceSet {
    /// Every service.
    pub const ALL: ServiceSet = ServiceSet(u64::MAX);

    /// The one service `service` (`s3` of `s3:GetObject`; ASCII case does not matter, as for
    /// action names).
    pub fn of_service(service: &str) -> ServiceSet {
        // FNV-1a, folded onto 64 bits.
        let hash = service.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3)
        });
        ServiceSet(1 << (hash % 64))
    }

    /// The services action patterns (`s3:Get*`, `*`) may name.
    pub fn of_actions<'a>(patterns: impl IntoIterator<Item = &'a str>) -> ServiceSet {
        patterns.into_iter().fold(ServiceSet(0), |set, p| {
            let part = match p.split_once(':') {
                Some((service, _)) if !service.contains(['*', '?']) => {
                    ServiceSet::of_service(service)
                }
                _ => ServiceSet::ALL,
            };
            ServiceSet(set.0 | part.0)
        })
    }

    /// Whether the two sets share a service (maybe: hashed sets can collide).
    #[inline]
    pub fn meets(self, other: ServiceSet) -> bool {
        self.0 & other.0 != 0
    }
}

fn has_variables(parts: &[PatternPart]) -> bool {
    parts.iter().any(|p| matches!(p, PatternPart::Variable(_)))
}

/// Whether five colons of literal text come before any wildcard or variable.
fn literal_fields_first(parts: &[PatternPart]) -> bool {
    let mut colons = 0;
    for part in parts {
        match part {
            PatternPart::Literal(l) => colons += l.bytes().filter(|b| *b == b':').count(),
            _ => return false,
        }
        if colons >= 5 {
            return true;
        }
    }
    false
}

fn is_literal(field: &[PatternPart]) -> bool {
    field.iter().all(|p| matches!(p, PatternPart::Literal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Pattern;

    fn glob(p: &str) -> Matcher {
        Matcher::glob(&Pattern::parse(p, true).parts)
    }

    fn arn(p: &str) -> Matcher {
        Matcher::arn(&Pattern::parse(p, true).parts)
    }

    /// The compiled matcher and the general glob agree on `value`.
    fn agrees(p: &str, value: &str) -> bool {
        let parts = Pattern::parse(p, true).parts;
        let general = glob_match(&parts, value);
        assert_eq!(glob(p).whole(value), Some(general), "{p} against {value}");
        general
    }

    #[test]
    fn kinds() {
        assert_eq!(glob("*"), Matcher::Any);
        assert_eq!(glob("**"), Matcher::Any);
        assert_eq!(glob("s3:getobject"), Matcher::Exact("s3:getobject".into()));
        assert_eq!(glob(""), Matcher::Exact(String::new()));
        assert_eq!(glob("s3:get*"), Matcher::Prefix("s3:get".into()));
        assert_eq!(glob("*object"), Matcher::Suffix("object".into()));
        assert!(matches!(glob("s3:*object"), Matcher::Glob(_)));
        assert!(matches!(glob("s3:get?bject"), Matcher::Glob(_)));
        assert!(matches!(glob("*get*"), Matcher::Glob(_)));
        assert!(matches!(glob("?"), Matcher::Glob(_)));
        assert_eq!(
            glob("home/${aws:username}"),
            Matcher::Variables { whole: true }
        );
        // An escaped wildcard is literal text.
        assert_eq!(glob("a${*}b"), Matcher::Exact("a*b".into()));
        // Without 2012-10-17 variables, `${...}` is text.
        let text = Matcher::glob(&Pattern::parse("${aws:username}", false).parts);
        assert_eq!(text, Matcher::Exact("${aws:username}".into()));
    }

    #[test]
    fn exact() {
        assert!(agrees("s3:getobject", "s3:getobject"));
        assert!(!agrees("s3:getobject", "s3:getobjects"));
        assert!(!agrees("s3:getobject", "s3:getobjec"));
        assert!(!agrees("s3:getobject", "t3:getobject"));
        assert!(!agrees("s3:getobject", ""));
        assert!(agrees("", ""));
        assert!(!agrees("", "x"));
        assert!(agrees("a${*}b", "a*b"));
        assert!(!agrees("a${*}b", "axb"));
        // Case is the caller's concern: compared as written.
        assert!(!agrees("s3:GetObject", "s3:getobject"));
        assert!(agrees("é", "é"));
    }

    #[test]
    fn prefix_and_suffix() {
        assert!(agrees("s3:get*", "s3:getobject"));
        assert!(agrees("s3:get*", "s3:get"));
        assert!(!agrees("s3:get*", "s3:ge"));
        assert!(!agrees("s3:get*", "s3:putobject"));
        assert!(!agrees("s3:get*", ""));
        assert!(agrees("*object", "s3:getobject"));
        assert!(agrees("*object", "object"));
        assert!(!agrees("*object", "objects"));
        assert!(!agrees("*object", "bject"));
        // Multibyte text: byte offsets never split a character.
        assert!(agrees("é*", "éa"));
        assert!(!agrees("é*", "e"));
        assert!(agrees("*é", "aé"));
        assert!(!agrees("*é", "é a"));
    }

    #[test]
    fn general_glob() {
        assert!(agrees("*", ""));
        assert!(agrees("*", "anything:at/all"));
        assert!(agrees("?", "a"));
        assert!(!agrees("?", ""));
        assert!(!agrees("?", "ab"));
        assert!(agrees("?", "é"));
        assert!(agrees("s3:get?bject", "s3:getobject"));
        assert!(!agrees("s3:get?bject", "s3:getbject"));
        assert!(agrees("*get*", "s3:getobject"));
        assert!(!agrees("*get*", "s3:putobject"));
        assert!(agrees("a*b*c", "aXbYc"));
        assert!(agrees("a*b*c", "abc"));
        assert!(!agrees("a*b*c", "acb"));
        assert!(agrees("*?", "x"));
        assert!(!agrees("*?", ""));
        assert!(agrees("s3:*object", "s3:getobject"));
    }

    #[test]
    fn service_sets() {
        let s3 = ServiceSet::of_service("s3");
        let kms = ServiceSet::of_service("kms");
        let set = ServiceSet::of_actions(["s3:getobject", "s3:list*"]);
        assert!(set.meets(s3));
        assert_eq!(set, s3);
        assert!(ServiceSet::of_actions(["*"]).meets(kms));
        assert!(ServiceSet::of_actions(["s*:get*"]).meets(kms));
        assert!(ServiceSet::of_actions(["s?:get*"]).meets(kms));
        assert!(ServiceSet::of_actions(["kms:decrypt", "s3:get*"]).meets(kms));
        assert!(!ServiceSet::of_actions([]).meets(kms));
        assert!(ServiceSet::of_actions(["KMS:Decrypt"]).meets(kms));
        assert!(ServiceSet::ALL.meets(s3));
    }

    #[test]
    fn arn_kinds() {
        assert_eq!(arn("*"), Matcher::Any);
        let exact = "arn:aws:s3:::bucket/key";
        assert_eq!(arn(exact), Matcher::Exact(exact.into()));
        // Wildcards only in the sixth field: a whole-string test.
        assert_eq!(
            arn("arn:aws:s3:::data-*"),
            Matcher::Prefix("arn:aws:s3:::data-".into())
        );
        assert!(matches!(arn("arn:aws:s3:::data-*/*"), Matcher::Glob(_)));
        assert!(matches!(arn("arn:aws:s3:::b/?:x"), Matcher::Glob(_)));
        // A wildcard in the first five fields: field by field.
        assert!(matches!(
            arn("arn:aws:dynamodb:*:*:table/orders*"),
            Matcher::ArnFields(f) if f.len() == 6
        ));
        assert!(matches!(
            arn("arn:aws:iam::*:role/x"),
            Matcher::ArnFields(_)
        ));
        // Fewer than six fields: a whole-string test.
        assert_eq!(arn("*:root"), Matcher::Suffix(":root".into()));
        assert_eq!(
            arn("arn:aws:s3:::home/${aws:username}/*"),
            Matcher::Variables { whole: true }
        );
        // A variable before the fifth colon stays text (AWS substitutes none there), and a
        // wildcard there needs the field-by-field match: both take the slow path.
        assert_eq!(
            arn("arn:aws:s3:::${aws:username}"),
            Matcher::Variables { whole: true }
        );
        assert_eq!(
            arn("arn:aws:iam::${aws:PrincipalAccount}:user/x"),
            Matcher::Variables { whole: false }
        );
        assert_eq!(
            arn("arn:aws:iam::*:user/${aws:username}"),
            Matcher::Variables { whole: false }
        );
        assert_eq!(
            arn("home/${aws:username}"),
            Matcher::Variables { whole: false }
        );
    }

    #[test]
    fn arn_whole_string_kinds_agree_with_the_glob() {
        for (p, v, want) in [
            ("arn:aws:s3:::data-*", "arn:aws:s3:::data-x/y:z", true),
            ("arn:aws:s3:::data-*", "arn:aws:s3:::dat", false),
            ("arn:aws:s3:::data-*/*", "arn:aws:s3:::data-1/k", true),
            ("arn:aws:s3:::data-*/*", "arn:aws:s3:::data-1", false),
            ("arn:aws:s3:::b/?:x", "arn:aws:s3:::b/a:x", true),
            ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket", true),
            ("arn:aws:s3:::bucket", "arn:aws:s3:::Bucket", false),
        ] {
            let parts = Pattern::parse(p, true).parts;
            assert_eq!(Matcher::arn(&parts).whole(v), Some(want), "{p} against {v}");
            assert_eq!(glob_match(&parts, v), want, "{p} against {v}");
        }
        assert_eq!(arn("arn:aws:iam::*:role/x").whole("x"), None);
        assert_eq!(arn("${aws:username}").whole("x"), None);
    }
}
