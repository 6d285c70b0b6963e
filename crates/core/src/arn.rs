//! ARNs and account ids: every ARN the tool reads is split here, once, and every ARN it writes
//! is built here from the caller's partition (`aws`, `aws-cn`, `aws-us-gov`, …), never from a
//! hard-coded `arn:aws:`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The six fields of an ARN, borrowed from the text they were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    /// The account field as written (12 digits, `aws` for AWS managed policies, or empty).
    pub account: &'a str,
    /// Everything after the fifth colon (`user/path/name`, `function:name:qualifier`).
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `text` into its fields; `None` unless it starts with `arn:` and has all six.
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let rest = text.strip_prefix("arn:")?;
        // The next four colons, found byte by byte (an ASCII colon is always a character
        // boundary): what `splitn(6, ':')` gives, without its searcher.
        let mut colons = rest
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b':')
            .map(|(i, _)| i);
        let (a, b, c, d) = (
            colons.next()?,
            colons.next()?,
            colons.next()?,
            colons.next()?,
        );
        Some(Arn {
            partition: rest.get(..a)?,
            service: rest.get(a + 1..b)?,
            region: rest.get(b + 1..c)?,
            account: rest.get(c + 1..d)?,
            resource: rest.get(d + 1..)?,
        })
    }

    /// The account field when it is a 12-digit account id.
    pub fn account_id(&self) -> Option<&'a str> {
        is_account_id(self.account).then_some(self.account)
    }
}

impl fmt::Display for Arn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// Whether `text` is an AWS account id: exactly 12 ASCII digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// A validated 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    /// `Some` only for exactly 12 ASCII digits.
    pub fn parse(text: &str) -> Option<AccountId> {
        is_account_id(text).then(|| AccountId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AccountId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if is_account_id(&s) {
            Ok(AccountId(s))
        } else {
            Err(format!("`{s}` is not a 12-digit account id"))
        }
    }
}

impl From<AccountId> for String {
    fn from(a: AccountId) -> String {
        a.0
    }
}

/// The partition used when nothing in the record names one.
pub const DEFAULT_PARTITION: &str = "aws";

/// The partition of an ARN, or [`DEFAULT_PARTITION`] when `text` is not an ARN.
pub fn partition_of(text: &str) -> &str {
    Arn::parse(text).map_or(DEFAULT_PARTITION, |a| a.partition)
}

/// The partition a region belongs to (`cn-north-1` → `aws-cn`, `us-gov-west-1` → `aws-us-gov`,
/// `us-iso-east-1` → `aws-iso`, `us-isob-east-1` → `aws-iso-b`, `eu-isoe-west-1` →
/// `aws-iso-e`, `us-isof-south-1` → `aws-iso-f`), from the endpoint partitions AWS publishes.
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-isof-") || region.starts_with("eu-isof-") {
        "aws-iso-f"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        DEFAULT_PARTITION
    }
}

/// `arn:<partition>:iam::<account>:<resource>` (users, roles, groups, policies, the root user).
pub fn iam_arn(partition: &str, account: &str, resource: &str) -> String {
    format!("arn:{partition}:iam::{account}:{resource}")
}

/// `arn:<partition>:s3:::<bucket>`.
pub fn s3_bucket_arn(partition: &str, bucket: &str) -> String {
    format!("arn:{partition}:s3:::{bucket}")
}

/// The bucket of an S3 bucket or object ARN in any partition (`arn:aws-cn:s3:::b/k` → `b`).
pub fn s3_bucket_of(text: &str) -> Option<&str> {
    let arn = Arn::parse(text)?;
    if arn.service != "s3" || !arn.region.is_empty() || !arn.account.is_empty() {
        return None;
    }
    arn.resource.split('/').next().filter(|b| !b.is_empty())
}

