// The classes of disagreement between our engine and iam-simulate (tests/differential/DIFFERENCES.md
// explains each one with the AWS documentation that decides it). scripts/iam-simulate/
// differential-report.mjs puts every disagreement in the first class whose `match` accepts it;
// one in no class is UNEXPLAINED. `match` receives { c: the case, o: our result line, t:
// iam-simulate's line, ours, theirs: the two decisions }.
//
// Verdicts: "ours wrong", "theirs wrong", "undocumented" (the documentation does not decide),
// "translation" (the translation between the two input formats loses or changes something).

import { documentedDecision, evalConditionWithVariables, MULTIVALUED, resourceEntryMatches, why } from './oracle.mjs';
import { documentedPrincipalKeys } from './translate.mjs';

// The decision the documentation gives for a var/* case (one tested statement in one gate).
export function documentedVarDecision(c) {
  why.length = 0;
  const keys = {};
  for (const [k, v] of Object.entries(documentedPrincipalKeys(c))) keys[k.toLowerCase()] = v;
  for (const [k, v] of Object.entries(c.Request.Context ?? {})) keys[k.toLowerCase()] = v;
  const P = c.Policies;
  const gate = P.PermissionsBoundary?.Name === 'Tested' ? 'boundary' : P.Resource ? 'resource' : 'identity';
  const docu = gate === 'boundary' ? P.PermissionsBoundary.Document : gate === 'resource' ? P.Resource.Policy.Document : P.Identity[0].Document;
  const st = docu.Statement.find((x) => x.Sid === 'Tested');
  const version = docu.Version;
  let m;
  if (st.Condition) {
    const [op, block] = Object.entries(st.Condition)[0];
    const [key, values] = Object.entries(block)[0];
    const k = key.toLowerCase();
    m = evalConditionWithVariables(op, values, k in keys && !(c.Request.Context === undefined && false), keys[k], MULTIVALUED.has(k), keys, version);
    // a key only the principal gives (aws:username ...) is present only when documented for it
  } else if (st.NotResource !== undefined) {
    const r = resourceEntryMatches(st.NotResource, c.Request.Resource, keys, version);
    m = r === undefined ? undefined : !r;
  } else {
    m = resourceEntryMatches(st.Resource, c.Request.Resource, keys, version);
  }
  if (m === undefined) return undefined;
  const principalAccount = (c.Request.Principal.Arn ?? '').split(':')[4];
  const cross = c.Request.ResourceAccount && c.Request.ResourceAccount !== principalAccount;
  if (st.Effect === 'Deny') return m ? 'ExplicitDeny' : cross ? 'ImplicitDeny' : 'Allowed';
  return m && !cross ? 'Allowed' : 'ImplicitDeny';
}
const varDocIs = (x) => ({ c, ours, theirs }) => {
  if (fam(c) !== 'var') return false;
  const d = documentedVarDecision(c);
  return d !== undefined && (x === 'ours' ? ours === d && theirs !== d : theirs === d && ours !== d);
};
const varVersion = (c) => JSON.stringify(c.Policies).includes('"Version":"2008-10-17"');


const ptype = (c) => c.Request.Principal?.Type;
const fam = (c) => c.Group.split('/')[0];
const sub = (c) => c.Group.split('/')[1];
const tested = (c) => c.Policies?.Identity?.[0]?.Document?.Statement?.find((s) => s.Sid === 'Tested');
const condOp = (c) => Object.keys(tested(c)?.Condition ?? {})[0] ?? '';
const condKey = (c) => Object.keys(Object.values(tested(c)?.Condition ?? {})[0] ?? {})[0] ?? '';
const condValues = (c) => [].concat(Object.values(Object.values(tested(c)?.Condition ?? {})[0] ?? {})[0] ?? []);
const ctxValue = (c, key) => {
  const e = Object.entries(c.Request.Context ?? {}).find(([k]) => k.toLowerCase() === key.toLowerCase());
  return e ? { present: true, value: e[1] } : { present: false };
};
const docIs = (x) => ({ c, ours, theirs }) => {
  const d = documentedDecision(c);
  return d !== undefined && (x === 'ours' ? ours === d && theirs !== d : theirs === d && ours !== d);
};
const noSession = (c) => ![].concat(c.Policies?.Session ?? []).length;

