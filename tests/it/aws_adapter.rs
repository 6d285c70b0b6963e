//! The AWS adapter against a local moto server (see `support`): fixtures are created
//! through the SDK, then read back through the `PolicySource` port.

use access_undenied::collect::aws::{AwsSettings, AwsSource};
use access_undenied::collect::{CollectError, PolicyDoc, PolicySource};
use access_undenied::core::eval::ResourceKind;
use aws_sdk_iam::types::Tag;
use serde_json::{json, Value};

use crate::support;
use crate::support::{
    config, config_for, doc, moto, resource_doc, source, Patched, Rule, ACCOUNT, CROSS_ROLE,
    OTHER_ACCOUNT, REGION,
};

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

fn trust(principal: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]
    })
    .to_string()
}

async fn create_policy(
    iam: &aws_sdk_iam::Client,
    name: &str,
    document: &serde_json::Value,
) -> String {
    let out = iam
        .create_policy()
        .policy_name(name)
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    out.policy().unwrap().arn().unwrap().to_string()
}

// ---------------------------------------------------------------- IAM identities

#[tokio::test]
async fn user_identity_has_inline_attached_and_group_policies() {
    let _env = moto().await;
    let iam = aws_sdk_iam::Client::new(&config().await);
    let user = iam
        .create_user()
        .user_name("alice")
        .path("/dev/")
        .tags(tag("team", "red"))
        .send()
        .await
        .unwrap();
    let user_arn = user.user().unwrap().arn().to_string();
    assert_eq!(user_arn, format!("arn:aws:iam::{ACCOUNT}:user/dev/alice"));
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("read-logs")
        .policy_document(doc("Allow", "logs:Get*", "*").to_string())
        .send()
        .await
        .unwrap();
    let attached = create_policy(
        &iam,
        "s3-read",
        &doc("Allow", "s3:GetObject", "arn:aws:s3:::data/*"),
    )
    .await;
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(&attached)
        .send()
        .await
        .unwrap();
    let group = iam
        .create_group()
        .group_name("devs")
        .path("/teams/")
        .send()
        .await
        .unwrap();
    let group_arn = group.group().unwrap().arn().to_string();
    iam.add_user_to_group()
        .group_name("devs")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name("devs")
        .policy_name("deny-delete")
        .policy_document(doc("Deny", "s3:DeleteObject", "*").to_string())
        .send()
        .await
        .unwrap();
    let group_managed =
        create_policy(&iam, "sqs-send", &doc("Allow", "sqs:SendMessage", "*")).await;
    iam.attach_group_policy()
        .group_name("devs")
        .policy_arn(&group_managed)
        .send()
        .await
        .unwrap();

    let data = source().await.identity(&user_arn).await.unwrap();

    assert_eq!(data.arn, user_arn);
    assert_eq!(data.tags.get("team").map(String::as_str), Some("red"));
    assert_eq!(data.boundary, None);
    let seen: Vec<(&str, &str, &str)> = data
        .policies
        .iter()
        .map(|p| (p.name.as_str(), p.arn.as_str(), p.attached_to.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "read-logs",
                format!("{user_arn}/read-logs").as_str(),
                user_arn.as_str()
            ),
            ("s3-read", attached.as_str(), user_arn.as_str()),
            (
                "deny-delete",
                format!("{group_arn}/deny-delete").as_str(),
                group_arn.as_str()
            ),
            ("sqs-send", group_managed.as_str(), group_arn.as_str()),
        ]
    );
    // Inline documents come URL-encoded, managed ones as plain JSON: both parse.
    assert_eq!(data.policies[0].document, doc("Allow", "logs:Get*", "*"));
    assert_eq!(
        data.policies[1].document,
        doc("Allow", "s3:GetObject", "arn:aws:s3:::data/*")
    );
    assert_eq!(
        data.policies[2].document,
        doc("Deny", "s3:DeleteObject", "*")
    );
    assert_eq!(
        data.policies[3].document,
        doc("Allow", "sqs:SendMessage", "*")
    );
    for p in &data.policies {
        p.to_named().unwrap();
    }
}

#[tokio::test]
async fn role_identity_with_path_boundary_and_tags() {
    let _env = moto().await;
    let iam = aws_sdk_iam::Client::new(&config().await);
    let boundary = create_policy(&iam, "dev-boundary", &doc("Allow", "s3:*", "*")).await;
    let role = iam
        .create_role()
        .role_name("Runner")
        .path("/service/ci/")
        .assume_role_policy_document(trust(&format!("arn:aws:iam::{ACCOUNT}:root")))
        .permissions_boundary(&boundary)
        .tags(tag("env", "prod"))
        .tags(tag("owner", "ci"))
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    assert_eq!(
        role_arn,
        format!("arn:aws:iam::{ACCOUNT}:role/service/ci/Runner")
    );
    iam.put_role_policy()
        .role_name("Runner")
        .policy_name("inline")
        .policy_document(doc("Allow", "s3:PutObject", "arn:aws:s3:::artifacts/*").to_string())
        .send()
        .await
        .unwrap();
    let managed = create_policy(&iam, "kms-use", &doc("Allow", "kms:Decrypt", "*")).await;
    iam.attach_role_policy()
        .role_name("Runner")
        .policy_arn(&managed)
        .send()
        .await
        .unwrap();

    let data = source().await.identity(&role_arn).await.unwrap();

    assert_eq!(data.arn, role_arn);
    assert_eq!(data.tags.len(), 2);
    assert_eq!(data.tags.get("env").map(String::as_str), Some("prod"));
    let names: Vec<(&str, &str)> = data
        .policies
        .iter()
        .map(|p| (p.name.as_str(), p.arn.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("inline", format!("{role_arn}/inline").as_str()),
            ("kms-use", managed.as_str())
        ]
    );
    assert!(data.policies.iter().all(|p| p.attached_to == role_arn));
    let b = data.boundary.expect("the role's boundary");
    assert_eq!(
        (b.name.as_str(), b.arn.as_str(), b.attached_to.as_str()),
        ("dev-boundary", boundary.as_str(), role_arn.as_str())
    );
    assert_eq!(b.document, doc("Allow", "s3:*", "*"));
}

