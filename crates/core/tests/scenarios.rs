//! Runs every engine scenario under `tests/scenarios/engine/` (repository root): each file holds
//! one case or a list of cases — a request, its policies, and the expected decision, deciding
//! statements, per-gate outcomes, blocking gates and unevaluated statements, written from AWS's
//! documentation. Only the expectations a case states are checked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use access_undenied_core::eval::{evaluate, Report, StatementReport};
use access_undenied_core::explain::{diagnose, DiagnosisResult};
use access_undenied_core::simulate::{parse_case, run_case, Case};
use serde_json::Value;

fn scenario_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scenario_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

const CASE_KEYS: &[&str] = &["Name", "Request", "Policies", "Expected"];
const REQUEST_KEYS: &[&str] = &[
    "Principal",
    "Action",
    "Resource",
    "ResourceAccount",
    "Context",
    "UnknownContextKeys",
    "AbsentContextKeys",
];
const EXPECTED_KEYS: &[&str] = &[
    "Decision",
    "Conclusive",
    "Gates",
    "Blocking",
    "Deciding",
    "Unevaluated",
    "ReasonContains",
    "ParseError",
    "Assessment",
    "AllReasons",
];

/// The keys of `v` that are not in `known`, each as `<prefix><key>: unknown key`.
fn unknown_keys(v: &Value, known: &[&str], prefix: &str) -> Vec<String> {
    v.as_object()
        .map(|o| {
            o.keys()
                .filter(|k| !known.contains(&k.as_str()))
                .map(|k| format!("{prefix}{k}: unknown key"))
                .collect()
        })
        .unwrap_or_default()
}

fn gate_key(gate: &access_undenied_core::eval::GateReport, vpce_index: usize) -> String {
    let name = format!("{:?}", gate.gate);
    match (&gate.node, gate.gate) {
        (Some(n), _) => format!("{name}:{n}"),
        (None, access_undenied_core::eval::GateKind::VpcEndpoint) => format!("{name}:{vpce_index}"),
        _ => name,
    }
}

