// The translation of our `simulate` documents (README, "Simulate input") into iam-simulate's
// `Simulation` input, shared by scripts/iam-simulate/iamsim.mjs (scripts/bench vs-iam-simulate)
// and scripts/iam-simulate/diffsim.mjs (scripts/differential). No iam-simulate code here (AGPL):
// only the shape of its public input.
//
// What the translation cannot carry (the "translation" classes of tests/differential/DIFFERENCES.md):
//   - iam-simulate takes a principal as one string: an ARN, a service principal name, or (for web
//     identity / SAML callers) the provider name; `RoleArn` (the role's path), `UserArn`,
//     `PrincipalId` and `ServiceLinked` are lost.
//   - iam-simulate has no `ManagementAccount` (SCP / RCP exemptions), no resource `Kind`, no
//     unknown context keys.
//   - context keys iam-simulate's data does not list for the action are ignored by it.

export const accountOfArn = (arn) => (arn ?? '').split(':')[4] ?? '';

// `rcp`: iam-simulate attaches RCPFullAWSAccess to every level itself and rejects an RCP with an
// Allow statement, so the all-allowing RCP is left out of what it is given (same semantics).
const isFullRcp = (p) =>
  (p.Document ?? p).Statement?.every?.((s) => s.Effect === 'Allow' && s.Action === '*' && s.Resource === '*');
const levels = (ls, rcp = false) =>
  (ls ?? []).map((l) => ({
    orgIdentifier: l.Node,
    policies: (l.Policies ?? [])
      .filter((p) => !(rcp && isFullRcp(p)))
      .map((p, j) => ({ name: p.Name ?? `${l.Node}-policy-${j}`, policy: p.Document ?? p })),
  }));

/** The principal as iam-simulate takes it: an ARN, a service name, a provider, or anonymous. */
export function principalString(p) {
  if (p === undefined || p === null) return { type: 'Anonymous' };
  if (typeof p === 'string') return p;
  if (p.Type === 'Anonymous') return { type: 'Anonymous' };
  if (p.Type === 'Service' || (!p.Type && p.Service)) return p.Service;
  if (p.Type === 'WebIdentityUser' || p.Type === 'SamlUser') return p.FederatedProvider ?? p.Arn;
  return p.Arn;
}

export function toSimulation(c) {
  const r = c.Request;
  const p = c.Policies ?? {};
  const principal = principalString(r.Principal);
  const principalArn = typeof principal === 'string' ? principal : undefined;
  const contextVariables = {};
  for (const [k, v] of Object.entries(r.Context ?? {})) {
    contextVariables[k] = Array.isArray(v) ? v.map(String) : String(v);
  }
  const sim = {
    request: {
      principal,
      action: r.Action,
      resource: { resource: r.Resource ?? '*', accountId: r.ResourceAccount ?? accountOfArn(principalArn) },
      contextVariables,
    },
    identityPolicies: [].concat(p.Identity ?? []).map((x, i) => ({ name: x.Name ?? `IdentityPolicy${i}`, policy: x.Document ?? x })),
    serviceControlPolicies: levels(p.Scps),
    resourceControlPolicies: levels(p.Rcps, true),
  };
  if (p.PermissionsBoundary) {
    const b = p.PermissionsBoundary;
    sim.permissionBoundaryPolicies = [{ name: b.Name ?? 'PermissionsBoundary', policy: b.Document ?? b }];
  }
  if (p.Session && [].concat(p.Session).length) sim.sessionPolicy = [].concat(p.Session)[0].Document ?? [].concat(p.Session)[0];
  if (p.Resource?.Policy) sim.resourcePolicy = p.Resource.Policy.Document ?? p.Resource.Policy;
  if (p.VpcEndpoints) sim.vpcEndpointPolicies = [].concat(p.VpcEndpoints).map((x, i) => ({ name: `vpce-${i}`, policy: x.Document ?? x }));
  return sim;
}

/**
 * The principal keys AWS puts in the request context, with the values the IAM User Guide gives
 * ("AWS global condition context keys": aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType,
 * aws:userid, aws:username, aws:PrincipalIsAWSService, aws:PrincipalServiceName; "Policy
 * variables", the principal key values table), plus aws:ResourceAccount. iam-simulate takes them
 * only from the request's context variables; our engine derives them itself. Values the
 * documentation gives for a caller the document does not fully describe (no PrincipalId) are
 * left out.
 */
export function documentedPrincipalKeys(c) {
  const r = c.Request;
  const p = typeof r.Principal === 'string' ? { Arn: r.Principal } : r.Principal ?? { Type: 'Anonymous' };
  const out = {};
  const arn = p.Arn ?? '';
  const [, , service, , account, rest = ''] = arn.split(':');
  const type = p.Type ?? (p.Service ? 'Service' : rest === 'root' ? 'Root' : rest.startsWith('user/') ? 'User'
    : rest.startsWith('assumed-role/') ? 'AssumedRole' : rest.startsWith('federated-user/') ? 'FederatedUser' : arn ? 'User' : 'Anonymous');
  const acct = p.Account ?? account;
  switch (type) {
    case 'User':
      Object.assign(out, { 'aws:PrincipalArn': arn, 'aws:PrincipalAccount': acct, 'aws:PrincipalType': 'User',
        'aws:username': rest.split('/').pop(), 'aws:PrincipalIsAWSService': 'false' });
      if (p.PrincipalId) out['aws:userid'] = p.PrincipalId;
      break;
    case 'AssumedRole': {
      const roleArn = p.RoleArn ?? `arn:aws:iam::${acct}:role/${rest.split('/')[1]}`;
      Object.assign(out, { 'aws:PrincipalArn': roleArn, 'aws:PrincipalAccount': acct, 'aws:PrincipalType': 'AssumedRole',
        'aws:PrincipalIsAWSService': 'false' });
      if (p.PrincipalId) out['aws:userid'] = p.PrincipalId;
      break;
    }
    case 'FederatedUser':
      Object.assign(out, { 'aws:PrincipalArn': arn, 'aws:PrincipalAccount': acct, 'aws:PrincipalType': 'FederatedUser',
        'aws:userid': p.PrincipalId ?? `${acct}:${rest.split('/').pop()}`, 'aws:PrincipalIsAWSService': 'false' });
      break;
    case 'Root':
      Object.assign(out, { 'aws:PrincipalArn': arn || `arn:aws:iam::${acct}:root`, 'aws:PrincipalAccount': acct, 'aws:PrincipalType': 'Account',
        'aws:userid': acct, 'aws:PrincipalIsAWSService': 'false' });
      break;
    case 'Service':
      Object.assign(out, { 'aws:PrincipalIsAWSService': 'true', 'aws:PrincipalServiceName': p.Service });
      break;
    default:
      break;
  }
  const resourceAccount = r.ResourceAccount ?? (accountOfArn(r.Resource) || acct);
  if (resourceAccount) out['aws:ResourceAccount'] = resourceAccount;
  return out;
}

/** `sim` with the documented principal keys added where the case's Context does not give them. */
export function withDocumentedKeys(sim, c) {
  const s = structuredClone(sim);
  const have = new Set(Object.keys(s.request.contextVariables).map((k) => k.toLowerCase()));
  const added = [];
  for (const [k, v] of Object.entries(documentedPrincipalKeys(c))) {
    if (!have.has(k.toLowerCase()) && v !== undefined && v !== '') {
      s.request.contextVariables[k] = v;
      added.push(k);
    }
  }
  return [s, added];
}
