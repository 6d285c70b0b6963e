//! The engine's answer rendered with names: which policy, which statement (index and Sid, and
//! the statement as written), which org node — ready to print as JSON or text.

use serde::Serialize;
use serde_json::Value;

use crate::policy::Effect;

use super::engine::{Decision, Evaluation, GateKind, GateOutcome, StatementRef};
use super::policy_set::PolicySet;

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

/// A statement that could not be evaluated, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UnevaluatedReport {
    #[serde(flatten)]
    pub statement: StatementReport,
    pub reasons: Vec<String>,
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
        let unevaluated = self
            .unevaluated
            .iter()
            .filter_map(|u| {
                Some(UnevaluatedReport {
                    statement: statement_report(set, &u.at, false)?,
                    reasons: u.reasons.iter().map(|r| r.to_string()).collect(),
                })
            })
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
