// A small model of the condition semantics the IAM User Guide documents, used by classes.mjs to
// say which side of a disagreement the documentation supports. Each function returns true or
// false when the documentation decides, and `undefined` when it does not (a value outside the
// documented formats, an operator on a key shape the guide says not to use, ...).
//
// Sources (IAM User Guide):
//   condition operators   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//   set operators         https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
//   Null / empty values   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html

const str = (v) => (typeof v === 'string' ? v : JSON.stringify(v) === undefined ? String(v) : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function glob(pattern, value, ignoreCase = false) {
  const re = '^' + [...pattern].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('') + '$';
  return new RegExp(re, ignoreCase ? 'is' : 's').test(value);
}

// Why the last evaluation was undecided (reason codes, see classes.mjs).
export const why = [];
const undecided = (reason) => {
  why.push(reason);
  return undefined;
};

// ---- value parsers (documented formats only) ----
export function parseNumber(v) {
  const s = str(v);
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : undefined; // "an integer or decimal value"
}
// "one of the W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time"
export function parseDate(v) {
  const s = str(v);
  // Four digits are both a W3C year (YYYY) and an epoch time: the guide does not say which wins.
  if (/^\d{4}$/.test(s)) return undecided('date-year-or-epoch');
  // Thirteen digits and more read as epoch milliseconds by some tools: not said either.
  if (/^\d{13,}$/.test(s)) return undecided('date-epoch-milliseconds');
  if (/^\d+$/.test(s)) return Number(s) * 1000; // epoch seconds
  let m;
  if ((m = /^(\d{4})$/.exec(s))) return Date.UTC(+m[1], 0, 1);
  if ((m = /^(\d{4})-(\d{2})$/.exec(s))) return Date.UTC(+m[1], +m[2] - 1, 1);
  if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s))) return Date.UTC(+m[1], +m[2] - 1, +m[3]);
  if ((m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(s))) {
    let t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0)) + (m[7] ? Math.round(Number(m[7]) * 1000) : 0);
    if (m[8] !== 'Z') {
      const sign = m[8][0] === '+' ? 1 : -1;
      t -= sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * 60000;
    }
    return t;
  }
  return undecided('date-format');
}
// "true or false" (a JSON boolean or the lowercase word)
export function parseBool(v) {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  return undefined;
}
function ipToBig(s) {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { v: parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n), bits: 32 };
  }
  if (/^[0-9a-fA-F:]+$/.test(s) && s.includes(':')) {
    const [head, tail] = s.split('::');
    if (s.split('::').length > 2) return undefined;
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
    return { v: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
  }
  return undefined;
}
export const isIpv4Mapped = (s) => /^::ffff:/i.test(str(s));
// "standard CIDR format"; without a prefix, /32 (IPv4). Host bits set or a bad prefix: undecided.
export function parseCidr(v) {
  const s = str(v);
  const [addr, prefix, extra] = s.split('/');
  if (extra !== undefined) return undefined;
  const a = ipToBig(addr);
  if (!a) return undefined;
  const p = prefix === undefined ? a.bits : /^\d+$/.test(prefix) ? Number(prefix) : NaN;
  if (!(p >= 0 && p <= a.bits)) return undefined;
  const mask = p === 0 ? 0n : ((1n << BigInt(p)) - 1n) << BigInt(a.bits - p);
  if ((a.v & ~mask & ((1n << BigInt(a.bits)) - 1n)) !== 0n) return undefined; // host bits set
  return { ...a, mask };
}
export function inCidr(ip, cidr) {
  const a = ipToBig(str(ip));
  if (!a || !cidr || a.bits !== cidr.bits) return false;
  return (a.v & cidr.mask) === cidr.v;
}
// ARN operators: "Each of the six colon-delimited components of the ARN is checked separately".
const arnParts = (s) => {
  const p = str(s).split(':');
  return p.length >= 6 && p[0] === 'arn' ? [...p.slice(0, 5), p.slice(5).join(':')] : undefined;
};
// Canonical base64 only: padding present and unused trailing bits zero (RFC 4648 section 3.5).
const isBase64 = (s) =>
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s) && Buffer.from(s, 'base64').toString('base64') === s;