#[tokio::test]
async fn assumed_role_session_arn_reads_its_role() {
    let _env = moto().await;
    let iam = aws_sdk_iam::Client::new(&config().await);
    iam.create_role()
        .role_name("Deployer")
        .path("/ops/")
        .assume_role_policy_document(trust("*"))
        .send()
        .await
        .unwrap();
    let data = source()
        .await
        .identity(&format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/session-7"
        ))
        .await
        .unwrap();
    assert_eq!(
        data.arn,
        format!("arn:aws:iam::{ACCOUNT}:role/ops/Deployer")
    );
    assert!(data.policies.is_empty());
}

#[tokio::test]
async fn user_boundary_comes_from_get_user() {
    // moto has no user boundaries: the GetUser answer is patched on the wire to carry one.
    let _env = moto().await;
    let iam = aws_sdk_iam::Client::new(&config().await);
    let boundary = create_policy(&iam, "user-boundary", &doc("Allow", "s3:Get*", "*")).await;
    let user = iam.create_user().user_name("bob").send().await.unwrap();
    let user_arn = user.user().unwrap().arn().to_string();
    let source = Patched::new(vec![Rule::UserBoundary(boundary.clone())])
        .source(support::settings())
        .await;

    let data = source.identity(&user_arn).await.unwrap();

    let b = data.boundary.expect("the user's boundary");
    assert_eq!(
        (b.name.as_str(), b.arn.as_str(), b.attached_to.as_str()),
        ("user-boundary", boundary.as_str(), user_arn.as_str())
    );
    assert_eq!(b.document, doc("Allow", "s3:Get*", "*"));
}