/// `arn:<p>:sts::<acct>:assumed-role/Name/session` → `arn:<p>:iam::<acct>:role/Name` (without
/// the path, which a session ARN does not carry).
pub fn role_arn_of_session(session_arn: &str) -> Option<String> {
    let arn = Arn::parse(session_arn)?;
    let name = arn
        .resource
        .strip_prefix("assumed-role/")?
        .split('/')
        .next()?;
    Some(iam_arn(arn.partition, arn.account, &format!("role/{name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_splitn_six_does() {
        for text in [
            "arn:aws:s3:::b/k",
            "arn:aws:iam::111122223333:root",
            "arn:aws-cn:lambda:cn-north-1:111122223333:function:f:3",
            "arn:aws:s3:::",
            "arn::::::",
            "arn:aws:s3::",
            "arn:aws",
            "arn:",
            "arn",
            "",
            "urn:aws:s3:::b",
            "ARN:aws:s3:::b",
            "arn:é:ü::1:x",
        ] {
            let mut f = text.splitn(6, ':');
            let model = (f.next() == Some("arn"))
                .then(|| Some((f.next()?, f.next()?, f.next()?, f.next()?, f.next()?)))
                .flatten();
            let got =
                Arn::parse(text).map(|a| (a.partition, a.service, a.region, a.account, a.resource));
            assert_eq!(got, model, "{text}");
        }
    }

    #[test]
    fn parses_six_fields_and_keeps_colons_in_the_resource() {
        let a = Arn::parse("arn:aws-cn:lambda:cn-north-1:111122223333:function:f:3").unwrap();
        assert_eq!(a.partition, "aws-cn");
        assert_eq!(a.service, "lambda");
        assert_eq!(a.region, "cn-north-1");
        assert_eq!(a.account_id(), Some("111122223333"));
        assert_eq!(a.resource, "function:f:3");
        assert_eq!(
            a.to_string(),
            "arn:aws-cn:lambda:cn-north-1:111122223333:function:f:3"
        );
        assert_eq!(Arn::parse("arn:aws:s3:::b").map(|a| a.resource), Some("b"));
        assert_eq!(Arn::parse("arn:aws:s3:b"), None);
        assert_eq!(Arn::parse("urn:aws:s3:::b/k"), None);
        assert_eq!(
            Arn::parse("arn:aws:iam::aws:policy/X")
                .unwrap()
                .account_id(),
            None
        );
    }

    #[test]
    fn account_ids_are_exactly_twelve_digits() {
        assert!(AccountId::parse("111122223333").is_some());
        for bad in [
            "11112222333",
            "1111222233334",
            "11112222333x",
            "",
            "１１１１２２２２３３３３",
        ] {
            assert_eq!(AccountId::parse(bad), None, "{bad}");
        }
        let ok: AccountId = serde_json::from_str("\"111122223333\"").unwrap();
        assert_eq!(ok.as_str(), "111122223333");
        assert!(serde_json::from_str::<AccountId>("\"12\"").is_err());
    }

    #[test]
    fn partitions_follow_regions_and_arns() {
        assert_eq!(partition_of_region("eu-west-1"), "aws");
        assert_eq!(partition_of_region("cn-northwest-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of_region("us-iso-east-1"), "aws-iso");
        assert_eq!(partition_of_region("us-isob-east-1"), "aws-iso-b");
        assert_eq!(
            partition_of("arn:aws-us-gov:iam::111122223333:user/u"),
            "aws-us-gov"
        );
        assert_eq!(partition_of("*"), "aws");
    }

    #[test]
    fn builds_arns_in_the_callers_partition() {
        assert_eq!(
            role_arn_of_session("arn:aws-cn:sts::111122223333:assumed-role/R/s").as_deref(),
            Some("arn:aws-cn:iam::111122223333:role/R")
        );
        assert_eq!(s3_bucket_of("arn:aws-us-gov:s3:::b/k/x"), Some("b"));
        assert_eq!(
            s3_bucket_of("arn:aws:s3:us-west-2:111122223333:accesspoint/a"),
            None
        );
        assert_eq!(s3_bucket_arn("aws-cn", "b"), "arn:aws-cn:s3:::b");
    }
}
