//! Resource-based policies: S3 buckets, KMS keys, secrets, SQS queues, SNS topics, Lambda
//! functions, ECR repositories and role trust policies. A resource without a policy is an
//! answer (`policy: None`), not an error.

use access_undenied_core::arn::Arn;
use access_undenied_core::eval::ResourceKind;
use aws_sdk_sqs::types::QueueAttributeName;

use super::errors::{missing_field, AwsError, AwsResult, OrCollect};
use super::iam::{parse_policy_document, Entity};
use super::AwsSource;
use crate::collect::{CollectError, PolicyDoc, ResourcePolicyData};

fn bad_arn(holder: &str, kind: ResourceKind) -> CollectError {
    CollectError::Unsupported {
        what: format!("the {} of `{holder}`", kind.placeholder()),
        why: "the ARN does not name a resource of that kind".into(),
    }
}

/// A read policy document as the answer's [`PolicyDoc`].
fn resource_doc(
    holder: &str,
    kind: ResourceKind,
    raw: Option<&str>,
    what: &str,
) -> Result<Option<PolicyDoc>, CollectError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    Ok(Some(PolicyDoc {
        name: kind.placeholder().to_string(),
        arn: format!("{holder}/{}", kind.placeholder()),
        attached_to: holder.to_string(),
        document: parse_policy_document(raw, what)?,
    }))
}

