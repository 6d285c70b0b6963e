//! Building a world on moto through the AWS APIs: IAM principals and policies, resources with
//! their policies, and an organization with OUs, accounts, SCPs and RCPs.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_organizations::types::{OrganizationFeatureSet, PolicyType};
use serde_json::{json, Value};

use crate::support::{config_for, s3, REGION};

/// One account, acted in with fixture credentials (moto takes the account from them).
pub struct Acct {
    pub id: String,
    pub cfg: SdkConfig,
}

fn tags(list: &[(&str, &str)]) -> Vec<aws_sdk_iam::types::Tag> {
    list.iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(*k)
                .value(*v)
                .build()
                .unwrap()
        })
        .collect()
}

/// A trust policy letting `principal` (an ARN or `*`) assume the role.
pub fn trust(principal: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Trust", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]
    })
}

/// A policy document of the given statements.
pub fn policy(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

impl Acct {
    pub async fn new(id: &str) -> Acct {
        Acct {
            id: id.to_string(),
            cfg: config_for(id).await,
        }
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.cfg)
    }

    // ------------------------------------------------------------ IAM

    pub async fn user(&self, name: &str, path: &str, tag_list: &[(&str, &str)]) -> String {
        let out = self
            .iam()
            .create_user()
            .user_name(name)
            .path(path)
            .set_tags(Some(tags(tag_list)).filter(|t| !t.is_empty()))
            .send()
            .await
            .unwrap();
        out.user().unwrap().arn().to_string()
    }

    /// `(arn, unique id)` of a new role.
    pub async fn role_with_id(
        &self,
        name: &str,
        path: &str,
        trust_doc: &Value,
        boundary: Option<&str>,
        tag_list: &[(&str, &str)],
    ) -> (String, String) {
        let out = self
            .iam()
            .create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(trust_doc.to_string())
            .set_permissions_boundary(boundary.map(str::to_string))
            .set_tags(Some(tags(tag_list)).filter(|t| !t.is_empty()))
            .send()
            .await
            .unwrap();
        let role = out.role().unwrap();
        (role.arn().to_string(), role.role_id().to_string())
    }

    pub async fn user_policy(&self, user: &str, name: &str, doc: &Value) {
        self.iam()
            .put_user_policy()
            .user_name(user)
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap();
    }

    pub async fn role_policy(&self, role: &str, name: &str, doc: &Value) {
        self.iam()
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap();
    }

    pub async fn group_policy(&self, group: &str, name: &str, doc: &Value) {
        self.iam()
            .put_group_policy()
            .group_name(group)
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap();
    }

    /// A customer managed policy; its ARN.
    pub async fn managed(&self, name: &str, doc: &Value) -> String {
        let out = self
            .iam()
            .create_policy()
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap();
        out.policy().unwrap().arn().unwrap().to_string()
    }

    pub async fn attach_role(&self, role: &str, policy_arn: &str) {
        self.iam()
            .attach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .unwrap();
    }

    pub async fn attach_user(&self, user: &str, policy_arn: &str) {
        self.iam()
            .attach_user_policy()
            .user_name(user)
            .policy_arn(policy_arn)
            .send()
            .await
            .unwrap();
    }

    pub async fn attach_group(&self, group: &str, policy_arn: &str) {
        self.iam()
            .attach_group_policy()
            .group_name(group)
            .policy_arn(policy_arn)
            .send()
            .await
            .unwrap();
    }

    /// A group with `members`; its ARN.
    pub async fn group(&self, name: &str, path: &str, members: &[&str]) -> String {
        let iam = self.iam();
        let out = iam
            .create_group()
            .group_name(name)
            .path(path)
            .send()
            .await
            .unwrap();
        for m in members {
            iam.add_user_to_group()
                .group_name(name)
                .user_name(*m)
                .send()
                .await
                .unwrap();
        }
        out.group().unwrap().arn().to_string()
    }

    // ------------------------------------------------------------ resources

    /// A bucket (with a bucket policy when given); its ARN.
    pub async fn bucket(&self, name: &str, bucket_policy: Option<&Value>) -> String {
        let s3 = s3(&self.cfg);
        s3.create_bucket().bucket(name).send().await.unwrap();
        if let Some(p) = bucket_policy {
            s3.put_bucket_policy()
                .bucket(name)
                .policy(p.to_string())
                .send()
                .await
                .unwrap();
        }
        format!("arn:aws:s3:::{name}")
    }

    /// A KMS key with this key policy; its ARN.
    pub async fn key(&self, key_policy: &Value) -> String {
        let kms = aws_sdk_kms::Client::new(&self.cfg);
        let out = kms
            .create_key()
            .policy(key_policy.to_string())
            .description("fixture")
            .send()
            .await
            .unwrap();
        out.key_metadata().unwrap().arn().unwrap().to_string()
    }

    /// A secret (with a resource policy when given); its ARN (with the random suffix).
    pub async fn secret(&self, name: &str, resource_policy: Option<&Value>) -> String {
        let sm = aws_sdk_secretsmanager::Client::new(&self.cfg);
        let out = sm
            .create_secret()
            .name(name)
            .secret_string("s3cr3t")
            .send()
            .await
            .unwrap();
        let arn = out.arn().unwrap().to_string();
        if let Some(p) = resource_policy {
            sm.put_resource_policy()
                .secret_id(&arn)
                .resource_policy(p.to_string())
                .send()
                .await
                .unwrap();
        }
        arn
    }

    /// A queue (with a queue policy when given); `(arn, url)`.
    pub async fn queue(&self, name: &str, queue_policy: Option<&Value>) -> (String, String) {
        use aws_sdk_sqs::types::QueueAttributeName;
        let sqs = aws_sdk_sqs::Client::new(&self.cfg);
        let out = sqs.create_queue().queue_name(name).send().await.unwrap();
        let url = out.queue_url().unwrap().to_string();
        if let Some(p) = queue_policy {
            sqs.set_queue_attributes()
                .queue_url(&url)
                .attributes(QueueAttributeName::Policy, p.to_string())
                .send()
                .await
                .unwrap();
        }
        (
            format!("arn:aws:sqs:{REGION}:{}:{name}", self.id),
            format!("https://sqs.{REGION}.amazonaws.com/{}/{name}", self.id),
        )
    }

    /// A topic (with a topic policy when given); its ARN.
    pub async fn topic(&self, name: &str, topic_policy: Option<&Value>) -> String {
        let sns = aws_sdk_sns::Client::new(&self.cfg);
        let out = sns.create_topic().name(name).send().await.unwrap();
        let arn = out.topic_arn().unwrap().to_string();
        if let Some(p) = topic_policy {
            sns.set_topic_attributes()
                .topic_arn(&arn)
                .attribute_name("Policy")
                .attribute_value(p.to_string())
                .send()
                .await
                .unwrap();
        }
        arn
    }

    /// A function with `permissions` `(sid, principal, action)` added; its ARN.
    pub async fn function(&self, name: &str, permissions: &[(&str, &str, &str)]) -> String {
        use aws_sdk_lambda::primitives::Blob;
        use aws_sdk_lambda::types::{FunctionCode, Runtime};
        let role = self
            .role_with_id(
                &format!("{name}-exec"),
                "/service-role/",
                &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
                None,
                &[],
            )
            .await
            .0;
        let lambda = aws_sdk_lambda::Client::new(&self.cfg);
        // An empty zip archive: moto runs nothing without Docker, the policy calls work.
        let empty_zip = [b"PK\x05\x06".as_slice(), &[0u8; 18]].concat();
        let out = lambda
            .create_function()
            .function_name(name)
            .runtime(Runtime::Python312)
            .role(role)
            .handler("index.handler")
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(empty_zip))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        for (sid, principal, action) in permissions {
            lambda
                .add_permission()
                .function_name(name)
                .statement_id(*sid)
                .action(*action)
                .principal(*principal)
                .send()
                .await
                .unwrap();
        }
        out.function_arn().unwrap().to_string()
    }

    /// A repository (with a repository policy when given); its ARN.
    pub async fn repository(&self, name: &str, repo_policy: Option<&Value>) -> String {
        let ecr = aws_sdk_ecr::Client::new(&self.cfg);
        let out = ecr
            .create_repository()
            .repository_name(name)
            .send()
            .await
            .unwrap();
        if let Some(p) = repo_policy {
            ecr.set_repository_policy()
                .repository_name(name)
                .policy_text(p.to_string())
                .send()
                .await
                .unwrap();
        }
        out.repository()
            .unwrap()
            .repository_arn()
            .unwrap()
            .to_string()
    }
}

