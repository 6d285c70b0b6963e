//! Permissions boundaries of roles and users: a missing allow (the fix goes to the boundary
//! policy) and an explicit deny in the boundary.

use serde_json::json;

use super::{add, analyze_one, deny, dynamodb, expect, own, table};
use crate::support;
use crate::support::events::{iam_user, message, record, role_session, s3_object, RecordExt};
use crate::support::run::{allow, analyze_with};
use crate::support::world::{policy, trust};
use crate::support::{moto, Patched, Rule, ACCOUNT};

#[tokio::test]
async fn boundary_of_a_role_missing_allow() {
    let _env = moto().await;
    let a = own().await;
    let boundary = a
        .managed(
            "DevBoundary",
            &policy(json!([allow("s3:*", "*"), allow("cloudwatch:*", "*")])),
        )
        .await;
    let (role, id) = a
        .role_with_id("Builder", "/dev/", &trust("*"), Some(&boundary), &[])
        .await;
    a.role_policy(
        "Builder",
        "tables",
        &policy(json!([allow("dynamodb:*", "*")])),
    )
    .await;
    let who = role_session(ACCOUNT, "/dev/", "Builder", &id, "build-991", false);
    let ev = dynamodb(7, &who, "PutItem", "events", ACCOUNT).msg(message(
        &who,
        "dynamodb:PutItem",
        &table(ACCOUNT, "events"),
        "because no permissions boundary allows the dynamodb:PutItem action",
    ));

    let r = analyze_one(ev).await;

    assert!(role.contains(":role/dev/Builder"));
    expect(
        &r,
        "Missing allow in a permissions boundary policy",
        json!([]),
        json!([add(
            &boundary,
            allow("dynamodb:PutItem", &table(ACCOUNT, "events"))
        )]),
        Some(true),
    );
}

#[tokio::test]
async fn boundary_of_a_role_explicit_deny() {
    let _env = moto().await;
    let a = own().await;
    let stmt = json!({"Sid": "NoIamWrites", "Effect": "Deny",
                      "Action": ["iam:CreateUser", "iam:AttachRolePolicy", "iam:PutRolePolicy"], "Resource": "*"});
    let boundary = a
        .managed(
            "GuardrailBoundary",
            &policy(json!([
                {"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"},
                stmt.clone()
            ])),
        )
        .await;
    let (role, id) = a
        .role_with_id("Platform", "/", &trust("*"), Some(&boundary), &[])
        .await;
    a.role_policy("Platform", "iam", &policy(json!([allow("iam:*", "*")])))
        .await;
    let who = role_session(ACCOUNT, "/", "Platform", &id, "maria", false);
    let ev = record(
        8,
        &who,
        "iam.amazonaws.com",
        "AttachRolePolicy",
        json!({"roleName": "orders-api-role", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        ACCOUNT,
    )
    .msg(message(
        &who,
        "iam:AttachRolePolicy",
        "role orders-api-role",
        "with an explicit deny in a permissions boundary",
    ));

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in a permissions boundary policy",
        json!([deny(&role, &boundary, "GuardrailBoundary", &stmt)]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn boundary_of_a_user_missing_allow() {
    // moto has no user boundaries: GetUser answers are patched to carry one (support::Patched).
    let _env = moto().await;
    let a = own().await;
    let boundary = a
        .managed("ReadOnlyBoundary", &policy(json!([allow("s3:Get*", "*")])))
        .await;
    a.user("erin", "/", &[]).await;
    a.user_policy("erin", "s3", &policy(json!([allow("s3:*", "*")])))
        .await;
    a.bucket("uploads", None).await;
    let who = iam_user(ACCOUNT, "/", "erin");
    let ev = s3_object(
        9,
        &who,
        "PutObject",
        "uploads",
        "erin/photo.jpg",
        ACCOUNT,
        ACCOUNT,
    );
    let source = Patched::new(vec![Rule::UserBoundary(boundary.clone())])
        .source(support::settings())
        .await;

    let r = analyze_with(&source, &[ev]).await.remove(0);

    expect(
        &r,
        "Missing allow in a permissions boundary policy",
        json!([]),
        json!([add(
            &boundary,
            allow("s3:PutObject", "arn:aws:s3:::uploads/erin/photo.jpg")
        )]),
        Some(true),
    );
}
