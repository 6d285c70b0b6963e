// Writes the cases of scripts/bench vs-iam-simulate to stdout as NDJSON `simulate` documents
// (README, "Simulate input") with an extra `Group` field:
//   - the three reference cases of crates/core/benches/engine.rs, one group each;
//   - `generated_1000`: 1,000 requests over 50 policies (20 identity, 8 permissions boundaries,
//     9 SCPs, 4 RCPs, 9 resource policies (one of them the default KMS
//     key policy, attached to every account's own key)), from a fixed seed so every run is the same.
//   node scripts/iam-simulate/cases.mjs [COUNT] > cases.ndjson

import { prng } from './prng.mjs';

const COUNT = Number(process.argv[2] ?? 1000);

const { rand, pick, chance } = prng(0x5eed1234);

const doc = (...Statement) => ({ Version: '2012-10-17', Statement });
const named = (Name, Document) => ({ Name, Document });
const out = [];
const emit = (group, c) => out.push(JSON.stringify({ Group: group, ...c }));

// ---- (a) the three engine bench cases, verbatim from crates/core/benches/engine.rs ----
const allowAll = () => named('FullAWSAccess', doc({ Effect: 'Allow', Action: '*', Resource: '*' }));
emit('1_scp_ou_explicit_deny', {
  Name: '1_scp_ou_explicit_deny',
  Request: {
    Principal: { Arn: 'arn:aws:sts::222222222222:assumed-role/Deployer/ci' },
    Action: 'lambda:CreateFunction',
    Resource: 'arn:aws:lambda:us-east-1:222222222222:function:api',
    Context: { 'aws:RequestedRegion': 'us-east-1', 'aws:SourceIp': '203.0.113.7' },
  },
  Policies: {
    Identity: [named('DeployerAccess', doc(
      { Effect: 'Allow', Action: ['lambda:*', 'iam:PassRole'], Resource: '*' },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::artifacts/*' }))],
    Scps: [
      { Node: 'r-ab12', Policies: [allowAll()] },
      { Node: 'ou-ab12-cdef3456', Policies: [allowAll(), named('DenyLambda', doc(
        { Sid: 'NoLambda', Effect: 'Deny', Action: 'lambda:*', Resource: '*' },
        { Sid: 'Regions', Effect: 'Deny', NotAction: ['iam:*', 'sts:*'], Resource: '*',
          Condition: { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } } }))] },
      { Node: '222222222222', Policies: [allowAll()] },
    ],
    ManagementAccount: '111111111111',
  },
});
emit('2_cross_account_s3_identity_only', {
  Name: '2_cross_account_s3_identity_only',
  Request: {
    Principal: { Arn: 'arn:aws:sts::111122223333:assumed-role/Reader/app' },
    Action: 's3:GetObject',
    Resource: 'arn:aws:s3:::shared-data/reports/2024/q1.csv',
    ResourceAccount: '444455556666',
    Context: { 'aws:SourceIp': '203.0.113.7', 'aws:SecureTransport': 'true' },
  },
  Policies: {
    Identity: [named('ReadShared', doc(
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::shared-data', 'arn:aws:s3:::shared-data/*'] }))],
    Resource: { Kind: 'S3Bucket', Arn: 'arn:aws:s3:::shared-data', Policy: { Document: doc(
      { Sid: 'OwnAccount', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::444455556666:root' }, Action: 's3:*', Resource: ['arn:aws:s3:::shared-data', 'arn:aws:s3:::shared-data/*'] },
      { Sid: 'TLSOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::shared-data/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }) } },
  },
});
emit('3_boundary_lacks_action', {
  Name: '3_boundary_lacks_action',
  Request: {
    Principal: { Arn: 'arn:aws:iam::111122223333:user/dev' },
    Action: 'iam:CreateUser',
    Resource: 'arn:aws:iam::111122223333:user/new',
  },
  Policies: {
    Identity: [named('Admin', doc({ Effect: 'Allow', Action: '*', Resource: '*' }))],
    PermissionsBoundary: named('DevBoundary', doc(
      { Effect: 'Allow', Action: ['s3:*', 'dynamodb:*', 'lambda:*', 'logs:*'], Resource: '*' },
      { Effect: 'Allow', Action: 'iam:Get*', Resource: '*' })),
  },
});

// ---- (b) 1,000 generated requests over 50 policies ----
const A = '111122223333'; // workload account, OU ou-ab12-prod
const B = '444455556666'; // data account, OU ou-ab12-data
const X = '777788889999'; // outside the organization
const ORG = 'o-ab12cd34ef';
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

// 20 identity policies.
const identity = [
  named('S3ReadData', doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::data-*', 'arn:aws:s3:::data-*/*', 'arn:aws:s3:::shared-data', 'arn:aws:s3:::shared-data/*'] })),
  named('S3WriteUploads', doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::app-*/uploads/*',
    Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '203.0.113.0/24'] } } })),
  named('DynamoOrders', doc({ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], Resource: 'arn:aws:dynamodb:*:*:table/orders*' })),
  named('LambdaDeploy', doc(
    { Effect: 'Allow', Action: 'lambda:*', Resource: 'arn:aws:lambda:*:*:function:*' },
    { Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::*:role/lambda-*' })),
  named('Ec2ReadOnly', doc({ Effect: 'Allow', Action: ['ec2:Describe*'], Resource: '*' })),
  named('KmsUseInRegion', doc({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: 'arn:aws:kms:*:*:key/*',
    Condition: { StringEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } } })),
  named('SecretsForTeam', doc({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:prod/*',
    Condition: { StringEquals: { 'aws:PrincipalTag/team': 'payments' } } })),
  named('SqsWorker', doc({ Effect: 'Allow', Action: ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'], Resource: 'arn:aws:sqs:*:*:jobs-*' })),
  named('SnsAlerts', doc({ Effect: 'Allow', Action: 'sns:Publish', Resource: 'arn:aws:sns:*:*:alerts' })),
  named('DenyDeleteWithoutMfa', doc({ Sid: 'NoMfaNoDelete', Effect: 'Deny', Action: ['s3:DeleteObject', 's3:DeleteBucket'], Resource: '*',
    Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } })),
  named('AdministratorAccess', doc({ Effect: 'Allow', Action: '*', Resource: '*' })),
  named('DenyOutsideCorpNetwork', doc({ Sid: 'CorpOnly', Effect: 'Deny', Action: '*', Resource: '*',
    Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '203.0.113.0/24'] }, Bool: { 'aws:ViaAWSService': 'false' } } })),
  named('Ec2StartStopOwnEnv', doc({ Effect: 'Allow', Action: ['ec2:StartInstances', 'ec2:StopInstances'], Resource: 'arn:aws:ec2:*:*:instance/*',
    Condition: { StringEquals: { 'aws:ResourceTag/env': '${aws:PrincipalTag/env}' } } })),
  named('S3HomeDirectory', doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::home-bucket/home/${aws:username}/*' })),
  named('LogsWriter', doc({ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: 'arn:aws:logs:*:*:log-group:/app/*' })),
  named('AssumeDeployRoles', doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::*:role/deploy-*' })),
  named('DenyOutsideRegions', doc({ Sid: 'Regions', Effect: 'Deny', NotAction: ['iam:*', 'sts:*'], Resource: '*',
    Condition: { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } } })),
  named('DenyIamWrites', doc({ Effect: 'Deny', Action: ['iam:Create*', 'iam:Delete*', 'iam:Put*', 'iam:Attach*'], Resource: '*' })),
  named('EcrPull', doc({ Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: 'arn:aws:ecr:*:*:repository/*' })),
  named('S3AllButSecretBuckets', doc({ Effect: 'Allow', Action: 's3:*', NotResource: ['arn:aws:s3:::secret-*', 'arn:aws:s3:::secret-*/*'] })),
];
const I = Object.fromEntries(identity.map((p) => [p.Name, p]));

// 8 permissions boundaries.
const boundaries = [
  named('DevBoundary', doc({ Effect: 'Allow', Action: ['s3:*', 'dynamodb:*', 'lambda:*', 'logs:*'], Resource: '*' }, { Effect: 'Allow', Action: 'iam:Get*', Resource: '*' })),
  named('ReadOnlyBoundary', doc({ Effect: 'Allow', Action: ['s3:Get*', 's3:List*', 'ec2:Describe*', 'dynamodb:GetItem', 'dynamodb:Query', 'secretsmanager:GetSecretValue', 'kms:Decrypt'], Resource: '*' })),
  named('NoIamBoundary', doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })),
  named('S3OnlyBoundary', doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' })),
  named('RegionLockedBoundary', doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } } })),
  named('NoKmsBoundary', doc({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'kms:*', Resource: '*' })),
  named('DataPlaneBoundary', doc({ Effect: 'Allow', Action: ['sqs:*', 'sns:*', 'dynamodb:*', 'kms:*', 'logs:*'], Resource: '*' })),
  named('FullBoundary', doc({ Effect: 'Allow', Action: '*', Resource: '*' })),
];

