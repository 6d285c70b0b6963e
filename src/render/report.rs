//! The digest people read (`access-undenied report`): for a set of results (an `analyze`
//! output file, or `history` JSON lines), the denials by `AssessmentResult`, the top findings
//! (principal, action, resource, cause) with their fixes, the most denied accounts and
//! principals, and the events where AWS's evidence and the engine disagreed — as Markdown for
//! email and tickets, or as one self-contained HTML page with a daily chart (inline SVG, no
//! scripts). Pure: results in, text out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

/// How many rows each "top" table shows.
const TOP: usize = 10;

/// One finding: the same principal, action, resource and cause.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FindingKey {
    principal: String,
    action: String,
    resource: String,
    assessment: String,
}

/// What the report counts.
#[derive(Debug, Default)]
pub struct Digest {
    pub events: usize,
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    by_assessment: BTreeMap<String, usize>,
    by_day: BTreeMap<String, usize>,
    by_account: BTreeMap<String, usize>,
    by_principal: BTreeMap<String, usize>,
    findings: BTreeMap<FindingKey, (usize, String)>,
    disagreements: Vec<(String, String)>,
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("-")
        .to_string()
}

/// The fix of a result in one line: the policy to add, or the statement to remove.
fn fix_of(r: &Value) -> String {
    if let Some(add) = r.pointer("/ResultDetails/PoliciesToAdd/0") {
        return format!(
            "add to {}: {}",
            text(add, "/AttachmentTargetArn"),
            add.get("Policy").map(Value::to_string).unwrap_or_default()
        );
    }
    if let Some(deny) = r.pointer("/ResultDetails/ExplicitDenyPolicies/0") {
        return format!(
            "remove or narrow in {} ({}): {}",
            text(deny, "/PolicyName"),
            text(deny, "/PolicyArn"),
            deny.get("PolicyStatement")
                .map(Value::to_string)
                .unwrap_or_default()
        );
    }
    r.get("ErrorMessage")
        .and_then(Value::as_str)
        .unwrap_or("-")
        .to_string()
}

