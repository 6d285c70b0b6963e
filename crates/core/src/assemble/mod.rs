//! Assembly: one request read from the event plus the facts read from AWS become the final
//! [`Request`] (context keys from tags and organizations set before it is built) and its
//! [`PolicySet`] (each distinct document parsed once per batch through a [`PolicyCache`]).
//! Whatever could not be read becomes a typed [`UnknownGate`]. Pure: no I/O.

mod facts;
mod plan;

pub use facts::{
    CollectError, Facts, IdentityData, OrgData, OrgNode, PolicyDoc, ResourcePolicyData,
};
pub use plan::{resource_holder, Lookup, RequestPlan, ResourceHolder};

use crate::eval::{
    GateKind, NamedPolicy, OrgLevel, PolicySet, PrincipalType, Request, ResourceKind, ResourceSide,
    UnknownGate, Unreadable,
};
use crate::event::EventRequest;
use crate::policy::PolicyCache;

impl PolicyDoc {
    /// Parses into the engine's model on its own (no sharing); a malformed document gives the
    /// reason.
    pub fn to_named(&self) -> Result<NamedPolicy, Unreadable> {
        self.to_named_with(&mut PolicyCache::default())
    }

    /// Parses into the engine's model through `cache`, so a batch parses each document once.
    pub fn to_named_with(&self, cache: &mut PolicyCache) -> Result<NamedPolicy, Unreadable> {
        let policy = cache
            .parse(&self.document)
            .map_err(|error| Unreadable::MalformedPolicy {
                arn: self.arn.clone(),
                error,
            })?;
        Ok(NamedPolicy {
            name: self.name.clone(),
            arn: Some(self.arn.clone()),
            attached_to: Some(self.attached_to.clone()),
            policy,
        })
    }
}

/// Builds the policy set of one request: parses what was read, sets the context keys the facts
/// prove, and records every gate that could not be read.
pub fn assemble(er: &EventRequest, facts: &Facts, cache: &mut PolicyCache) -> (Request, PolicySet) {
    let mut b = Builder {
        cache,
        unknown: Vec::new(),
        set: PolicySet {
            session_policies_unknown: true,
            ..PolicySet::default()
        },
        context: er.event_context.clone(),
        resource: er.target.arn.clone(),
    };
    let plan = &er.plan;
    let principal = &er.request.principal;

    match &plan.identity {
        Some(arn) => b.identity(arn, answer(&facts.identities, arn)),
        None if principal.principal_type() == PrincipalType::Root => {
            b.context.mark_absent("aws:PrincipalTag/*");
        }
        None => {}
    }
    let principal_org = plan.principal_org.as_ref().and_then(|account| {
        match answer(&facts.organizations, account) {
            Ok(org) => Some(org),
            Err(error) => {
                b.unknown(
                    GateKind::Scp,
                    Unreadable::Organization {
                        account: account.clone(),
                        error,
                    },
                );
                None
            }
        }
    });
    if let Some(org) = &principal_org {
        b.principal_org(org.as_ref());
    }
    // The resource account's organization (RCPs): the principal's when the same account.
    let resource_org = match &plan.resource_org {
        Some(account) => match answer(&facts.organizations, account) {
            Ok(org) => Some(org),
            Err(error) => {
                b.unknown(
                    GateKind::Rcp,
                    Unreadable::Organization {
                        account: account.clone(),
                        error,
                    },
                );
                None
            }
        },
        None => principal_org,
    };
    if let Some(Some(org)) = resource_org {
        b.resource_org(org);
    }
    if let Some((holder, _)) = &plan.resource {
        b.resource_policy(holder, answer(&facts.resource_policies, &holder.arn));
    }
    if let Some((id, _)) = &plan.vpc_endpoint {
        b.vpc_endpoint(id, answer(&facts.vpc_endpoints, id));
    }

    let Builder {
        mut set,
        unknown,
        context,
        resource,
        ..
    } = b;
    set.unknown_gates = unknown;
    let request = Request::new(
        principal.clone(),
        &er.request.action,
        &resource,
        er.target.account.clone(),
        context,
    );
    (request, set)
}

/// The answer stored for `key`; a lookup the adapter never answered is an error, not a gap.
fn answer<T: Clone>(
    map: &std::collections::BTreeMap<String, Result<T, CollectError>>,
    key: &str,
) -> Result<T, CollectError> {
    map.get(key).cloned().unwrap_or_else(|| {
        Err(CollectError::Unsupported {
            what: key.to_string(),
            why: "it was not looked up".to_string(),
        })
    })
}

struct Builder<'c> {
    cache: &'c mut PolicyCache,
    unknown: Vec<UnknownGate>,
    set: PolicySet,
    context: crate::eval::Context,
    resource: String,
}

