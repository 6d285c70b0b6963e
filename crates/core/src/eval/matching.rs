//! Matching of the `Action`, `Resource` and `Principal` elements against a request.

use std::borrow::Cow;

use crate::policy::{
    glob_pieces, pattern_glob, ActionBlock, ActionPattern, Effect, Matcher, Pattern, PatternPart,
    Piece, PrincipalBlock, PrincipalSpec, ResourceBlock,
};
use crate::policy::{PrincipalEntry, Variable};

use super::context::{Context, Lookup};
use super::principal::PrincipalType;
use super::request::Request;

/// How a resource-based policy's `Principal` matched the caller; it decides which other gates
/// still apply in the same account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grant {
    /// Names the account (12-digit id or `:root`): delegates to the account's IAM policies.
    Account,
    /// Names the role behind a session (or the IAM user behind a federated session): still
    /// limited by an implicit deny in the permissions boundary or session policy.
    Underlying,
    /// Names the caller itself (user ARN, session ARN, service, `*`): not limited by an implicit
    /// deny in identity policies, boundaries or session policies.
    Direct,
}

/// Why a variable could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarFailure {
    /// The key is not in the request (and no default): the element cannot match.
    Absent,
    /// The key's value is unknown: the element cannot be evaluated.
    Unknown(String),
}

/// Resolves the variables of a pattern (a condition value) into literal parts.
pub fn resolve<'a>(p: &'a Pattern, ctx: &Context) -> Result<Cow<'a, [PatternPart]>, VarFailure> {
    resolve_from(p, ctx, 0)
}

/// Resolves the variables of a `Resource` entry. AWS substitutes a variable only in the
/// resource part of an ARN, after the fifth colon (IAM User Guide, "IAM policy elements:
/// Variables and tags", Resource element: "You can't use a variable to replace parts of the ARN
/// before the fifth colon"); one before it stays literal text, so the entry matches no ARN.
fn resolve_resource<'a>(
    p: &'a Pattern,
    ctx: &Context,
) -> Result<Cow<'a, [PatternPart]>, VarFailure> {
    resolve_from(p, ctx, 5)
}

/// Resolves the variables that follow at least `colons` colons of literal text.
fn resolve_from<'a>(
    p: &'a Pattern,
    ctx: &Context,
    colons: usize,
) -> Result<Cow<'a, [PatternPart]>, VarFailure> {
    if !p.has_variables {
        return Ok(Cow::Borrowed(&p.parts));
    }
    let mut out: Vec<PatternPart> = Vec::with_capacity(p.parts.len());
    let mut seen = 0;
    for part in &p.parts {
        if let PatternPart::Literal(l) = part {
            seen += l.bytes().filter(|b| *b == b':').count();
        }
        match part {
            PatternPart::Variable(v) => {
                let text = if seen >= colons {
                    variable_value(v, ctx)?
                } else {
                    format!("${{{}}}", v.key)
                };
                if let Some(PatternPart::Literal(prev)) = out.last_mut() {
                    prev.push_str(&text);
                } else {
                    out.push(PatternPart::Literal(text));
                }
            }
            PatternPart::Literal(l) => {
                if let Some(PatternPart::Literal(prev)) = out.last_mut() {
                    prev.push_str(l);
                } else {
                    out.push(PatternPart::Literal(l.clone()));
                }
            }
            other => out.push(other.clone()),
        }
    }
    Ok(Cow::Owned(out))
}

/// Resolved steps kept on the stack; a pattern with more takes the allocating path.
pub const MAX_PIECES: usize = 16;

/// The steps of `p` with the variables that follow at least `colons` colons of literal text
/// substituted (earlier ones stay `${key}` text, as in [`resolve`]), borrowed from the policy
/// and the request's context into `out`: no allocation. `Ok(Some(n))`: the first `n` steps of
/// `out`; `Ok(None)`: more than [`MAX_PIECES`] steps.
pub fn resolve_pieces<'a>(
    p: &'a Pattern,
    ctx: &'a Context,
    colons: usize,
    out: &mut [Piece<'a>; MAX_PIECES],
) -> Result<Option<usize>, VarFailure> {
    let mut n = 0;
    let mut seen = 0;
    for part in &p.parts {
        if let PatternPart::Literal(l) = part {
            seen += l.bytes().filter(|b| *b == b':').count();
        }
        let fits = match part {
            PatternPart::Variable(v) if seen >= colons => {
                put(out, &mut n, Piece::Text(variable_text(v, ctx)?))
            }
            PatternPart::Variable(v) => {
                put(out, &mut n, Piece::Text("${"))
                    && put(out, &mut n, Piece::Text(&v.key))
                    && put(out, &mut n, Piece::Text("}"))
            }
            other => put(out, &mut n, other.piece()),
        };
        if !fits {
            return Ok(None);
        }
    }
    Ok(Some(n))
}