impl Digest {
    /// Counts `results` whose day (from the request's `aws:CurrentTime`) is within the range
    /// (`YYYY-MM-DD`, inclusive; a result without a time counts when no range is given).
    pub fn of(results: &[Value], since: Option<&str>, until: Option<&str>) -> Digest {
        let mut d = Digest::default();
        for r in results {
            let day = r
                .pointer("/Request/0/Context/aws:currenttime")
                .and_then(Value::as_str)
                .and_then(|t| t.get(..10))
                .map(str::to_string);
            let in_range = match &day {
                Some(day) => {
                    since.is_none_or(|s| day.as_str() >= s)
                        && until.is_none_or(|u| day.as_str() <= u)
                }
                None => since.is_none() && until.is_none(),
            };
            if !in_range {
                continue;
            }
            d.events += 1;
            let assessment = text(r, "/AssessmentResult");
            *d.by_assessment.entry(assessment.clone()).or_default() += 1;
            if let Some(day) = &day {
                *d.by_day.entry(day.clone()).or_default() += 1;
                if d.first_day.as_ref().is_none_or(|f| day < f) {
                    d.first_day = Some(day.clone());
                }
                if d.last_day.as_ref().is_none_or(|l| day > l) {
                    d.last_day = Some(day.clone());
                }
            }
            let principal = text(r, "/Request/0/Principal");
            let account = r
                .pointer("/Request/0/Context/aws:principalaccount")
                .and_then(Value::as_str)
                .unwrap_or("-")
                .to_string();
            *d.by_account.entry(account).or_default() += 1;
            *d.by_principal.entry(principal.clone()).or_default() += 1;
            let key = FindingKey {
                principal,
                action: text(r, "/Request/0/Action"),
                resource: text(r, "/Request/0/Resource"),
                assessment,
            };
            let entry = d.findings.entry(key).or_insert_with(|| (0, fix_of(r)));
            entry.0 += 1;
            if r.pointer("/Evidence/EngineAgrees") == Some(&Value::Bool(false)) {
                let notes = r
                    .pointer("/Evidence/Notes")
                    .and_then(Value::as_array)
                    .map(|n| {
                        n.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                d.disagreements.push((text(r, "/EventId"), notes));
            }
        }
        d
    }

    fn top(map: &BTreeMap<String, usize>) -> Vec<(&String, usize)> {
        let mut v: Vec<(&String, usize)> = map.iter().map(|(k, n)| (k, *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.truncate(TOP);
        v
    }

    fn top_findings(&self) -> Vec<(&FindingKey, usize, &String)> {
        let mut v: Vec<(&FindingKey, usize, &String)> = self
            .findings
            .iter()
            .map(|(k, (n, fix))| (k, *n, fix))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.truncate(TOP);
        v
    }

    fn period(&self) -> String {
        match (&self.first_day, &self.last_day) {
            (Some(a), Some(b)) if a == b => a.clone(),
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => "all results".to_string(),
        }
    }

    /// The Markdown digest.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Access denied: {}\n", self.period());
        let _ = writeln!(
            s,
            "{} denials, {} distinct findings, {} where AWS's evidence and the engine disagree.\n",
            self.events,
            self.findings.len(),
            self.disagreements.len()
        );
        let _ = writeln!(s, "## By cause\n\n| cause | denials |\n|---|---:|");
        for (a, n) in Self::top(&self.by_assessment) {
            let _ = writeln!(s, "| {} | {n} |", md(a));
        }
        let _ = writeln!(
            s,
            "\n## Top findings\n\n| denials | principal | action | resource | cause | fix |\n|---:|---|---|---|---|---|"
        );
        for (k, n, fix) in self.top_findings() {
            let _ = writeln!(
                s,
                "| {n} | `{}` | `{}` | `{}` | {} | {} |",
                md(&k.principal),
                md(&k.action),
                md(&k.resource),
                md(&k.assessment),
                md(fix)
            );
        }
        for (title, map) in [
            ("Most denied accounts", &self.by_account),
            ("Most denied principals", &self.by_principal),
        ] {
            let _ = writeln!(s, "\n## {title}\n\n| | denials |\n|---|---:|");
            for (k, n) in Self::top(map) {
                let _ = writeln!(s, "| `{}` | {n} |", md(k));
            }
        }
        if !self.disagreements.is_empty() {
            let _ = writeln!(s, "\n## AWS and the engine disagree\n");
            for (id, notes) in &self.disagreements {
                let _ = writeln!(s, "- `{}`: {}", md(id), md(notes));
            }
        }
        s
    }

    /// One self-contained HTML page: the same tables and a daily bar chart in inline SVG.
    pub fn html(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Access denied: {p}</title>\
             <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}\
             td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}\
             table{{max-width:100%}}code{{font-size:90%;overflow-wrap:anywhere;word-break:break-word}}</style></head><body><h1>Access denied: {p}</h1>",
            p = esc(&self.period())
        );
        let _ = write!(
            s,
            "<p>{} denials, {} distinct findings, {} where AWS's evidence and the engine disagree.</p>",
            self.events,
            self.findings.len(),
            self.disagreements.len()
        );
        s.push_str(&self.chart());
        let _ = write!(
            s,
            "<h2>By cause</h2><table><tr><th>cause</th><th>denials</th></tr>"
        );
        for (a, n) in Self::top(&self.by_assessment) {
            let _ = write!(s, "<tr><td>{}</td><td>{n}</td></tr>", esc(a));
        }
        let _ = write!(
            s,
            "</table><h2>Top findings</h2><table><tr><th>denials</th><th>principal</th><th>action</th><th>resource</th><th>cause</th><th>fix</th></tr>"
        );
        for (k, n, fix) in self.top_findings() {
            let _ = write!(
                s,
                "<tr><td>{n}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&k.principal),
                esc(&k.action),
                esc(&k.resource),
                esc(&k.assessment),
                esc(fix)
            );
        }
        s.push_str("</table>");
        for (title, map) in [
            ("Most denied accounts", &self.by_account),
            ("Most denied principals", &self.by_principal),
        ] {
            let _ = write!(s, "<h2>{title}</h2><table>");
            for (k, n) in Self::top(map) {
                let _ = write!(s, "<tr><td><code>{}</code></td><td>{n}</td></tr>", esc(k));
            }
            s.push_str("</table>");
        }
        if !self.disagreements.is_empty() {
            s.push_str("<h2>AWS and the engine disagree</h2><ul>");
            for (id, notes) in &self.disagreements {
                let _ = write!(s, "<li><code>{}</code>: {}</li>", esc(id), esc(notes));
            }
            s.push_str("</ul>");
        }
        s.push_str("</body></html>\n");
        s
    }