impl Builder<'_> {
    fn unknown(&mut self, gate: GateKind, why: Unreadable) {
        self.unknown.push(UnknownGate { gate, why });
    }

    fn named(&mut self, docs: &[PolicyDoc], gate: GateKind) -> Vec<NamedPolicy> {
        let mut out = Vec::with_capacity(docs.len());
        for d in docs {
            match d.to_named_with(self.cache) {
                Ok(n) => out.push(n),
                Err(why) => self.unknown(gate, why),
            }
        }
        out
    }

    fn one(&mut self, doc: &PolicyDoc, gate: GateKind) -> Option<NamedPolicy> {
        self.named(std::slice::from_ref(doc), gate).pop()
    }

    fn identity(&mut self, arn: &str, answer: Result<IdentityData, CollectError>) {
        match answer {
            Ok(data) => {
                self.set.identity = self.named(&data.policies, GateKind::IdentityBased);
                if let Some(b) = &data.boundary {
                    self.set.permissions_boundary = self.one(b, GateKind::PermissionsBoundary);
                }
                for (k, v) in &data.tags {
                    self.context
                        .set(&format!("aws:PrincipalTag/{k}"), v.clone());
                }
                self.context.mark_absent("aws:PrincipalTag/*");
            }
            Err(error) => {
                let arn = arn.to_string();
                self.unknown(
                    GateKind::IdentityBased,
                    Unreadable::IdentityPolicies {
                        arn: arn.clone(),
                        error: error.clone(),
                    },
                );
                self.unknown(
                    GateKind::PermissionsBoundary,
                    Unreadable::PermissionsBoundary { arn, error },
                );
            }
        }
    }

    fn principal_org(&mut self, org: Option<&OrgData>) {
        match org {
            Some(o) => {
                self.context
                    .set("aws:PrincipalOrgID", o.organization_id.clone());
                self.context
                    .set_list("aws:PrincipalOrgPaths", vec![o.org_path()]);
                self.set.management_account = Some(o.management_account.clone());
                if o.scps_enabled {
                    self.set.scps = Some(self.levels(o, GateKind::Scp));
                }
            }
            None => {
                self.context.mark_absent("aws:PrincipalOrgID");
                self.context.mark_absent("aws:PrincipalOrgPaths");
            }
        }
    }

    fn resource_org(&mut self, o: OrgData) {
        self.context
            .set("aws:ResourceOrgID", o.organization_id.clone());
        self.context
            .set_list("aws:ResourceOrgPaths", vec![o.org_path()]);
        if self.set.management_account.is_none() {
            self.set.management_account = Some(o.management_account.clone());
        }
        if o.rcps_enabled {
            self.set.rcps = Some(self.levels(&o, GateKind::Rcp));
        }
    }

    fn levels(&mut self, org: &OrgData, gate: GateKind) -> Vec<OrgLevel> {
        org.path
            .iter()
            .map(|n| OrgLevel {
                node_id: n.id.clone(),
                node_arn: Some(n.arn.clone()),
                policies: self.named(
                    if gate == GateKind::Scp {
                        &n.scps
                    } else {
                        &n.rcps
                    },
                    gate,
                ),
            })
            .collect()
    }

    fn resource_policy(
        &mut self,
        holder: &ResourceHolder,
        answer: Result<ResourcePolicyData, CollectError>,
    ) {
        match answer {
            Ok(data) => {
                // The holder's full ARN (a secret named without its suffix) is the resource.
                if data.kind == ResourceKind::SecretsManagerSecret
                    && data.holder_arn != self.resource
                {
                    self.resource = data.holder_arn.clone();
                }
                let policy = data
                    .policy
                    .as_ref()
                    .and_then(|d| self.one(d, GateKind::ResourceBased));
                self.set.resource = Some(ResourceSide {
                    kind: data.kind,
                    policy,
                });
            }
            Err(error) => {
                self.unknown(
                    GateKind::ResourceBased,
                    Unreadable::ResourcePolicy {
                        holder: holder.arn.clone(),
                        error,
                    },
                );
                self.set.resource = Some(ResourceSide {
                    kind: holder.kind,
                    policy: None,
                });
            }
        }
    }

    fn vpc_endpoint(&mut self, id: &str, answer: Result<PolicyDoc, CollectError>) {
        match answer {
            Ok(doc) => {
                if let Some(n) = self.one(&doc, GateKind::VpcEndpoint) {
                    self.set.vpc_endpoints.push(n);
                }
            }
            Err(error) => self.unknown(
                GateKind::VpcEndpoint,
                Unreadable::VpcEndpointPolicy {
                    endpoint_id: id.to_string(),
                    error,
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests;