fn put<'a>(out: &mut [Piece<'a>; MAX_PIECES], n: &mut usize, piece: Piece<'a>) -> bool {
    match out.get_mut(*n) {
        Some(slot) => {
            *slot = piece;
            *n += 1;
            true
        }
        None => false,
    }
}

/// The value a variable stands for in this request, borrowed ([`variable_value`] without the
/// copy).
fn variable_text<'a>(v: &'a Variable, ctx: &'a Context) -> Result<&'a str, VarFailure> {
    match ctx.lookup(&v.key_lower) {
        Lookup::Present(cv) if !cv.multi && cv.values.len() == 1 => {
            Ok(cv.values.first().map_or("", String::as_str))
        }
        Lookup::Unknown => Err(VarFailure::Unknown(v.key.clone())),
        // Absent, empty or multivalued keys cannot be substituted.
        _ => v.default.as_deref().ok_or(VarFailure::Absent),
    }
}

fn variable_value(v: &Variable, ctx: &Context) -> Result<String, VarFailure> {
    match ctx.lookup(&v.key_lower) {
        Lookup::Present(cv) if !cv.multi && cv.values.len() == 1 => Ok(cv.values[0].clone()),
        Lookup::Unknown => Err(VarFailure::Unknown(v.key.clone())),
        // Absent, empty or multivalued keys cannot be substituted.
        _ => v.default.clone().ok_or(VarFailure::Absent),
    }
}

/// `Action` / `NotAction` against the lowercase action.
pub fn action_matches(block: &ActionBlock, action_lower: &str) -> bool {
    let any = |list: &[ActionPattern]| {
        list.iter().any(|a| {
            a.matcher
                .whole(action_lower)
                .unwrap_or_else(|| pattern_glob(&a.parts, action_lower))
        })
    };
    match block {
        ActionBlock::Action(list) => any(list),
        ActionBlock::NotAction(list) => !any(list),
    }
}

/// `Resource` / `NotResource` against the request's resource.
#[inline]
pub fn resource_matches(block: &ResourceBlock, req: &Request) -> Result<bool, VarFailure> {
    // One pattern a whole-string test decides (`*`, an ARN, `arn:…:bucket/*`): inline.
    match block {
        ResourceBlock::Absent => return Ok(true),
        ResourceBlock::Resource(list) | ResourceBlock::NotResource(list) => {
            if let [p] = list.as_slice() {
                if let Some(m) = p.matcher.whole(&req.resource) {
                    return Ok(m == matches!(block, ResourceBlock::Resource(_)));
                }
            }
        }
    }
    resource_list_matches(block, req)
}

/// [`resource_matches`] for any list of patterns.
fn resource_list_matches(block: &ResourceBlock, req: &Request) -> Result<bool, VarFailure> {
    let (list, negate) = match block {
        ResourceBlock::Absent => return Ok(true),
        ResourceBlock::Resource(l) => (l, false),
        ResourceBlock::NotResource(l) => (l, true),
    };
    let mut unknown = None;
    let mut any = false;
    for p in list {
        match p.matcher {
            Matcher::Variables { whole: true } => match resource_steps_match(p, req) {
                Some(Ok(true)) => {
                    any = true;
                    break;
                }
                Some(Ok(false)) | Some(Err(VarFailure::Absent)) => continue,
                Some(Err(u @ VarFailure::Unknown(_))) => {
                    unknown = Some(u);
                    continue;
                }
                // Too many steps for the stack: the allocating path below.
                None => {}
            },
            Matcher::Variables { whole: false } => {}
            _ => {
                if resource_pattern_matches(p, &req.resource) {
                    any = true;
                    break;
                }
                continue;
            }
        }
        match resolve_resource(p, &req.context) {
            Ok(parts) => {
                if arn_match_resolved(&parts, &req.resource) {
                    any = true;
                    break;
                }
            }
            // A resource entry whose variable cannot be resolved does not match.
            Err(VarFailure::Absent) => {}
            Err(u @ VarFailure::Unknown(_)) => unknown = Some(u),
        }
    }
    match (any, unknown) {
        (true, _) => Ok(!negate),
        (false, Some(u)) => Err(u),
        (false, None) => Ok(negate),
    }
}