impl AwsSource {
    /// `resource_policy()` uncached.
    pub(super) async fn load_resource_policy(
        &self,
        holder_arn: &str,
        account: &str,
        region: &str,
        kind: ResourceKind,
    ) -> Result<ResourcePolicyData, CollectError> {
        let answer = |holder: String, policy: Option<PolicyDoc>| ResourcePolicyData {
            holder_arn: holder,
            kind,
            policy,
        };
        if kind == ResourceKind::Other {
            return Ok(answer(holder_arn.to_string(), None));
        }
        let arn = Arn::parse(holder_arn).ok_or_else(|| bad_arn(holder_arn, kind))?;
        // The ARN's account and region when it has them (S3 ARNs have neither).
        let account = if arn.account.is_empty() {
            account
        } else {
            arn.account
        };
        let region = if arn.region.is_empty() {
            region
        } else {
            arn.region
        };
        let config = self.account_config(account).await?;
        let owner = Some(account.to_string()).filter(|a| !a.is_empty());
        match kind {
            ResourceKind::S3Bucket => {
                let bucket = arn
                    .resource
                    .split('/')
                    .next()
                    .filter(|b| !b.is_empty() && arn.service == "s3");
                let bucket = bucket.ok_or_else(|| bad_arn(holder_arn, kind))?;
                let holder = format!("arn:{}:s3:::{bucket}", arn.partition);
                let what = format!("s3:GetBucketPolicy {bucket}");
                let mut result = self
                    .s3_client(&config, region)
                    .get_bucket_policy()
                    .bucket(bucket)
                    .send()
                    .await
                    .aws();
                // A bucket of another region answers with its region: ask there.
                if let Err(AwsError {
                    bucket_region: Some(actual),
                    ..
                }) = &result
                {
                    if actual != region {
                        let client = self.s3_client(&config, actual);
                        result = client.get_bucket_policy().bucket(bucket).send().await.aws();
                    }
                }
                let policy = match result {
                    Ok(out) => resource_doc(&holder, kind, out.policy(), &what)?,
                    Err(e) if e.code() == "NoSuchBucketPolicy" => None,
                    Err(e) => return Err(e.into_collect(what)),
                };
                Ok(answer(holder, policy))
            }
            ResourceKind::KmsKey => {
                let kms = self.kms_client(&config, Some(region));
                let key_arn = if arn.resource.starts_with("alias/") {
                    let what = || format!("kms:DescribeKey {holder_arn}");
                    let out = kms
                        .describe_key()
                        .key_id(holder_arn)
                        .send()
                        .await
                        .aws()
                        .or_collect(what)?;
                    let key = out.key_metadata().and_then(|m| m.arn());
                    key.ok_or_else(|| missing_field(&what(), "KeyMetadata.Arn"))?
                        .to_string()
                } else {
                    holder_arn.to_string()
                };
                let what = || format!("kms:GetKeyPolicy {key_arn}");
                let out = kms
                    .get_key_policy()
                    .key_id(&key_arn)
                    .policy_name("default")
                    .send()
                    .await
                    .aws()
                    .or_collect(what)?;
                let policy = resource_doc(&key_arn, kind, out.policy(), &what())?;
                Ok(answer(key_arn, policy))
            }
            ResourceKind::SecretsManagerSecret => {
                let what = || format!("secretsmanager:GetResourcePolicy {holder_arn}");
                let client = self.secrets_client(&config, Some(region));
                let out = client
                    .get_resource_policy()
                    .secret_id(holder_arn)
                    .send()
                    .await
                    .aws()
                    .or_collect(what)?;
                // A secret named without its random suffix: the answer carries the full ARN.
                let full = out.arn().unwrap_or(holder_arn).to_string();
                let policy = resource_doc(&full, kind, out.resource_policy(), &what())?;
                Ok(answer(full, policy))
            }
            ResourceKind::SqsQueue => {
                let sqs = self.sqs_client(&config, Some(region));
                let what = || format!("sqs:GetQueueUrl {holder_arn}");
                let out = sqs
                    .get_queue_url()
                    .queue_name(arn.resource)
                    .set_queue_owner_aws_account_id(owner.clone())
                    .send()
                    .await
                    .aws()
                    .or_collect(what)?;
                let url = out
                    .queue_url()
                    .ok_or_else(|| missing_field(&what(), "QueueUrl"))?;
                let what = || format!("sqs:GetQueueAttributes {holder_arn}");
                let out = sqs
                    .get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(QueueAttributeName::Policy)
                    .send()
                    .await
                    .aws()
                    .or_collect(what)?;
                let raw = out
                    .attributes()
                    .and_then(|a| a.get(&QueueAttributeName::Policy));
                let policy = resource_doc(holder_arn, kind, raw.map(String::as_str), &what())?;
                Ok(answer(holder_arn.to_string(), policy))
            }
            ResourceKind::SnsTopic => {
                let what = || format!("sns:GetTopicAttributes {holder_arn}");
                let client = self.sns_client(&config, Some(region));
                let out = client
                    .get_topic_attributes()
                    .topic_arn(holder_arn)
                    .send()
                    .await
                    .aws()
                    .or_collect(what)?;
                let raw = out.attributes().and_then(|a| a.get("Policy"));
                let policy = resource_doc(holder_arn, kind, raw.map(String::as_str), &what())?;
                Ok(answer(holder_arn.to_string(), policy))
            }
            ResourceKind::LambdaFunction => {
                // `function:name` or `function:name:qualifier`.
                let rest = arn
                    .resource
                    .strip_prefix("function:")
                    .ok_or_else(|| bad_arn(holder_arn, kind))?;
                let (name, qualifier) = match rest.split_once(':') {
                    Some((name, qualifier)) => (name, Some(qualifier.to_string())),
                    None => (rest, None),
                };
                let function = format!(
                    "arn:{}:lambda:{region}:{account}:function:{name}",
                    arn.partition
                );
                let what = format!("lambda:GetPolicy {holder_arn}");
                let client = self.lambda_client(&config, Some(region));
                let result = client
                    .get_policy()
                    .function_name(&function)
                    .set_qualifier(qualifier)
                    .send()
                    .await
                    .aws();
                let policy = match result {
                    Ok(out) => resource_doc(holder_arn, kind, out.policy(), &what)?,
                    // The function exists but has no policy (a missing function says so).
                    Err(e)
                        if e.code() == "ResourceNotFoundException"
                            && !e.message().starts_with("Function not found") =>
                    {
                        None
                    }
                    Err(e) => return Err(e.into_collect(what)),
                };
                Ok(answer(holder_arn.to_string(), policy))
            }
            ResourceKind::EcrRepository => {
                let repository = arn
                    .resource
                    .strip_prefix("repository/")
                    .ok_or_else(|| bad_arn(holder_arn, kind))?;
                let what = format!("ecr:GetRepositoryPolicy {holder_arn}");
                let client = self.ecr_client(&config, Some(region));
                let result = client
                    .get_repository_policy()
                    .set_registry_id(owner.clone())
                    .repository_name(repository)
                    .send()
                    .await
                    .aws();
                let policy = match result {
                    Ok(out) => resource_doc(holder_arn, kind, out.policy_text(), &what)?,
                    Err(e) if e.code() == "RepositoryPolicyNotFoundException" => None,
                    Err(e) => return Err(e.into_collect(what)),
                };
                Ok(answer(holder_arn.to_string(), policy))
            }
            ResourceKind::RoleTrust => {
                let Some(Entity::Role { name, .. }) = Entity::parse(holder_arn) else {
                    return Err(bad_arn(holder_arn, kind));
                };
                let what = || format!("iam:GetRole {holder_arn}");
                let out = self
                    .iam_client(&config, None)
                    .get_role()
                    .role_name(&name)
                    .send()
                    .await
                    .aws()
                    .or_collect(what)?;
                let role = out.role().ok_or_else(|| missing_field(&what(), "Role"))?;
                let holder = role.arn().to_string();
                let policy =
                    resource_doc(&holder, kind, role.assume_role_policy_document(), &what())?;
                Ok(answer(holder, policy))
            }
            ResourceKind::Other => Ok(answer(holder_arn.to_string(), None)),
        }
    }
}

