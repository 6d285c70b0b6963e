//! Condition operators and clauses: every operator family, the `IfExists` suffix and the
//! `ForAllValues:` / `ForAnyValue:` set qualifiers.
//!
//! An operator name the engine does not know is kept as [`ConditionOp::Unknown`] rather than
//! rejected, so the statement is reported as unevaluable instead of silently not matching.

use super::pattern::Pattern;

/// The base comparison of an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionOp {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
    /// An operator name this engine does not know (kept as written).
    Unknown(String),
}

impl ConditionOp {
    fn from_name(name: &str) -> ConditionOp {
        use ConditionOp::*;
        match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "BinaryEquals" => BinaryEquals,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Null" => Null,
            other => Unknown(other.to_string()),
        }
    }

    /// Negated operators are true when the key is missing and are the complement of their
    /// positive form.
    pub fn is_negated(&self) -> bool {
        use ConditionOp::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Whether policy variables are substituted in this operator's values.
    pub fn takes_variables(&self) -> bool {
        use ConditionOp::*;
        matches!(
            self,
            StringEquals
                | StringNotEquals
                | StringEqualsIgnoreCase
                | StringNotEqualsIgnoreCase
                | StringLike
                | StringNotLike
                | ArnEquals
                | ArnLike
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// `ForAllValues:` or `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

/// A full operator: qualifier, base comparison and `IfExists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The operator as written, e.g. `ForAnyValue:StringLikeIfExists`.
    pub name: String,
    pub qualifier: Option<SetQualifier>,
    pub op: ConditionOp,
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name; unknown names give [`ConditionOp::Unknown`].
    pub fn parse(name: &str) -> Operator {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) if b != "Null" => (b, true),
            _ => (rest, false),
        };
        let op = match ConditionOp::from_name(base) {
            ConditionOp::Unknown(_) => ConditionOp::Unknown(name.to_string()),
            known => known,
        };
        Operator {
            name: name.to_string(),
            qualifier,
            op,
            if_exists,
        }
    }
}

/// One `operator: { key: values }` entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written.
    pub key: String,
    /// The key lowercased for lookup.
    pub key_lower: String,
    /// The values (strings, numbers and booleans are all kept as their text).
    pub values: Vec<Pattern>,
    /// Whether the values were written as a JSON list (kept for faithful serialization).
    pub values_as_list: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names() {
        let o = Operator::parse("ForAnyValue:StringLikeIfExists");
        assert_eq!(o.qualifier, Some(SetQualifier::ForAnyValue));
        assert_eq!(o.op, ConditionOp::StringLike);
        assert!(o.if_exists);
        let o = Operator::parse("Null");
        assert_eq!(o.op, ConditionOp::Null);
        let o = Operator::parse("StringEqualsIgnoreCaseIfExists");
        assert_eq!(o.op, ConditionOp::StringEqualsIgnoreCase);
        assert!(o.if_exists);
        let o = Operator::parse("StringFuzzy");
        assert_eq!(o.op, ConditionOp::Unknown("StringFuzzy".into()));
        assert!(ConditionOp::NotIpAddress.is_negated());
    }
}
