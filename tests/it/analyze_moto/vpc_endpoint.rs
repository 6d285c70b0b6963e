//! VPC endpoint policies read through EC2 (`ec2:DescribeVpcEndpoints`, moto keeps each
//! endpoint's `PolicyDocument`): a request made through an endpoint (`vpcEndpointId` in the
//! record) meets the endpoint's policy as one more gate.

use serde_json::{json, Value};

use super::{analyze_one, dynamodb, own, table};
use crate::support::events::{iam_user, message, RecordExt};
use crate::support::run::allow;
use crate::support::world::policy;
use crate::support::{moto, ACCOUNT, REGION};

/// A gateway endpoint for DynamoDB with `endpoint_policy` (none: EC2's default); its id.
async fn endpoint(endpoint_policy: Option<&Value>) -> String {
    let ec2 = aws_sdk_ec2::Client::new(&crate::support::config().await);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc_id = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let out = ec2
        .create_vpc_endpoint()
        .vpc_id(vpc_id)
        .service_name(format!("com.amazonaws.{REGION}.dynamodb"))
        .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Gateway)
        .set_policy_document(endpoint_policy.map(Value::to_string))
        .send()
        .await
        .unwrap();
    out.vpc_endpoint()
        .unwrap()
        .vpc_endpoint_id()
        .unwrap()
        .to_string()
}

async fn carol_reads_orders_through(
    endpoint_policy: Option<&Value>,
    n: u32,
    because: &str,
) -> Value {
    let a = own().await;
    a.user("carol", "/", &[]).await;
    a.user_policy("carol", "ddb", &policy(json!([allow("dynamodb:*", "*")])))
        .await;
    let id = endpoint(endpoint_policy).await;
    let who = iam_user(ACCOUNT, "/", "carol");
    let ev = dynamodb(n, &who, "GetItem", "orders", ACCOUNT)
        .msg(message(
            &who,
            "dynamodb:GetItem",
            &table(ACCOUNT, "orders"),
            because,
        ))
        .set("vpcEndpointId", json!(id))
        .set("sourceIPAddress", json!("10.0.12.34"));
    analyze_one(ev).await
}

#[tokio::test]
async fn vpc_endpoint_policy_explicit_deny() {
    let _env = moto().await;
    let deny = json!({"Sid": "NoReads", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*"});
    let doc = policy(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        deny.clone()
    ]));

    let r = carol_reads_orders_through(
        Some(&doc),
        140,
        "with an explicit deny in a VPC endpoint policy",
    )
    .await;

    assert_eq!(
        r["AssessmentResult"], "Explicit deny in a VPC endpoint policy",
        "{r:#}"
    );
    let quoted = &r["ResultDetails"]["ExplicitDenyPolicies"][0];
    assert_eq!(quoted["PolicyStatement"], deny);
    assert!(quoted["PolicyArn"]
        .as_str()
        .unwrap()
        .contains(":vpc-endpoint/vpce-"));
    assert_eq!(r["Evidence"]["EngineAgrees"], true);
}

#[tokio::test]
async fn vpc_endpoint_policy_missing_allow() {
    let _env = moto().await;
    let doc = policy(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:Query", "Resource": "*"}
    ]));

    let r = carol_reads_orders_through(
        Some(&doc),
        141,
        "because no VPC endpoint policy allows the dynamodb:GetItem action",
    )
    .await;

    assert_eq!(
        r["AssessmentResult"], "Missing allow in a VPC endpoint policy",
        "{r:#}"
    );
    assert_eq!(r["Evidence"]["EngineAgrees"], true);
}

/// An endpoint created without a policy has EC2's full-access one: it is no cause, and the
/// request that went through it is allowed by the policies as they are now.
#[tokio::test]
async fn vpc_endpoint_without_a_policy_is_no_cause() {
    let _env = moto().await;

    let r = carol_reads_orders_through(
        None,
        142,
        "because no VPC endpoint policy allows the dynamodb:GetItem action",
    )
    .await;

    assert_eq!(r["AssessmentResult"], "Allowed", "{r:#}");
    assert_eq!(
        r.get("Unevaluated"),
        None,
        "the endpoint's policy was read: {r:#}"
    );
}