// ---- one value against one policy value, positive form; undefined = undecided ----
function baseMatch(base, v, p) {
  switch (base) {
    case 'StringEquals': return str(v) === str(p);
    case 'StringEqualsIgnoreCase': return str(v).toLowerCase() === str(p).toLowerCase();
    case 'StringLike': return glob(str(p), str(v));
    case 'ArnEquals':
    case 'ArnLike': {
      const a = arnParts(v), b = arnParts(p);
      if (!a || !b) return undecided('arn-format');
      return a.every((x, i) => glob(b[i], x));
    }
    case 'NumericEquals': case 'NumericLessThan': case 'NumericLessThanEquals': case 'NumericGreaterThan': case 'NumericGreaterThanEquals':
    case 'DateEquals': case 'DateLessThan': case 'DateLessThanEquals': case 'DateGreaterThan': case 'DateGreaterThanEquals': {
      const parse = base.startsWith('Numeric') ? parseNumber : parseDate;
      const before = why.length;
      const x = parse(v), y = parse(p);
      if (x === undefined || y === undefined) {
        if (why.length === before) why.push(`${base.startsWith('Numeric') ? 'numeric' : 'date'}-format`);
        return undefined;
      }
      const rel = base.replace(/^Numeric|^Date/, '');
      return { Equals: x === y, LessThan: x < y, LessThanEquals: x <= y, GreaterThan: x > y, GreaterThanEquals: x >= y }[rel];
    }
    case 'Bool': {
      const x = parseBool(v), y = parseBool(p);
      return x === undefined || y === undefined ? undecided('bool-format') : x === y;
    }
    case 'BinaryEquals': {
      if (!isBase64(str(p))) return undecided('binary-policy-not-canonical-base64');
      if (!isBase64(str(v))) return undecided('binary-request-not-base64'); // the request's bytes: see the translation class
      return Buffer.from(str(v), 'base64').equals(Buffer.from(str(p), 'base64'));
    }
    case 'IpAddress': {
      const c = parseCidr(p);
      if (isIpv4Mapped(v)) return undecided('ip-ipv4-mapped');
      if (!c) return undecided('ip-policy-format');
      if (ipToBig(str(v)) === undefined) return undecided('ip-request-format');
      return inCidr(v, c);
    }
    default: return undecided('operator');
  }
}
const NEGATED = { StringNotEquals: 'StringEquals', StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase', StringNotLike: 'StringLike',
  ArnNotEquals: 'ArnEquals', ArnNotLike: 'ArnLike', NumericNotEquals: 'NumericEquals', DateNotEquals: 'DateEquals', NotIpAddress: 'IpAddress' };

// any of the policy values matches v (positive form); undecided if any comparison is undecided and none matched
function anyMatch(base, v, values) {
  let undecided = false;
  for (const p of values) {
    const m = baseMatch(base, v, p);
    if (m === true) return true;
    if (m === undefined) undecided = true;
  }
  return undecided ? undefined : false;
}
const not = (x) => (x === undefined ? undefined : !x);

/**
 * The documented result of one condition operator on one key. `present` says whether the key is in
 * the request; `value` is a string or a list (a multivalued key); `multivalued` whether the key is
 * one (aws:TagKeys, aws:CalledVia, ...).
 */
export function evalCondition(op, values, present, value, multivalued) {
  values = [].concat(values);
  let set;
  let rest = op;
  if (op.includes(':')) [set, rest] = op.split(':');
  const ifExists = rest.endsWith('IfExists');
  const base0 = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  if (base0 === 'Null') {
    const want = parseBool(values.length === 1 ? values[0] : undefined);
    if (want === undefined) return undecided('null-value-format');
    let isNull;
    if (!present) isNull = true;
    else if (Array.isArray(value)) isNull = value.length === 0 ? true : value.every((x) => x === '') ? undefined : false;
    else isNull = value === ''; // "context keys with empty values" (multivalued key examples)
    return isNull === undefined ? undecided('null-list-of-empty-strings') : isNull === want;
  }
  const negated = base0 in NEGATED;
  const base = NEGATED[base0] ?? base0;
  if (!present) return ifExists ? true : set === 'ForAllValues' ? true : set === 'ForAnyValue' ? false : negated;
  if (set) {
    // "the key values in the request resolve to an empty data set (for example, an empty string)"
    const vs = Array.isArray(value) ? value : value === '' ? [] : [value];
    if (vs.length === 0) return set === 'ForAllValues';
    const each = vs.map((v) => (negated ? not(anyMatch(base, v, values)) : anyMatch(base, v, values)));
    if (set === 'ForAllValues') return each.includes(false) ? false : each.includes(undefined) ? undefined : true;
    return each.includes(true) ? true : each.includes(undefined) ? undefined : false;
  }
  if (multivalued || Array.isArray(value)) return undecided('multivalued-key-without-set-operator'); // "Multivalued context keys require a condition set operator"
  const m = anyMatch(base, value, values);
  return negated ? not(m) : m;
}

export const MULTIVALUED = new Set(['aws:tagkeys', 'aws:calledvia', 'aws:principalservicenameslist', 'aws:principalorgpaths', 'aws:resourceorgpaths']);

/**
 * For the cond/* and setop/* cases (one tested statement in one identity policy, an Allow of the
 * action or a Deny plus an Allow of the service): the decision the documentation gives, or
 * undefined.
 */