const U = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/';
export const CLASSES = [
  // ---------------------------------------------------------------- gates and principals
  {
    id: 'TR-IGNORED-KEY',
    verdict: 'translation',
    title: 'iam-simulate ignored a context key of the case (its data does not list the key for the action)',
    doc: { quote: 'iam-simulate only: the request context keys a service puts in a request are listed per action in the Service Authorization Reference.', url: 'https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html' },
    match: ({ t }) => (t.IgnoredContextKeys ?? []).length > 0,
  },
  {
    id: 'T-FED-NO-SESSION',
    verdict: 'theirs wrong',
    title: 'a federated user session without a session policy: iam-simulate lets the IAM user\'s policies apply',
    doc: { quote: 'If you do not pass any session policies, the resulting federated user session has no permissions.', url: 'https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html' },
    match: ({ c, ours, theirs }) => ptype(c) === 'FederatedUser' && noSession(c) && ours === 'ImplicitDeny' && theirs === 'Allowed',
  },
  {
    id: 'T-ROOT-IMPLICIT',
    verdict: 'theirs wrong',
    title: 'the root user with no identity policy: iam-simulate finds no identity-side allow',
    doc: { quote: 'When you first create an AWS account, you begin with a single sign-in identity that has complete access to all AWS services and resources in the account. This identity is called the AWS account root user', url: `${U}id_root-user.html` },
    match: ({ c, ours, theirs }) => ptype(c) === 'Root' && !(c.Policies?.Identity ?? []).length && ours === 'Allowed' && theirs === 'ImplicitDeny',
  },
  {
    id: 'T-SESSION-ARN-NAMED',
    verdict: 'theirs wrong',
    title: 'same account, the resource policy names the session ARN (role session or federated user), the session policy does not allow: iam-simulate lets the session policy limit the grant',
    doc: { quote: 'a resource-based policy can specify the ARN of the session as a principal. In that case, the permissions from the resource-based policy are added after the session is created. The resource-based policy permissions are not limited by the session policy.', url: `${U}access_policies.html#policies_session` },
    match: ({ c, ours, theirs }) => c.Group === 'xacct/same' && /named-by=session-arn/.test(c.Feature) && /session=deny-implicit/.test(c.Feature) && ours === 'Allowed' && theirs === 'ImplicitDeny',
  },
  {
    id: 'U-STAR-NAMED-SESSION-POLICY',
    verdict: 'undocumented',
    title: 'same account, the resource policy grants to Principal "*", the session policy does not allow: we treat "*" like naming the session, iam-simulate like naming the role',
    doc: { quote: "A resource-based policy can specify the ARN of the user or role as a principal ... The session policy limits the total permissions granted by the resource-based policy and the identity-based policy. / A resource-based policy can specify the ARN of the session as a principal ... The resource-based policy permissions are not limited by the session policy. (Nothing is said of Principal \"*\".)", url: `${U}access_policies.html#policies_session` },
    match: ({ c, ours, theirs }) => c.Group === 'xacct/same' && /named-by=star/.test(c.Feature) && /session=deny-implicit/.test(c.Feature) && ours === 'Allowed' && theirs === 'ImplicitDeny',
  },
  {
    id: 'T-RCP-UNSUPPORTED-SERVICE',
    verdict: 'theirs wrong',
    title: 'an RCP Deny on an action of a service that does not support RCPs (Amazon SNS): iam-simulate applies it',
    doc: { quote: 'List of AWS services that support RCPs: Amazon S3, AWS STS, AWS KMS, Amazon SQS, AWS Secrets Manager, Amazon Cognito, Amazon CloudWatch Logs, Amazon DynamoDB, Amazon ECR, Amazon OpenSearch Serverless (section heading and list, abridged; Amazon SNS is not in it)', url: 'https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html' },
    match: ({ c, ours, theirs }) => fam(c) === 'not' && sub(c) === 'rcp' && c.Request.Action.startsWith('sns:') && ours === 'Allowed' && theirs === 'ExplicitDeny',
  },
  {
    id: 'U-NOTPRINCIPAL-ALLOW',
    verdict: 'undocumented',
    title: 'NotPrincipal with "Effect": "Allow": we mark the statement unevaluable (the decision is inconclusive), iam-simulate grants to every principal not listed',
    doc: { quote: 'NotPrincipal must be used with "Effect":"Deny". Using it with "Effect":"Allow" is not supported.', url: `${U}reference_policies_elements_notprincipal.html` },
    match: ({ c, o, theirs }) => /Allow NotPrincipal/.test(c.Feature) && o.Conclusive === false && theirs === 'Allowed',
  },
  {
    id: 'U-NOTPRINCIPAL-INCOMPLETE',
    verdict: 'undocumented',
    title: 'a Deny with NotPrincipal that does not list every level of the caller (account, role, session / user): we deny, iam-simulate exempts the caller',
    doc: { quote: 'you must also specify the account ARN of the not-denied principal. Otherwise, the policy might deny access to the entire account containing the principal ... AWS might validate the account first, then the role, and then the assumed-role user.', url: `${U}reference_policies_elements_notprincipal.html` },
    match: ({ c, ours, theirs }) => {
      if (!/Deny NotPrincipal/.test(c.Feature) || ours !== 'ExplicitDeny' || theirs !== 'Allowed') return false;
      const st = c.Policies.Resource.Policy.Document.Statement.find((x) => x.Sid === 'Tested');
      const listed = [].concat(st.NotPrincipal.AWS);
      const p = c.Request.Principal;
      const acct = p.Arn.split(':')[4];
      const need = [[p.Arn], [`arn:aws:iam::${acct}:root`, acct], ...(p.Type === 'AssumedRole' ? [[p.RoleArn]] : [])];
      return !need.every((alts) => alts.some((a) => listed.includes(a)));
    },
  },
  {
    id: 'U-PKEY-UNKNOWN-VALUE',
    verdict: 'undocumented',
    title: 'aws:userid, aws:PrincipalAccount or aws:PrincipalType of an AWS service, web identity or SAML caller: AWS sets them but documents no value, so we treat the key as unknown (the statement is unevaluable, the decision inconclusive); the translation leaves it absent',
    doc: { quote: "The values for aws:username, aws:userid, and aws:PrincipalType depend on what type of principal initiated the request. (The table that follows has no row for an AWS service principal, nor for the unsigned AssumeRoleWithWebIdentity / AssumeRoleWithSAML calls.) aws:PrincipalAccount: This key is included in the request context for all requests, including anonymous requests.", url: `${U}reference_policies_variables.html#principaltable` },
    match: ({ c, o }) => fam(c) === 'pkey' && ['service', 'web', 'saml'].includes(sub(c)) && /aws:(userid|PrincipalAccount|PrincipalType)/.test(c.Feature) && o.Conclusive === false,
  },
  {
    id: 'U-PKEY-UNLISTED-PRINCIPAL',
    verdict: 'undocumented',
    title: 'aws:PrincipalType of an AWS service, web identity or SAML caller, and aws:PrincipalIsAWSService of a web identity or SAML caller: values the principal key table does not give (we leave aws:PrincipalType unknown and aws:PrincipalIsAWSService absent from these unsigned calls; the translation differs)',
    doc: { quote: "The values for aws:username, aws:userid, and aws:PrincipalType depend on what type of principal initiated the request. (The table that follows has no row for an AWS service principal, nor for the unsigned AssumeRoleWithWebIdentity / AssumeRoleWithSAML calls.)", url: `${U}reference_policies_variables.html#principaltable` },
    match: ({ c }) => ['service', 'web', 'saml'].includes(sub(c)) && fam(c) === 'pkey' && /aws:Principal(Type|IsAWSService)/.test(c.Feature),
  },
  // ---------------------------------------------------------------- conditions (oracle: oracle.mjs)
  {
    id: 'T-NULL-EMPTY-VALUE',
    verdict: 'theirs wrong',
    title: 'Null on a key present with an empty value ("" or []): iam-simulate counts it as not null',
    doc: { quote: 'You can prevent missing context keys or context keys with empty values from evaluating to true by including a Null condition operator in your policy with a value of false to check if the context key in the request exists and its value is not null.', url: `${U}reference_policies_condition_examples-multi-valued-context-keys.html` },
    match: (x) => fam(x.c) === 'cond' && Object.keys(tested(x.c)?.Condition?.Null ?? {}).some((k) => {
      const v = ctxValue(x.c, k);
      return v.present && (v.value === '' || (Array.isArray(v.value) && v.value.length === 0));
    }) && docIs('ours')(x),
  },
  {
    id: 'T-IP-ZERO-PREFIX',
    verdict: 'theirs wrong',
    title: 'IpAddress / NotIpAddress with 0.0.0.0/0 or ::/0 (alone or in a block ANDed with another): iam-simulate matches no address',
    doc: { quote: 'The IP address must be in standard CIDR format (for example, 203.0.113.0/24 or 2001:DB8:1234:5678::/64).', url: `${U}reference_policies_elements_condition_operators.html#Conditions_IPAddress` },
    match: (x) => fam(x.c) === 'cond' && /IpAddress[^}]*\/0"/.test(JSON.stringify(tested(x.c)?.Condition ?? {})) && docIs('ours')(x),
  },
  {
    id: 'T-IP-MIXED-FAMILIES',
    verdict: 'theirs wrong',
    title: 'IpAddress / NotIpAddress with an IPv6 caller and IPv4 ranges in the list: iam-simulate finds a match where none is',
    doc: { quote: 'NotIpAddress: All IP addresses except the specified IP address or range', url: `${U}reference_policies_elements_condition_operators.html#Conditions_IPAddress` },
    match: (x) => fam(x.c) === 'cond' && /IpAddress/.test(JSON.stringify(tested(x.c)?.Condition ?? {})) && String(ctxValue(x.c, 'aws:SourceIp').value ?? '').includes(':') && docIs('ours')(x),
  },
  {
    id: 'T-DATE-MIXED-FORMATS',
    verdict: 'theirs wrong',
    title: 'a date compared across formats (epoch time against ISO 8601, a time zone offset, a date without time): iam-simulate does not compare the instants',
    doc: { quote: 'You must specify date/time values with one of the W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time.', url: `${U}reference_policies_elements_condition_operators.html#Conditions_Date` },
    match: (x) => fam(x.c) === 'cond' && Object.keys(tested(x.c)?.Condition ?? {}).some((op) => op.startsWith('Date')) && docIs('ours')(x),
  },
  {
    id: 'T-SET-IFEXISTS-MISSING',
    verdict: 'theirs wrong',
    title: 'ForAnyValue:…IfExists with the key missing: iam-simulate returns false',
    doc: { quote: 'If the key is not present, evaluate the condition element as true.', url: `${U}reference_policies_elements_condition_operators.html#Conditions_IfExists` },
    match: (x) => fam(x.c) === 'setop' && /IfExists$/.test(condOp(x.c)) && !ctxValue(x.c, condKey(x.c)).present && docIs('ours')(x),
  },
  {
    id: 'T-SET-EMPTY-STRING',
    verdict: 'theirs wrong',
    title: 'ForAllValues / ForAnyValue on a key whose value is the empty string: iam-simulate compares the empty string as a value',
    doc: { quote: 'If the key values in the request resolve to an empty data set (for example, an empty string), a condition operator modified by ForAllValues returns true, and a condition operator modified by ForAnyValue returns false.', url: `${U}reference_policies_condition-single-vs-multi-valued-context-keys.html` },
    match: (x) => fam(x.c) === 'setop' && ctxValue(x.c, condKey(x.c)).value === '' && docIs('ours')(x),
  },
  {
    id: 'T-COND-OTHER',
    verdict: 'theirs wrong',
    title: 'other condition results where ours follows the documented semantics',
    doc: { quote: '(see oracle.mjs)', url: `${U}reference_policies_elements_condition_operators.html` },
    match: (x) => ['cond', 'setop'].includes(fam(x.c)) && docIs('ours')(x),
  },
  {
    id: 'O-COND',
    verdict: 'ours wrong',
    title: 'condition results where iam-simulate follows the documented semantics and we do not',
    doc: { quote: '(see oracle.mjs)', url: `${U}reference_policies_elements_condition_operators.html` },
    match: (x) => ['cond', 'setop'].includes(fam(x.c)) && docIs('theirs')(x),
  },
  // ---------------------------------------------------------------- policy variables
  {
    id: 'T-VAR-BEFORE-FIFTH-COLON',
    verdict: 'theirs wrong',
    title: 'a variable in the partition, service, region or account field of a Resource entry: iam-simulate substitutes it',
    doc: { quote: 'You can use a policy variable in the Resource element, but only in the resource portion of the ARN. This portion of the ARN appears after the fifth colon (:). You can\'t use a variable to replace parts of the ARN before the fifth colon, such as the service or account.', url: `${U}reference_policies_variables.html` },
    match: (x) => fam(x.c) === 'var' && ['partition', 'service', 'region', 'account'].includes(sub(x.c)) && varDocIs('ours')(x),
  },
  {
    id: 'T-VAR-2008-VERSION',
    verdict: 'theirs wrong',
    title: 'a variable in a policy with Version 2008-10-17: iam-simulate substitutes it',
    doc: { quote: 'Variables were introduced in version 2012-10-17. Earlier versions of the policy language don\'t support policy variables. If you don\'t include the Version element and set it to an appropriate version date, variables like ${aws:username} are treated as literal strings in the policy.', url: `${U}reference_policies_variables.html` },
    match: (x) => fam(x.c) === 'var' && varVersion(x.c) && varDocIs('ours')(x),
  },
  {
    id: 'T-VAR-SPECIAL-CHARS',
    verdict: 'theirs wrong',
    title: '${*}, ${?} and ${$} (a literal *, ? and $): iam-simulate does not substitute them, or lets the * match anything',
    doc: { quote: '${*} - use where you need an * (asterisk) character. ${?} - use where you need a ? (question mark) character. ${$} - use where you need a $ (dollar sign) character. These predefined policy variables can be used in any string where you can use regular policy variables.', url: `${U}reference_policies_variables.html#policy-vars-specialchars` },
    match: (x) => fam(x.c) === 'var' && /\$\{[*?$]\}/.test(JSON.stringify(x.c.Policies)) && varDocIs('ours')(x),
  },
  {
    id: 'T-VAR-NO-VALUE-NEGATED',
    verdict: 'theirs wrong',
    title: 'a negated operator (StringNotEquals) on a variable whose key has no value: iam-simulate does not match',
    doc: { quote: 'When policy variables reference a condition context key that has no value or is not present ... the value is effectively null. There is no equal or like value.', url: `${U}reference_policies_variables.html#policy-vars-no-value` },
    match: (x) => sub(x.c) === 'condition' && /Not/.test(x.c.Feature) && varDocIs('ours')(x),
  },
  {
    id: 'T-VAR-ARN-CONDITION',
    verdict: 'theirs wrong',
    title: 'a variable in an ArnLike condition value: iam-simulate does not match the substituted ARN',
    doc: { quote: 'You can use a policy variable for Condition values in any condition that involves the string operators or the ARN operators.', url: `${U}reference_policies_elements_condition_operators.html#Conditions_ARN` },
    match: (x) => sub(x.c) === 'condition' && /^Arn/.test(x.c.Feature) && varDocIs('ours')(x),
  },
  {
    id: 'T-VAR-OTHER',
    verdict: 'theirs wrong',
    title: 'other policy-variable cases where ours follows the documented substitution (defaults, missing keys in Resource, case of key names)',
    doc: { quote: "When you add a variable to your policy, you can specify a default value for the variable. / You can use a policy variable in the Resource element, but only in the resource portion of the ARN.", url: `${U}reference_policies_variables.html#policy-vars-default-values` },
    match: (x) => fam(x.c) === 'var' && varDocIs('ours')(x),
  },
  {
    id: 'O-VAR',
    verdict: 'ours wrong',
    title: 'policy-variable cases where iam-simulate follows the documented substitution and we do not',
    doc: { quote: '(see oracle.mjs, substitute / resourceEntryMatches)', url: `${U}reference_policies_variables.html` },
    match: (x) => fam(x.c) === 'var' && varDocIs('theirs')(x),
  },
  {
    id: 'U-VAR-OPERATOR',
    verdict: 'undocumented',
    title: 'a variable in a Date, Numeric or IpAddress condition value, which the guide says those operators do not take',
    doc: { quote: 'You can\'t use a policy variable with other operators, such as Numeric, Date, Boolean, Binary, IP Address, or Null operators.', url: `${U}reference_policies_elements_condition_operators.html#Conditions_Date` },
    match: (x) => fam(x.c) === 'var' && documentedVarDecision(x.c) === undefined && why.includes('variable-in-operator-without-variables'),
  },
  ...[
    ['TR-BINARY-REQUEST', 'translation', 'binary-request-not-base64', 'BinaryEquals with a request value that is not base64 text: we compare its bytes with the decoded policy value, iam-simulate compares the two texts; the simulate input has no way to say which representation a binary request value uses',
      'It compares the value of the specified key byte for byte against a base-64 encoded representation of the binary value in the policy.', 'Conditions_BinaryEquals'],
    ['U-BINARY-NONCANONICAL', 'undocumented', 'binary-policy-not-canonical-base64', 'BinaryEquals with a policy value that is not canonical base64 (no padding, or non-zero unused bits): we mark the statement unevaluable, iam-simulate compares the text',
      'It compares the value of the specified key byte for byte against a base-64 encoded representation of the binary value in the policy.', 'Conditions_BinaryEquals'],
    ['U-DATE-YEAR-OR-EPOCH', 'undocumented', 'date-year-or-epoch', 'a four-digit date value (2025): a W3C year for us, an epoch time for iam-simulate',
      'You must specify date/time values with one of the W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time.', 'Conditions_Date'],
    ['U-DATE-EPOCH-MS', 'undocumented', 'date-epoch-milliseconds', 'a thirteen-digit epoch value: seconds or milliseconds',
      'You must specify date/time values with one of the W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time.', 'Conditions_Date'],
    ['U-DATE-FORMAT', 'undocumented', 'date-format', 'a date value in no documented format (no time zone designator, text)',
      'You must specify date/time values with one of the W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time.', 'Conditions_Date'],
    ['U-NUMERIC-FORMAT', 'undocumented', 'numeric-format', 'a numeric value that is neither an integer nor a decimal (1e3, abc)',
      'Numeric condition operators let you construct Condition elements that restrict access based on comparing a key to an integer or decimal value.', 'Conditions_Numeric'],
    ['U-ARN-FORMAT', 'undocumented', 'arn-format', 'an Arn* operator on a value that is not a six-component ARN (a bare *, arn:aws:sns:*, not-an-arn); negated operators on a non-ARN request value',
      'Each of the six colon-delimited components of the ARN is checked separately', 'Conditions_ARN'],
    ['U-BOOL-FORMAT', 'undocumented', 'bool-format', 'Bool with a value other than true or false (True, TRUE, 1, yes)',
      'Boolean conditions let you construct Condition elements that restrict access based on comparing a key to true or false.', 'Conditions_Boolean'],
    ['U-IP-FORMAT', 'undocumented', 'ip-request-format|ip-policy-format', 'an IP value outside standard CIDR (host bits set, /33, not an address)',
      'The IP address must be in standard CIDR format', 'Conditions_IPAddress'],
    ['U-IPV4-MAPPED', 'undocumented', 'ip-ipv4-mapped', 'an IPv4-mapped IPv6 caller (::ffff:203.0.113.7) against IPv4 ranges',
      'The IP address must be in standard CIDR format (for example, 203.0.113.0/24 or 2001:DB8:1234:5678::/64).', 'Conditions_IPAddress'],
    ['U-NULL-FORMAT', 'undocumented', 'null-value-format|null-list-of-empty-strings', 'Null with a value other than one true/false, or on a list holding only empty strings',
      'In the policy statement, use either true (the key doesn\'t exist — it is null) or false (the key exists and its value is not null).', 'Conditions_Null'],
    ['U-MULTIVALUED-NO-SET-OPERATOR', 'undocumented', 'multivalued-key-without-set-operator', 'a multivalued key (aws:TagKeys, aws:CalledVia) under a plain String* operator, without ForAnyValue / ForAllValues',
      'Multivalued context keys require a condition set operator.', null],
  ].map(([id, verdict, reasons, title, quote, anchor]) => ({
    id, verdict, title,
    doc: { quote, url: anchor ? `${U}reference_policies_elements_condition_operators.html#${anchor}` : `${U}reference_policies_condition-single-vs-multi-valued-context-keys.html` },
    match: (x) => ['cond', 'setop'].includes(fam(x.c)) && documentedDecision(x.c) === undefined && why.some((w) => reasons.split('|').includes(w)),
  })),
];
