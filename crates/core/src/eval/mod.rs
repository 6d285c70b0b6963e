//! The IAM evaluation engine: one request against every policy type, following AWS's
//! evaluation logic (explicit deny wins; every SCP and RCP level must allow; VPC endpoint
//! policies gate; same account = identity OR resource policy, cross account = both; KMS key
//! and role trust policies must grant; permissions boundaries and session policies limit).
//!
//! The result carries its why: each gate's outcome and whether it blocks, the statements that
//! decided it, and every statement that could not be evaluated with the reason. A statement the
//! engine cannot evaluate is never silently treated as non-matching: the decision is then
//! computed both ways and reported as inconclusive when they differ.

mod conditions;
mod context;
mod engine;
mod matching;
mod policy_set;
mod principal;
mod recycle;
mod report;
mod request;

pub use conditions::{parse_cidr, parse_date};
pub use context::{Context, ContextValue, Lookup};
pub use engine::{
    evaluate, Decision, Evaluation, GateKind, GateOutcome, GateResult, MatchedStatement,
    StatementRef, Unevaluated,
};
pub use matching::{arn_match, Grant};
pub use policy_set::{
    NamedPolicy, OrgLevel, PolicySet, ResourceKind, ResourceSide, UnknownGate, Unreadable,
    RCP_SERVICES,
};
pub use principal::{
    arn_account, Principal, PrincipalError, PrincipalKind, PrincipalType, PrincipalWire,
};
pub use report::{GateReport, Report, StatementReport, UnevaluatedReport};
pub use request::{role_arn_of_session, Request};

/// Three-valued truth: a statement or condition that cannot be evaluated is `Maybe`. Ordered
/// `No < Maybe < Yes`: `or` is the larger of two, `and` the smaller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tri {
    No,
    Maybe,
    Yes,
}

impl Tri {
    pub fn or(self, other: Tri) -> Tri {
        self.max(other)
    }

    pub fn and(self, other: Tri) -> Tri {
        self.min(other)
    }

    pub fn negate(self) -> Tri {
        match self {
            Tri::No => Tri::Yes,
            Tri::Yes => Tri::No,
            Tri::Maybe => Tri::Maybe,
        }
    }
}

/// Why a statement could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The condition operator is not one the engine knows.
    UnknownOperator(String),
    /// A condition key (or a policy variable's key) whose value in this request is unknown.
    UnknownKey(String),
    /// A policy value the operator cannot use (bad number, date, CIDR, boolean, base64).
    BadValue { operator: String, value: String },
    /// An `Allow` statement with `NotPrincipal`, which AWS does not support.
    NotPrincipalWithAllow,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::UnknownOperator(op) => write!(f, "unknown condition operator `{op}`"),
            Reason::UnknownKey(k) => write!(
                f,
                "the value of context key `{k}` is unknown for this request"
            ),
            Reason::NotPrincipalWithAllow => f.write_str(
                "`NotPrincipal` with `\"Effect\": \"Allow\"` is not supported by AWS, so what \
                 the statement grants is undefined; name the principals in `Principal` instead",
            ),
            Reason::BadValue { operator, value } => {
                write!(
                    f,
                    "`{value}` is not a valid value for operator `{operator}`"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Tri::{self, Maybe, No, Yes};

    /// `or` and `and` as the orders give them are Kleene's three-valued tables.
    #[test]
    fn three_valued_tables() {
        let all = [No, Maybe, Yes];
        for a in all {
            for b in all {
                let or = match (a, b) {
                    (Yes, _) | (_, Yes) => Yes,
                    (Maybe, _) | (_, Maybe) => Maybe,
                    _ => No,
                };
                let and = match (a, b) {
                    (No, _) | (_, No) => No,
                    (Yes, Yes) => Yes,
                    _ => Maybe,
                };
                assert_eq!(a.or(b), or, "{a:?} or {b:?}");
                assert_eq!(a.and(b), and, "{a:?} and {b:?}");
                assert_eq!(Tri::negate(a.and(b)), a.negate().or(b.negate()));
            }
        }
    }
}