export function documentedDecision(c) {
  why.length = 0;
  const stmts = c.Policies?.Identity?.[0]?.Document?.Statement ?? [];
  const tested = stmts.find((s) => s.Sid === 'Tested');
  if (!tested?.Condition) return undefined;
  const ctx = Object.fromEntries(Object.entries(c.Request.Context ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  let result = true;
  for (const [op, block] of Object.entries(tested.Condition)) {
    for (const [key, values] of Object.entries(block)) {
      const k = key.toLowerCase();
      if (Object.values([].concat(values)).some((v) => typeof v === 'string' && v.includes('${'))) return undecided('variable');
      const r = evalCondition(op, values, k in ctx, ctx[k], MULTIVALUED.has(k));
      if (r === undefined) return undefined;
      result = result && r;
    }
  }
  if (tested.Effect === 'Deny') return result ? 'ExplicitDeny' : 'Allowed';
  return result ? 'Allowed' : 'ImplicitDeny';
}

// ---- policy variables (IAM User Guide, "IAM policy elements: Variables and tags",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html) ----
// Literal * and ? produced by ${*} and ${?} must not act as wildcards: they become these
// placeholders, which glob() below matches literally.
const LIT_STAR = '\u0001';
const LIT_Q = '\u0002';
const unplace = (s) => s.replaceAll(LIT_STAR, '*').replaceAll(LIT_Q, '?');
export function globLit(pattern, value) {
  const re = '^' + [...pattern].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch === LIT_STAR ? '\\*' : ch === LIT_Q ? '\\?' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('') + '$';
  return new RegExp(re, 's').test(value);
}
/**
 * Substitutes the variables of `text` ("${key}", "${key, 'default'}", "${*}", "${?}", "${$}")
 * from `keys` (lower-case key -> value). Returns { text, missing } where missing says a variable
 * had no value and no default; undefined when the text is malformed.
 */
export function substitute(text, keys) {
  let out = '';
  let missing = false;
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('${', i)) {
      const end = text.indexOf('}', i);
      if (end < 0) return undecided('variable-unclosed');
      const body = text.slice(i + 2, end);
      if (body === '*') out += LIT_STAR;
      else if (body === '?') out += LIT_Q;
      else if (body === '$') out += '$';
      else {
        const m = /^\s*([^,\s]+)\s*(?:,\s*'([^']*)'\s*)?$/.exec(body);
        if (!m) return undecided('variable-syntax');
        const v = keys[m[1].toLowerCase()];
        if (Array.isArray(v)) return undecided('variable-multivalued');
        if (v !== undefined) out += v;
        else if (m[2] !== undefined) out += m[2];
        else missing = true;
      }
      i = end + 1;
    } else {
      out += text[i++];
    }
  }
  return { text: out, missing };
}

/** Whether a Resource entry matches: variables only after the fifth colon, and only in 2012-10-17. */
export function resourceEntryMatches(pattern, resource, keys, version) {
  if (version !== '2012-10-17' || !pattern.includes('${')) return globLit(pattern, resource);
  const parts = pattern.split(':');
  const head = parts.slice(0, 5).join(':');
  if (head.includes('${')) return globLit(pattern, resource); // literal text before the fifth colon: matches nothing real
  const s = substitute(parts.slice(5).join(':'), keys);
  if (s === undefined) return undefined;
  if (s.missing) return false; // "the resource ARN ... does not match"
  return globLit(`${head}:${s.text}`, resource);
}

// "You can use a policy variable for Condition values in any condition that involves the string
// operators or the ARN operators ... You can't use a policy variable with other operators"
const VAR_OK = /^(String|Arn)/;
/** The documented result of a condition whose values may hold variables. */
export function evalConditionWithVariables(op, values, present, value, multivalued, keys, version) {
  values = [].concat(values);
  const hasVar = values.some((v) => typeof v === 'string' && v.includes('${'));
  if (!hasVar || version !== '2012-10-17') {
    // without substitution the text is literal; keep the ${*} etc. as they are
    return evalCondition(op, values, present, value, multivalued);
  }
  const base = op.split(':').pop().replace(/IfExists$/, '');
  if (!VAR_OK.test(base)) return undecided('variable-in-operator-without-variables');
  const subs = values.map((v) => (typeof v === 'string' ? substitute(v, keys) : { text: v, missing: false }));
  if (subs.some((s) => s === undefined)) return undefined;
  const negated = /Not/.test(base);
  const live = subs.filter((s) => !s.missing);
  if (!live.length) {
    // "no equal or like value": positive operators do not match, negated ones do
    if (!present) return evalCondition(op, ['\u0000never'], present, value, multivalued);
    return negated;
  }
  const hasLit = live.some((s) => typeof s.text === 'string' && (s.text.includes(LIT_STAR) || s.text.includes(LIT_Q)));
  if (hasLit && /Like/.test(base)) {
    const vs = [].concat(value);
    const m = vs.some((v) => live.some((s) => globLit(s.text, String(v))));
    return negated ? !m : m;
  }
  return evalCondition(op, live.map((s) => (typeof s.text === 'string' ? unplace(s.text) : s.text)), present, value, multivalued);
}
