//! The one place the steps are wired: resolve the principal → read the event into requests and
//! a lookup plan → run the lookups concurrently through a [`PolicySource`] → assemble each
//! request's policy set → evaluate and explain. Only I/O lives here; every rule is in the core.

use std::sync::Mutex;

use access_undenied_core::assemble::{assemble, Facts, Lookup};
use access_undenied_core::eval::Decision;
use access_undenied_core::eval::Principal;
use access_undenied_core::event::reader::Item;
use access_undenied_core::event::{read_event, AccessDeniedEvent, PrincipalInfo, Reading};
use access_undenied_core::evidence::decoded::DecodedMessage;
use access_undenied_core::evidence::troubleshooter::CapturedAuthorization;
use access_undenied_core::evidence::{
    check_named_policy, from_message, missing_named_policy, with_troubleshooter, EvidenceSource,
};
use access_undenied_core::explain::{diagnose, Assessment, DiagnosisResult};
use access_undenied_core::policy::PolicyCache;
use futures::future::join_all;

use crate::collect::PolicySource;

/// Diagnoses events against one policy source, parsing each distinct policy document once for
/// all the events it sees.
pub struct Pipeline<'s> {
    source: &'s dyn PolicySource,
    cache: Mutex<PolicyCache>,
    /// AWS's recorded evaluation is not asked for events older than this (seconds).
    recorded_max_age: Option<i64>,
}

impl<'s> Pipeline<'s> {
    pub fn new(source: &'s dyn PolicySource) -> Self {
        Pipeline {
            source,
            cache: Mutex::new(PolicyCache::default()),
            recorded_max_age: None,
        }
    }

    /// Does not ask for AWS's recorded evaluation of events older than `secs` (the backfill:
    /// AWS keeps it for a limited time), saying so in the result's evidence notes.
    pub fn with_recorded_max_age(mut self, secs: i64) -> Self {
        self.recorded_max_age = Some(secs);
        self
    }

    /// Diagnoses one item of the record reader.
    pub async fn diagnose_item(&self, item: &Item) -> DiagnosisResult {
        match item {
            Item::Error { event_id, error } => {
                self.offline_stamped(DiagnosisResult::error(event_id, error.to_string()))
            }
            Item::Denial(ev) => self.diagnose_event(ev).await,
        }
    }

    /// Diagnoses one validated event, and says where the verdict came from.
    pub async fn diagnose_event(&self, ev: &AccessDeniedEvent) -> DiagnosisResult {
        let result = self.offline_stamped(self.verdict(ev).await);
        if result.evidence.engine_agrees == Some(false) {
            tracing::warn!(
                event_id = %ev.event_id,
                source = ?result.evidence.source,
                disagreement = true,
                "AWS's evidence and the engine disagree: {}",
                result.evidence.notes.join("; ")
            );
        }
        result
    }

    /// A verdict that rests on the policies alone rests on the snapshot's when the source is
    /// offline.
    fn offline_stamped(&self, mut result: DiagnosisResult) -> DiagnosisResult {
        if self.source.offline() && result.evidence.source == EvidenceSource::CurrentPolicies {
            result.evidence.source = EvidenceSource::Snapshot;
        }
        result
    }