#[tokio::test]
async fn missing_or_unsupported_identities_are_errors() {
    let _env = moto().await;
    let source = source().await;
    let missing = source
        .identity(&format!("arn:aws:iam::{ACCOUNT}:role/Ghost"))
        .await;
    match missing {
        Err(CollectError::NotFound { what }) => assert!(what.contains("NoSuchEntity"), "{what}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    let group = source
        .identity(&format!("arn:aws:iam::{ACCOUNT}:group/devs"))
        .await;
    assert!(
        matches!(group, Err(CollectError::Unsupported { .. })),
        "{group:?}"
    );
}

#[tokio::test]
async fn identity_of_another_account_uses_the_cross_account_role() {
    let _env = moto().await;
    let other = aws_sdk_iam::Client::new(&config_for(OTHER_ACCOUNT).await);
    let role = other
        .create_role()
        .role_name("App")
        .assume_role_policy_document(trust("*"))
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    assert!(role_arn.contains(OTHER_ACCOUNT), "{role_arn}");
    other
        .put_role_policy()
        .role_name("App")
        .policy_name("other-inline")
        .policy_document(doc("Allow", "dynamodb:GetItem", "*").to_string())
        .send()
        .await
        .unwrap();
    // A role of the same name in the caller's account must not be what is read.
    let own = aws_sdk_iam::Client::new(&config().await);
    own.create_role()
        .role_name("App")
        .assume_role_policy_document(trust("*"))
        .send()
        .await
        .unwrap();

    let source = source().await;
    let data = source.identity(&role_arn).await.unwrap();

    assert_eq!(data.arn, role_arn);
    let names: Vec<&str> = data.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["other-inline"]);
    // GetCallerIdentity + AssumeRole + GetRole + ListRolePolicies + GetRolePolicy + ListAttachedRolePolicies.
    assert_eq!(source.calls(), 6);
}

#[tokio::test]
async fn unique_ids_resolve_to_arns() {
    let _env = moto().await;
    let iam = aws_sdk_iam::Client::new(&config().await);
    let user = iam
        .create_user()
        .user_name("carol")
        .path("/people/")
        .send()
        .await
        .unwrap();
    let user = user.user().unwrap();
    let role = iam
        .create_role()
        .role_name("Worker")
        .path("/svc/")
        .assume_role_policy_document(trust("*"))
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap();
    assert!(role.role_id().starts_with("AROA"), "{}", role.role_id());
    let source = source().await;

    let by_session = source
        .principal_arn(ACCOUNT, &format!("{}:i-0123456789", role.role_id()))
        .await
        .unwrap();
    assert_eq!(by_session, role.arn());
    // moto's user ids do not start with AIDA: an id of unknown kind searches users, then roles.
    assert_eq!(
        source.principal_arn(ACCOUNT, user.user_id()).await.unwrap(),
        user.arn()
    );
    let calls = source.calls();
    assert_eq!(
        source.principal_arn(ACCOUNT, role.role_id()).await.unwrap(),
        role.arn()
    );
    assert_eq!(
        source.calls(),
        calls,
        "the id → ARN maps are cached per account"
    );
    let missing = source.principal_arn(ACCOUNT, "AROAUNKNOWNUNKNOWN:s").await;
    assert!(
        matches!(missing, Err(CollectError::NotFound { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
async fn answers_are_cached_and_calls_counted() {
    let _env = moto().await;
    let iam = aws_sdk_iam::Client::new(&config().await);
    let shared = create_policy(&iam, "shared", &doc("Allow", "ec2:Describe*", "*")).await;
    for name in ["One", "Two"] {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(trust("*"))
            .send()
            .await
            .unwrap();
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(&shared)
            .send()
            .await
            .unwrap();
    }
    let source = source().await;
    assert_eq!(
        source.calls(),
        0,
        "nothing is called before the first question"
    );

    source
        .identity(&format!("arn:aws:iam::{ACCOUNT}:role/One"))
        .await
        .unwrap();
    // GetCallerIdentity, GetRole, ListRolePolicies, ListAttachedRolePolicies, GetPolicy, GetPolicyVersion.
    assert_eq!(source.calls(), 6);
    source
        .identity(&format!("arn:aws:iam::{ACCOUNT}:role/Two"))
        .await
        .unwrap();
    assert_eq!(source.calls(), 9, "the shared managed policy is read once");
    source
        .identity(&format!("arn:aws:iam::{ACCOUNT}:role/One"))
        .await
        .unwrap();
    assert_eq!(source.calls(), 9, "identities are cached");
}

// ---------------------------------------------------------------- Organizations

struct Org {
    root: String,
    ou: String,
    child_ou: String,
    member: String,
}

/// An organization in `config`'s account: root → ou "Workloads" → ou "Prod" → member account,
/// SCPs and RCPs enabled, a custom SCP at every level and an RCP on the OU.
async fn organization(config: &aws_config::SdkConfig) -> Org {
    use aws_sdk_organizations::types::{OrganizationFeatureSet, PolicyType};
    let org = aws_sdk_organizations::Client::new(config);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let roots = org.list_roots().send().await.unwrap();
    let root = roots.roots()[0].id().unwrap().to_string();
    for kind in [
        PolicyType::ServiceControlPolicy,
        PolicyType::ResourceControlPolicy,
    ] {
        org.enable_policy_type()
            .root_id(&root)
            .policy_type(kind)
            .send()
            .await
            .unwrap();
    }
    let ou = org
        .create_organizational_unit()
        .parent_id(&root)
        .name("Workloads")
        .send()
        .await
        .unwrap();
    let ou = ou.organizational_unit().unwrap().id().unwrap().to_string();
    let child_ou = org
        .create_organizational_unit()
        .parent_id(&ou)
        .name("Prod")
        .send()
        .await
        .unwrap();
    let child_ou = child_ou
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    let created = org
        .create_account()
        .email("member@example.com")
        .account_name("member")
        .send()
        .await
        .unwrap();
    let member = created
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_string();
    org.move_account()
        .account_id(&member)
        .source_parent_id(&root)
        .destination_parent_id(&child_ou)
        .send()
        .await
        .unwrap();
    let attach =
        |name: &'static str, kind: PolicyType, target: String, content: serde_json::Value| {
            let org = org.clone();
            async move {
                let p = org
                    .create_policy()
                    .name(name)
                    .description(name)
                    .r#type(kind)
                    .content(content.to_string())
                    .send()
                    .await
                    .unwrap();
                let id = p
                    .policy()
                    .unwrap()
                    .policy_summary()
                    .unwrap()
                    .id()
                    .unwrap()
                    .to_string();
                org.attach_policy()
                    .policy_id(id)
                    .target_id(target)
                    .send()
                    .await
                    .unwrap();
            }
        };
    attach(
        "DenyLeaveOrg",
        PolicyType::ServiceControlPolicy,
        root.clone(),
        doc("Deny", "organizations:LeaveOrganization", "*"),
    )
    .await;
    attach(
        "OuGuard",
        PolicyType::ServiceControlPolicy,
        ou.clone(),
        doc("Deny", "iam:CreateUser", "*"),
    )
    .await;
    attach(
        "AccountGuard",
        PolicyType::ServiceControlPolicy,
        member.clone(),
        doc("Deny", "s3:DeleteBucket", "*"),
    )
    .await;
    let rcp = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    });
    attach(
        "EnforceTls",
        PolicyType::ResourceControlPolicy,
        ou.clone(),
        rcp,
    )
    .await;
    Org {
        root,
        ou,
        child_ou,
        member,
    }
}

fn names(docs: &[PolicyDoc]) -> Vec<&str> {
    let mut v: Vec<&str> = docs.iter().map(|d| d.name.as_str()).collect();
    v.sort_unstable();
    v
}

#[tokio::test]
async fn organization_path_with_scps_and_rcps() {
    let _env = moto().await;
    let org = organization(&config().await).await;
    let source = source().await;

    let data = source
        .organization(&org.member)
        .await
        .unwrap()
        .expect("in an organization");

    assert!(
        data.organization_id.starts_with("o-"),
        "{}",
        data.organization_id
    );
    assert_eq!(data.management_account, ACCOUNT);
    assert!(data.scps_enabled && data.rcps_enabled);
    let ids: Vec<&str> = data.path.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            org.root.as_str(),
            org.ou.as_str(),
            org.child_ou.as_str(),
            org.member.as_str()
        ]
    );
    assert_eq!(
        data.org_path(),
        format!(
            "{}/{}/{}/{}/",
            data.organization_id, org.root, org.ou, org.child_ou
        )
    );
    let [root, ou, child_ou, account] = &data.path[..] else {
        panic!("four levels expected")
    };
    assert!(
        root.arn
            .contains(&format!(":root/{}/{}", data.organization_id, org.root)),
        "{}",
        root.arn
    );
    assert!(
        ou.arn
            .contains(&format!(":ou/{}/{}", data.organization_id, org.ou)),
        "{}",
        ou.arn
    );
    assert!(
        account.arn.ends_with(&format!("/{}", org.member)),
        "{}",
        account.arn
    );
    assert!(
        names(&root.scps).contains(&"DenyLeaveOrg") && names(&root.scps).contains(&"FullAWSAccess")
    );
    assert!(names(&ou.scps).contains(&"OuGuard"));
    assert!(names(&account.scps).contains(&"AccountGuard"));
    assert!(!names(&child_ou.scps).contains(&"OuGuard"));
    assert!(names(&ou.rcps).contains(&"EnforceTls"));
    assert!(names(&root.rcps).contains(&"RCPFullAWSAccess"));
    for node in &data.path {
        for p in node.scps.iter().chain(&node.rcps) {
            assert_eq!(p.attached_to, node.arn);
            assert!(p.arn.starts_with("arn:aws:organizations::"), "{}", p.arn);
            p.to_named().unwrap();
        }
    }
    let guard = account
        .scps
        .iter()
        .find(|p| p.name == "AccountGuard")
        .unwrap();
    assert_eq!(guard.document, doc("Deny", "s3:DeleteBucket", "*"));

    // Cached per account, and the shared levels are reused for the management account.
    let calls = source.calls();
    assert_eq!(
        source.organization(&org.member).await.unwrap().as_ref(),
        Some(&data)
    );
    assert_eq!(source.calls(), calls);
    let management = source.organization(ACCOUNT).await.unwrap().unwrap();
    let ids: Vec<&str> = management.path.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, vec![org.root.as_str(), ACCOUNT]);
    assert_eq!(management.path[0], data.path[0]);
}