/// A `Resource` entry with variables whose first five fields are literal, substituted into
/// borrowed steps and matched as a whole string (no allocation); `None` when it has more steps
/// than the stack holds. Kept out of line: entries without variables do not pay for its stack.
#[inline(never)]
fn resource_steps_match(p: &Pattern, req: &Request) -> Option<Result<bool, VarFailure>> {
    let mut steps = [Piece::Never; MAX_PIECES];
    match resolve_pieces(p, &req.context, 5, &mut steps) {
        Ok(Some(n)) => Some(Ok(glob_pieces(steps.get(..n)?, &req.resource))),
        Ok(None) => None,
        Err(e) => Some(Err(e)),
    }
}

/// ARN matching as AWS does it for `Resource` and the `Arn*` operators: each of the six
/// colon-separated fields is matched separately, so wildcards in the first five never cross a
/// colon. Patterns or values with fewer than six fields are matched as a whole string.
pub fn arn_match(parts: &[PatternPart], value: &str) -> bool {
    if let [PatternPart::Star] = parts {
        return true;
    }
    if let [PatternPart::Literal(l)] = parts {
        return l == value;
    }
    let Some(segments) = crate::policy::split_arn(parts) else {
        return pattern_glob(parts, value);
    };
    arn_segments_match(&segments, parts, value)
}

/// [`arn_match`] of a parsed pattern through its compiled [`Matcher`] (variables resolved
/// first when it has them): how the `Arn*` condition operators test a policy value.
pub fn arn_match_compiled(p: &Pattern, parts: &[PatternPart], value: &str) -> bool {
    match &p.matcher {
        Matcher::ArnFields(fields) if !p.has_variables => arn_segments_match(fields, parts, value),
        Matcher::Variables { .. } | Matcher::ArnFields(_) => arn_match(parts, value),
        m => m.whole(value).unwrap_or_else(|| arn_match(parts, value)),
    }
}

/// `Resource` element matching of a pattern without variables, through its compiled
/// [`Matcher`]: field by field as [`arn_match`], except that a `*` ending one of the first five
/// fields may expand beyond the colon (IAM User Guide, Resource element: a wildcard that is the
/// last character of a resource ARN segment can expand to match beyond the colon boundaries).
fn resource_pattern_matches(p: &Pattern, value: &str) -> bool {
    match &p.matcher {
        Matcher::ArnFields(fields) => resource_fields_or_whole(fields, &p.parts, value),
        m => m
            .whole(value)
            .unwrap_or_else(|| arn_match_resolved(&p.parts, value)),
    }
}

/// `Resource` element matching of resolved parts (a pattern whose variables were substituted
/// for this request): the slow path, which splits the ARN fields on every call.
fn arn_match_resolved(resolved: &[PatternPart], value: &str) -> bool {
    match resolved {
        [PatternPart::Star] => true,
        [PatternPart::Literal(l)] => l == value,
        _ => match crate::policy::split_arn(resolved) {
            Some(fields) => resource_fields_or_whole(&fields, resolved, value),
            None => pattern_glob(resolved, value),
        },
    }
}

fn resource_fields_or_whole(
    fields: &[Vec<PatternPart>],
    parts: &[PatternPart],
    value: &str,
) -> bool {
    resource_fields_match(fields, value)
        || (value.bytes().filter(|b| *b == b':').count() < 5 && pattern_glob(parts, value))
}

fn resource_fields_match(segments: &[Vec<PatternPart>], value: &str) -> bool {
    let Some((seg, rest_segments)) = segments.split_first() else {
        return value.is_empty();
    };
    if rest_segments.is_empty() {
        return pattern_glob(seg, value);
    }
    if matches!(seg.last(), Some(PatternPart::Star)) {
        // Try every colon the trailing `*` could stop before.
        for (at, _) in value.bytes().enumerate().filter(|(_, b)| *b == b':') {
            if pattern_glob(seg, field(value, ..at))
                && resource_fields_match(rest_segments, field(value, at + 1..))
            {
                return true;
            }
        }
        return false;
    }
    match value.bytes().position(|b| b == b':') {
        Some(at) => {
            pattern_glob(seg, field(value, ..at))
                && resource_fields_match(rest_segments, field(value, at + 1..))
        }
        None => false,
    }
}

/// `value[range]` for a range that ends or starts next to an ASCII colon (always a character
/// boundary); empty otherwise, which cannot happen.
#[inline]
fn field<R: std::slice::SliceIndex<str, Output = str>>(value: &str, range: R) -> &str {
    value.get(range).unwrap_or_default()
}

fn arn_segments_match(segments: &[Vec<PatternPart>], parts: &[PatternPart], value: &str) -> bool {
    let mut fields = value.splitn(6, ':');
    for seg in segments {
        match fields.next() {
            Some(f) if pattern_glob(seg, f) => {}
            Some(_) => return false,
            None => return pattern_glob(parts, value),
        }
    }
    true
}

