//! Reading CloudTrail access-denied records: every input envelope (one record, `Records`,
//! EventBridge, LookupEvents, NDJSON, log files), the principal, the exact action(s) and
//! resource(s), and the request context — turned into the engine's requests using only the
//! event and the committed IAM data. What needs AWS (a cross-account caller's unique id, the
//! identity's policies and tags, organizations, resource and endpoint policies) is returned as
//! the [`Lookup`] plan the collection layer executes.

pub mod actions;
pub mod context;
pub mod message;
#[doc(hidden)]
pub mod pieces;
pub mod principal;
pub mod raw;
pub mod reader;
pub mod view;

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::assemble::{Lookup, RequestPlan};
use crate::eval::{Context, Principal, Request};
pub use message::{parse_message, MessageHint, PolicyTypeHint};
pub use principal::PrincipalInfo;
use raw::{RawRecord, RawResource};

/// CloudTrail `errorCode`s that mean the caller's request was not authorized: the one list the
/// reader, the central template's rule and the member template's rule share (tested). Surveyed
/// from the error shapes of every botocore service model and the real-world corpus; the README
/// names the codes left out (authentication failures such as Cognito's
/// `NotAuthorizedException`, a service's own access to a dependency such as
/// `KMSAccessDeniedException`, and state errors such as `OperationNotPermitted`), which no
/// policy of the caller explains.
pub const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "Client.AccessDenied",
    "Client.AccessDeniedException",
    "Client.UnauthorizedOperation",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "UnauthorizedException",
    "Forbidden",
    "ForbiddenException",
    "AccessForbidden",
    "AuthorizationError",
    "AuthorizationErrorException",
    "InsufficientPrivilegesException",
];

/// Whether an `errorCode` is an access denial.
pub fn is_access_denied_code(code: &str) -> bool {
    ACCESS_DENIED_CODES.contains(&code)
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventError {
    #[error("record is not valid json: {0}")]
    Json(String),
    #[error("record has an unexpected shape: {0}")]
    Shape(String),
    #[error("record has no `{0}`")]
    Missing(&'static str),
    #[error("cannot analyse principal: {0}")]
    Principal(#[from] principal::IdentityError),
    #[error("{0}")]
    Unsupported(String),
}

/// A validated access-denied record.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessDeniedEvent {
    pub event_id: String,
    pub event_time: Option<String>,
    /// `s3.amazonaws.com`.
    pub event_source: String,
    pub event_name: String,
    pub region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: String,
    pub error_message: Option<String>,
    pub recipient_account: Option<String>,
    pub vpc_endpoint_id: Option<String>,
    pub request_parameters: Value,
    pub resources: Vec<RawResource>,
    pub principal: PrincipalInfo,
    /// What the error message says (a hint; the engine decides).
    pub hint: MessageHint,
    /// The record as read (for `Request` output and debugging).
    pub raw: RawRecord,
}

impl AccessDeniedEvent {
    /// Validates a raw record that is known to be an access denial.
    pub fn from_raw(raw: RawRecord) -> Result<Self, EventError> {
        let event_id = raw.event_id.clone().ok_or(EventError::Missing("eventID"))?;
        let event_source =
            non_empty(&raw.event_source).ok_or(EventError::Missing("eventSource"))?;
        let event_name = non_empty(&raw.event_name).ok_or(EventError::Missing("eventName"))?;
        let error_code = raw
            .error_code
            .clone()
            .ok_or(EventError::Missing("errorCode"))?;
        for (field, value) in [
            ("eventID", &event_id),
            ("eventSource", &event_source),
            ("eventName", &event_name),
            ("errorCode", &error_code),
        ] {
            if value.len() > MAX_NAME_BYTES {
                return Err(EventError::Shape(format!(
                    "`{field}` is {} bytes long; at most {MAX_NAME_BYTES} are accepted",
                    value.len()
                )));
            }
        }
        let identity = raw
            .user_identity
            .as_ref()
            .ok_or(EventError::Missing("userIdentity"))?;
        let principal = principal::from_identity(identity, &raw)?;
        let hint = raw
            .error_message
            .as_deref()
            .map(parse_message)
            .unwrap_or_default();
        Ok(AccessDeniedEvent {
            event_id,
            event_time: raw.event_time.clone(),
            event_source,
            event_name,
            region: raw.aws_region.clone(),
            source_ip: raw.source_ip_address.clone(),
            user_agent: raw.user_agent.clone(),
            error_code,
            error_message: raw.error_message.clone(),
            recipient_account: raw.recipient_account_id.clone(),
            vpc_endpoint_id: non_empty(&raw.vpc_endpoint_id),
            request_parameters: raw.request_parameters.clone().unwrap_or(Value::Null),
            resources: raw.resources.clone().unwrap_or_default(),
            principal,
            hint,
            raw,
        })
    }

    /// The service prefix of the event source (`s3` for `s3.amazonaws.com`).
    pub fn service(&self) -> &str {
        self.event_source
            .split('.')
            .next()
            .unwrap_or(&self.event_source)
    }
}

/// The longest `eventID`, `eventSource`, `eventName` or `errorCode` accepted (real ones are
/// under 100 bytes; longer ones would only be echoed back into every result).
pub const MAX_NAME_BYTES: usize = 256;

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().filter(|x| !x.trim().is_empty()).cloned()
}

/// One request the engine must evaluate for an event (one per needed action).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRequest {
    /// The request as the event alone shows it (before facts from AWS are added).
    pub request: Request,
    /// Where the action came from.
    pub action_source: ActionSource,
    /// The resource and its owner, as found in the event.
    pub target: actions::Target,
    /// The context keys the event proves, before the keys derived from the principal and
    /// resource are added (assembly adds facts first, then builds the final request).
    pub event_context: Context,
    /// What to look up for this request.
    pub plan: RequestPlan,
}