#[tokio::test]
async fn no_organization_is_none() {
    let _env = moto().await;
    assert_eq!(source().await.organization(ACCOUNT).await.unwrap(), None);
}

#[tokio::test]
async fn account_outside_the_organization_is_not_found() {
    let _env = moto().await;
    organization(&config().await).await;
    let outside = source().await.organization("999999999999").await;
    assert!(
        matches!(outside, Err(CollectError::NotFound { .. })),
        "{outside:?}"
    );
}

#[tokio::test]
async fn organization_through_the_management_role() {
    let _env = moto().await;
    // The organization lives in another account; the caller's account has none.
    let management = "333333333333";
    let org = organization(&config_for(management).await).await;
    let source = AwsSource::new(AwsSettings {
        management_account_role_arn: Some(format!("arn:aws:iam::{management}:role/OrgReader")),
        ..support::settings()
    })
    .await
    .unwrap();

    let data = source
        .organization(&org.member)
        .await
        .unwrap()
        .expect("in the organization");

    assert_eq!(data.management_account, management);
    assert_eq!(data.path.len(), 4);
    assert!(names(&data.path[3].scps).contains(&"AccountGuard"));
}

// ---------------------------------------------------------------- resource policies

/// What `resource_policy` must answer for one ARN of the kind under test.
enum Answer<'a> {
    /// The policy held by `holder`: named `name`, its ARN `holder/name`, attached to `holder`,
    /// with this document (`None`: the test checks the document itself).
    Policy {
        holder: &'a str,
        name: &'a str,
        document: Option<&'a Value>,
    },
    /// The resource exists without a policy.
    NoPolicy,
    /// The resource does not exist.
    NotFound,
}

