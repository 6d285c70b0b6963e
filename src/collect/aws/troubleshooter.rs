//! AWS's own evidence about a denial. IAM Access Troubleshooter through `aws-sdk-iamtoolbox`: `GetRequestAuthorizationDetails`
//! (every page) and, for each policy AWS evaluated, `GetRequestAuthorizationPolicy` (the
//! document as captured with the request).
//!
//! Which credentials: the principal's account's (its own, or the cross-account role there). AWS
//! answers only callers in the organization (or account) it recorded for the principal; the
//! role in the principal's account is always inside both, and the identity lookups of the same
//! event assume it anyway, so no extra session is needed.
//!
//! `aws-sdk-iamtoolbox` 1.11 (the newest on crates.io) models only
//! `GetRequestAuthorizationDetails`; its sibling `GetRequestAuthorizationPolicy` (`GET
//! /authorization-details/{id}/policy?policyUri=…`, botocore ≥ 1.44.8) is sent through the same
//! client with the request path rewritten before signing, and its JSON body is read by an
//! interceptor, so endpoint resolution, signing, retries and timeouts stay the SDK's own.
//!
//! Also `sts:DecodeAuthorizationMessage` of an encoded denial message, in the principal's
//! account.

use std::sync::{Arc, Mutex};

use access_undenied_core::evidence::troubleshooter::{
    AttachedTo, AuthorizationDetails, AwsEvaluation, CapturedAuthorization, MatchedPolicy,
    MatchedStatement, PolicyInfo,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::Document;
use serde_json::{Map, Number, Value};

use super::errors::AwsResult;
use super::AwsSource;
use crate::collect::CollectError;

/// At most this many pages of evaluations are read (a guard against a token that never ends).
const MAX_PAGES: usize = 100;

impl AwsSource {
    pub(super) fn toolbox_client(
        &self,
        config: &aws_config::SdkConfig,
    ) -> aws_sdk_iamtoolbox::Client {
        let builder =
            aws_sdk_iamtoolbox::config::Builder::from(config).interceptor(self.meter.clone());
        aws_sdk_iamtoolbox::Client::from_conf(builder.build())
    }

    /// AWS's recorded evaluation for `authorization_id`, with every captured document.
    pub(super) async fn load_authorization(
        &self,
        account: &str,
        authorization_id: &str,
    ) -> Result<CapturedAuthorization, CollectError> {
        let config = self.account_config(account).await?;
        let client = self.toolbox_client(&config);
        let what = || format!("iam-toolbox:GetRequestAuthorizationDetails {authorization_id}");
        let mut details = AuthorizationDetails::default();
        let mut token: Option<String> = None;
        for page in 0.. {
            if page == MAX_PAGES {
                return Err(CollectError::Service {
                    what: what(),
                    message: format!("more than {MAX_PAGES} pages of evaluations"),
                });
            }
            let out = client
                .get_request_authorization_details()
                .authorization_id(authorization_id)
                .set_next_token(token.take())
                .send()
                .await
                .aws()
                .map_err(|e| e.into_collect(what()))?;
            if page == 0 {
                details.request_context = document_map(out.request_context());
                details.policies = out.policies().iter().map(policy_info).collect();
            }
            details
                .evaluations
                .extend(out.evaluations().iter().map(evaluation));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        let mut captured = CapturedAuthorization {
            details,
            ..CapturedAuthorization::default()
        };
        let uris: Vec<String> = captured
            .details
            .policies
            .iter()
            .filter_map(|p| p.uri.clone())
            .collect();
        for uri in uris {
            if captured.documents.contains_key(&uri) {
                continue;
            }
            let doc = self.captured_policy(&client, authorization_id, &uri).await;
            captured.documents.insert(uri, doc);
        }
        Ok(captured)
    }

    /// `sts:DecodeAuthorizationMessage` in `account`.
    pub(super) async fn load_decoded(
        &self,
        account: &str,
        encoded: &str,
    ) -> Result<String, CollectError> {
        let config = self.account_config(account).await?;
        let what = || format!("sts:DecodeAuthorizationMessage in account {account}");
        let out = self
            .sts_client(&config, None)
            .decode_authorization_message()
            .encoded_message(encoded)
            .send()
            .await
            .aws()
            .map_err(|e| e.into_collect(what()))?;
        out.decoded_message()
            .map(str::to_string)
            .ok_or_else(|| super::errors::missing_field(&what(), "DecodedMessage"))
    }

    /// `GetRequestAuthorizationPolicy`: one policy as captured with the request.
    async fn captured_policy(
        &self,
        client: &aws_sdk_iamtoolbox::Client,
        authorization_id: &str,
        uri: &str,
    ) -> Result<Value, CollectError> {
        let what = || format!("iam-toolbox:GetRequestAuthorizationPolicy {authorization_id} {uri}");
        let body = Arc::new(Mutex::new(None));
        let query = percent_encoding::utf8_percent_encode(uri, QUERY_VALUE).to_string();
        client
            .get_request_authorization_details()
            .authorization_id(authorization_id)
            .customize()
            .mutate_request(move |req| {
                let current = req.uri().to_string();
                let base = current.split('?').next().unwrap_or(&current).to_string();
                let _ = req.set_uri(format!("{base}/policy?policyUri={query}"));
            })
            .interceptor(BodyTap(body.clone()))
            .send()
            .await
            .aws()
            .map_err(|e| e.into_collect(what()))?;
        let bytes = body
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| CollectError::Service {
                what: what(),
                message: "the answer has no body".into(),
            })?;
        let value =
            access_undenied_core::json::from_slice(&bytes).map_err(|e| CollectError::Service {
                what: what(),
                message: format!("the answer is not JSON: {e}"),
            })?;
        match value.get("policyDocument") {
            Some(Value::Object(doc)) => Ok(Value::Object(doc.clone())),
            // Documented as a JSON object; a string holding one is accepted too.
            Some(Value::String(text)) => {
                access_undenied_core::json::from_str(text).map_err(|e| CollectError::Service {
                    what: what(),
                    message: format!("policyDocument is not JSON: {e}"),
                })
            }
            _ => Err(super::errors::missing_field(&what(), "policyDocument")),
        }
    }
}

/// The characters a query value escapes (RFC 3986 unreserved characters stay).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Keeps the body of the last response an operation received.
#[derive(Debug)]
struct BodyTap(Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for BodyTap {
    fn name(&self) -> &'static str {
        "AccessUndeniedBodyTap"
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let bytes = context
            .response()
            .filter(|r| r.status().is_success())
            .and_then(|r| r.body().bytes())
            .map(<[u8]>::to_vec);
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = bytes;
        Ok(())
    }
}

fn document_map(m: &std::collections::HashMap<String, Document>) -> Map<String, Value> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys.into_iter()
        .filter_map(|k| m.get(k).map(|v| (k.clone(), document(v))))
        .collect()
}

