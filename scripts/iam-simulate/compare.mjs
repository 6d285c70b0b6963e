// Compares the outputs of the `simulate_throughput` example (ours) and scripts/iam-simulate/iamsim.mjs
// (iam-simulate) for scripts/bench vs-iam-simulate: one table row per group, then every
// disagreement with its explanation.
//   node compare.mjs OURS.jsonl THEIRS.jsonl CASES.ndjson
// A disagreement is "documented" when it is one of the known modelling differences below and the
// script has checked it on the case itself; anything else is listed as UNEXPLAINED.

import { readFileSync } from 'node:fs';

const [oursPath, theirsPath, casesPath] = process.argv.slice(2);
const lines = (p) => readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const ours = lines(oursPath);
const theirs = new Map(lines(theirsPath).map((t) => [t.Group, t]));
const cases = lines(casesPath);

const fmtRate = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));
const fmtTime = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);
const pct = (a, n) => `${a}/${n} (${((100 * a) / n).toFixed(1)}%)`;

const rows = [];
const disagreements = [];
let version = '?';
for (const o of ours) {
  const t = theirs.get(o.Group);
  if (!t) throw new Error(`iam-simulate produced no result for group ${o.Group}`);
  version = t.Version;
  const groupCases = cases.filter((c) => (c.Group ?? 'default') === o.Group);
  let agree = 0;
  let documented = 0;
  o.Results.forEach((mine, i) => {
    const theirsRaw = t.Results[i];
    if (mine === theirsRaw) {
      agree++;
      return;
    }
    const c = groupCases[i];
    let why;
    let known = false;
    if (t.ResultsWithPrincipalKeys[i] === mine) {
      known = true;
      const keys = t.PrincipalKeysAdded[i];
      why =
        `D1 principal keys: iam-simulate takes ${keys.join(', ')} only from the request's context ` +
        `variables; AWS sets ${keys.length > 1 ? 'them' : 'it'} from the principal on every request and so does our engine. ` +
        `With ${keys.map((k) => `${k}=${JSON.stringify(principalValue(c, k))}`).join(', ')} supplied, iam-simulate also says ${mine}.`;
    } else if (theirsRaw.startsWith('Error')) {
      why = `iam-simulate rejected the input: ${theirsRaw.slice(0, 300)}`;
    } else {
      why = 'not explained by a documented difference';
    }
    if (known) documented++;
    disagreements.push({ group: o.Group, name: c?.Name ?? `#${i}`, c, mine, theirs: theirsRaw, why, known });
  });
  const n = o.Results.length;
  rows.push([
    o.Group, n, fmtRate(o.DecisionsPerSec), fmtTime(o.NsPerDecision), fmtRate(t.DecisionsPerSec), fmtTime(t.NsPerDecision),
    `${Math.round(o.DecisionsPerSec / t.DecisionsPerSec).toLocaleString('en-US')}×`,
    pct(agree, n), pct(agree + documented, n),
  ]);
}

function principalValue(c, key) {
  const arn = c?.Request?.Principal?.Arn ?? c?.Request?.Principal ?? '';
  const [, , service, , account, rest = ''] = arn.split(':');
  if (key === 'aws:PrincipalAccount') return account;
  if (key === 'aws:username') return rest.split('/').pop();
  if (key === 'aws:PrincipalType') return service === 'sts' ? 'AssumedRole' : 'User';
  if (key === 'aws:PrincipalArn') return service === 'sts' ? `arn:aws:iam::${account}:role/${rest.split('/')[1]}` : arn;
  return '?';
}

const header = ['case', 'requests', 'ours decisions/s', 'ours per decision', 'iam-simulate decisions/s', 'iam-simulate per decision', 'ratio', 'same decision', 'same outside documented differences'];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log();
console.log(`iam-simulate ${version} (runSimulation, strict mode, Node ${process.version}); ours: release build, one thread.`);
console.log();
if (disagreements.length === 0) {
  console.log('No disagreements.');
} else {
  const unexplained = disagreements.filter((d) => !d.known).length;
  console.log(`Disagreements: ${disagreements.length} (${disagreements.length - unexplained} documented, ${unexplained} UNEXPLAINED)`);
  for (const d of disagreements) {
    const r = d.c?.Request ?? {};
    console.log(
      `- ${d.group}/${d.name}: ${r.Principal?.Arn ?? r.Principal} ${r.Action} ${r.Resource} — ours ${d.mine}, iam-simulate ${d.theirs.slice(0, 60)}` +
        `${d.known ? '' : ' [UNEXPLAINED]'}\n    ${d.why}`,
    );
  }
}