/// Result of matching a `Principal` / `NotPrincipal` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalMatch {
    /// The element applies; for `Principal`, how it named the caller.
    Applies(Option<Grant>),
    DoesNotApply,
    /// An `Allow` with `NotPrincipal` that does not exclude the caller. AWS: "`NotPrincipal`
    /// must be used with `"Effect":"Deny"`. Using it with `"Effect":"Allow"` is not supported"
    /// (IAM User Guide, NotPrincipal), so what it grants is not defined: the statement is
    /// reported as not evaluable, never counted as an allow or ignored.
    Unsupported,
}

/// Matches the principal element of a statement with `effect`. `has_boundary` implements AWS's
/// documented rule that a `Deny` with `NotPrincipal` always applies to users and roles that have
/// a permissions boundary.
#[inline]
pub fn principal_matches(
    block: &PrincipalBlock,
    effect: Effect,
    req: &Request,
    has_boundary: bool,
) -> PrincipalMatch {
    // No element (identity policies, SCPs) or `"*"`: decided inline.
    match block {
        PrincipalBlock::Absent => PrincipalMatch::Applies(None),
        PrincipalBlock::Principal(PrincipalSpec::Any) => {
            PrincipalMatch::Applies(Some(Grant::Direct))
        }
        _ => principal_element_matches(block, effect, req, has_boundary),
    }
}

/// [`principal_matches`] for any element.
fn principal_element_matches(
    block: &PrincipalBlock,
    effect: Effect,
    req: &Request,
    has_boundary: bool,
) -> PrincipalMatch {
    match block {
        PrincipalBlock::Absent => PrincipalMatch::Applies(None),
        PrincipalBlock::Principal(spec) => match spec_grant(spec, req) {
            Some(g) => PrincipalMatch::Applies(Some(g)),
            None => PrincipalMatch::DoesNotApply,
        },
        // A caller the element lists is outside the statement under any reading of it.
        PrincipalBlock::NotPrincipal(spec) if effect == Effect::Allow => {
            if not_principal_excludes(spec, req) {
                PrincipalMatch::DoesNotApply
            } else {
                PrincipalMatch::Unsupported
            }
        }
        PrincipalBlock::NotPrincipal(spec) => {
            // `has_boundary` is set only for principals a boundary can apply to: users, role
            // sessions and federated users (through the user that created the session).
            if has_boundary {
                return PrincipalMatch::Applies(None);
            }
            if not_principal_excludes(spec, req) {
                PrincipalMatch::DoesNotApply
            } else {
                PrincipalMatch::Applies(None)
            }
        }
    }
}

/// The strongest grant any entry of `spec` gives the caller.
fn spec_grant(spec: &PrincipalSpec, req: &Request) -> Option<Grant> {
    match spec {
        PrincipalSpec::Any => Some(Grant::Direct),
        PrincipalSpec::Entries(entries) => entries
            .iter()
            .flat_map(|e| e.values.iter().map(move |v| entry_grant(e, v, req)))
            .flatten()
            .max(),
    }
}

fn is_account_ref(value: &str) -> Option<&str> {
    if crate::arn::is_account_id(value) {
        return Some(value);
    }
    // `…:root` is the sixth field, the rest of the ARN: most values (role, user ARNs) are told
    // apart here without splitting the ARN.
    if !value.ends_with(":root") {
        return None;
    }
    let arn = crate::arn::Arn::parse(value)?;
    (arn.service == "iam" && arn.resource == "root").then_some(arn.account)
}

fn entry_grant(entry: &PrincipalEntry, value: &str, req: &Request) -> Option<Grant> {
    use crate::policy::PrincipalKind as K;
    let p = &req.principal;
    let kind = p.principal_type();
    match entry.kind {
        K::Aws => {
            if value == "*" {
                return Some(Grant::Direct);
            }
            if let Some(acct) = is_account_ref(value) {
                return (kind.has_identity_side() && p.account.as_deref() == Some(acct))
                    .then_some(Grant::Account);
            }
            if p.arn() == Some(value) {
                return Some(Grant::Direct);
            }
            if kind == PrincipalType::AssumedRole && p.role_arn() == Some(value) {
                return Some(Grant::Underlying);
            }
            if kind == PrincipalType::FederatedUser && p.user_arn() == Some(value) {
                return Some(Grant::Underlying);
            }
            // Unique ids (AIDA…, AROA…) appear when the named entity was deleted and recreated.
            if let Some(id) = p.principal_id.as_deref() {
                let base = id.split(':').next().unwrap_or(id);
                if base == value {
                    return Some(if kind == PrincipalType::AssumedRole {
                        Grant::Underlying
                    } else {
                        Grant::Direct
                    });
                }
            }
            None
        }
        K::Service => {
            (kind == PrincipalType::Service && p.service() == Some(value)).then_some(Grant::Direct)
        }
        K::Federated => (p.federated_provider() == Some(value)).then_some(Grant::Direct),
        K::CanonicalUser => (p.canonical_user.as_deref() == Some(value)).then_some(Grant::Direct),
    }
}