// 9 SCPs.
const S = {
  full: allowAll(),
  leave: named('DenyLeaveOrg', doc({ Effect: 'Deny', Action: 'organizations:LeaveOrganization', Resource: '*' })),
  regions: named('DenyOutsideApprovedRegions', doc({ Effect: 'Deny', NotAction: ['iam:*', 'sts:*', 'organizations:*', 'support:*'], Resource: '*',
    Condition: { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } } })),
  root: named('DenyRootUser', doc({ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:root' } } })),
  kmsDelete: named('DenyKmsKeyDeletion', doc({ Effect: 'Deny', Action: ['kms:ScheduleKeyDeletion', 'kms:DisableKey'], Resource: '*' })),
  lambdaUrl: named('DenyPublicLambdaUrls', doc({ Effect: 'Deny', Action: ['lambda:CreateFunctionUrlConfig', 'lambda:UpdateFunctionUrlConfig'], Resource: '*' })),
  allowList: named('AllowListedServices', doc({ Effect: 'Allow', Action: ['s3:*', 'dynamodb:*', 'lambda:*', 'logs:*', 'sqs:*', 'sns:*', 'kms:*', 'ec2:*', 'sts:*', 'iam:*', 'secretsmanager:*', 'ecr:*'], Resource: '*' })),
  tls: named('DenyInsecureS3', doc({ Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })),
  iamUsers: named('DenyIamUserCreation', doc({ Effect: 'Deny', Action: ['iam:CreateUser', 'iam:CreateAccessKey'], Resource: '*',
    Condition: { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/admin-*' } } })),
};
const scpChain = {
  [A]: [
    { Node: 'r-ab12', Policies: [S.full, S.leave, S.root] },
    { Node: 'ou-ab12-prod', Policies: [S.full, S.regions, S.kmsDelete, S.lambdaUrl] },
    { Node: A, Policies: [S.full, S.iamUsers] },
  ],
  [B]: [
    { Node: 'r-ab12', Policies: [S.full, S.leave, S.root] },
    { Node: 'ou-ab12-data', Policies: [S.allowList, S.tls] },
    { Node: B, Policies: [S.full] },
  ],
};

// 4 RCPs (Principal "*", services RCPs cover).
const R = {
  full: named('RCPFullAWSAccess', doc({ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' })),
  tls: named('EnforceTls', doc({ Effect: 'Deny', Principal: '*', Action: ['s3:*', 'sqs:*', 'kms:*', 'secretsmanager:*', 'sts:*'], Resource: '*',
    Condition: { BoolIfExists: { 'aws:SecureTransport': 'false' } } })),
  perimeter: named('DataPerimeter', doc({ Effect: 'Deny', Principal: '*', Action: ['s3:*', 'sqs:*', 'kms:*', 'secretsmanager:*'], Resource: '*',
    Condition: { StringNotEqualsIfExists: { 'aws:PrincipalOrgID': ORG }, BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' } } })),
  secrets: named('SecretsOnlyFromOrgAccounts', doc({ Effect: 'Deny', Principal: '*', Action: 'secretsmanager:*', Resource: '*',
    Condition: { StringNotEquals: { 'aws:PrincipalAccount': [A, B] } } })),
};
const rcpChain = {
  [A]: [
    { Node: 'r-ab12', Policies: [R.full] },
    { Node: 'ou-ab12-prod', Policies: [R.full, R.tls] },
    { Node: A, Policies: [R.full] },
  ],
  [B]: [
    { Node: 'r-ab12', Policies: [R.full] },
    { Node: 'ou-ab12-data', Policies: [R.full, R.perimeter] },
    { Node: B, Policies: [R.full, R.secrets] },
  ],
};
const RCP_SERVICES = ['s3', 'sts', 'sqs', 'kms', 'secretsmanager'];

// 9 resource policies, keyed by the resource they are attached to (the default key policy is
// attached to the `aaaa1111…` key of whichever account the request targets).
const resourcePolicies = {
  [`arn:aws:s3:::shared-data`]: doc(
    { Sid: 'ReadFromWorkload', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::shared-data', 'arn:aws:s3:::shared-data/*'] },
    { Sid: 'TLSOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::shared-data/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
  [`arn:aws:s3:::data-lake-${B}`]: doc(
    { Sid: 'OrgRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::data-lake-${B}`, `arn:aws:s3:::data-lake-${B}/*`],
      Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } } }),
  [`arn:aws:kms:us-east-1:${B}:key/1234abcd-12ab-34cd-56ef-1234567890ab`]: doc(
    { Sid: 'EnableIamPolicies', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 'kms:*', Resource: '*' },
    { Sid: 'AllowWorkloadUse', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/app` }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*' }),
  [`arn:aws:sqs:us-east-1:${B}:jobs-ingest`]: doc(
    { Sid: 'WorkloadSend', Effect: 'Allow', Principal: { AWS: A }, Action: 'sqs:SendMessage', Resource: `arn:aws:sqs:us-east-1:${B}:jobs-ingest` }),
  [`arn:aws:sns:us-east-1:${B}:alerts`]: doc(
    { Sid: 'OrgPublish', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sns:Publish', Resource: `arn:aws:sns:us-east-1:${B}:alerts`,
      Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } } }),
  [`arn:aws:secretsmanager:us-east-1:${B}:secret:prod/db-AbCdEf`]: doc(
    { Sid: 'OnlyPayments', Effect: 'Deny', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*',
      Condition: { StringNotEquals: { 'aws:PrincipalTag/team': 'payments' } } }),
  [`arn:aws:lambda:us-east-1:${B}:function:ingest`]: doc(
    { Sid: 'WorkloadInvoke', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'lambda:InvokeFunction', Resource: `arn:aws:lambda:us-east-1:${B}:function:ingest` }),
  [`arn:aws:iam::${B}:role/deploy-data`]: doc(
    { Sid: 'TrustWorkloadDeployers', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'sts:AssumeRole',
      Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${A}:role/deploy*` } } }),
};

// Principals: sessions of roles and IAM users, each with fixed policies, boundary and tags.
const principals = [
  { arn: `arn:aws:sts::${A}:assumed-role/app/i-0abc`, policies: ['S3ReadData', 'DynamoOrders', 'KmsUseInRegion', 'SqsWorker', 'SnsAlerts'], boundary: 'DataPlaneBoundary', tags: { team: 'payments', env: 'prod' } },
  { arn: `arn:aws:sts::${A}:assumed-role/deployer/ci`, policies: ['LambdaDeploy', 'AssumeDeployRoles', 'EcrPull', 'LogsWriter'], tags: { team: 'platform', env: 'prod' } },
  { arn: `arn:aws:sts::${A}:assumed-role/admin-ops/alice`, policies: ['AdministratorAccess', 'DenyDeleteWithoutMfa'], tags: { team: 'platform' } },
  { arn: `arn:aws:iam::${A}:user/bob`, policies: ['S3HomeDirectory', 'Ec2ReadOnly', 'Ec2StartStopOwnEnv', 'DenyOutsideCorpNetwork'], tags: { env: 'dev' } },
  { arn: `arn:aws:iam::${A}:user/dev`, policies: ['AdministratorAccess', 'DenyIamWrites'], boundary: 'DevBoundary' },
  { arn: `arn:aws:sts::${A}:assumed-role/analyst/carol`, policies: ['S3ReadData', 'SecretsForTeam', 'Ec2ReadOnly'], boundary: 'ReadOnlyBoundary', tags: { team: 'analytics' } },
  { arn: `arn:aws:sts::${B}:assumed-role/etl/job-42`, policies: ['S3AllButSecretBuckets', 'DynamoOrders', 'LogsWriter', 'DenyOutsideRegions'], boundary: 'NoIamBoundary', tags: { team: 'data' } },
  { arn: `arn:aws:sts::${B}:assumed-role/data-admin/dave`, policies: ['AdministratorAccess', 'DenyOutsideRegions'], boundary: 'NoKmsBoundary', tags: { team: 'data' } },
  { arn: `arn:aws:iam::${B}:user/uploader`, policies: ['S3WriteUploads', 'S3ReadData'], boundary: 'S3OnlyBoundary' },
  { arn: `arn:aws:sts::${B}:assumed-role/ops/erin`, policies: ['SecretsForTeam', 'KmsUseInRegion', 'SqsWorker'], boundary: 'RegionLockedBoundary', tags: { team: 'payments' } },
  { arn: `arn:aws:sts::${X}:assumed-role/partner/sync`, policies: ['S3ReadData', 'SqsWorker', 'AssumeDeployRoles'], tags: {} },
  { arn: `arn:aws:iam::${X}:user/vendor`, policies: ['AdministratorAccess'], boundary: 'FullBoundary', tags: {} },
];
const accountOf = (arn) => arn.split(':')[4];

// Realistic actions with a resource builder: (account, region) -> [resource ARN, resource-policy key].
const actions = [
  ['s3:GetObject', (a) => pick([['arn:aws:s3:::shared-data/reports/2024/q1.csv', 'arn:aws:s3:::shared-data', B], [`arn:aws:s3:::data-lake-${B}/raw/part-0001.parquet`, `arn:aws:s3:::data-lake-${B}`, B], [`arn:aws:s3:::data-${a}/x.json`, null, a], ['arn:aws:s3:::home-bucket/home/bob/notes.txt', null, A], ['arn:aws:s3:::secret-keys/k.pem', null, a]])],
  ['s3:ListBucket', (a) => pick([['arn:aws:s3:::shared-data', 'arn:aws:s3:::shared-data', B], [`arn:aws:s3:::data-${a}`, null, a]])],
  ['s3:PutObject', (a) => pick([[`arn:aws:s3:::app-${a}/uploads/f.bin`, null, a], ['arn:aws:s3:::home-bucket/home/bob/up.txt', null, A], [`arn:aws:s3:::data-lake-${B}/raw/new.parquet`, `arn:aws:s3:::data-lake-${B}`, B]])],
  ['s3:DeleteObject', (a) => [[`arn:aws:s3:::app-${a}/uploads/old.bin`, null, a]][0]],
  ['dynamodb:GetItem', (a, r) => [`arn:aws:dynamodb:${r}:${a}:table/orders`, null, a]],
  ['dynamodb:Query', (a, r) => [`arn:aws:dynamodb:${r}:${a}:table/orders-archive`, null, a]],
  ['dynamodb:DeleteTable', (a, r) => [`arn:aws:dynamodb:${r}:${a}:table/orders`, null, a]],
  ['lambda:UpdateFunctionCode', (a, r) => [`arn:aws:lambda:${r}:${a}:function:api`, null, a]],
  ['lambda:InvokeFunction', (a) => pick([[`arn:aws:lambda:us-east-1:${B}:function:ingest`, `arn:aws:lambda:us-east-1:${B}:function:ingest`, B], [`arn:aws:lambda:us-east-1:${a}:function:api`, null, a]])],
  ['lambda:CreateFunctionUrlConfig', (a, r) => [`arn:aws:lambda:${r}:${a}:function:api`, null, a]],
  ['iam:PassRole', (a) => pick([[`arn:aws:iam::${a}:role/lambda-exec`, null, a], [`arn:aws:iam::${a}:role/admin-ops`, null, a]])],
  ['iam:CreateUser', (a) => [`arn:aws:iam::${a}:user/new-user`, null, a]],
  ['iam:GetRole', (a) => [`arn:aws:iam::${a}:role/app`, null, a]],
  ['ec2:StartInstances', (a, r) => [`arn:aws:ec2:${r}:${a}:instance/i-0123456789abcdef0`, null, a]],
  ['ec2:TerminateInstances', (a, r) => [`arn:aws:ec2:${r}:${a}:instance/i-0123456789abcdef0`, null, a]],
  ['kms:Decrypt', (a) => pick([[`arn:aws:kms:us-east-1:${B}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, `arn:aws:kms:us-east-1:${B}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, B], [`arn:aws:kms:us-east-1:${a}:key/aaaa1111-12ab-34cd-56ef-1234567890ab`, 'default-key-policy', a]])],
  ['kms:ScheduleKeyDeletion', (a, r) => [`arn:aws:kms:${r}:${a}:key/aaaa1111-12ab-34cd-56ef-1234567890ab`, 'default-key-policy', a]],
  ['secretsmanager:GetSecretValue', (a) => pick([[`arn:aws:secretsmanager:us-east-1:${B}:secret:prod/db-AbCdEf`, `arn:aws:secretsmanager:us-east-1:${B}:secret:prod/db-AbCdEf`, B], [`arn:aws:secretsmanager:us-east-1:${a}:secret:prod/api-key-XyZ123`, null, a]])],
  ['sqs:SendMessage', (a) => pick([[`arn:aws:sqs:us-east-1:${B}:jobs-ingest`, `arn:aws:sqs:us-east-1:${B}:jobs-ingest`, B], [`arn:aws:sqs:eu-west-1:${a}:jobs-local`, null, a]])],
  ['sns:Publish', () => [`arn:aws:sns:us-east-1:${B}:alerts`, `arn:aws:sns:us-east-1:${B}:alerts`, B]],
  ['logs:PutLogEvents', (a, r) => [`arn:aws:logs:${r}:${a}:log-group:/app/api:log-stream:web-1`, null, a]],
  ['logs:DeleteLogGroup', (a, r) => [`arn:aws:logs:${r}:${a}:log-group:/app/api`, null, a]],
  ['ecr:BatchGetImage', (a, r) => [`arn:aws:ecr:${r}:${a}:repository/api`, null, a]],
  ['sts:AssumeRole', () => [`arn:aws:iam::${B}:role/deploy-data`, `arn:aws:iam::${B}:role/deploy-data`, B]],
];

// The default key policy AWS gives a key: the account's IAM policies decide.
const defaultKeyPolicy = (acct) => doc({ Sid: 'EnableIamUserPermissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${acct}:root` }, Action: 'kms:*', Resource: '*' });
const all50 = identity.length + boundaries.length + Object.keys(S).length + Object.keys(R).length + Object.keys(resourcePolicies).length + 1;
if (all50 !== 50) throw new Error(`expected 50 policies, have ${all50}`);

for (let i = 0; i < COUNT; i++) {
  const p = pick(principals);
  const acct = accountOf(p.arn);
  const region = chance(0.8) ? pick(['us-east-1', 'eu-west-1']) : pick(REGIONS);
  const [action, build] = pick(actions);
  const [resource, policyKey, resAcct] = build(acct, region);
  const service = action.split(':')[0];
  const context = {};
  // The region the request went to: the resource's own region when its ARN has one.
  const arnRegion = resource.split(':')[3];
  context['aws:RequestedRegion'] = arnRegion || region;
  if (chance(0.9)) context['aws:SourceIp'] = pick(['10.1.2.3', '203.0.113.7', '198.51.100.20']);
  context['aws:SecureTransport'] = chance(0.9) ? 'true' : 'false';
  if (chance(0.5)) context['aws:MultiFactorAuthPresent'] = chance(0.5) ? 'true' : 'false';
  context['aws:ViaAWSService'] = 'false';
  for (const [k, v] of Object.entries(p.tags ?? {})) context[`aws:PrincipalTag/${k}`] = v;
  if (acct === A || acct === B) context['aws:PrincipalOrgID'] = ORG;
  if (service === 'ec2') context['aws:ResourceTag/env'] = pick(['prod', 'dev']);
  const policies = { Identity: p.policies.map((n) => I[n]) };
  if (p.boundary) policies.PermissionsBoundary = boundaries.find((b) => b.Name === p.boundary);
  if (scpChain[acct]) policies.Scps = scpChain[acct];
  if (rcpChain[resAcct] && RCP_SERVICES.includes(service)) policies.Rcps = rcpChain[resAcct];
  if (policyKey === 'default-key-policy') policies.Resource = { Arn: resource, Policy: { Document: defaultKeyPolicy(resAcct) } };
  else if (policyKey) policies.Resource = { Arn: policyKey, Policy: { Document: resourcePolicies[policyKey] } };
  const request = { Principal: { Arn: p.arn }, Action: action, Resource: resource, Context: context };
  if (resAcct !== acct) request.ResourceAccount = resAcct;
  emit('generated_1000', { Name: `gen-${String(i + 1).padStart(4, '0')}`, Request: request, Policies: policies });
}

process.stdout.write(out.join('\n') + '\n');