/// How the action of a request was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ActionSource {
    /// Named in the error message.
    Message,
    /// From the CloudTrail event name through the SDK → IAM map.
    EventMap,
    /// `<service>:<eventName>`, confirmed as an IAM action.
    EventName,
}

/// What reading an event gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// The requests to evaluate, and what the collection layer should look up.
    Requests {
        requests: Vec<EventRequest>,
        /// Every request's lookups, each once: the plan the collection layer executes.
        lookups: Vec<Lookup>,
        /// Companion actions the call also needs (dependent actions of its own) that are not
        /// evaluated because the event names no resource of theirs, each with why: the result
        /// says so in its notes. The call's own action and `iam:PassRole` are never set aside.
        set_aside: Vec<String>,
    },
    /// The call is not an IAM action or needs no permission (`Invalid action`).
    InvalidAction(String),
    /// The caller must first be resolved (cross-account unique id).
    NeedsPrincipal(Lookup),
}

/// Turns an event into requests, with `principal` resolved (for a `PrincipalInfo::Unresolved`
/// caller, pass the principal the collection layer found).
pub fn read_event(
    event: &AccessDeniedEvent,
    resolved: Option<Principal>,
) -> Result<Reading, EventError> {
    let principal = match (&event.principal, resolved) {
        (_, Some(p)) => p,
        (PrincipalInfo::Known(p), None) => p.clone(),
        (
            PrincipalInfo::Unresolved {
                account,
                principal_id,
            },
            None,
        ) => {
            return Ok(Reading::NeedsPrincipal(Lookup::PrincipalArn {
                account: account.clone(),
                principal_id: principal_id.clone(),
            }))
        }
    };
    let found = match actions::actions_of(event)? {
        actions::Actions::Invalid(why) => return Ok(Reading::InvalidAction(why)),
        actions::Actions::Found(list) => list,
    };
    let region = event.region.as_deref().unwrap_or(DEFAULT_REGION);
    let mut requests = Vec::new();
    let mut lookups = Vec::new();
    let mut set_aside = Vec::new();
    for (i, (action, source)) in found.into_iter().enumerate() {
        let target = match actions::resource_for(event, &action) {
            Ok(t) => t,
            // A dependent action whose resource the event does not name is set aside; the
            // role `iam:PassRole` passes is named by every call that passes one, so a role the
            // event leaves out (an instance profile's) stays this event's error.
            Err(EventError::Unsupported(why))
                if i > 0 && !action.eq_ignore_ascii_case("iam:PassRole") =>
            {
                set_aside.push(format!(
                    "the call also needs `{action}`, which is not checked: {why}"
                ));
                continue;
            }
            Err(e) => return Err(e),
        };
        let ctx: Context = context::context_for(event, &principal, &action, &target.arn);
        let req = Request::new(
            principal.clone(),
            &action,
            &target.arn,
            target.account.clone(),
            ctx.clone(),
        );
        let plan = RequestPlan::of(&req, region, event.vpc_endpoint_id.as_deref());
        for l in plan.lookups() {
            if !lookups.contains(&l) {
                lookups.push(l);
            }
        }
        requests.push(EventRequest {
            request: req,
            action_source: source,
            target,
            event_context: ctx,
            plan,
        });
    }
    Ok(Reading::Requests {
        requests,
        lookups,
        set_aside,
    })
}

/// The region assumed when a record names none.
pub const DEFAULT_REGION: &str = "us-east-1";
