// Writes the cases of scripts/differential to stdout as NDJSON `simulate` documents (README,
// "Simulate input") with two extra fields, `Group` (the family) and `Feature` (what exactly the
// case exercises). Aimed at semantics, not throughput: every case is small and isolates one rule.
//   node scripts/iam-simulate/semantic-cases.mjs [COUNT] > cases.ndjson     (default 12,000)
//
// Families (each one a share of COUNT; the first cases of each family enumerate its whole grid,
// the rest are drawn from a fixed seed, so every run with the same COUNT is the same):
//   cond/<operator family>   one operator (String*, Arn*, Numeric*, Date*, Bool, IpAddress /
//                            NotIpAddress, Null, BinaryEquals), with and without IfExists, on a
//                            present or absent key, in an Allow or a Deny
//   setop/<key shape>        ForAnyValue / ForAllValues on empty, absent, single and multivalued keys
//   var/<where>              policy variables in each ARN field (partition, service, region,
//                            account, resource part), defaults, escapes, 2008-10-17, condition values
//   pkey/<principal type>    aws:userid, aws:username, aws:PrincipalArn, aws:PrincipalType,
//                            aws:PrincipalAccount, aws:PrincipalIsAWSService for the IAM user, role
//                            session, federated user, root, AWS service, web identity and SAML callers
//   not/<gate>/<element>     NotAction / NotResource in every gate (identity, resource, SCP, RCP,
//                            boundary, session) and NotPrincipal in resource policies
//   xacct/<same|cross>       same vs cross account × how the resource policy names the caller ×
//                            identity policy × permissions boundary × session policy × resource kind

import { prng } from './prng.mjs';

const COUNT = Number(process.argv[2] ?? 12000);

const { rand, pick, chance } = prng(0x0d1ff5ee);
const some = (xs, max = 2) => {
  const n = 1 + Math.floor(rand() * max);
  const out = [];
  for (let i = 0; i < n; i++) {
    const x = pick(xs);
    if (!out.includes(x)) out.push(x);
  }
  return out;
};
const one = (xs) => (xs.length === 1 ? xs[0] : xs);

const V12 = '2012-10-17';
const doc = (...Statement) => ({ Version: V12, Statement });
const named = (Name, Document) => ({ Name, Document });
const allowAll = (Name = 'AllowAll') => named(Name, doc({ Effect: 'Allow', Action: '*', Resource: '*' }));

const A = '111122223333'; // caller's account
const B = '444455556666'; // another account
const MGMT = '999999999999';
const REGION = 'us-east-1';

// ---- principals ----
const P = {
  user: (acct = A) => ({ Type: 'User', Arn: `arn:aws:iam::${acct}:user/division/alice`, PrincipalId: 'AIDAEXAMPLEALICE01' }),
  role: (acct = A) => ({
    Type: 'AssumedRole', Arn: `arn:aws:sts::${acct}:assumed-role/Reader/app-session`,
    RoleArn: `arn:aws:iam::${acct}:role/teams/Reader`, PrincipalId: 'AROAEXAMPLEREADER1:app-session',
  }),
  fed: (acct = A, withId = true) => ({
    Type: 'FederatedUser', Arn: `arn:aws:sts::${acct}:federated-user/bob`, UserArn: `arn:aws:iam::${acct}:user/bob`,
    ...(withId ? { PrincipalId: `${acct}:bob` } : {}),
  }),
  root: (acct = A) => ({ Type: 'Root', Arn: `arn:aws:iam::${acct}:root` }),
  service: () => ({ Type: 'Service', Service: 'cloudtrail.amazonaws.com' }),
  web: () => ({ Type: 'WebIdentityUser', FederatedProvider: 'cognito-identity.amazonaws.com' }),
  saml: (acct = A) => ({ Type: 'SamlUser', FederatedProvider: `arn:aws:iam::${acct}:saml-provider/ADFS` }),
};