/// `NotPrincipal` excludes the caller only when every identity AWS checks is listed: the
/// account, then (for role sessions) the role, then the caller itself (IAM User Guide,
/// NotPrincipal: "AWS verifies the account first, then the role, then the assumed-role user").
fn not_principal_excludes(spec: &PrincipalSpec, req: &Request) -> bool {
    let PrincipalSpec::Entries(entries) = spec else {
        return true;
    };
    let p = &req.principal;
    let kind = p.principal_type();
    let (mut account_listed, mut role_listed, mut self_listed) = (false, false, false);
    for e in entries {
        for v in &e.values {
            if e.kind == crate::policy::PrincipalKind::Aws {
                if let Some(acct) = is_account_ref(v) {
                    if p.account.as_deref() == Some(acct) {
                        account_listed = true;
                    }
                    continue;
                }
            }
            match entry_grant(e, v, req) {
                Some(Grant::Underlying) => role_listed = true,
                Some(_) => self_listed = true,
                None => {}
            }
        }
    }
    match kind {
        PrincipalType::Root => account_listed,
        PrincipalType::AssumedRole => account_listed && role_listed && self_listed,
        k if k.has_identity_side() => account_listed && self_listed,
        _ => self_listed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        let mut ctx = Context::new();
        ctx.set("aws:username", "bob");
        ctx.set("aws:PrincipalTag/env", "a:b*c");
        ctx.set_list("aws:TagKeys", vec!["x".into()]);
        ctx.mark_unknown("aws:PrincipalTag/team");
        ctx
    }

    /// Substituting variables into borrowed steps gives the answers of the allocating path,
    /// for `Resource` entries (matched whole) and condition values (resolved everywhere).
    #[test]
    fn borrowed_steps_agree_with_resolved_parts() {
        let ctx = context();
        let patterns = [
            "arn:aws:s3:::home/${aws:username}/*",
            "arn:aws:s3:::home/${aws:username}",
            "arn:aws:s3:::${aws:PrincipalTag/env}/?",
            "arn:aws:s3:::x/${aws:TagKeys}",
            "arn:aws:s3:::x/${aws:TagKeys, 'dflt'}",
            "arn:aws:s3:::x/${aws:nope}",
            "arn:aws:s3:::x/${aws:PrincipalTag/team}",
            "arn:aws:s3:::a${*}/${aws:username}",
            "arn:aws:iam::${aws:username}:user/x",
            "home/${aws:username}",
        ];
        let values = [
            "arn:aws:s3:::home/bob/notes.txt",
            "arn:aws:s3:::home/bob",
            "arn:aws:s3:::home/bobby",
            "arn:aws:s3:::a:b*c/z",
            "arn:aws:s3:::a:bXc/z",
            "arn:aws:s3:::x/dflt",
            "arn:aws:s3:::x/x",
            "arn:aws:s3:::a*/bob",
            "arn:aws:iam::${aws:username}:user/x",
            "home/bob",
            "home/${aws:username}",
        ];
        for text in patterns {
            let p = Pattern::parse(text, true);
            for colons in [0, 5] {
                let mut steps = [Piece::Never; MAX_PIECES];
                let fast = resolve_pieces(&p, &ctx, colons, &mut steps);
                let slow = resolve_from(&p, &ctx, colons);
                match (fast, slow) {
                    (Ok(Some(n)), Ok(parts)) => {
                        for v in values {
                            assert_eq!(
                                glob_pieces(&steps[..n], v),
                                pattern_glob(&parts, v),
                                "{text} ({colons} colons) against {v}"
                            );
                            if colons == 5 && p.matcher == (Matcher::Variables { whole: true }) {
                                assert_eq!(
                                    glob_pieces(&steps[..n], v),
                                    arn_match_resolved(&parts, v),
                                    "{text} as a Resource against {v}"
                                );
                            }
                        }
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b, "{text}"),
                    (fast, slow) => panic!("{text}: {fast:?} but {slow:?}"),
                }
            }
        }
    }
}