// ---------------------------------------------------------------- Organizations

/// An organization node: id and ARN.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub arn: String,
}

/// An organization whose management account is the caller's.
pub struct Org {
    pub client: aws_sdk_organizations::Client,
    pub id: String,
    pub root: Node,
    pub management: String,
    /// Account name → node.
    pub accounts: BTreeMap<String, Node>,
}

impl Org {
    /// Creates the organization (all features) with SCPs and RCPs enabled at the root.
    pub async fn create(management: &Acct) -> Org {
        let client = aws_sdk_organizations::Client::new(&management.cfg);
        let out = client
            .create_organization()
            .feature_set(OrganizationFeatureSet::All)
            .send()
            .await
            .unwrap();
        let id = out.organization().unwrap().id().unwrap().to_string();
        let roots = client.list_roots().send().await.unwrap();
        let root = &roots.roots()[0];
        let root = Node {
            id: root.id().unwrap().to_string(),
            arn: root.arn().unwrap().to_string(),
        };
        for kind in [
            PolicyType::ServiceControlPolicy,
            PolicyType::ResourceControlPolicy,
        ] {
            client
                .enable_policy_type()
                .root_id(&root.id)
                .policy_type(kind)
                .send()
                .await
                .unwrap();
        }
        Org {
            client,
            id,
            root,
            management: management.id.clone(),
            accounts: BTreeMap::new(),
        }
    }

