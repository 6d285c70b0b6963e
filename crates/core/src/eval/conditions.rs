//! Evaluation of `Condition` blocks: every operator family, `IfExists`, set qualifiers, and
//! three-valued results so that what cannot be evaluated is reported, never guessed.

use std::borrow::Cow;
use std::net::IpAddr;

use base64::Engine as _;

use crate::policy::{
    glob_pieces, pattern_glob, pattern_render, Condition, ConditionOp, Pattern, PatternPart, Piece,
    SetQualifier,
};

use super::context::{Context, Lookup};
use super::matching::{arn_match_compiled, resolve, resolve_pieces, VarFailure, MAX_PIECES};
use super::{Reason, Tri};

/// Evaluates all conditions of a statement (AND across them).
pub fn all_conditions(conditions: &[Condition], ctx: &Context, reasons: &mut Vec<Reason>) -> Tri {
    let mut maybe = false;
    let mark = reasons.len();
    for c in conditions {
        match condition(c, ctx, reasons) {
            Tri::No => {
                // A certain mismatch decides; reasons of other conditions do not matter.
                reasons.truncate(mark);
                return Tri::No;
            }
            Tri::Maybe => maybe = true,
            Tri::Yes => {}
        }
    }
    if maybe {
        Tri::Maybe
    } else {
        Tri::Yes
    }
}

/// The positive form of a negated operator (borrowed: no copy, nothing to drop).
fn positive(op: &ConditionOp) -> &ConditionOp {
    use ConditionOp::*;
    match op {
        StringNotEquals => &StringEquals,
        StringNotEqualsIgnoreCase => &StringEqualsIgnoreCase,
        StringNotLike => &StringLike,
        NumericNotEquals => &NumericEquals,
        DateNotEquals => &DateEquals,
        NotIpAddress => &IpAddress,
        ArnNotEquals => &ArnEquals,
        ArnNotLike => &ArnLike,
        other => other,
    }
}

/// Evaluates one `operator: {key: values}` entry.
pub fn condition(c: &Condition, ctx: &Context, reasons: &mut Vec<Reason>) -> Tri {
    let op = &c.operator;
    if let ConditionOp::Unknown(name) = &op.op {
        reasons.push(Reason::UnknownOperator(name.clone()));
        return Tri::Maybe;
    }
    let found = ctx.lookup(&c.key_lower);
    // The common case, decided first: an unqualified operator other than `Null` on a key with
    // one value that is not empty (what the general rules below give for it).
    if let (Lookup::Present(cv), None) = (found, op.qualifier) {
        if let [v] = cv.values.as_slice() {
            if !v.is_empty() && op.op != ConditionOp::Null {
                let t = value_matches(c, positive(&op.op), ctx, v, reasons);
                return if op.op.is_negated() { t.negate() } else { t };
            }
        }
    }
    let values: &[String] = match found {
        Lookup::Unknown => {
            reasons.push(Reason::UnknownKey(c.key.clone()));
            return Tri::Maybe;
        }
        Lookup::Present(v) => &v.values,
        Lookup::Absent => &[],
    };
    // A key whose values are all empty strings is a null data set (IAM User Guide,
    // single- vs multivalued context keys): Null sees it as absent, the set qualifiers as empty.
    let null_set = values.iter().all(|v| v.is_empty());
    let present = matches!(found, Lookup::Present(_)) && !values.is_empty();
    if null_set && present && (op.op == ConditionOp::Null || op.qualifier.is_some()) {
        if op.op == ConditionOp::Null {
            return null_condition(c, false, reasons);
        }
        return match op.qualifier {
            Some(SetQualifier::ForAllValues) => Tri::Yes,
            _ => Tri::No,
        };
    }
    if op.op == ConditionOp::Null {
        return null_condition(c, present, reasons);
    }
    if !present {
        if matches!(found, Lookup::Present(_)) {
            // An empty set: the set qualifiers decide, unqualified operators see no value.
            match op.qualifier {
                Some(SetQualifier::ForAllValues) => return Tri::Yes,
                Some(SetQualifier::ForAnyValue) => return Tri::No,
                None => {}
            }
        }
        if op.if_exists {
            return Tri::Yes;
        }
        return match op.qualifier {
            Some(SetQualifier::ForAllValues) => Tri::Yes,
            Some(SetQualifier::ForAnyValue) => Tri::No,
            None if op.op.is_negated() => Tri::Yes,
            None => Tri::No,
        };
    }
    let negated = op.op.is_negated();
    let base = positive(&op.op);
    let one = |v: &str, reasons: &mut Vec<Reason>| value_matches(c, base, ctx, v, reasons);
    match op.qualifier {
        None => {
            let any = values
                .iter()
                .fold(Tri::No, |acc, v| acc.or(one(v, reasons)));
            if negated {
                any.negate()
            } else {
                any
            }
        }
        Some(SetQualifier::ForAnyValue) => values.iter().fold(Tri::No, |acc, v| {
            let t = one(v, reasons);
            acc.or(if negated { t.negate() } else { t })
        }),
        Some(SetQualifier::ForAllValues) => values.iter().fold(Tri::Yes, |acc, v| {
            let t = one(v, reasons);
            acc.and(if negated { t.negate() } else { t })
        }),
    }
}