fn document(d: &Document) -> Value {
    match d {
        Document::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .filter_map(|k| o.get(k).map(|v| (k.clone(), document(v))))
                    .collect(),
            )
        }
        Document::Array(a) => Value::Array(a.iter().map(document).collect()),
        Document::Number(n) => match *n {
            aws_smithy_types::Number::PosInt(u) => Value::Number(u.into()),
            aws_smithy_types::Number::NegInt(i) => Value::Number(i.into()),
            aws_smithy_types::Number::Float(f) => {
                Number::from_f64(f).map_or(Value::Null, Value::Number)
            }
        },
        Document::String(s) => Value::String(s.clone()),
        Document::Bool(b) => Value::Bool(*b),
        Document::Null => Value::Null,
    }
}

fn policy_info(p: &aws_sdk_iamtoolbox::types::PolicyInfo) -> PolicyInfo {
    PolicyInfo {
        policy_type: p.r#type().map(|t| t.as_str().to_string()),
        inline: p.inline(),
        uri: p.uri().map(str::to_string),
        attached_to: p
            .attached_to()
            .iter()
            .map(|a| AttachedTo {
                arn: a.arn().map(str::to_string),
            })
            .collect(),
    }
}

fn evaluation(e: &aws_sdk_iamtoolbox::types::Evaluation) -> AwsEvaluation {
    AwsEvaluation {
        action: e.action().to_string(),
        resource: e.resource().to_string(),
        context: e.context().map(document_map).unwrap_or_default(),
        evaluated_effect: e.evaluated_effect().map(|x| x.as_str().to_string()),
        matched_policies: e
            .matched_policies()
            .iter()
            .map(|m| MatchedPolicy {
                uri: m.uri().to_string(),
                matched_statements: m
                    .matched_statements()
                    .iter()
                    .map(|s| MatchedStatement {
                        sid: s.sid().map(str::to_string),
                        evaluated_effect: s.evaluated_effect().map(|x| x.as_str().to_string()),
                    })
                    .collect(),
            })
            .collect(),
    }
}
