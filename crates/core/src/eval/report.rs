//! The engine's answer rendered with names: which policy, which statement (index and Sid, and
//! the statement as written), which org node — ready to print as JSON or text. What could not be
//! evaluated is rendered here once, for `simulate` and for the diagnosis alike.

use serde::Serialize;
use serde_json::Value;

use crate::policy::Effect;

use super::engine::{Decision, Evaluation, GateKind, GateOutcome, StatementRef, Unevaluated};
use super::policy_set::{PolicySet, UnknownGate};
use super::Reason;

/// One statement with the identity of its policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatementReport {
    pub gate: GateKind,
    pub policy_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<String>,
    pub statement_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: Effect,
    /// `false` when the statement could not be fully evaluated.
    pub certain: bool,
    /// The statement exactly as written.
    pub statement: Value,
}

/// One gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GateReport {
    pub gate: GateKind,
    /// The org node id of an SCP/RCP level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_arn: Option<String>,
    pub outcome: GateOutcome,
    pub blocking: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<StatementReport>,
}

/// Something the engine could not evaluate, and why: one statement, quoted with its policy, or a
/// whole gate whose policies could not be read. Built once ([`UnevaluatedReport::new`],
/// [`UnevaluatedReport::unknown_gate`]) for both outputs that list it, in two shapes:
/// - `simulate`'s `Unevaluated[]` (this type's `Serialize`): the statement's fields as in
///   `DecidingStatements` and `Reasons`, a list;
/// - the diagnosis's `Unevaluated[]` (the result's contract, [`UnevaluatedReport::brief`]): `Gate`,
///   `PolicyName`, `PolicyArn`, `Sid`, `StatementIndex` and `Reason`, the reasons in one string.
#[derive(Debug, Clone, PartialEq)]
pub struct UnevaluatedReport {
    pub gate: GateKind,
    /// Where the statement is; `None` for a gate whose policies could not be read.
    pub at: Option<StatementRef>,
    /// The statement with its policy; `None` for a gate whose policies could not be read (or a
    /// place not in the policy set).
    pub statement: Option<StatementReport>,
    pub reasons: Vec<String>,
}

impl UnevaluatedReport {
    /// A statement the engine could not evaluate, quoted from the policy set it evaluated.
    pub fn new(u: &Unevaluated, set: &PolicySet) -> Self {
        UnevaluatedReport {
            gate: u.at.gate,
            at: Some(u.at),
            statement: statement_report(set, &u.at, false),
            reasons: u.reasons.iter().map(Reason::to_string).collect(),
        }
    }

    /// A gate whose policies could not be read.
    pub fn unknown_gate(u: &UnknownGate) -> Self {
        UnevaluatedReport {
            gate: u.gate,
            at: None,
            statement: None,
            reasons: vec![u.why.to_string()],
        }
    }

    /// The reasons in one line.
    pub fn reason(&self) -> String {
        self.reasons.join("; ")
    }

    /// The name of the statement's policy.
    pub fn policy_name(&self) -> Option<&str> {
        self.statement.as_ref().map(|s| s.policy_name.as_str())
    }

    /// The diagnosis's shape of this entry.
    pub fn brief(&self) -> impl Serialize + '_ {
        let st = self.statement.as_ref();
        Brief {
            gate: self.gate,
            policy_name: st.map(|s| s.policy_name.as_str()),
            policy_arn: st.and_then(|s| s.policy_arn.as_deref()),
            sid: st.and_then(|s| s.sid.as_deref()),
            statement_index: self.at.map(|a| a.statement),
            reason: self.reason(),
        }
    }
}

impl Serialize for UnevaluatedReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.statement {
            Some(statement) => Full {
                statement,
                reasons: &self.reasons,
            }
            .serialize(s),
            None => UnreadGate {
                gate: self.gate,
                reasons: &self.reasons,
            }
            .serialize(s),
        }
    }
}

/// A statement in `simulate`'s `Unevaluated[]`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Full<'a> {
    #[serde(flatten)]
    statement: &'a StatementReport,
    reasons: &'a [String],
}

/// A gate in `simulate`'s `Unevaluated[]` (`simulate` lists statements only).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UnreadGate<'a> {
    gate: GateKind,
    reasons: &'a [String],
}

/// An entry of the diagnosis's `Unevaluated[]`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Brief<'a> {
    gate: GateKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statement_index: Option<usize>,
    reason: String,
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    pub decision: Decision,
    pub conclusive: bool,
    /// When not conclusive: the decision if every unevaluable Deny applied (first) and if every
    /// unevaluable Allow applied (second).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub possible_decisions: Option<(Decision, Decision)>,
    pub gates: Vec<GateReport>,
    pub deciding_statements: Vec<StatementReport>,
    pub unevaluated: Vec<UnevaluatedReport>,
}

/// The statement `at` points at, quoted with its policy (`None` when `at` is not in `set`).
fn statement_report(set: &PolicySet, at: &StatementRef, certain: bool) -> Option<StatementReport> {
    let (np, st) = set.statement(at)?;
    Some(StatementReport {
        gate: at.gate,
        policy_name: np.name.clone(),
        policy_arn: np.arn.clone(),
        attached_to: np.attached_to.clone(),
        statement_index: st.index,
        sid: st.sid.clone(),
        effect: st.effect,
        certain,
        statement: st.raw.clone(),
    })
}

