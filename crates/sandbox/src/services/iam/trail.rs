//! What CloudTrail logs of an IAM call: the resources it touched, and its query parameters
//! unflattened into the nested, camel-cased `requestParameters` AWS logs.

use std::collections::BTreeMap;

use serde_json::{Map, Value as J};

use crate::services::TrailResource;

fn resource(arn: &str, resource_type: &'static str) -> TrailResource {
    TrailResource {
        arn: arn.to_string(),
        resource_type: resource_type.into(),
    }
}

pub(super) fn role_resource(arn: &str) -> TrailResource {
    resource(arn, "AWS::IAM::Role")
}

pub(super) fn policy_resource(arn: &str) -> TrailResource {
    resource(arn, "AWS::IAM::Policy")
}

pub(super) fn profile_resource(arn: &str) -> TrailResource {
    resource(arn, "AWS::IAM::InstanceProfile")
}

pub(super) fn user_resource(arn: &str) -> TrailResource {
    resource(arn, "AWS::IAM::User")
}

/// An access key, logged by its id.
pub(super) fn access_key_resource(id: &str) -> TrailResource {
    resource(id, "AWS::IAM::AccessKey")
}

/// A query parameter tree: a value, or the members under a dotted prefix.
enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

fn insert_param(tree: &mut BTreeMap<String, Node>, path: &[&str], value: &str) {
    match path {
        [] => {}
        [last] => {
            tree.insert((*last).to_string(), Node::Leaf(value.to_string()));
        }
        [first, rest @ ..] => {
            let e = tree
                .entry((*first).to_string())
                .or_insert_with(|| Node::Branch(BTreeMap::new()));
            if let Node::Leaf(_) = e {
                *e = Node::Branch(BTreeMap::new());
            }
            if let Node::Branch(b) = e {
                insert_param(b, rest, value);
            }
        }
    }
}

fn node_json(name: &str, node: &Node) -> J {
    match node {
        Node::Leaf(s) => match name {
            "SetAsDefault" | "OnlyAttached" => s
                .parse::<bool>()
                .map(J::Bool)
                .unwrap_or_else(|_| J::String(s.clone())),
            "MaxItems" | "MaxSessionDuration" => s
                .parse::<i64>()
                .map(J::from)
                .unwrap_or_else(|_| J::String(s.clone())),
            _ => J::String(s.clone()),
        },
        Node::Branch(b) => {
            if let (1, Some(Node::Branch(members))) = (b.len(), b.get("member")) {
                let mut items: Vec<(u64, &Node)> = members
                    .iter()
                    .map(|(k, n)| (k.parse::<u64>().unwrap_or(u64::MAX), n))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                return J::Array(items.into_iter().map(|(_, n)| node_json(name, n)).collect());
            }
            J::Object(
                b.iter()
                    .map(|(k, n)| (k.clone(), node_json(k, n)))
                    .collect::<Map<String, J>>(),
            )
        }
    }
}

/// Query parameters (`Tags.member.1.Key`) as the nested JSON CloudTrail logs (`tags: [{key}]`
/// once camel-cased), lists in member order, booleans and numbers typed.
pub(super) fn unflatten(flat: &Map<String, J>) -> J {
    let mut tree = BTreeMap::new();
    for (k, v) in flat {
        let value = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        // IAM's deepest parameters have four parts (`Tags.member.1.Key`); a bounded split keeps
        // the recursion shallow whatever a client sends.
        let path: Vec<&str> = k.splitn(8, '.').collect();
        insert_param(&mut tree, &path, &value);
    }
    J::Object(
        tree.iter()
            .map(|(k, n)| (k.clone(), node_json(k, n)))
            .collect(),
    )
}