    pub async fn ou(&self, name: &str, parent: &Node) -> Node {
        let out = self
            .client
            .create_organizational_unit()
            .parent_id(&parent.id)
            .name(name)
            .send()
            .await
            .unwrap();
        let ou = out.organizational_unit().unwrap();
        Node {
            id: ou.id().unwrap().to_string(),
            arn: ou.arn().unwrap().to_string(),
        }
    }

    /// A new member account placed under `parent`.
    pub async fn account(&mut self, name: &str, parent: &Node) -> Node {
        let out = self
            .client
            .create_account()
            .email(format!("{name}@example.com"))
            .account_name(name)
            .send()
            .await
            .unwrap();
        let id = out
            .create_account_status()
            .unwrap()
            .account_id()
            .unwrap()
            .to_string();
        if parent.id != self.root.id {
            self.client
                .move_account()
                .account_id(&id)
                .source_parent_id(&self.root.id)
                .destination_parent_id(&parent.id)
                .send()
                .await
                .unwrap();
        }
        let node = Node {
            arn: self.account_arn(&id),
            id,
        };
        self.accounts.insert(name.to_string(), node.clone());
        node
    }

    pub fn account_arn(&self, id: &str) -> String {
        format!(
            "arn:aws:organizations::{}:account/{}/{id}",
            self.management, self.id
        )
    }

    async fn attach(&self, name: &str, kind: PolicyType, doc: &Value, target: &Node) -> String {
        let out = self
            .client
            .create_policy()
            .name(name)
            .description(name)
            .r#type(kind)
            .content(doc.to_string())
            .send()
            .await
            .unwrap();
        let summary = out.policy().unwrap().policy_summary().unwrap();
        self.client
            .attach_policy()
            .policy_id(summary.id().unwrap())
            .target_id(&target.id)
            .send()
            .await
            .unwrap();
        summary.arn().unwrap().to_string()
    }

    /// Creates an SCP and attaches it to `target`; its ARN.
    pub async fn scp(&self, name: &str, doc: &Value, target: &Node) -> String {
        self.attach(name, PolicyType::ServiceControlPolicy, doc, target)
            .await
    }

    /// Creates an RCP and attaches it to `target`; its ARN.
    pub async fn rcp(&self, name: &str, doc: &Value, target: &Node) -> String {
        self.attach(name, PolicyType::ResourceControlPolicy, doc, target)
            .await
    }

    /// Detaches `FullAWSAccess` from `target` (its SCPs then allow only what they list).
    pub async fn detach_full_access(&self, target: &Node) {
        self.client
            .detach_policy()
            .policy_id("p-FullAWSAccess")
            .target_id(&target.id)
            .send()
            .await
            .unwrap();
    }
}