impl Evaluation {
    /// Renders the evaluation with the names of `set`'s policies.
    pub fn report(&self, set: &PolicySet) -> Report {
        let level_node = |kind: GateKind, level: Option<usize>| {
            let levels = match kind {
                GateKind::Scp => set.scps.as_ref(),
                GateKind::Rcp => set.rcps.as_ref(),
                _ => None,
            }?;
            levels.get(level?)
        };
        let gates = self
            .gates
            .iter()
            .map(|g| {
                let node = level_node(g.kind, g.level);
                let vpce = (g.kind == GateKind::VpcEndpoint)
                    .then(|| g.level.and_then(|l| set.vpc_endpoints.get(l)))
                    .flatten();
                GateReport {
                    gate: g.kind,
                    node: node.map(|n| n.node_id.clone()),
                    node_arn: node
                        .and_then(|n| n.node_arn.clone())
                        .or_else(|| vpce.and_then(|v| v.attached_to.clone())),
                    outcome: g.outcome,
                    blocking: g.blocking,
                    note: g.note.map(str::to_string),
                    statements: g
                        .matched
                        .iter()
                        .filter_map(|m| statement_report(set, &m.at, m.certain))
                        .collect(),
                }
            })
            .collect();
        let deciding = self
            .deciding()
            .into_iter()
            .filter_map(|m| statement_report(set, &m.at, m.certain))
            .collect();
        // The statements only (a gate that could not be read shows in `gates`).
        let unevaluated = self
            .unevaluated
            .iter()
            .map(|u| UnevaluatedReport::new(u, set))
            .filter(|u| u.statement.is_some())
            .collect();
        Report {
            decision: self.decision,
            conclusive: self.conclusive,
            possible_decisions: (!self.conclusive).then_some(self.decision_range),
            gates,
            deciding_statements: deciding,
            unevaluated,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::eval::{NamedPolicy, Unreadable};
    use crate::policy::Policy;

    fn set() -> PolicySet {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "Tagged", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "x"}}}
        ]});
        PolicySet {
            identity: vec![NamedPolicy {
                name: "P".into(),
                arn: Some("arn:aws:iam::111122223333:policy/P".into()),
                attached_to: Some("arn:aws:iam::111122223333:user/alice".into()),
                policy: Arc::new(Policy::from_value(&doc).unwrap()),
            }],
            ..PolicySet::default()
        }
    }

    fn statement_entry(set: &PolicySet) -> UnevaluatedReport {
        let u = Unevaluated {
            at: StatementRef {
                gate: GateKind::IdentityBased,
                level: None,
                policy: 0,
                statement: 1,
            },
            reasons: vec![
                Reason::UnknownKey("aws:PrincipalTag/team".into()),
                Reason::UnknownOperator("Fuzzy".into()),
            ],
        };
        UnevaluatedReport::new(&u, set)
    }

    #[test]
    fn a_statement_in_both_shapes() {
        let set = set();
        let u = statement_entry(&set);
        assert_eq!(
            serde_json::to_string(&u).unwrap(),
            r#"{"Gate":"IdentityBased","PolicyName":"P","PolicyArn":"arn:aws:iam::111122223333:policy/P","AttachedTo":"arn:aws:iam::111122223333:user/alice","StatementIndex":1,"Sid":"Tagged","Effect":"Deny","Certain":false,"Statement":{"Sid":"Tagged","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"x"}}},"Reasons":["the value of context key `aws:PrincipalTag/team` is unknown for this request","unknown condition operator `Fuzzy`"]}"#
        );
        assert_eq!(
            serde_json::to_string(&u.brief()).unwrap(),
            r#"{"Gate":"IdentityBased","PolicyName":"P","PolicyArn":"arn:aws:iam::111122223333:policy/P","Sid":"Tagged","StatementIndex":1,"Reason":"the value of context key `aws:PrincipalTag/team` is unknown for this request; unknown condition operator `Fuzzy`"}"#
        );
    }

    #[test]
    fn an_unreadable_gate_in_the_diagnosis_shape() {
        let u = UnevaluatedReport::unknown_gate(&UnknownGate {
            gate: GateKind::Rcp,
            why: Unreadable::Stated("organization unreadable".into()),
        });
        assert_eq!(
            serde_json::to_string(&u.brief()).unwrap(),
            r#"{"Gate":"Rcp","Reason":"organization unreadable"}"#
        );
        assert_eq!(u.policy_name(), None);
    }

    #[test]
    fn a_ref_resolves_to_its_policy_and_statement() {
        let set = set();
        let u = statement_entry(&set);
        let at = u.at.unwrap();
        let (np, st) = set.statement(&at).unwrap();
        assert_eq!((np.name.as_str(), st.sid.as_deref()), ("P", Some("Tagged")));
        let elsewhere = StatementRef {
            gate: GateKind::Session,
            ..at
        };
        assert!(set.policy(&elsewhere).is_none());
        let past_the_end = StatementRef { statement: 2, ..at };
        assert!(set.statement(&past_the_end).is_none());
    }
}