    async fn verdict(&self, ev: &AccessDeniedEvent) -> DiagnosisResult {
        let resolved = match &ev.principal {
            PrincipalInfo::Known(_) => None,
            PrincipalInfo::Unresolved {
                account,
                principal_id,
            } => match self.source.principal_arn(account, principal_id).await {
                Ok(arn) => Some(Principal::resolved(&arn, account, principal_id)),
                Err(e) => {
                    return DiagnosisResult::error(
                        &ev.event_id,
                        format!(
                            "cannot resolve the cross-account caller `{principal_id}` of account {account}: {e}"
                        ),
                    )
                }
            },
        };
        let decoded = self.decoded_message(ev).await;
        let decoded_event = match &decoded {
            Some(Ok(d)) => Some(d.event_with(ev)),
            _ => None,
        };
        let (mut requests, lookups, set_aside) =
            match read_event(decoded_event.as_ref().unwrap_or(ev), resolved) {
                Ok(Reading::Requests {
                    requests,
                    lookups,
                    set_aside,
                }) => (requests, lookups, set_aside),
                Ok(Reading::InvalidAction(why)) => {
                    return DiagnosisResult::invalid_action(&ev.event_id, why)
                }
                Ok(Reading::NeedsPrincipal(n)) => {
                    return DiagnosisResult::error(
                        &ev.event_id,
                        format!("the caller could not be resolved: {n:?}"),
                    )
                }
                Err(e) => return DiagnosisResult::error(&ev.event_id, e.to_string()),
            };
        if let Some(Ok(d)) = &decoded {
            d.add_context(&mut requests);
        }
        let principal = requests.first().map(|r| r.request.principal.clone());
        let account = principal
            .as_ref()
            .and_then(|p| p.account.clone())
            .unwrap_or_default();
        let (facts, recorded) = futures::join!(
            fetch(self.source, &lookups),
            self.recorded_evaluation(ev, &account)
        );
        let items: Vec<_> = {
            // A poisoned cache only loses sharing: start a fresh one.
            let mut cache = self.cache.lock().unwrap_or_else(|p| {
                let mut g = p.into_inner();
                *g = PolicyCache::default();
                g
            });
            requests
                .iter()
                .map(|er| assemble(er, &facts, &mut cache))
                .collect()
        };
        let mut result = match (recorded, principal) {
            (Some((id, Ok(captured))), Some(principal)) => {
                let mut cache = self.cache.lock().unwrap_or_else(|p| {
                    let mut g = p.into_inner();
                    *g = PolicyCache::default();
                    g
                });
                with_troubleshooter(
                    &ev.event_id,
                    id,
                    &captured,
                    &principal,
                    &items,
                    Some(&ev.hint),
                    &mut cache,
                )
            }
            (recorded, _) => {
                let mut result = diagnose(&ev.event_id, &items, Some(&ev.hint));
                result.evidence = match &decoded {
                    Some(Ok(d)) => {
                        result.notes.retain(|n| !n.starts_with(ENCODED_NOTE));
                        d.evidence(engine_decision(&result, &d.action))
                    }
                    _ => from_message(&ev.hint, &result, self.source.offline()),
                };
                if let Some(Err(why)) = &decoded {
                    result.evidence.notes.push(why.clone());
                }
                if let Some(arn) = missing_named_policy(&ev.hint, &items) {
                    let read = self.source.named_policy(&account, arn).await;
                    check_named_policy(arn, read, &items, &mut result.evidence);
                }
                if let Some((id, Err(e))) = recorded {
                    result.evidence.authorization_id = Some(id.to_string());
                    result.evidence.notes.push(format!(
                        "AWS's recorded evaluation ({id}) could not be read, so the verdict rests on the policies read now: {e}"
                    ));
                }
                result
            }
        };
        result.notes.extend(set_aside);
        result
    }

    /// The decoded authorization message, when the message carries one (`Err`: why it could
    /// not be used).
    async fn decoded_message(
        &self,
        ev: &AccessDeniedEvent,
    ) -> Option<Result<DecodedMessage, String>> {
        let blob = ev.hint.encoded_message.as_deref()?;
        if ev.hint.encoded_truncated {
            return Some(Err(
                "the encoded authorization message was cut off by CloudTrail: not decoded".into(),
            ));
        }
        let account = match &ev.principal {
            PrincipalInfo::Known(p) => p.account.clone(),
            PrincipalInfo::Unresolved { account, .. } => Some(account.clone()),
        }
        .or_else(|| ev.recipient_account.clone())
        .unwrap_or_default();
        Some(match self.source.decode_message(&account, blob).await {
            Ok(text) => DecodedMessage::parse(&text).map_err(|e| e.to_string()),
            Err(e) => Err(format!(
                "the encoded authorization message could not be decoded, so the request is read from the event: {e}"
            )),
        })
    }