/// The policy EC2 attaches to an endpoint created without one ("full access").
const DEFAULT_ENDPOINT_POLICY: &str = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// An endpoint's policy as EC2 gives it, or the default full-access one when it has none.
fn endpoint_policy_text(document: Option<&str>) -> &str {
    document
        .filter(|d| !d.trim().is_empty())
        .unwrap_or(DEFAULT_ENDPOINT_POLICY)
}

impl AwsSource {
    /// `ec2:DescribeVpcEndpoints` for one endpoint: its policy (the default full-access policy
    /// when it has none), read in `region` with `account`'s credentials.
    pub(super) async fn load_vpc_endpoint_policy(
        &self,
        account: &str,
        region: &str,
        endpoint_id: &str,
    ) -> Result<PolicyDoc, CollectError> {
        let config = self.account_config(account).await?;
        let caller = self.caller().await?;
        let what = || format!("ec2:DescribeVpcEndpoints {endpoint_id} ({account}, {region})");
        let out = self
            .ec2_client(&config, Some(region))
            .describe_vpc_endpoints()
            .vpc_endpoint_ids(endpoint_id)
            .send()
            .await
            .aws()
            .or_collect(what)?;
        let endpoint = out
            .vpc_endpoints()
            .iter()
            .find(|e| e.vpc_endpoint_id() == Some(endpoint_id))
            .ok_or_else(|| CollectError::NotFound { what: what() })?;
        let raw = endpoint_policy_text(endpoint.policy_document());
        let document = parse_policy_document(raw, &what())?;
        let owner = endpoint.owner_id().unwrap_or(account);
        let arn = format!(
            "arn:{}:ec2:{region}:{owner}:vpc-endpoint/{endpoint_id}",
            caller.partition
        );
        Ok(PolicyDoc {
            name: "VPCEndpointPolicy".into(),
            arn: arn.clone(),
            attached_to: arn,
            document,
        })
    }
}

#[cfg(test)]
mod tests {
    /// EC2 attaches a full-access policy to an endpoint created without one; an endpoint that
    /// comes back without a document is read as having it (moto always returns one).
    #[test]
    fn an_endpoint_without_a_policy_allows_everything() {
        for missing in [None, Some(""), Some("  ")] {
            let doc = parse_policy_document(super::endpoint_policy_text(missing), "x").unwrap();
            assert_eq!(
                doc,
                serde_json::json!({"Version": "2008-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
                ]})
            );
        }
        assert_eq!(super::endpoint_policy_text(Some("{}")), "{}");
    }

    use super::*;

    #[test]
    fn parses_arns() {
        assert_eq!(
            Arn::parse("arn:aws:s3:::bucket/key/with:colon"),
            Some(Arn {
                partition: "aws",
                service: "s3",
                region: "",
                account: "",
                resource: "bucket/key/with:colon"
            })
        );
        let lambda = Arn::parse("arn:aws:lambda:eu-west-1:111122223333:function:f:prod");
        assert_eq!(
            lambda.map(|a| (a.region, a.account, a.resource)),
            Some(("eu-west-1", "111122223333", "function:f:prod"))
        );
        assert_eq!(Arn::parse("bucket"), None);
    }

    #[test]
    fn no_or_empty_policy_is_none() {
        assert_eq!(
            resource_doc("h", ResourceKind::SnsTopic, None, "w"),
            Ok(None)
        );
        assert_eq!(
            resource_doc("h", ResourceKind::SnsTopic, Some(" "), "w"),
            Ok(None)
        );
        let doc = resource_doc(
            "arn:h",
            ResourceKind::SqsQueue,
            Some(r#"{"Statement":[]}"#),
            "w",
        );
        assert_eq!(
            doc.ok().flatten().map(|d| (d.name, d.arn, d.attached_to)),
            Some((
                "SQSQueuePolicy".into(),
                "arn:h/SQSQueuePolicy".into(),
                "arn:h".into()
            ))
        );
    }
}