/// Whether one context value `v` matches any of the condition's policy values under `base`,
/// the positive form of its operator.
fn value_matches(
    c: &Condition,
    base: &ConditionOp,
    ctx: &Context,
    v: &str,
    reasons: &mut Vec<Reason>,
) -> Tri {
    let mut maybe = false;
    for pv in &c.values {
        if !pv.has_variables {
            // Nothing to resolve: the common case, decided without a `Cow`.
            match compare(base, pv, &pv.parts, v) {
                Ok(true) => return Tri::Yes,
                Ok(false) => continue,
                Err(bad) => {
                    reasons.push(Reason::BadValue {
                        operator: c.operator.name.clone(),
                        value: bad,
                    });
                    maybe = true;
                    continue;
                }
            }
        }
        if let Some(answer) = compare_resolved(base, pv, ctx, v) {
            match answer {
                Ok(true) => return Tri::Yes,
                Ok(false) => {}
                Err(VarFailure::Absent) => {}
                Err(VarFailure::Unknown(k)) => {
                    reasons.push(Reason::UnknownKey(k));
                    maybe = true;
                }
            }
            continue;
        }
        let parts = match resolve(pv, ctx) {
            Ok(p) => p,
            Err(VarFailure::Absent) => continue,
            Err(VarFailure::Unknown(k)) => {
                reasons.push(Reason::UnknownKey(k));
                maybe = true;
                continue;
            }
        };
        match compare(base, pv, &parts, v) {
            Ok(true) => return Tri::Yes,
            Ok(false) => {}
            Err(bad) => {
                reasons.push(Reason::BadValue {
                    operator: c.operator.name.clone(),
                    value: bad,
                });
                maybe = true;
            }
        }
    }
    if maybe {
        Tri::Maybe
    } else {
        Tri::No
    }
}

fn null_condition(c: &Condition, present: bool, reasons: &mut Vec<Reason>) -> Tri {
    let mut result = Tri::No;
    for pv in &c.values {
        let wanted_absent = match pv.original.as_str() {
            t if t.eq_ignore_ascii_case("true") => true,
            t if t.eq_ignore_ascii_case("false") => false,
            _ => {
                reasons.push(Reason::BadValue {
                    operator: c.operator.name.clone(),
                    value: pv.original.clone(),
                });
                result = result.or(Tri::Maybe);
                continue;
            }
        };
        if wanted_absent != present {
            return Tri::Yes;
        }
    }
    result
}