    /// AWS's recorded evaluation, when the message carries an authorization ID.
    async fn recorded_evaluation<'e>(
        &self,
        ev: &'e AccessDeniedEvent,
        account: &str,
    ) -> Option<(
        &'e str,
        Result<CapturedAuthorization, access_undenied_core::assemble::CollectError>,
    )> {
        let id = ev.hint.authorization_id.as_deref()?;
        let age = ev
            .event_time
            .as_deref()
            .and_then(crate::sink::parse_time)
            .map(|t| crate::sink::now_secs() - t);
        if let (Some(max), Some(age)) = (self.recorded_max_age, age) {
            if age > max {
                return Some((
                    id,
                    Err(access_undenied_core::assemble::CollectError::Unsupported {
                        what: "asking for it".into(),
                        why: format!(
                            "the event is {} h old and AWS keeps authorization details for {} h at least",
                            age / 3600,
                            max / 3600
                        ),
                    }),
                ));
            }
        }
        Some((id, self.source.authorization(account, id).await))
    }
}

/// The start of the result note about an encoded message left to the user (dropped once the
/// message is decoded here).
const ENCODED_NOTE: &str = "the error message carries an encoded authorization message";

/// The engine's decision on the request of `action`, when it reached one.
fn engine_decision(result: &DiagnosisResult, action: &str) -> Option<Decision> {
    if matches!(
        result.assessment_result,
        Assessment::Error | Assessment::InvalidAction
    ) {
        return None;
    }
    result
        .request
        .iter()
        .find(|r| r.action.eq_ignore_ascii_case(action))
        .map(|r| r.decision)
}

/// Executes the lookup plan concurrently; every answer, failures included, becomes a fact.
pub async fn fetch(source: &dyn PolicySource, lookups: &[Lookup]) -> Facts {
    let answers = join_all(lookups.iter().map(|l| async move {
        let mut f = Facts::default();
        match l {
            Lookup::Identity { arn } => {
                f.identities.insert(arn.clone(), source.identity(arn).await);
            }
            Lookup::Organization { account } => {
                f.organizations
                    .insert(account.clone(), source.organization(account).await);
            }
            Lookup::ResourcePolicy {
                holder_arn,
                kind,
                account,
                region,
            } => {
                let answer = source
                    .resource_policy(holder_arn, account, region, *kind)
                    .await;
                f.resource_policies.insert(holder_arn.clone(), answer);
            }
            Lookup::VpcEndpointPolicy {
                account,
                region,
                endpoint_id,
            } => {
                let answer = source
                    .vpc_endpoint_policy(account, region, endpoint_id)
                    .await;
                f.vpc_endpoints.insert(endpoint_id.clone(), answer);
            }
            // Resolved before the event is read; never part of a request's plan.
            Lookup::PrincipalArn { .. } => {}
        }
        f
    }))
    .await;
    let mut facts = Facts::default();
    for f in answers {
        facts.identities.extend(f.identities);
        facts.organizations.extend(f.organizations);
        facts.resource_policies.extend(f.resource_policies);
        facts.vpc_endpoints.extend(f.vpc_endpoints);
    }
    facts
}

/// Diagnoses one item of the record reader on its own (no policy sharing with other events).
pub async fn diagnose_item(item: &Item, source: &dyn PolicySource) -> DiagnosisResult {
    Pipeline::new(source).diagnose_item(item).await
}

/// Diagnoses one validated event on its own.
pub async fn diagnose_event(ev: &AccessDeniedEvent, source: &dyn PolicySource) -> DiagnosisResult {
    Pipeline::new(source).diagnose_event(ev).await
}