/// Asks `source` for the policy of each `(ARN, account)` of `kind` (in [`REGION`]) and checks
/// the answer against the table; the policies found, in order.
async fn check_resource_policies(
    source: &AwsSource,
    kind: ResourceKind,
    table: &[(&str, &str, Answer<'_>)],
) -> Vec<PolicyDoc> {
    let mut found = Vec::new();
    for (arn, account, answer) in table {
        let data = source.resource_policy(arn, account, REGION, kind).await;
        match answer {
            Answer::Policy {
                holder,
                name,
                document,
            } => {
                let data = data.unwrap_or_else(|e| panic!("{arn}: {e:?}"));
                assert_eq!(data.holder_arn, *holder, "the holder of {arn}");
                assert_eq!(data.kind, kind, "{arn}");
                let p = data
                    .policy
                    .unwrap_or_else(|| panic!("{arn}: a {name} expected"));
                assert_eq!(
                    (p.name.as_str(), p.arn.as_str(), p.attached_to.as_str()),
                    (*name, format!("{holder}/{name}").as_str(), *holder),
                    "{arn}"
                );
                if let Some(document) = document {
                    assert_eq!(&p.document, *document, "{arn}");
                }
                found.push(p);
            }
            Answer::NoPolicy => {
                let data = data.unwrap_or_else(|e| panic!("{arn}: {e:?}"));
                assert_eq!(data.policy, None, "{arn}");
            }
            Answer::NotFound => assert!(
                matches!(data, Err(CollectError::NotFound { .. })),
                "{arn}: {data:?}"
            ),
        }
    }
    found
}

#[tokio::test]
async fn s3_bucket_policy_present_absent_and_from_an_object_arn() {
    let _env = moto().await;
    let s3 = support::s3(&config().await);
    s3.create_bucket()
        .bucket("with-policy")
        .send()
        .await
        .unwrap();
    s3.create_bucket()
        .bucket("without-policy")
        .send()
        .await
        .unwrap();
    let policy = resource_doc(
        &format!("arn:aws:iam::{OTHER_ACCOUNT}:root"),
        "s3:GetObject",
        "arn:aws:s3:::with-policy/*",
    );
    s3.put_bucket_policy()
        .bucket("with-policy")
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();

    check_resource_policies(
        &source().await,
        ResourceKind::S3Bucket,
        &[
            (
                "arn:aws:s3:::with-policy/reports/2024.csv",
                ACCOUNT,
                Answer::Policy {
                    holder: "arn:aws:s3:::with-policy",
                    name: "S3BucketPolicy",
                    document: Some(&policy),
                },
            ),
            ("arn:aws:s3:::without-policy", ACCOUNT, Answer::NoPolicy),
            ("arn:aws:s3:::no-such-bucket", ACCOUNT, Answer::NotFound),
        ],
    )
    .await;
}

#[tokio::test]
async fn s3_bucket_policy_of_another_account_is_read_with_its_role() {
    let _env = moto().await;
    let other = support::s3(&config_for(OTHER_ACCOUNT).await);
    other
        .create_bucket()
        .bucket("partner-data")
        .send()
        .await
        .unwrap();
    let policy = resource_doc(
        &format!("arn:aws:iam::{ACCOUNT}:root"),
        "s3:GetObject",
        "arn:aws:s3:::partner-data/*",
    );
    other
        .put_bucket_policy()
        .bucket("partner-data")
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let source = source().await;

    check_resource_policies(
        &source,
        ResourceKind::S3Bucket,
        &[(
            "arn:aws:s3:::partner-data",
            OTHER_ACCOUNT,
            Answer::Policy {
                holder: "arn:aws:s3:::partner-data",
                name: "S3BucketPolicy",
                document: Some(&policy),
            },
        )],
    )
    .await;

    // GetCallerIdentity, AssumeRole into the other account, GetBucketPolicy.
    assert_eq!(source.calls(), 3);
}

#[tokio::test]
async fn kms_key_policy_by_key_and_by_alias() {
    let _env = moto().await;
    let kms = aws_sdk_kms::Client::new(&config().await);
    let key = kms
        .create_key()
        .description("app key")
        .send()
        .await
        .unwrap();
    let meta = key.key_metadata().unwrap();
    let key_arn = meta.arn().unwrap().to_string();
    let policy = resource_doc(&format!("arn:aws:iam::{ACCOUNT}:root"), "kms:*", "*");
    kms.put_key_policy()
        .key_id(meta.key_id())
        .policy_name("default")
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    kms.create_alias()
        .alias_name("alias/app")
        .target_key_id(meta.key_id())
        .send()
        .await
        .unwrap();
    let key_policy = || Answer::Policy {
        holder: &key_arn,
        name: "KMSKeyPolicy",
        document: Some(&policy),
    };

    // An alias answers with its key.
    let alias = format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/app");
    check_resource_policies(
        &source().await,
        ResourceKind::KmsKey,
        &[
            (&key_arn, ACCOUNT, key_policy()),
            (&alias, ACCOUNT, key_policy()),
        ],
    )
    .await;
}

#[tokio::test]
async fn secret_policy_present_and_absent() {
    let _env = moto().await;
    let sm = aws_sdk_secretsmanager::Client::new(&config().await);
    let with = sm
        .create_secret()
        .name("db/password")
        .secret_string("s3cr3t")
        .send()
        .await
        .unwrap();
    let with_arn = with.arn().unwrap().to_string();
    let without = sm
        .create_secret()
        .name("db/user")
        .secret_string("app")
        .send()
        .await
        .unwrap();
    let policy = resource_doc(
        &format!("arn:aws:iam::{OTHER_ACCOUNT}:root"),
        "secretsmanager:GetSecretValue",
        "*",
    );
    sm.put_resource_policy()
        .secret_id(&with_arn)
        .resource_policy(policy.to_string())
        .send()
        .await
        .unwrap();

    check_resource_policies(
        &source().await,
        ResourceKind::SecretsManagerSecret,
        &[
            (
                &with_arn,
                ACCOUNT,
                Answer::Policy {
                    holder: &with_arn,
                    name: "SecretResourcePolicy",
                    document: Some(&policy),
                },
            ),
            (without.arn().unwrap(), ACCOUNT, Answer::NoPolicy),
        ],
    )
    .await;
}

#[tokio::test]
async fn sqs_queue_policy_present_and_absent() {
    use aws_sdk_sqs::types::QueueAttributeName;
    let _env = moto().await;
    let sqs = aws_sdk_sqs::Client::new(&config().await);
    let url = sqs
        .create_queue()
        .queue_name("jobs")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    sqs.create_queue().queue_name("plain").send().await.unwrap();
    let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:jobs");
    let policy = resource_doc(
        &format!("arn:aws:iam::{OTHER_ACCOUNT}:root"),
        "sqs:SendMessage",
        &queue_arn,
    );
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::Policy, policy.to_string())
        .send()
        .await
        .unwrap();

    check_resource_policies(
        &source().await,
        ResourceKind::SqsQueue,
        &[
            (
                &queue_arn,
                ACCOUNT,
                Answer::Policy {
                    holder: &queue_arn,
                    name: "SQSQueuePolicy",
                    document: Some(&policy),
                },
            ),
            (
                &format!("arn:aws:sqs:{REGION}:{ACCOUNT}:plain"),
                ACCOUNT,
                Answer::NoPolicy,
            ),
            (
                &format!("arn:aws:sqs:{REGION}:{ACCOUNT}:missing"),
                ACCOUNT,
                Answer::NotFound,
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn sns_topic_policy() {
    let _env = moto().await;
    let sns = aws_sdk_sns::Client::new(&config().await);
    let topic = sns
        .create_topic()
        .name("alerts")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_string();
    let policy = resource_doc(
        &format!("arn:aws:iam::{OTHER_ACCOUNT}:root"),
        "sns:Publish",
        &topic,
    );
    sns.set_topic_attributes()
        .topic_arn(&topic)
        .attribute_name("Policy")
        .attribute_value(policy.to_string())
        .send()
        .await
        .unwrap();

    check_resource_policies(
        &source().await,
        ResourceKind::SnsTopic,
        &[(
            &topic,
            ACCOUNT,
            Answer::Policy {
                holder: &topic,
                name: "SNSTopicPolicy",
                document: Some(&policy),
            },
        )],
    )
    .await;
}

#[tokio::test]
async fn lambda_function_policy() {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{FunctionCode, Runtime};
    let _env = moto().await;
    let sdk = config().await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let role = iam
        .create_role()
        .role_name("fn-role")
        .assume_role_policy_document(trust("*"))
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    // The smallest zip file: an empty archive (moto runs nothing without Docker, GetPolicy works).
    let empty_zip = [b"PK\x05\x06".as_slice(), &[0u8; 18]].concat();
    for name in ["with-policy", "without-policy"] {
        lambda
            .create_function()
            .function_name(name)
            .runtime(Runtime::Python312)
            .role(&role_arn)
            .handler("index.handler")
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(empty_zip.clone()))
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    lambda
        .add_permission()
        .function_name("with-policy")
        .statement_id("s3-invoke")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .send()
        .await
        .unwrap();
    let arn = |name: &str| format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}");

    let found = check_resource_policies(
        &source().await,
        ResourceKind::LambdaFunction,
        &[
            (
                &arn("with-policy"),
                ACCOUNT,
                Answer::Policy {
                    holder: &arn("with-policy"),
                    name: "LambdaFunctionResourcePolicy",
                    document: None,
                },
            ),
            (&arn("without-policy"), ACCOUNT, Answer::NoPolicy),
            (&arn("ghost"), ACCOUNT, Answer::NotFound),
        ],
    )
    .await;

    // The statement of the permission added above.
    let statement = &found[0].document["Statement"][0];
    assert_eq!(statement["Sid"], json!("s3-invoke"));
    assert_eq!(
        statement["Principal"],
        json!({"Service": "s3.amazonaws.com"})
    );
}

#[tokio::test]
async fn ecr_repository_policy_present_and_absent() {
    let _env = moto().await;
    let ecr = aws_sdk_ecr::Client::new(&config().await);
    let repo = ecr
        .create_repository()
        .repository_name("team/app")
        .send()
        .await
        .unwrap();
    let repo_arn = repo
        .repository()
        .unwrap()
        .repository_arn()
        .unwrap()
        .to_string();
    let bare = ecr
        .create_repository()
        .repository_name("bare")
        .send()
        .await
        .unwrap();
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OTHER_ACCOUNT}:root")},
                       "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]
    });
    ecr.set_repository_policy()
        .repository_name("team/app")
        .policy_text(policy.to_string())
        .send()
        .await
        .unwrap();

    check_resource_policies(
        &source().await,
        ResourceKind::EcrRepository,
        &[
            (
                &repo_arn,
                ACCOUNT,
                Answer::Policy {
                    holder: &repo_arn,
                    name: "ECRRepositoryResourcePolicy",
                    document: Some(&policy),
                },
            ),
            (
                bare.repository().unwrap().repository_arn().unwrap(),
                ACCOUNT,
                Answer::NoPolicy,
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn role_trust_policy() {
    let _env = moto().await;
    let iam = aws_sdk_iam::Client::new(&config().await);
    let trust_doc = trust(&format!("arn:aws:iam::{OTHER_ACCOUNT}:root"));
    let role = iam
        .create_role()
        .role_name("Partner")
        .path("/x/")
        .assume_role_policy_document(&trust_doc)
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();

    check_resource_policies(
        &source().await,
        ResourceKind::RoleTrust,
        &[(
            &role_arn,
            ACCOUNT,
            Answer::Policy {
                holder: &role_arn,
                name: "RoleTrustPolicy",
                document: Some(&serde_json::from_str(&trust_doc).unwrap()),
            },
        )],
    )
    .await;
}

#[tokio::test]
async fn other_kinds_have_no_policy_and_unknown_vpc_endpoints_are_not_found() {
    let _env = moto().await;
    let source = source().await;
    let table = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders");
    let data = source
        .resource_policy(&table, ACCOUNT, REGION, ResourceKind::Other)
        .await
        .unwrap();
    assert_eq!(
        (data.holder_arn.as_str(), data.policy),
        (table.as_str(), None)
    );
    let vpce = source
        .vpc_endpoint_policy(ACCOUNT, REGION, "vpce-0123456789abcdef0")
        .await;
    assert!(
        matches!(&vpce, Err(CollectError::NotFound { what }) if what.contains("vpce-0123456789abcdef0")),
        "{vpce:?}"
    );
    // GetCallerIdentity, DescribeVpcEndpoints.
    assert_eq!(source.calls(), 2);
}

// ---------------------------------------------------------------- settings and failures

#[tokio::test]
async fn without_a_cross_account_role_other_accounts_cannot_be_entered() {
    let _env = moto().await;
    let source = AwsSource::new(AwsSettings::default()).await.unwrap();
    let other = source
        .identity(&format!("arn:aws:iam::{OTHER_ACCOUNT}:role/App"))
        .await;
    match other {
        Err(CollectError::AssumeRole { account, message }) => {
            assert_eq!(account, OTHER_ACCOUNT);
            assert!(message.contains("cross-account-role-name"), "{message}");
        }
        other => panic!("expected AssumeRole, got {other:?}"),
    }
}

#[tokio::test]
async fn a_denied_assume_role_is_reported() {
    let _env = moto().await;
    let patched = Patched::new(vec![Rule::Fail {
        action: "AssumeRole",
        status: 403,
        code: "AccessDenied",
        times: usize::MAX,
    }]);
    let source = patched.source(support::settings()).await;
    let first = source
        .resource_policy(
            "arn:aws:s3:::b",
            OTHER_ACCOUNT,
            REGION,
            ResourceKind::S3Bucket,
        )
        .await;
    match &first {
        Err(CollectError::AssumeRole { account, message }) => {
            assert_eq!(account, OTHER_ACCOUNT);
            let role = format!("arn:aws:iam::{OTHER_ACCOUNT}:role/{CROSS_ROLE}");
            assert!(message.contains(&role), "{message}");
            assert!(message.contains("AccessDenied"), "{message}");
        }
        other => panic!("expected AssumeRole, got {other:?}"),
    }
    // The failure is remembered for the batch: the account is not tried again.
    let again = source
        .identity(&format!("arn:aws:iam::{OTHER_ACCOUNT}:role/App"))
        .await;
    assert_eq!(again, Err(first.unwrap_err()));
    assert_eq!(patched.seen("AssumeRole"), 1);
}

#[tokio::test]
async fn access_denied_keeps_the_call_and_the_aws_message() {
    let _env = moto().await;
    let iam = aws_sdk_iam::Client::new(&config().await);
    iam.create_role()
        .role_name("Locked")
        .assume_role_policy_document(trust("*"))
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("Locked")
        .policy_name("p")
        .policy_document(doc("Allow", "s3:*", "*").to_string())
        .send()
        .await
        .unwrap();
    let patched = Patched::new(vec![Rule::Fail {
        action: "GetRolePolicy",
        status: 403,
        code: "AccessDenied",
        times: usize::MAX,
    }]);
    let source = patched.source(support::settings()).await;

    let denied = source
        .identity(&format!("arn:aws:iam::{ACCOUNT}:role/Locked"))
        .await;

    match denied {
        Err(CollectError::AccessDenied { what, message }) => {
            assert!(what.starts_with("iam:GetRolePolicy "), "{what}");
            assert!(message.starts_with("AccessDenied: "), "{message}");
        }
        other => panic!("expected AccessDenied, got {other:?}"),
    }
    assert_eq!(
        patched.seen("GetRolePolicy"),
        1,
        "access denied is not retried"
    );
}

#[tokio::test]
async fn throttling_is_retried_a_bounded_number_of_times() {
    let _env = moto().await;
    let iam = aws_sdk_iam::Client::new(&config().await);
    iam.create_role()
        .role_name("Busy")
        .assume_role_policy_document(trust("*"))
        .send()
        .await
        .unwrap();
    let role = format!("arn:aws:iam::{ACCOUNT}:role/Busy");

    // Throttled once, then answered: the SDK's standard retry gets through.
    let once = Patched::new(vec![Rule::Fail {
        action: "GetRole",
        status: 400,
        code: "Throttling",
        times: 1,
    }]);
    let source = once.source(support::settings()).await;
    assert_eq!(source.identity(&role).await.unwrap().arn, role);
    assert_eq!(once.seen("GetRole"), 2);
    // GetCallerIdentity, GetRole, ListRolePolicies, ListAttachedRolePolicies: one call each.
    assert_eq!(source.calls(), 4);

    // Always throttled: three attempts, then a throttling error.
    let always = Patched::new(vec![Rule::Fail {
        action: "GetRole",
        status: 400,
        code: "Throttling",
        times: usize::MAX,
    }]);
    let source = always.source(support::settings()).await;
    match source.identity(&role).await {
        Err(CollectError::Throttled { what, message }) => {
            assert!(what.starts_with("iam:GetRole "), "{what}");
            assert!(message.starts_with("Throttling"), "{message}");
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
    assert_eq!(always.seen("GetRole"), 3);
}

#[tokio::test]
async fn profile_credentials_and_region_are_used() {
    let env = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("config");
    let credentials_file = dir.path().join("credentials");
    std::fs::write(&config_file, "[profile audit]\nregion = eu-west-1\n").unwrap();
    std::fs::write(
        &credentials_file,
        "[audit]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n",
    )
    .unwrap();
    let mut vars = support::EnvVars::new();
    for key in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ] {
        vars.set(key, None);
    }
    vars.set("AWS_CONFIG_FILE", config_file.to_str());
    vars.set("AWS_SHARED_CREDENTIALS_FILE", credentials_file.to_str());
    let sqs = aws_sdk_sqs::Client::new(&config_for_region("eu-west-1", &env.url).await);
    sqs.create_queue()
        .queue_name("eu-queue")
        .send()
        .await
        .unwrap();

    let source = AwsSource::new(AwsSettings {
        profile: Some("audit".into()),
        ..support::settings()
    })
    .await
    .unwrap();

    assert_eq!(source.caller_account().await.unwrap(), ACCOUNT);
    // A queue ARN without a region is read in the profile's region.
    let queue = format!("arn:aws:sqs::{ACCOUNT}:eu-queue");
    let data = source
        .resource_policy(&queue, ACCOUNT, "", ResourceKind::SqsQueue)
        .await
        .unwrap();
    assert_eq!(data.policy, None);
    drop(vars);
}

/// Fixtures in another region, with explicit test credentials.
async fn config_for_region(region: &'static str, url: &str) -> aws_config::SdkConfig {
    let creds =
        aws_credential_types::Credentials::new("testing", "testing", None, None, "fixtures");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(support::http_client())
        .region(aws_config::Region::from_static(region))
        .credentials_provider(creds)
        .endpoint_url(url)
        .load()
        .await
}

/// With `member_accounts_only` (the Lambda's setting), an account outside the caller's
/// organization is refused before any `sts:AssumeRole`; a member is entered.
#[tokio::test]
async fn non_members_are_refused_before_any_assume_role() {
    let env = moto().await;
    let org = organization(&config().await).await;
    let source = AwsSource::new(AwsSettings {
        member_accounts_only: true,
        ..support::settings()
    })
    .await
    .unwrap();
    let outsider = source
        .identity(&format!("arn:aws:iam::{OTHER_ACCOUNT}:role/App"))
        .await;
    match outsider {
        Err(CollectError::AssumeRole { account, message }) => {
            assert_eq!(account, OTHER_ACCOUNT);
            assert!(
                message.contains("not a member of organization o-"),
                "{message}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let assumed = |env: &support::TestEnv| {
        support::standin_requests(&env.standin)
            .iter()
            .filter(|q| q["Forwarded"] == true)
            .count()
    };
    // Only GetCallerIdentity went to STS so far.
    assert_eq!(assumed(&env), 1);
    // A member: entered (the role is assumed; moto has no App role there, so NotFound).
    let member = source
        .identity(&format!("arn:aws:iam::{}:role/App", org.member))
        .await;
    assert!(
        matches!(member, Err(CollectError::NotFound { .. })),
        "{member:?}"
    );
    assert_eq!(assumed(&env), 2);
}

/// Without an organization, only the caller's own account is entered.
#[tokio::test]
async fn without_an_organization_only_the_own_account_is_entered() {
    let _env = moto().await;
    let source = AwsSource::new(AwsSettings {
        member_accounts_only: true,
        ..support::settings()
    })
    .await
    .unwrap();
    let other = source
        .identity(&format!("arn:aws:iam::{OTHER_ACCOUNT}:role/App"))
        .await;
    assert!(
        matches!(&other, Err(CollectError::AssumeRole { message, .. }) if message.contains("in no organization")),
        "{other:?}"
    );
}
