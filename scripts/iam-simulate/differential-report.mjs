// Compares our `simulate` output with scripts/iam-simulate/diffsim.mjs's for scripts/differential:
// agreement overall and per family, every disagreement put in the first class of
// scripts/iam-simulate/classes.mjs whose matcher accepts it, the per-class counts with their
// verdicts, and the unexplained ones (listed; exit status 1 when there are any).
//   node differential-report.mjs CASES.ndjson OURS.ndjson THEIRS.jsonl [DISAGREEMENTS_OUT.ndjson]

import { readFileSync, writeFileSync } from 'node:fs';
import { CLASSES, documentedVarDecision } from './classes.mjs';
import { documentedDecision } from './oracle.mjs';

const [casesPath, oursPath, theirsPath, outPath] = process.argv.slice(2);
const lines = (p) => readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const cases = lines(casesPath);
const ours = lines(oursPath);
const theirs = lines(theirsPath);
if (ours.length !== cases.length || theirs.length !== cases.length) {
  console.error(`differential: ${cases.length} cases, ${ours.length} results of ours, ${theirs.length} of iam-simulate`);
  process.exit(2);
}

const ourDecision = (o) => (o.Error ? `Error: ${o.Error}` : o.Decision);
const pct = (a, n) => `${((100 * a) / n).toFixed(2)}%`;
const byClass = new Map(CLASSES.map((k) => [k.id, []]));
const unexplained = [];
const perGroup = new Map();
let agree = 0;
const out = [];
cases.forEach((c, i) => {
  const o = ours[i];
  const t = theirs[i];
  if (t.Name !== c.Name || (o.Name !== undefined && o.Name !== c.Name)) throw new Error(`results out of order at line ${i + 1}`);
  const family = c.Group.split('/')[0];
  const g = perGroup.get(family) ?? { n: 0, agree: 0 };
  g.n++;
  perGroup.set(family, g);
  const mine = ourDecision(o);
  if (mine === t.Decision) {
    agree++;
    g.agree++;
    return;
  }
  const ctx = { c, o, t, ours: mine, theirs: t.Decision };
  const k = CLASSES.find((k) => {
    try {
      return k.match(ctx);
    } catch {
      return false;
    }
  });
  const row = { Name: c.Name, Group: c.Group, Feature: c.Feature, Ours: mine, Theirs: t.Decision, TheirsWithoutKeys: t.DecisionWithoutKeys,
    Conclusive: o.Conclusive, Class: k?.id ?? 'UNEXPLAINED' };
  out.push(row);
  if (k) byClass.get(k.id).push(row);
  else unexplained.push(row);
});
if (outPath) writeFileSync(outPath, out.map((r) => JSON.stringify(r)).join('\n') + (out.length ? '\n' : ''));

const n = cases.length;
const version = theirs[0]?.Version ?? '?';
console.log(`iam-simulate ${version}; ${n} cases; same decision ${agree} (${pct(agree, n)}); disagreements ${n - agree}; unexplained ${unexplained.length}`);
const ignored = theirs.filter((t) => (t.IgnoredContextKeys ?? []).length).length;
const errors = theirs.filter((t) => t.Decision.startsWith('Error')).length + ours.filter((o) => o.Error).length;
const inconclusive = ours.filter((o) => o.Conclusive === false).length;
console.log(`cases where iam-simulate ignored a context key: ${ignored}; cases either tool rejected: ${errors}; ours inconclusive (an unevaluable statement; its Decision is compared): ${inconclusive}`);
// Against the documented model (oracle.mjs) on the cases it decides, agreeing or not: a case where
// both tools agree with each other but not with the model is no disagreement, yet worth a look.
let decided = 0, oursDoc = 0, theirsDoc = 0;
const bothOff = [];
cases.forEach((c, i) => {
  const f = c.Group.split('/')[0];
  let d;
  try {
    d = ['cond', 'setop'].includes(f) ? documentedDecision(c) : f === 'var' ? documentedVarDecision(c) : undefined;
  } catch {
    d = undefined;
  }
  if (d === undefined) return;
  decided++;
  if (ourDecision(ours[i]) === d) oursDoc++;
  if (theirs[i].Decision === d) theirsDoc++;
  if (ourDecision(ours[i]) !== d && theirs[i].Decision !== d) bothOff.push(`${c.Name} [${c.Feature}]: documented ${d}, ours ${ourDecision(ours[i])}, iam-simulate ${theirs[i].Decision}`);
});
console.log(`documented model (oracle.mjs) decides ${decided} cases: ours agrees on ${oursDoc} (${pct(oursDoc, decided)}), iam-simulate on ${theirsDoc} (${pct(theirsDoc, decided)}); both differ from it on ${bothOff.length}`);
for (const b of bothOff.slice(0, 20)) console.log(`  both differ from the model: ${b}`);
console.log();
console.log('| family | cases | same decision |');
console.log('|---|---:|---:|');
for (const [f, g] of perGroup) console.log(`| ${f} | ${g.n} | ${g.agree} (${pct(g.agree, g.n)}) |`);
console.log();
console.log('| class | verdict | disagreements | what |');
console.log('|---|---|---:|---|');
for (const k of CLASSES) {
  const rows = byClass.get(k.id);
  if (rows.length) console.log(`| ${k.id} | ${k.verdict} | ${rows.length} | ${k.title} |`);
}
if (unexplained.length) console.log(`| UNEXPLAINED | — | ${unexplained.length} | not in any class |`);
console.log();
for (const k of CLASSES) {
  const rows = byClass.get(k.id);
  if (!rows.length) continue;
  const ex = rows[0];
  console.log(`${k.id} e.g. ${ex.Name} [${ex.Feature}]: ours ${ex.Ours}, iam-simulate ${ex.Theirs.slice(0, 100)}`);
}
if (unexplained.length) {
  console.log();
  console.log(`UNEXPLAINED (${unexplained.length}; first 30):`);
  for (const r of unexplained.slice(0, 30)) {
    console.log(`- ${r.Name} [${r.Feature}]: ours ${r.Ours}${r.Conclusive === false ? ' (inconclusive)' : ''}, iam-simulate ${r.Theirs.slice(0, 200)} (without keys: ${r.TheirsWithoutKeys.slice(0, 40)})`);
  }
  process.exit(1);
}
