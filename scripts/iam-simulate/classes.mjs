// The classes of disagreement between our engine and iam-simulate (tests/differential/DIFFERENCES.md
// explains each one with the AWS documentation that decides it). scripts/iam-simulate/
// differential-report.mjs puts every disagreement in the first class whose `match` accepts it;
// one in no class is UNEXPLAINED. `match` receives { c: the case, o: our result line, t:
// iam-simulate's line, ours, theirs: the two decisions }.
//
// Verdicts: "ours wrong", "theirs wrong", "undocumented" (the documentation does not decide),
// "translation" (the translation between the two input formats loses or changes something).

import { documentedDecision, why } from './oracle.mjs';

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
    doc: { quote: 'This identity is called the AWS account root user and has complete access to all AWS services and resources in the account.', url: `${U}id_root-user.html` },
    match: ({ c, ours, theirs }) => ptype(c) === 'Root' && !(c.Policies?.Identity ?? []).length && ours === 'Allowed' && theirs === 'ImplicitDeny',
  },
  // ---------------------------------------------------------------- conditions (oracle: oracle.mjs)
  {
    id: 'T-NULL-EMPTY-VALUE',
    verdict: 'theirs wrong',
    title: 'Null on a key present with an empty value ("" or []): iam-simulate counts it as not null',
    doc: { quote: 'You can prevent missing context keys or context keys with empty values from evaluating to true by including a Null condition operator in your policy with a value of false to check if the context key in the request exists and its value is not null.', url: `${U}reference_policies_condition_examples-multi-valued-context-keys.html` },
    match: (x) => sub(x.c) === 'null' && docIs('ours')(x),
  },
  {
    id: 'T-IP-ZERO-PREFIX',
    verdict: 'theirs wrong',
    title: 'IpAddress / NotIpAddress with 0.0.0.0/0 or ::/0: iam-simulate matches no address',
    doc: { quote: 'The IP address must be in standard CIDR format (for example, 203.0.113.0/24 or 2001:DB8:1234:5678::/64).', url: `${U}reference_policies_elements_condition_operators.html#Conditions_IPAddress` },
    match: (x) => sub(x.c) === 'ip' && condValues(x.c).some((v) => /\/0$/.test(String(v))) && docIs('ours')(x),
  },
  {
    id: 'T-IP-MIXED-FAMILIES',
    verdict: 'theirs wrong',
    title: 'NotIpAddress with an IPv6 caller and a list mixing IPv4 and IPv6 ranges: iam-simulate finds a match where none is',
    doc: { quote: 'NotIpAddress: All IP addresses except the specified IP address or range', url: `${U}reference_policies_elements_condition_operators.html#Conditions_IPAddress` },
    match: (x) => sub(x.c) === 'ip' && docIs('ours')(x),
  },
  {
    id: 'T-DATE-MIXED-FORMATS',
    verdict: 'theirs wrong',
    title: 'a date compared across formats (epoch time against ISO 8601, a time zone offset, a date without time): iam-simulate does not compare the instants',
    doc: { quote: 'You must specify date/time values with one of the W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time.', url: `${U}reference_policies_elements_condition_operators.html#Conditions_Date` },
    match: (x) => sub(x.c) === 'date' && docIs('ours')(x),
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