/// Compares one resolved policy value (`parts`, from the policy's `pv`) with one context value
/// under a positive operator. `Err` carries a policy value the operator cannot use.
fn compare(op: &ConditionOp, pv: &Pattern, parts: &[PatternPart], v: &str) -> Result<bool, String> {
    use ConditionOp::*;
    match op {
        StringEquals => Ok(match parts {
            [PatternPart::Literal(l)] => l.len() == v.len() && l == v,
            _ => text(parts) == v,
        }),
        StringEqualsIgnoreCase => {
            let text = text(parts);
            Ok(if text.is_ascii() && v.is_ascii() {
                text.eq_ignore_ascii_case(v)
            } else {
                text.to_lowercase() == v.to_lowercase()
            })
        }
        StringLike => Ok(pattern_glob(parts, v)),
        ArnEquals | ArnLike => Ok(arn_match_compiled(pv, parts, v)),
        NumericEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => {
            let text = text(parts);
            let p: f64 = text.trim().parse().map_err(|_| text.to_string())?;
            let Ok(x) = v.trim().parse::<f64>() else {
                return Ok(false);
            };
            Ok(ordered(op, x.partial_cmp(&p)))
        }
        DateEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => {
            let text = text(parts);
            let p = parse_date(&text).ok_or_else(|| text.to_string())?;
            let Some(x) = parse_date(v) else {
                return Ok(false);
            };
            Ok(ordered(op, x.partial_cmp(&p)))
        }
        Bool => {
            let text = text(parts);
            if !text.eq_ignore_ascii_case("true") && !text.eq_ignore_ascii_case("false") {
                return Err(text.to_ascii_lowercase());
            }
            Ok(v.eq_ignore_ascii_case(&text))
        }
        BinaryEquals => {
            let text = text(parts);
            let (mut pbuf, mut vbuf) = ([0u8; BASE64_ON_STACK], [0u8; BASE64_ON_STACK]);
            let p = base64_decode(text.trim(), &mut pbuf).ok_or_else(|| text.to_string())?;
            Ok(match base64_decode(v.trim(), &mut vbuf) {
                Some(x) => x == p,
                None => v.as_bytes() == &*p,
            })
        }
        IpAddress => {
            let text = text(parts);
            let net = parse_cidr(&text).ok_or_else(|| text.to_string())?;
            Ok(v.trim().parse::<IpAddr>().is_ok_and(|ip| in_cidr(ip, net)))
        }
        _ => Ok(false),
    }
}

/// The string operators on a value with variables, substituted into borrowed steps (no
/// allocation): `None` when this needs the allocating path (another operator, too many steps,
/// a case-insensitive comparison of non-ASCII text). Kept out of line: values without variables
/// do not pay for its stack.
#[inline(never)]
fn compare_resolved(
    op: &ConditionOp,
    pv: &Pattern,
    ctx: &Context,
    v: &str,
) -> Option<Result<bool, VarFailure>> {
    use ConditionOp::*;
    if !matches!(op, StringEquals | StringEqualsIgnoreCase | StringLike) {
        return None;
    }
    let mut steps = [Piece::Never; MAX_PIECES];
    let n = match resolve_pieces(pv, ctx, 0, &mut steps) {
        Ok(Some(n)) => n,
        Ok(None) => return None,
        Err(e) => return Some(Err(e)),
    };
    let steps = steps.get(..n)?;
    Some(Ok(match op {
        StringLike => glob_pieces(steps, v),
        StringEquals => joined_eq(steps, v, false)?,
        _ => joined_eq(steps, v, true)?,
    }))
}

/// Whether the steps, read as text (`*` and `?` literal), equal `v`; ASCII case ignored with
/// `ignore_case` (`None` for non-ASCII text then: the caller lowercases fully).
fn joined_eq(steps: &[Piece<'_>], v: &str, ignore_case: bool) -> Option<bool> {
    let ascii = |s: &Piece<'_>| !matches!(s, Piece::Text(t) if !t.is_ascii());
    if ignore_case && !(v.is_ascii() && steps.iter().all(ascii)) {
        return None;
    }
    let mut rest = v;
    for step in steps {
        let text = match step {
            Piece::Text(t) => *t,
            Piece::Star => "*",
            Piece::Question => "?",
            Piece::Never => return Some(false),
        };
        let Some((head, tail)) = rest.split_at_checked(text.len()) else {
            return Some(false);
        };
        let same = if ignore_case {
            head.eq_ignore_ascii_case(text)
        } else {
            head == text
        };
        if !same {
            return Some(false);
        }
        rest = tail;
    }
    Some(rest.is_empty())
}

/// Decoded base64 up to this many bytes is kept on the stack.
const BASE64_ON_STACK: usize = 256;

/// Standard base64 decoded into `buf` when it fits (no allocation), else onto the heap; `None`
/// when `text` is not base64.
fn base64_decode<'a>(text: &str, buf: &'a mut [u8]) -> Option<Cow<'a, [u8]>> {
    let engine = base64::engine::general_purpose::STANDARD;
    if base64::decoded_len_estimate(text.len()) <= buf.len() {
        let n = engine.decode_slice(text, buf).ok()?;
        return Some(Cow::Borrowed(buf.get(..n)?));
    }
    engine.decode(text).ok().map(Cow::Owned)
}

