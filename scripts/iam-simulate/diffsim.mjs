// Runs the NDJSON `simulate` documents of scripts/iam-simulate/semantic-cases.mjs through
// @cloud-copilot/iam-simulate (installed by scripts/differential into a scratch folder, never
// vendored: AGPL) and prints one JSON line per case:
//   {"Name", "Decision", "DecisionWithoutKeys", "KeysAdded", "IgnoredContextKeys", "Version"}
//   node diffsim.mjs MODULE_DIR CASES.ndjson
// `Decision` is iam-simulate's answer (`runSimulation`, strict mode) with the principal keys AWS
// documents added to the request context (translate.mjs, documentedPrincipalKeys) where the case
// does not give them, since iam-simulate takes them only from the context; `DecisionWithoutKeys`
// is its answer to the bare translation. Decisions: Allowed, ExplicitDeny, ImplicitDeny or
// `Error: ...` (iam-simulate rejected the input).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { toSimulation, withDocumentedKeys } from './translate.mjs';

const [moduleDir, casesPath] = process.argv.slice(2);
const require = createRequire(join(moduleDir, 'package.json'));
const { runSimulation } = require('@cloud-copilot/iam-simulate');
const version = JSON.parse(readFileSync(join(moduleDir, 'node_modules/@cloud-copilot/iam-simulate/package.json'), 'utf8')).version;

const DECISION = { Allowed: 'Allowed', ExplicitlyDenied: 'ExplicitDeny', ImplicitlyDenied: 'ImplicitDeny' };
const decisionOf = (res) =>
  res.resultType === 'error' ? `Error: ${JSON.stringify(res.errors)}` : DECISION[res.overallResult] ?? `Unknown: ${res.overallResult}`;
const ignoredOf = (res) =>
  res.resultType === 'single' ? res.result.ignoredContextKeys ?? [] : res.resultType === 'wildcard' ? [...new Set(res.results.flatMap((x) => x.ignoredContextKeys ?? []))] : [];

async function run(sim) {
  try {
    return await runSimulation(sim, {});
  } catch (e) {
    return { resultType: 'error', errors: { thrown: String(e?.message ?? e) } };
  }
}

for (const line of readFileSync(casesPath, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const c = JSON.parse(line);
  const bare = toSimulation(c);
  const [sim, added] = withDocumentedKeys(bare, c);
  const res = await run(sim);
  const raw = added.length ? await run(bare) : res;
  process.stdout.write(JSON.stringify({
    Name: c.Name, Decision: decisionOf(res), DecisionWithoutKeys: decisionOf(raw), KeysAdded: added,
    IgnoredContextKeys: ignoredOf(res), Version: version,
  }) + '\n');
}
