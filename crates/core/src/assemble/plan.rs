//! The fetch plan: which facts one request needs from AWS (its identity, the organizations of
//! the principal and of the resource, the resource's policy holder, the VPC endpoint). The
//! reader computes it from the event alone; the collection layer executes it; assembly reads
//! the answers back with the same keys. One rule, written once.

use serde::Serialize;

use crate::arn::{iam_arn, s3_bucket_arn, Arn};
use crate::eval::{Request, ResourceKind};

/// One thing to read from AWS. A batch of lookups is the plan the adapter executes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "Need",
    rename_all = "PascalCase",
    rename_all_fields = "PascalCase"
)]
pub enum Lookup {
    /// A cross-account caller shown only by its unique id (`AIDA…`, `AROA…:session`): resolved
    /// before anything else.
    PrincipalArn {
        account: String,
        principal_id: String,
    },
    /// The policies, boundary and tags (`aws:PrincipalTag/*`) of a user or role.
    Identity { arn: String },
    /// An account's organization path with its SCPs and RCPs (`aws:PrincipalOrgID`, …).
    Organization { account: String },
    /// The resource-based policy held by `holder_arn`, read with `account`'s credentials.
    ResourcePolicy {
        holder_arn: String,
        kind: ResourceKind,
        account: String,
        region: String,
    },
    /// The policy of the VPC endpoint the request went through.
    VpcEndpointPolicy {
        account: String,
        region: String,
        endpoint_id: String,
    },
}

/// Where a request's resource-based policy lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceHolder {
    pub kind: ResourceKind,
    /// The bucket for S3 objects, the function without its qualifier, the role for a trust
    /// policy, otherwise the resource itself.
    pub arn: String,
}

/// The facts one request needs, by the keys [`super::Facts`] stores them under.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestPlan {
    /// The user or role whose policies apply (the role of a session, the user behind a
    /// federated-user session).
    pub identity: Option<String>,
    /// The principal's account, for SCPs and the `aws:PrincipalOrg*` keys.
    pub principal_org: Option<String>,
    /// The resource's account when its organization must be read separately (RCPs and the
    /// `aws:ResourceOrg*` keys); otherwise the principal's is used.
    pub resource_org: Option<String>,
    /// The resource policy's holder, when the resource has a kind that carries one and an
    /// account to read it with.
    pub resource: Option<(ResourceHolder, String)>,
    /// The resource holder even when no account is known (the gate is then not read).
    pub holder: Option<ResourceHolder>,
    /// The VPC endpoint id and the account to read it with.
    pub vpc_endpoint: Option<(String, String)>,
    /// The region resource and endpoint policies are read in.
    pub region: String,
}

impl RequestPlan {
    /// Works out what `request` needs; `region` is the event's (default `us-east-1`),
    /// `vpc_endpoint_id` the record's `vpcEndpointId`.
    pub fn of(request: &Request, region: &str, vpc_endpoint_id: Option<&str>) -> RequestPlan {
        let p = &request.principal;
        let kind = p.principal_type();
        let identity = p.identity_arn().map(str::to_string);
        let principal_org = p.account.clone().filter(|_| kind.has_identity_side());
        let resource_org = request
            .resource_account
            .clone()
            .filter(|r| Some(r) != p.account.as_ref() || !kind.has_identity_side());
        let holder = resource_holder(&request.action, &request.resource);
        let resource = holder.clone().zip(request.resource_account.clone());
        let vpc_endpoint =
            vpc_endpoint_id.map(|id| (id.to_string(), p.account.clone().unwrap_or_default()));
        RequestPlan {
            identity,
            principal_org,
            resource_org,
            resource,
            holder,
            vpc_endpoint,
            region: region.to_string(),
        }
    }

    /// The lookups, in a stable order.
    pub fn lookups(&self) -> Vec<Lookup> {
        let mut out = Vec::new();
        if let Some(arn) = &self.identity {
            out.push(Lookup::Identity { arn: arn.clone() });
        }
        for account in [&self.principal_org, &self.resource_org]
            .into_iter()
            .flatten()
        {
            out.push(Lookup::Organization {
                account: account.clone(),
            });
        }
        if let Some((h, account)) = &self.resource {
            out.push(Lookup::ResourcePolicy {
                holder_arn: h.arn.clone(),
                kind: h.kind,
                account: account.clone(),
                region: self.region.clone(),
            });
        }
        if let Some((id, account)) = &self.vpc_endpoint {
            out.push(Lookup::VpcEndpointPolicy {
                account: account.clone(),
                region: self.region.clone(),
                endpoint_id: id.clone(),
            });
        }
        out
    }
}

/// Where a request's resource-based policy lives: its kind and the ARN of the holder, in the
/// resource's own partition.
pub fn resource_holder(action: &str, resource: &str) -> Option<ResourceHolder> {
    let arn = Arn::parse(resource)?;
    let rest = arn.resource;
    let kind = ResourceKind::for_action(action);
    let holder = match kind {
        ResourceKind::S3Bucket if arn.service == "s3" => {
            s3_bucket_arn(arn.partition, rest.split('/').next().unwrap_or(rest))
        }
        ResourceKind::KmsKey if rest.starts_with("key/") || rest.starts_with("alias/") => {
            resource.to_string()
        }
        ResourceKind::SecretsManagerSecret if rest.starts_with("secret:") => resource.to_string(),
        ResourceKind::SqsQueue | ResourceKind::SnsTopic => resource.to_string(),
        ResourceKind::LambdaFunction if rest.starts_with("function:") => {
            let name = rest.split(':').nth(1).unwrap_or("");
            Arn {
                resource: &format!("function:{name}"),
                ..arn
            }
            .to_string()
        }
        ResourceKind::EcrRepository if rest.starts_with("repository/") => resource.to_string(),
        ResourceKind::RoleTrust if rest.starts_with("role/") => {
            iam_arn(arn.partition, arn.account, rest)
        }
        _ => return None,
    };
    Some(ResourceHolder { kind, arn: holder })
}