// ---- resources (actions that iam-simulate's data knows, one resource type each) ----
const RES = {
  s3: (acct = A) => ({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::data-bucket/reports/q1.csv', Kind: 'S3Bucket',
    PolicyArn: 'arn:aws:s3:::data-bucket', PolicyResource: 'arn:aws:s3:::data-bucket/*', Account: acct }),
  sqs: (acct = A) => ({ Action: 'sqs:SendMessage', Resource: `arn:aws:sqs:${REGION}:${acct}:orders`, Kind: 'SqsQueue', Account: acct }),
  sns: (acct = A) => ({ Action: 'sns:Publish', Resource: `arn:aws:sns:${REGION}:${acct}:alerts`, Kind: 'SnsTopic', Account: acct }),
  secret: (acct = A) => ({ Action: 'secretsmanager:GetSecretValue', Resource: `arn:aws:secretsmanager:${REGION}:${acct}:secret:prod/db-AbCdEf`,
    Kind: 'SecretsManagerSecret', Account: acct }),
  kms: (acct = A) => ({ Action: 'kms:Decrypt', Resource: `arn:aws:kms:${REGION}:${acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    Kind: 'KmsKey', Account: acct }),
  lambda: (acct = A) => ({ Action: 'lambda:InvokeFunction', Resource: `arn:aws:lambda:${REGION}:${acct}:function:api`, Kind: 'LambdaFunction', Account: acct }),
};
const policyResourceOf = (r) => r.PolicyResource ?? r.Resource;

const out = [];
let families = {};
const emit = (group, feature, c) => {
  out.push({ Group: group, Feature: feature, ...c });
};

// A request with identity policies only, same account, the caller an IAM user.
function identityCase(group, feature, statements, context, extra = {}) {
  const r = RES.sqs();
  emit(group, feature, {
    Request: { Principal: extra.Principal ?? P.user(), Action: r.Action, Resource: r.Resource, ResourceAccount: r.Account, Context: context },
    Policies: { Identity: [named('Tested', { Version: extra.Version ?? V12, Statement: statements })], ...(extra.Session ? { Session: extra.Session } : {}) },
  });
}

// ---------------------------------------------------------------------------------------------
// cond/*: one condition operator per case.
const TEAM = 'aws:PrincipalTag/team';
const COND = {
  string: {
    ops: ['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike'],
    key: () => TEAM,
    ctx: ['blue', 'Blue', 'BLUE', 'blue-team', '', 'blu*', 'b?ue', 'Blüe', ' blue'],
    pol: ['blue', 'Blue', 'bl*', '*', 'b?ue', '', 'blue-*', '*team', 'BLUE', 'blu*', 'b*e'],
  },
  arn: {
    ops: ['ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike'],
    key: () => 'aws:SourceArn',
    ctx: [`arn:aws:sns:${REGION}:${A}:topic`, `arn:aws:sns:${REGION}:${A}:topic/sub`, 'arn:aws:s3:::bucket', `arn:aws-cn:sns:cn-north-1:${A}:topic`,
      'not-an-arn', `arn:aws:sns:${REGION}:${A}:Topic`, `arn:aws:sns:${REGION}:${B}:topic`, `arn:aws:sns:${REGION}:${A}:topic:extra`],
    pol: [`arn:aws:sns:${REGION}:${A}:topic`, `arn:aws:sns:*:${A}:*`, `arn:aws:sns:${REGION}:*:topic*`, 'arn:aws:*:*:*:*', 'arn:aws:s3:::bucket',
      `arn:aws:sns:${REGION}:${A}:*`, 'arn:*:sns:*:*:topic', '*', `arn:aws:sns:${REGION}:${A}:t?pic`, `arn:aws:sns:${REGION}:${A}:topic*`,
      'arn:aws:sns:*', `arn:aws:SNS:${REGION}:${A}:topic`],
  },
  numeric: {
    ops: ['NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals'],
    key: () => 'aws:MultiFactorAuthAge',
    ctx: ['0', '3600', '3599', '3601', '100.5', '-1', 'abc', '1e3', '007', '1000'],
    pol: ['3600', '0', '100.5', '1e3', '-1', '3600.0', 'abc', '07', '1000', 3600],
  },
  date: {
    ops: ['DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals'],
    key: () => pick(['aws:CurrentTime', 'aws:EpochTime', 'aws:TokenIssueTime']),
    ctx: ['2024-06-01T12:00:00Z', '2024-06-01T12:00:00.000Z', '2024-06-01', '2024-06-01T14:00:00+02:00', '1717243200', '1717243200000',
      'garbage', '2024-06-01T12:00:00'],
    pol: ['2024-06-01T12:00:00Z', '2024-06-01', '1717243200', '1717243199', '2024-06-01T12:00:01Z', '2024-06-01T12:00:00+00:00', '2025',
      '2024-06', '1717243200000', '2024-06-01T11:59:59Z', '2024-06-01T12:00:00.000Z', 1717243200],
  },
  bool: {
    ops: ['Bool'],
    key: () => pick(['aws:SecureTransport', 'aws:MultiFactorAuthPresent', 'aws:ViaAWSService']),
    ctx: ['true', 'false', 'True', 'TRUE', 'False', '1', 'yes', true, false],
    pol: [true, false, 'true', 'false', 'True', 'FALSE', '1'],
  },
  ip: {
    ops: ['IpAddress', 'NotIpAddress'],
    key: () => 'aws:SourceIp',
    ctx: ['203.0.113.7', '203.0.113.255', '203.0.114.0', '10.0.0.1', '2001:db8::1', '2001:db8:0:0:0:0:0:1', '::ffff:203.0.113.7',
      '2001:db9::1', 'not-an-ip', '203.0.113.128'],
    pol: ['203.0.113.0/24', '203.0.113.7/32', '203.0.113.7', '0.0.0.0/0', '203.0.113.128/25', '2001:db8::/32', '::/0', '2001:db8::1/128',
      '203.0.113.7/24', '10.0.0.0/8', '::ffff:203.0.113.0/120', '203.0.113.0/33', '2001:DB8::/32'],
  },
  null: {
    ops: ['Null'],
    key: () => pick([TEAM, 'aws:TagKeys', 'aws:SourceIp', 'aws:MultiFactorAuthAge']),
    ctx: ['value', '', [], ['a'], ['']],
    pol: [true, false, 'true', 'false', 'True'],
  },
  binary: {
    ops: ['BinaryEquals'],
    key: () => 'aws:PrincipalTag/blob',
    ctx: ['QmluYXJ5VmFsdWU=', 'binaryvalue', 'QmluYXJ5VmFsdWU', 'qmluyxj5vmfsdwu='],
    pol: ['QmluYXJ5VmFsdWU=', 'QmluYXJ5VmFsdWU', 'qmluyxj5vmfsdwu=', 'YmluYXJ5dmFsdWU='],
  },
};
const ctxFor = (fam, key) => {
  let v = pick(COND[fam].ctx);
  if (fam === 'null' && Array.isArray(v) && key !== 'aws:TagKeys') v = v[0] ?? '';
  if (fam === 'null' && !Array.isArray(v) && key === 'aws:TagKeys') v = [v];
  if (fam === 'null' && key === 'aws:SourceIp' && v === 'value') v = '203.0.113.7';
  if (fam === 'null' && key === 'aws:MultiFactorAuthAge' && v === 'value') v = '10';
  if (fam === 'date' && key === 'aws:EpochTime' && chance(0.6)) v = pick(['1717243200', '1717243199', '1717243201', '1717243200000']);
  return v;
};
function condCase(fam) {
  const spec = COND[fam];
  const ifExists = fam !== 'null' && chance(0.35);
  const op = pick(spec.ops) + (ifExists ? 'IfExists' : '');
  const key = spec.key();
  const present = chance(0.8);
  const context = present ? { [key]: ctxFor(fam, key) } : {};
  const values = one(some(spec.pol, 2));
  const deny = chance(0.35);
  const cond = { [op]: { [key]: values } };
  // A quarter of the cases add a second operator block (the blocks are ANDed).
  let extra = '';
  if (chance(0.25)) {
    const fam2 = pick(Object.keys(COND).filter((f) => f !== fam && f !== 'null'));
    const spec2 = COND[fam2];
    const key2 = spec2.key();
    if (key2.toLowerCase() !== key.toLowerCase()) {
      const op2 = pick(spec2.ops) + (chance(0.3) ? 'IfExists' : '');
      cond[op2] = { ...(cond[op2] ?? {}), [key2]: one(some(spec2.pol, 2)) };
      if (chance(0.8)) context[key2] = ctxFor(fam2, key2);
      extra = ` + ${op2}`;
    }
  }
  const stmts = deny
    ? [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }, { Sid: 'Tested', Effect: 'Deny', Action: 'sqs:SendMessage', Resource: '*', Condition: cond }]
    : [{ Sid: 'Tested', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*', Condition: cond }];
  identityCase(`cond/${fam}`, `${op}${present ? '' : ' (key absent)'}${extra} ${deny ? 'Deny' : 'Allow'}`, stmts, context);
}
families['cond'] = { weight: 40, gen: () => condCase(pick(Object.keys(COND))) };

// ---------------------------------------------------------------------------------------------
// setop/*: ForAnyValue / ForAllValues.
const SETKEYS = {
  multi: { key: 'aws:TagKeys', ctx: [[], ['a'], ['a', 'b'], ['A'], ['a', 'c'], ['b'], ['a', 'a']] },
  calledvia: { key: 'aws:CalledVia', ctx: [[], ['athena.amazonaws.com'], ['athena.amazonaws.com', 'glue.amazonaws.com'], ['s3.amazonaws.com']] },
  single: { key: TEAM, ctx: ['a', 'b', '', 'A'] },
};
const SETPOL = {
  multi: [['a'], ['a', 'b'], ['*'], ['b', 'c'], ['a*'], ['A'], ['']],
  calledvia: [['athena.amazonaws.com'], ['*.amazonaws.com'], ['glue.amazonaws.com', 'athena.amazonaws.com'], ['s3.amazonaws.com']],
  single: [['a'], ['a', 'b'], ['*'], ['b'], ['']],
};
function setopCase() {
  const shape = pick(Object.keys(SETKEYS));
  const { key, ctx } = SETKEYS[shape];
  const q = pick(['ForAnyValue', 'ForAllValues', 'none']);
  const base = pick(['StringEquals', 'StringLike', 'StringNotEquals', 'StringNotLike', 'StringEqualsIgnoreCase']);
  const op = (q === 'none' ? '' : `${q}:`) + base + (chance(0.25) ? 'IfExists' : '');
  const present = chance(0.8);
  const v = pick(ctx);
  const context = present ? { [key]: v } : {};
  const deny = chance(0.35);
  const cond = { [op]: { [key]: one(pick(SETPOL[shape])) } };
  const stmts = deny
    ? [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }, { Sid: 'Tested', Effect: 'Deny', Action: 'sqs:SendMessage', Resource: '*', Condition: cond }]
    : [{ Sid: 'Tested', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*', Condition: cond }];
  const shapeOf = !present ? 'absent' : Array.isArray(v) ? (v.length === 0 ? 'empty' : v.length === 1 ? 'single' : 'multi') : 'single-valued key';
  identityCase(`setop/${shape}`, `${op} on ${shapeOf} ${deny ? 'Deny' : 'Allow'}`, stmts, context);
}
families['setop'] = { weight: 12, gen: setopCase };

// ---------------------------------------------------------------------------------------------
// var/*: policy variables.
const VARCTX = () => {
  const c = { 'aws:PrincipalTag/team': 'blue', 'aws:PrincipalTag/svc': 'sqs', 'aws:PrincipalTag/part': 'aws', 'aws:RequestedRegion': REGION };
  if (chance(0.2)) delete c['aws:PrincipalTag/team'];
  return c;
};
const VARS = {
  partition: () => [`arn:\${aws:PrincipalTag/part}:sqs:${REGION}:${A}:*`, 'sqs'],
  service: () => [`arn:aws:\${aws:PrincipalTag/svc}:${REGION}:${A}:*`, 'sqs'],
  region: () => [`arn:aws:sqs:\${aws:RequestedRegion}:${A}:*`, 'sqs'],
  account: () => [`arn:aws:sqs:${REGION}:\${aws:PrincipalAccount}:*`, 'sqs'],
  resource: () => pick([
    [`arn:aws:sqs:${REGION}:${A}:\${aws:username}-queue`, 'sqs-alice'],
    [`arn:aws:sqs:${REGION}:${A}:\${aws:PrincipalTag/team}-queue`, 'sqs-blue'],
    [`arn:aws:sqs:${REGION}:${A}:\${aws:PrincipalTag/missing, 'alice'}-queue`, 'sqs-alice'],
    [`arn:aws:sqs:${REGION}:${A}:\${aws:PrincipalTag/team, 'alice'}-queue`, 'sqs-alice'],
    ['arn:aws:s3:::home/${aws:username}/*', 's3-alice'],
    ['arn:aws:s3:::home/${aws:userid}/*', 's3-userid'],
    ['arn:aws:s3:::home/a${*}b', 's3-star'],
    ['arn:aws:s3:::home/a${?}b', 's3-q'],
    ['arn:aws:s3:::home/a${$}b', 's3-dollar'],
    ['arn:aws:s3:::home/${aws:PrincipalTag/team}/*', 's3-blue'],
    ['arn:aws:s3:::home/${aws:PrincipalTag/team}/${aws:username}', 's3-both'],
    ['arn:aws:s3:::home/${aws:username', 's3-unclosed'],
    ['arn:aws:s3:::home/${AWS:USERNAME}/*', 's3-alice'],
  ]),
};
const VARREQ = {
  sqs: [`arn:aws:sqs:${REGION}:${A}:orders`, `arn:aws:sqs:${REGION}:${B}:orders`],
  'sqs-alice': [`arn:aws:sqs:${REGION}:${A}:alice-queue`, `arn:aws:sqs:${REGION}:${A}:bob-queue`],
  'sqs-blue': [`arn:aws:sqs:${REGION}:${A}:blue-queue`, `arn:aws:sqs:${REGION}:${A}:-queue`],
  's3-alice': ['arn:aws:s3:::home/alice/x.txt', 'arn:aws:s3:::home/bob/x.txt', 'arn:aws:s3:::home/${aws:username}/x.txt'],
  's3-userid': ['arn:aws:s3:::home/AIDAEXAMPLEALICE01/x', 'arn:aws:s3:::home/AROAEXAMPLEREADER1:app-session/x', 'arn:aws:s3:::home/111122223333:bob/x'],
  's3-star': ['arn:aws:s3:::home/a*b', 'arn:aws:s3:::home/axb'],
  's3-q': ['arn:aws:s3:::home/a?b', 'arn:aws:s3:::home/axb'],
  's3-dollar': ['arn:aws:s3:::home/a$b', 'arn:aws:s3:::home/axb'],
  's3-blue': ['arn:aws:s3:::home/blue/x', 'arn:aws:s3:::home//x'],
  's3-both': ['arn:aws:s3:::home/blue/alice', 'arn:aws:s3:::home/blue/bob'],
  's3-unclosed': ['arn:aws:s3:::home/${aws:username', 'arn:aws:s3:::home/alice'],
};
const CONDVARS = [
  [{ StringEquals: { 'aws:PrincipalTag/team': '${aws:username}' } }, { 'aws:PrincipalTag/team': pick(['alice', 'blue']) }],
  [{ StringLike: { 'aws:PrincipalTag/team': '${aws:PrincipalTag/dept}-*' } }, { 'aws:PrincipalTag/team': 'eng-blue', 'aws:PrincipalTag/dept': pick(['eng', 'ops']) }],
  [{ StringEquals: { 'aws:PrincipalTag/team': '${aws:PrincipalTag/missing}' } }, { 'aws:PrincipalTag/team': '' }],
  [{ StringEquals: { 'aws:PrincipalTag/team': "${aws:PrincipalTag/missing, 'blue'}" } }, { 'aws:PrincipalTag/team': 'blue' }],
  [{ ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*:${aws:PrincipalAccount}:*' } }, { 'aws:SourceArn': pick([`arn:aws:sns:${REGION}:${A}:t`, `arn:aws:sns:${REGION}:${B}:t`]) }],
  [{ StringEquals: { 'aws:PrincipalTag/team': '${aws:PrincipalTag/team}' } }, { 'aws:PrincipalTag/team': 'blue' }],
  [{ StringNotEquals: { 'aws:PrincipalTag/team': '${aws:PrincipalTag/missing}' } }, { 'aws:PrincipalTag/team': 'blue' }],
  [{ StringEquals: { 'aws:PrincipalTag/team': '${*}' } }, { 'aws:PrincipalTag/team': pick(['*', 'x']) }],
  [{ StringLike: { 'aws:PrincipalTag/team': 'a${*}' } }, { 'aws:PrincipalTag/team': pick(['a*', 'ab']) }],
  [{ 'ForAnyValue:StringEquals': { 'aws:TagKeys': '${aws:username}' } }, { 'aws:TagKeys': pick([['alice', 'x'], ['x']]) }],
  [{ NumericLessThan: { 'aws:MultiFactorAuthAge': '${aws:PrincipalTag/maxage}' } }, { 'aws:MultiFactorAuthAge': '10', 'aws:PrincipalTag/maxage': pick(['100', '5']) }],
  [{ DateGreaterThan: { 'aws:CurrentTime': '${aws:TokenIssueTime}' } }, { 'aws:CurrentTime': '2024-06-01T12:00:00Z', 'aws:TokenIssueTime': pick(['2024-06-01T11:00:00Z', '2024-06-02T00:00:00Z']) }],
  [{ IpAddress: { 'aws:SourceIp': '${aws:PrincipalTag/cidr}' } }, { 'aws:SourceIp': '203.0.113.7', 'aws:PrincipalTag/cidr': pick(['203.0.113.0/24', '10.0.0.0/8']) }],
];
function varCase() {
  const where = pick([...Object.keys(VARS), 'condition', 'condition']);
  const version = chance(0.15) ? '2008-10-17' : V12;
  const principal = pick([P.user(), P.user(), P.role(), P.fed()]);
  const deny = chance(0.3);
  const notRes = !deny && chance(0.15);
  if (where === 'condition') {
    const [cond, ctx] = pick(CONDVARS);
    const r = RES.sqs();
    const stmts = deny
      ? [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }, { Sid: 'Tested', Effect: 'Deny', Action: 'sqs:SendMessage', Resource: '*', Condition: cond }]
      : [{ Sid: 'Tested', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*', Condition: cond }];
    emit('var/condition', `${Object.keys(cond)[0]} ${JSON.stringify(Object.values(Object.values(cond)[0])[0])} ${version} ${deny ? 'Deny' : 'Allow'}`, {
      Request: { Principal: principal, Action: r.Action, Resource: r.Resource, ResourceAccount: A, Context: ctx },
      Policies: { Identity: [named('Tested', { Version: version, Statement: stmts })],
        ...(principal.Type === 'FederatedUser' ? { Session: [allowAll('Session')] } : {}) },
    });
    return;
  }
  const [pattern, reqKind] = VARS[where]();
  const resource = pick(VARREQ[reqKind] ?? VARREQ['sqs']);
  const action = resource.startsWith('arn:aws:s3') ? 's3:GetObject' : 'sqs:SendMessage';
  const svc = action.split(':')[0];
  const gate = pick(['identity', 'identity', 'resource', 'boundary']);
  const tested = notRes
    ? { Sid: 'Tested', Effect: 'Allow', Action: action, NotResource: pattern }
    : { Sid: 'Tested', Effect: deny ? 'Deny' : 'Allow', Action: action, Resource: pattern };
  // A federated user session needs a session policy to have any permission (GetFederationToken).
  const policies = principal.Type === 'FederatedUser' ? { Session: [allowAll('Session')] } : {};
  const resAcct = resource.split(':')[4] || A;
  if (gate === 'identity') {
    policies.Identity = [named('Tested', { Version: version, Statement: deny ? [{ Effect: 'Allow', Action: `${svc}:*`, Resource: '*' }, tested] : [tested] })];
  } else if (gate === 'boundary') {
    policies.Identity = [allowAll()];
    policies.PermissionsBoundary = named('Tested', { Version: version, Statement: deny ? [{ Effect: 'Allow', Action: `${svc}:*`, Resource: '*' }, tested] : [tested] });
  } else {
    const principalArn = principal.Arn;
    const rp = { ...tested, Principal: { AWS: principalArn } };
    const stmts = deny ? [{ Effect: 'Allow', Principal: { AWS: principalArn }, Action: `${svc}:*`, Resource: '*' }, rp] : [rp];
    policies.Resource = {
      Kind: svc === 's3' ? 'S3Bucket' : 'SqsQueue',
      Arn: svc === 's3' ? 'arn:aws:s3:::home' : resource,
      Policy: { Document: { Version: version, Statement: stmts } },
    };
  }
  emit(`var/${where}`, `${gate} ${notRes ? 'NotResource' : deny ? 'Deny' : 'Allow'} ${pattern} ${version} vs ${resource}`, {
    Request: { Principal: principal, Action: action, Resource: resource, ResourceAccount: resAcct === '' ? A : resAcct, Context: VARCTX() },
    Policies: policies,
  });
}
families['var'] = { weight: 13, gen: varCase };

// ---------------------------------------------------------------------------------------------
// pkey/*: the principal's derived keys.
const PKEYS = ['aws:userid', 'aws:username', 'aws:PrincipalArn', 'aws:PrincipalType', 'aws:PrincipalAccount', 'aws:PrincipalIsAWSService',
  'aws:PrincipalServiceName'];
const PVALUES = {
  'aws:userid': ['AIDAEXAMPLEALICE01', 'AROAEXAMPLEREADER1:app-session', 'AROAEXAMPLEREADER1:*', `${A}:bob`, A, 'anonymous', '*'],
  'aws:username': ['alice', 'bob', 'Reader', 'app-session', 'division/alice', '*'],
  'aws:PrincipalArn': [`arn:aws:iam::${A}:user/division/alice`, `arn:aws:iam::${A}:role/teams/Reader`, `arn:aws:iam::${A}:role/Reader`,
    `arn:aws:sts::${A}:assumed-role/Reader/app-session`, `arn:aws:sts::${A}:federated-user/bob`, `arn:aws:iam::${A}:user/bob`,
    `arn:aws:iam::${A}:root`, `arn:aws:iam::${A}:*`],
  'aws:PrincipalType': ['User', 'AssumedRole', 'FederatedUser', 'Account', 'Anonymous', 'WebIdentityUser', 'SAMLUser', 'Service'],
  'aws:PrincipalAccount': [A, B],
  'aws:PrincipalIsAWSService': ['true', 'false'],
  'aws:PrincipalServiceName': ['cloudtrail.amazonaws.com', 'sns.amazonaws.com'],
};
function pkeyCase() {
  const type = pick(['user', 'role', 'fed', 'fed-noid', 'root', 'service', 'web', 'saml']);
  const key = pick(PKEYS);
  const form = pick(['StringEquals', 'StringEquals', 'StringLike', 'Null', 'ArnLike', 'Bool', 'StringNotEquals']);
  let op = form;
  let value;
  if (form === 'Null') value = pick(['true', 'false']);
  else if (form === 'Bool') {
    if (key !== 'aws:PrincipalIsAWSService') op = 'StringEquals';
    value = pick(PVALUES[key]);
  } else if (form === 'ArnLike') {
    if (key !== 'aws:PrincipalArn') op = 'StringLike';
    value = pick(PVALUES[key]);
  } else value = pick(PVALUES[key]);
  const cond = { [op]: { [key]: value } };
  if (type === 'service') {
    const r = RES.sns(A);
    emit('pkey/service', `${op} ${key}=${value}`, {
      Request: { Principal: P.service(), Action: r.Action, Resource: r.Resource, ResourceAccount: A },
      Policies: { Resource: { Kind: r.Kind, Arn: r.Resource, Policy: { Document: doc({
        Sid: 'Tested', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sns:Publish', Resource: r.Resource, Condition: cond }) } } },
    });
    return;
  }
  if (type === 'web' || type === 'saml') {
    const principal = type === 'web' ? P.web() : P.saml();
    const action = type === 'web' ? 'sts:AssumeRoleWithWebIdentity' : 'sts:AssumeRoleWithSAML';
    const role = `arn:aws:iam::${A}:role/FederatedRole`;
    const stmt = { Sid: 'Tested', Effect: 'Allow', Principal: { Federated: principal.FederatedProvider }, Action: action };
    if (chance(0.7)) stmt.Condition = cond;
    emit(`pkey/${type}`, stmt.Condition ? `${op} ${key}=${value}` : 'trust policy names the provider', {
      Request: { Principal: principal, Action: action, Resource: role, ResourceAccount: A },
      Policies: { Resource: { Kind: 'RoleTrust', Arn: role, Policy: { Document: doc(stmt) } } },
    });
    return;
  }
  const principal = type === 'user' ? P.user() : type === 'role' ? P.role() : type === 'fed' ? P.fed() : type === 'fed-noid' ? P.fed(A, false) : P.root();
  const deny = chance(0.3);
  const stmts = deny
    ? [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }, { Sid: 'Tested', Effect: 'Deny', Action: 'sqs:SendMessage', Resource: '*', Condition: cond }]
    : [{ Sid: 'Tested', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*', Condition: cond }];
  // The root user is not subject to identity policies; test it through a resource policy.
  if (type === 'root') {
    const r = RES.sqs(A);
    // The root user has complete access in its account and takes no identity policy; an Allow-all
    // identity policy stands for that (iam-simulate needs one), except in a fifth of the cases.
    const implicit = chance(0.2);
    emit('pkey/root', `${op} ${key}=${value} ${deny ? 'Deny' : 'Allow'} (resource policy${implicit ? ', no identity policy' : ''})`, {
      Request: { Principal: principal, Action: r.Action, Resource: r.Resource, ResourceAccount: A },
      Policies: {
        ...(implicit ? {} : { Identity: [allowAll()] }),
        Resource: { Kind: r.Kind, Arn: r.Resource, Policy: { Document: doc(...stmts.map((s) => ({ ...s, Principal: { AWS: A } }))) } },
      },
    });
    return;
  }
  // A federated user session needs a session policy to have any permission (GetFederationToken).
  identityCase(`pkey/${type}`, `${op} ${key}=${value} ${deny ? 'Deny' : 'Allow'}`, stmts, {}, { Principal: principal,
    Session: principal.Type === 'FederatedUser' ? [allowAll('Session')] : undefined });
}
families['pkey'] = { weight: 12, gen: pkeyCase };

// ---------------------------------------------------------------------------------------------
// not/*: NotAction / NotResource / NotPrincipal in each gate.
const scpLevels = (tested, where) => [
  { Node: 'r-ab12', Policies: [allowAll('FullAWSAccess'), ...(where === 'root' ? [tested] : [])] },
  { Node: 'ou-ab12-cdef3456', Policies: [allowAll('FullAWSAccess'), ...(where === 'ou' ? [tested] : [])] },
  { Node: A, Policies: where === 'account-allow' ? [tested] : [allowAll('FullAWSAccess'), ...(where === 'account' ? [tested] : [])] },
];
function notCase() {
  const gate = pick(['identity', 'resource', 'scp', 'rcp', 'boundary', 'session']);
  // RCPs take NotResource but not NotAction or NotPrincipal (Organizations guide, "RCP syntax",
  // elements summary), and no Allow but RCPFullAWSAccess's.
  const element = gate === 'resource' ? pick(['NotAction', 'NotResource', 'NotPrincipal', 'NotPrincipal'])
    : gate === 'rcp' ? 'NotResource' : pick(['NotAction', 'NotResource']);
  const cross = gate === 'resource' && chance(0.4);
  const rkind = pick(['s3', 'sqs', 'secret', 'sns']);
  const r = RES[rkind](cross ? B : A);
  const principal = gate === 'session' ? pick([P.role(), P.fed()]) : pick([P.role(), P.user(), P.role()]);
  const effect = pick(['Allow', 'Deny']);
  const hit = chance(0.5); // whether the Not* list names the request's action / resource / principal
  const tested = { Sid: 'Tested', Effect: effect };
  if (element === 'NotAction') {
    tested.NotAction = hit ? pick([r.Action, `${r.Action.split(':')[0]}:*`, r.Action.toUpperCase()]) : pick(['iam:*', 'ec2:RunInstances', `${r.Action.split(':')[0]}:Delete*`]);
    tested.Resource = '*';
  } else if (element === 'NotResource') {
    tested.Action = gate === 'rcp' ? `${r.Action.split(':')[0]}:*` : '*';
    tested.NotResource = hit ? pick([r.Resource, policyResourceOf(r), r.Resource.replace(/[^:/]*$/, '*')]) : pick(['arn:aws:s3:::other/*', `arn:aws:sqs:${REGION}:${A}:other`, 'arn:aws:iam::*:*']);
  } else {
    tested.Action = '*';
    tested.Resource = '*';
  }
  if (gate === 'rcp') tested.Principal = '*';
  const boundary = chance(0.3);
  const sessionAllowed = principal.Type !== 'User';
  const policies = { Identity: [allowAll()] };
  if (boundary && principal.Type !== 'FederatedUser') policies.PermissionsBoundary = allowAll('Boundary');
  let feature = `${effect} ${element} ${hit ? 'naming the request' : 'not naming it'}`;
  const resPolicyAllow = (who) => ({ Effect: 'Allow', Principal: { AWS: who }, Action: '*', Resource: '*' });
  const callerArn = principal.Type === 'AssumedRole' ? principal.RoleArn : principal.Arn;
  if (gate === 'identity') {
    policies.Identity = [named('Tested', effect === 'Deny' ? doc({ Effect: 'Allow', Action: '*', Resource: '*' }, tested) : doc(tested))];
  } else if (gate === 'boundary') {
    policies.PermissionsBoundary = named('Tested', effect === 'Deny' ? doc({ Effect: 'Allow', Action: '*', Resource: '*' }, tested) : doc(tested));
  } else if (gate === 'session') {
    policies.Session = [named('Tested', effect === 'Deny' ? doc({ Effect: 'Allow', Action: '*', Resource: '*' }, tested) : doc(tested))];
  } else if (gate === 'scp') {
    const where = effect === 'Deny' ? pick(['root', 'ou', 'account']) : 'account-allow';
    policies.Scps = scpLevels(named('Tested', doc(tested)), where);
    policies.ManagementAccount = MGMT;
    feature += ` at ${where}`;
  } else if (gate === 'rcp') {
    if (effect === 'Allow') {
      tested.Effect = 'Deny'; // an RCP cannot Allow (only RCPFullAWSAccess does): test Deny only
      feature = feature.replace('Allow', 'Deny');
    }
    policies.Rcps = [
      { Node: 'r-ab12', Policies: [named('RCPFullAWSAccess', doc({ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }))] },
      { Node: A, Policies: [named('RCPFullAWSAccess', doc({ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' })), named('Tested', doc(tested))] },
    ];
    policies.ManagementAccount = MGMT;
  } else {
    // resource policy
    if (element === 'NotPrincipal') {
      const forms = [callerArn, principal.Arn, `arn:aws:iam::${principal.Arn.split(':')[4]}:root`, principal.Arn.split(':')[4],
        `arn:aws:iam::${B === principal.Arn.split(':')[4] ? A : B}:root`, `arn:aws:iam::${A}:role/Other`];
      const listed = hit ? some(forms.slice(0, 4), 2) : some(forms.slice(4), 1);
      tested.NotPrincipal = { AWS: one(listed) };
      feature = `${effect} NotPrincipal [${listed.map((x) => x.replace(/^arn:aws:(iam|sts)::\d+:/, '')).join(', ')}]${policies.PermissionsBoundary ? ' with boundary' : ''}`;
    } else {
      tested.Principal = { AWS: pick([callerArn, principal.Arn, `arn:aws:iam::${principal.Arn.split(':')[4]}:root`, '*']) };
    }
    const stmts = effect === 'Deny' ? [resPolicyAllow(cross ? `arn:aws:iam::${principal.Arn.split(':')[4]}:root` : callerArn), tested] : [tested];
    if (cross && effect === 'Allow' && element !== 'NotPrincipal') stmts.unshift();
    policies.Resource = { Kind: r.Kind, Arn: r.PolicyArn ?? r.Resource, Policy: { Document: doc(...stmts) } };
    feature += cross ? ' cross-account' : ' same-account';
    if (effect === 'Allow' && !cross && chance(0.5)) {
      // make the identity side deny implicitly, so only the resource policy can allow
      policies.Identity = [];
    }
  }
  if (sessionAllowed && gate !== 'session' && chance(0.2)) policies.Session = [allowAll('Session')];
  emit(`not/${gate}/${element}`, feature, {
    Request: { Principal: principal, Action: r.Action, Resource: r.Resource, ResourceAccount: r.Account },
    Policies: policies,
  });
}
families['not'] = { weight: 13, gen: notCase };

// ---------------------------------------------------------------------------------------------
// xacct/*: same vs cross account × naming × identity × boundary × session × resource kind (a grid).
const XGRID = [];
for (const acct of ['same', 'cross'])
  for (const ptype of ['role', 'user', 'fed'])
    for (const naming of ['none', 'account-root', 'account-id', 'role-arn', 'session-arn', 'user-arn', 'star', 'other-account'])
      for (const ident of ['allow', 'none'])
        for (const boundary of ['none', 'allow', 'deny-implicit'])
          for (const session of ['none', 'allow', 'deny-implicit'])
            for (const rkind of ['s3', 'sqs', 'secret', 'kms', 'sns', 'lambda']) {
              if (ptype === 'user' && session !== 'none') continue;
              if (ptype === 'fed' && boundary !== 'none') continue;
              XGRID.push({ acct, ptype, naming, ident, boundary, session, rkind });
            }
let xi = 0;
function xacctCase() {
  const g = XGRID[xi++ % XGRID.length];
  const principal = P[g.ptype](A);
  const r = RES[g.rkind](g.acct === 'same' ? A : B);
  const who = {
    'account-root': `arn:aws:iam::${A}:root`,
    'account-id': A,
    'role-arn': `arn:aws:iam::${A}:role/teams/Reader`,
    'session-arn': `arn:aws:sts::${A}:assumed-role/Reader/app-session`,
    'user-arn': g.ptype === 'fed' ? `arn:aws:iam::${A}:user/bob` : `arn:aws:iam::${A}:user/division/alice`,
    star: '*',
    'other-account': `arn:aws:iam::${B === r.Account ? '777788889999' : B}:root`,
  }[g.naming];
  if (g.ptype === 'fed' && g.naming === 'session-arn') {
    // a federated user's session ARN
  }
  const sessionWho = g.ptype === 'fed' && g.naming === 'session-arn' ? `arn:aws:sts::${A}:federated-user/bob` : who;
  const policies = {};
  const action = r.Action;
  policies.Identity = g.ident === 'allow' ? [named('Identity', doc({ Effect: 'Allow', Action: action, Resource: '*' }))] : [];
  if (g.boundary !== 'none') policies.PermissionsBoundary = named('Boundary', doc({ Effect: 'Allow', Action: g.boundary === 'allow' ? action : 'iam:GetUser', Resource: '*' }));
  if (g.session !== 'none') policies.Session = [named('Session', doc({ Effect: 'Allow', Action: g.session === 'allow' ? action : 'iam:GetUser', Resource: '*' }))];
  const resourceArn = r.PolicyArn ?? r.Resource;
  if (g.naming !== 'none') {
    const stmt = { Sid: 'Grant', Effect: 'Allow', Principal: sessionWho === '*' ? '*' : { AWS: sessionWho }, Action: action, Resource: policyResourceOf(r) };
    if (g.rkind === 'kms') stmt.Resource = '*';
    policies.Resource = { Kind: r.Kind, Arn: resourceArn, Policy: { Document: doc(stmt) } };
  } else if (g.rkind === 'kms') {
    // Every KMS key has a key policy: this one names only a key administrator.
    policies.Resource = { Kind: r.Kind, Arn: resourceArn, Policy: { Document: doc({ Sid: 'KeyAdmin', Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${r.Account}:role/KeyAdmin` }, Action: 'kms:*', Resource: '*' }) } };
  }
  emit(`xacct/${g.acct}`, `${g.ptype} ${g.rkind} named-by=${g.naming} identity=${g.ident} boundary=${g.boundary} session=${g.session}`, {
    Request: { Principal: principal, Action: action, Resource: r.Resource, ResourceAccount: r.Account },
    Policies: policies,
  });
}
families['xacct'] = { weight: 10, gen: xacctCase, grid: XGRID.length };

// ---------------------------------------------------------------------------------------------
const total = Object.values(families).reduce((s, f) => s + f.weight, 0);
const quotas = Object.fromEntries(Object.entries(families).map(([k, f]) => [k, Math.round((COUNT * f.weight) / total)]));
// the xacct family gets at least its whole grid once when COUNT allows
if (COUNT >= 10000) {
  const extra = Math.max(0, families.xacct.grid - quotas.xacct);
  quotas.xacct += extra;
  quotas.cond -= extra;
}
const drift = COUNT - Object.values(quotas).reduce((s, q) => s + q, 0);
quotas.cond += drift;
for (const [k, f] of Object.entries(families)) for (let i = 0; i < quotas[k]; i++) f.gen();
let n = 0;
for (const c of out) {
  n++;
  c.Name = `${c.Group}#${n}`;
  process.stdout.write(JSON.stringify({ Name: c.Name, Group: c.Group, Feature: c.Feature, Request: c.Request, Policies: c.Policies }) + '\n');
}