    /// Denials per day as SVG bars.
    fn chart(&self) -> String {
        if self.by_day.is_empty() {
            return String::new();
        }
        let max = self.by_day.values().copied().max().unwrap_or(1).max(1);
        let (bar, gap, height) = (24usize, 8usize, 120usize);
        let width = self.by_day.len() * (bar + gap) + gap;
        let mut s = format!(
            "<h2>Per day</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" role=\"img\" aria-label=\"denials per day\">",
            height + 40
        );
        for (i, (day, n)) in self.by_day.iter().enumerate() {
            let h = n * height / max;
            let x = gap + i * (bar + gap);
            let _ = write!(
                s,
                "<rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{h}\" fill=\"#c0392b\"><title>{} {n}</title></rect>\
                 <text x=\"{}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{}</text>",
                height - h + 10,
                esc(day),
                x + bar / 2,
                height + 25,
                esc(day.get(5..).unwrap_or(day))
            );
        }
        s.push_str("</svg>");
        s
    }
}

/// Markdown table cells: no pipes or line breaks.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(id: &str, day: &str, who: &str, assessment: &str, agrees: Value) -> Value {
        json!({
            "EventId": id,
            "AssessmentResult": assessment,
            "ResultDetails": {"ExplicitDenyPolicies": [], "PoliciesToAdd": [
                {"AttachmentTargetArn": who, "Policy": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}]}}
            ]},
            "Request": [{"Principal": who, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k",
                "Context": {"aws:currenttime": format!("{day}T10:00:00Z"), "aws:principalaccount": "111122223333"}}],
            "Evidence": {"EngineAgrees": agrees, "Notes": ["AWS said allow | <b>"]}
        })
    }

    #[test]
    fn counts_findings_days_and_disagreements() {
        let bob = "arn:aws:iam::111122223333:user/bob";
        let rs = vec![
            result(
                "e1",
                "2026-11-20",
                bob,
                "Missing allow in an identity-based policy",
                Value::Null,
            ),
            result(
                "e2",
                "2026-11-20",
                bob,
                "Missing allow in an identity-based policy",
                json!(true),
            ),
            result(
                "e3",
                "2026-11-21",
                "arn:aws:iam::111122223333:user/eve",
                "Error",
                json!(false),
            ),
        ];
        let d = Digest::of(&rs, None, None);
        assert_eq!(d.events, 3);
        assert_eq!(d.findings.len(), 2);
        assert_eq!(d.period(), "2026-11-20 to 2026-11-21");
        let md = d.markdown();
        assert!(
            md.contains("| 2 | `arn:aws:iam::111122223333:user/bob` | `s3:GetObject`"),
            "{md}"
        );
        assert!(md.contains("## AWS and the engine disagree"));
        assert!(md.contains("AWS said allow \\| <b>"), "pipes escaped: {md}");
        let html = d.html();
        assert!(html.starts_with("<!doctype html>"));
        assert!(!html.contains("<script"));
        assert!(html.contains("&lt;b&gt;"), "escaped");
        assert_eq!(html.matches("<rect ").count(), 2, "one bar per day");
        let one_day = Digest::of(&rs, Some("2026-11-21"), Some("2026-11-21"));
        assert_eq!(one_day.events, 1);
        assert_eq!(one_day.period(), "2026-11-21");
    }
}