/// The parts as text with `*` and `?` literal (how the equality operators read a value);
/// borrowed, not copied, when they are one literal.
fn text(parts: &[PatternPart]) -> Cow<'_, str> {
    match parts {
        [PatternPart::Literal(l)] => Cow::Borrowed(l.as_str()),
        [] => Cow::Borrowed(""),
        _ => Cow::Owned(pattern_render(parts)),
    }
}

fn ordered(op: &ConditionOp, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    use ConditionOp::*;
    let Some(ord) = ord else { return false };
    match op {
        NumericEquals | DateEquals => ord == Equal,
        NumericLessThan | DateLessThan => ord == Less,
        NumericLessThanEquals | DateLessThanEquals => ord != Greater,
        NumericGreaterThan | DateGreaterThan => ord == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ord != Less,
        _ => false,
    }
}

/// Parses the date forms IAM accepts: ISO 8601 (date, date-time with or without zone and
/// fractional seconds) and epoch seconds. Returns seconds since the epoch.
pub fn parse_date(s: &str) -> Option<f64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let s = s.trim();
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        // W3C ISO 8601 `YYYY`.
        let date = NaiveDate::from_ymd_opt(s.parse().ok()?, 1, 1)?;
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp() as f64);
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return s.parse::<f64>().ok();
    }
    if s.len() == 7 && s.as_bytes().get(4) == Some(&b'-') {
        // W3C ISO 8601 `YYYY-MM`.
        let date = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()?;
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp() as f64);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis() as f64 / 1000.0);
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.timestamp_millis() as f64 / 1000.0);
        }
    }
    let naive = s.strip_suffix('Z').unwrap_or(s);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(dt.and_utc().timestamp_millis() as f64 / 1000.0);
        }
    }
    let date = NaiveDate::parse_from_str(naive, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp() as f64)
}

/// An address and prefix length.
#[derive(Debug, Clone, Copy)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// Parses `a.b.c.d/n`, an IPv6 CIDR, or a bare address (a /32 or /128).
pub fn parse_cidr(s: &str) -> Option<Cidr> {
    let s = s.trim();
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
        None => {
            let a = s.parse::<IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some(Cidr { addr, prefix })
}

fn in_cidr(ip: IpAddr, net: Cidr) -> bool {
    match (ip, net.addr) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if net.prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(net.prefix))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if net.prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(net.prefix))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        (IpAddr::V4(a), IpAddr::V6(n)) => {
            // An IPv4-mapped IPv6 network.
            match n.to_ipv4_mapped() {
                Some(n4) if net.prefix >= 96 => in_cidr(
                    IpAddr::V4(a),
                    Cidr {
                        addr: IpAddr::V4(n4),
                        prefix: net.prefix - 96,
                    },
                ),
                _ => false,
            }
        }
        (IpAddr::V6(_), IpAddr::V4(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-02"), Some(86400.0));
        assert_eq!(parse_date("1970-01-01T00:01:00Z"), Some(60.0));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(parse_date("86400"), Some(86400.0));
        assert_eq!(parse_date("1970-01-01T00:00:01.500Z"), Some(1.5));
        assert_eq!(parse_date("soon"), None);
    }

    #[test]
    fn cidrs() {
        let n = parse_cidr("203.0.113.0/24").map(|c| in_cidr("203.0.113.7".parse().unwrap(), c));
        assert_eq!(n, Some(true));
        let n = parse_cidr("203.0.113.0/24").map(|c| in_cidr("203.0.114.7".parse().unwrap(), c));
        assert_eq!(n, Some(false));
        let n = parse_cidr("2001:db8::/32").map(|c| in_cidr("2001:db8::1".parse().unwrap(), c));
        assert_eq!(n, Some(true));
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("0.0.0.0/0").is_some_and(|c| in_cidr("8.8.8.8".parse().unwrap(), c)));
    }
}