fn stmt_key(s: &StatementReport) -> String {
    let id = s
        .sid
        .clone()
        .unwrap_or_else(|| format!("#{}", s.statement_index));
    format!("{:?}/{}/{id}", s.gate, s.policy_name)
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn check(report: &Report, expected: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(d) = expected.get("Decision").and_then(Value::as_str) {
        let got = format!("{:?}", report.decision);
        if got != d {
            problems.push(format!("decision: expected {d}, got {got}"));
        }
    }
    if let Some(c) = expected.get("Conclusive").and_then(Value::as_bool) {
        if c != report.conclusive {
            problems.push(format!(
                "conclusive: expected {c}, got {}",
                report.conclusive
            ));
        }
    }
    let mut vpce = 0;
    let keys: Vec<(String, &access_undenied_core::eval::GateReport)> = report
        .gates
        .iter()
        .map(|g| {
            let k = gate_key(g, vpce);
            if g.gate == access_undenied_core::eval::GateKind::VpcEndpoint {
                vpce += 1;
            }
            (k, g)
        })
        .collect();
    if let Some(gates) = expected.get("Gates").and_then(Value::as_object) {
        for (k, want) in gates {
            let want = want.as_str().unwrap_or_default();
            match keys.iter().find(|(key, _)| key == k) {
                Some((_, g)) => {
                    let got = format!("{:?}", g.outcome);
                    if got != want {
                        problems.push(format!("gate {k}: expected {want}, got {got}"));
                    }
                }
                None if want == "Absent" => {}
                None => problems.push(format!(
                    "gate {k}: not in the result (gates: {})",
                    keys.iter()
                        .map(|(k, _)| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
    }
    if let Some(b) = expected.get("Blocking") {
        let want = strings(b);
        let got: BTreeSet<String> = keys
            .iter()
            .filter(|(_, g)| g.blocking)
            .map(|(k, _)| k.clone())
            .collect();
        if want != got {
            problems.push(format!("blocking: expected {want:?}, got {got:?}"));
        }
    }
    if let Some(d) = expected.get("Deciding") {
        let want = strings(d);
        let got: BTreeSet<String> = report.deciding_statements.iter().map(stmt_key).collect();
        if want != got {
            problems.push(format!("deciding: expected {want:?}, got {got:?}"));
        }
    }
    if let Some(u) = expected.get("Unevaluated") {
        let want = strings(u);
        let got: BTreeSet<String> = report
            .unevaluated
            .iter()
            .filter_map(|u| u.statement.as_ref().map(stmt_key))
            .collect();
        if want != got {
            problems.push(format!("unevaluated: expected {want:?}, got {got:?}"));
        }
    }
    if let Some(r) = expected.get("ReasonContains").and_then(Value::as_str) {
        let all: Vec<&String> = report
            .unevaluated
            .iter()
            .flat_map(|u| u.reasons.iter())
            .collect();
        if !all.iter().any(|x| x.contains(r)) {
            problems.push(format!("no unevaluated reason contains `{r}`: {all:?}"));
        }
    }
    problems
}

/// What every diagnosis must say, whatever the case states: an inconclusive case is an `Error`
/// (never a guessed cause); an allowed one is `Allowed` with no deny and no fix; a conclusive
/// denial names its denying statements (one per deciding statement) and a least-privilege fix:
/// each added statement is an `Allow` of exactly the request's action on exactly its resource
/// (none for a role trust policy), and one added to the resource's own policy names the caller
/// (a fix granting `*` on `*` would otherwise pass, since the engine verifies its own fix).
fn what_users_read(case: &Case, report: &Report, result: &DiagnosisResult) -> Vec<String> {
    let mut problems = Vec::new();
    let assessment = result.assessment_result.as_str();
    let decision = format!("{:?}", report.decision);
    let details = &result.result_details;
    if !report.conclusive {
        if assessment != "Error" {
            problems.push(format!("inconclusive, but assessed `{assessment}`"));
        }
        return problems;
    }
    if decision == "Allowed" {
        if assessment != "Allowed" {
            problems.push(format!("allowed, but assessed `{assessment}`"));
        }
        if !details.explicit_deny_policies.is_empty() || !details.policies_to_add.is_empty() {
            problems.push("allowed, but with denies or a fix".into());
        }
        return problems;
    }
    let deny_word = assessment.starts_with("Explicit deny");
    if (decision == "ExplicitDeny") != deny_word {
        problems.push(format!("decision {decision} assessed `{assessment}`"));
    }
    if decision == "ExplicitDeny" {
        let deciding = report.deciding_statements.len();
        if details.explicit_deny_policies.len() != deciding {
            problems.push(format!(
                "{} ExplicitDenyPolicies for {deciding} deciding statements",
                details.explicit_deny_policies.len()
            ));
        }
    }
    let action = &case.request.action;
    let resource = &case.request.resource;
    for add in &details.policies_to_add {
        let statements = add.policy["Statement"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if statements.is_empty() {
            problems.push(format!(
                "fix for {} adds no statement",
                add.attachment_target_arn
            ));
        }
        for st in &statements {
            let one = |v: &Value| match v {
                Value::String(s) => Some(s.clone()),
                Value::Array(a) if a.len() == 1 => a[0].as_str().map(str::to_string),
                _ => None,
            };
            // A role trust policy names no resource: its statements apply to the role itself.
            // (A user acting on itself gets its fix in its own identity policy.)
            let on_resource = add.attachment_target_arn == *resource
                && case.request.principal.identity_arn() != Some(resource.as_str());
            let trust = on_resource && resource.contains(":role/");
            let resource_ok = if trust {
                st.get("Resource").is_none()
            } else {
                one(&st["Resource"]).as_deref() == Some(resource.as_str())
            };
            // A statement added to a resource's own policy names the caller, never everyone.
            let principal_ok = !on_resource
                || st
                    .get("Principal")
                    .is_some_and(|p| p != "*" && p["AWS"] != "*");
            if st["Effect"] != "Allow"
                || one(&st["Action"]).as_deref() != Some(action.as_str())
                || !resource_ok
                || !principal_ok
            {
                problems.push(format!(
                    "fix is not least privilege for {action} on {resource}: {st}"
                ));
            }
        }
    }
    problems
}

#[test]
fn engine_scenarios() {
    // The directory at run time: a binary built in another clone sharing the target directory
    // must not read that clone's scenarios.
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("../../tests/scenarios/engine");
    let mut files = Vec::new();
    scenario_files(&root, &mut files);
    let mut count = 0;
    let mut failures = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{rel}: not json: {e}"));
                continue;
            }
        };
        let cases = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for (i, case) in cases.iter().enumerate() {
            count += 1;
            let name = case
                .get("Name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let label = format!("{rel}[{i}] {name}");
            let Some(expected) = case.get("Expected") else {
                failures.push(format!("{label}: no Expected"));
                continue;
            };
            // A misspelt key would silently check nothing: every key must be one the harness
            // reads, and every request names its resource (no silent `*`).
            let mut misspelt = unknown_keys(case, CASE_KEYS, "");
            misspelt.extend(unknown_keys(expected, EXPECTED_KEYS, "Expected."));
            if let Some(request) = case.get("Request") {
                misspelt.extend(unknown_keys(request, REQUEST_KEYS, "Request."));
                if request.get("Resource").is_none() {
                    misspelt.push("Request.Resource is missing (write `*` if meant)".into());
                }
            }
            if !misspelt.is_empty() {
                failures.push(format!("{label}: {}", misspelt.join("; ")));
                continue;
            }
            if let Some(err) = expected.get("ParseError").and_then(Value::as_str) {
                match parse_case(case) {
                    Ok(_) => failures.push(format!(
                        "{label}: expected a parse error containing `{err}`"
                    )),
                    Err(e) if !e.to_string().contains(err) => failures.push(format!(
                        "{label}: parse error `{e}` does not contain `{err}`"
                    )),
                    Err(_) => {}
                }
                continue;
            }
            let parsed = match parse_case(case) {
                Ok(c) => c,
                Err(e) => {
                    failures.push(format!("{label}: {e}"));
                    continue;
                }
            };
            let outcome = run_case(&parsed);
            let Some(report) = outcome.report else {
                failures.push(format!("{label}: no report"));
                continue;
            };
            let mut problems = check(&report, expected);
            // The engine invariant: no gate's outcome contradicts its blocking flags.
            let evaluation = evaluate(&parsed.request, &parsed.policies);
            for g in evaluation.gates.iter().filter(|g| !g.is_consistent()) {
                problems.push(format!(
                    "gate {:?} (level {:?}) has outcome {:?} with blocking {} / missing allow {}",
                    g.kind, g.level, g.outcome, g.blocking, g.missing_allow
                ));
            }
            // Every conclusive denial gets a fix that the engine confirms.
            let result = diagnose(
                "scenario",
                &[(parsed.request.clone(), parsed.policies.clone())],
                None,
            );
            if report.conclusive
                && format!("{:?}", report.decision) != "Allowed"
                && result.fix_verified != Some(true)
            {
                problems.push(format!(
                    "fix not verified: {} remaining {:?}; adds {}",
                    result.assessment_result.as_str(),
                    result.fix_remaining,
                    serde_json::to_string(&result.result_details.policies_to_add)
                        .unwrap_or_default()
                ));
            }
            problems.extend(what_users_read(&parsed, &report, &result));
            if let Some(a) = expected.get("Assessment").and_then(Value::as_str) {
                if result.assessment_result.as_str() != a {
                    problems.push(format!(
                        "assessment: expected `{a}`, got `{}`",
                        result.assessment_result.as_str()
                    ));
                }
            }
            if let Some(r) = expected.get("AllReasons") {
                let want: Vec<String> = r
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let got: Vec<String> = result
                    .all_reasons
                    .iter()
                    .map(|a| a.as_str().to_string())
                    .collect();
                if want != got {
                    problems.push(format!("all reasons: expected {want:?}, got {got:?}"));
                }
            }
            if !problems.is_empty() {
                failures.push(format!("{label}:\n    {}", problems.join("\n    ")));
            }
        }
    }
    eprintln!("{count} engine scenarios in {} files", files.len());
    assert!(
        failures.is_empty(),
        "{} of {count} scenarios failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count > 0, "no scenarios found under {}", root.display());
}
