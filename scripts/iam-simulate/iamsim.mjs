// Runs the NDJSON `simulate` documents of scripts/iam-simulate/cases.mjs through @cloud-copilot/iam-simulate
// (installed by scripts/bench vs-iam-simulate into a scratch folder, never vendored: AGPL) and
// prints one JSON line per group in the same shape as the `simulate_throughput` example:
// {"Group","Cases","Decisions","Seconds","DecisionsPerSec","NsPerDecision","Results",...}.
//   node iamsim.mjs MODULE_DIR CASES.ndjson [SECONDS]
// Timing: `await runSimulation(sim, {})` (the validated public API, strict mode) in whole passes
// over the group, one at a time on the main thread, after a warm-up of a fifth of SECONDS.
// Conversion into iam-simulate's `Simulation` is done once, outside the timed loop.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { toSimulation } from './translate.mjs';

const [moduleDir, casesPath, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 2);
const require = createRequire(join(moduleDir, 'package.json'));
const { runSimulation } = require('@cloud-copilot/iam-simulate');
const version = JSON.parse(readFileSync(join(moduleDir, 'node_modules/@cloud-copilot/iam-simulate/package.json'), 'utf8')).version;

// The translation into iam-simulate's input is shared with scripts/differential.
const DECISION = { Allowed: 'Allowed', ExplicitlyDenied: 'ExplicitDeny', ImplicitlyDenied: 'ImplicitDeny' };
const decisionOf = (res) =>
  res.resultType === 'error' ? `Error: ${JSON.stringify(res.errors)}` : DECISION[res.overallResult] ?? `Unknown: ${res.overallResult}`;

// The global keys AWS puts in every request context from the principal, which our engine derives
// (README, "Simulate input") and iam-simulate takes only from `contextVariables`. Each case is also
// run once more with these added (untimed), so that a disagreement caused by them alone can be
// told apart from a real one.
function principalKeys(arn) {
  const out = {};
  const [, , service, , account, rest = ''] = (arn ?? '').split(':');
  if (!account) return out;
  out['aws:PrincipalAccount'] = account;
  if (service === 'sts' && rest.startsWith('assumed-role/')) {
    out['aws:PrincipalArn'] = `arn:aws:iam::${account}:role/${rest.split('/')[1]}`;
    out['aws:PrincipalType'] = 'AssumedRole';
  } else if (service === 'iam' && rest.startsWith('user/')) {
    out['aws:PrincipalArn'] = arn;
    out['aws:PrincipalType'] = 'User';
    out['aws:username'] = rest.split('/').pop();
  } else if (service === 'iam' && rest === 'root') {
    out['aws:PrincipalArn'] = arn;
    out['aws:PrincipalType'] = 'Account';
  }
  return out;
}
function withPrincipalKeys(sim) {
  const s = structuredClone(sim);
  const have = new Set(Object.keys(s.request.contextVariables).map((k) => k.toLowerCase()));
  const added = [];
  for (const [k, v] of Object.entries(principalKeys(s.request.principal))) {
    if (!have.has(k.toLowerCase())) {
      s.request.contextVariables[k] = v;
      added.push(k);
    }
  }
  return [s, added];
}

const groups = new Map();
for (const line of readFileSync(casesPath, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const c = JSON.parse(line);
  const g = c.Group ?? 'default';
  if (!groups.has(g)) groups.set(g, []);
  groups.get(g).push({ name: c.Name, sim: toSimulation(c) });
}

async function run(sims, ms) {
  const start = process.hrtime.bigint();
  let decisions = 0;
  for (;;) {
    for (const s of sims) await runSimulation(s, {});
    decisions += sims.length;
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (elapsed >= ms) return [decisions, elapsed / 1000];
  }
}

for (const [group, cases] of groups) {
  const results = [];
  const ignored = [];
  const withKeys = [];
  const addedKeys = [];
  for (const c of cases) {
    const res = await runSimulation(c.sim, {});
    results.push(decisionOf(res));
    const [sim2, added] = withPrincipalKeys(c.sim);
    const second = added.length ? decisionOf(await runSimulation(sim2, {})) : results.at(-1);
    withKeys.push(second);
    // When the added keys change the decision, which of them does it on its own.
    const deciding = [];
    if (second !== results.at(-1)) {
      for (const k of added) {
        const one = structuredClone(c.sim);
        one.request.contextVariables[k] = sim2.request.contextVariables[k];
        if (decisionOf(await runSimulation(one, {})) === second) deciding.push(k);
      }
    }
    addedKeys.push(deciding.length ? deciding : added);
    const keys = res.resultType === 'single' ? res.result.ignoredContextKeys ?? [] : res.resultType === 'wildcard' ? res.results.flatMap((x) => x.ignoredContextKeys ?? []) : [];
    ignored.push(keys);
  }
  const sims = cases.map((c) => c.sim);
  await run(sims, (seconds * 1000) / 5);
  const [decisions, secs] = await run(sims, seconds * 1000);
  console.log(JSON.stringify({
    Group: group, Cases: cases.length, Decisions: decisions, Seconds: secs,
    DecisionsPerSec: decisions / secs, NsPerDecision: (secs * 1e9) / decisions,
    Results: results, IgnoredContextKeys: ignored, Version: version,
    ResultsWithPrincipalKeys: withKeys, PrincipalKeysAdded: addedKeys,
  }));
}
