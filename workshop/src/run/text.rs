//! The steps of the monitoring chapter as text: `workshop/steps/monitoring.toml`, embedded in
//! the binary. Explanations, CLI commands and criteria texts live there; the code of each step
//! (`steps/`) declares the same step id and criterion ids, and a test holds the two together.

use std::collections::BTreeMap;

use serde::Deserialize;

const MONITORING: &str = include_str!("../../steps/monitoring.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct CriterionText {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StepText {
    pub id: String,
    pub title: String,
    pub explain: String,
    pub cli: Vec<String>,
    /// Commands shown first, only when the run's value of the key is `yes` (the step's
    /// `prepare` found them needed in this account).
    #[serde(default)]
    pub cli_if: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub creates: Vec<String>,
    pub verify: Vec<CriterionText>,
}

#[derive(Debug, Deserialize)]
struct File {
    format: u32,
    step: Vec<StepText>,
}

/// The steps, in order. The file is part of the binary and checked by a test, so a parse
/// failure here is a build defect; it is still reported, not a panic.
pub fn steps() -> Result<Vec<StepText>, String> {
    let f: File = toml::from_str(MONITORING).map_err(|e| format!("steps file: {e}"))?;
    if f.format != 1 {
        return Err(format!("steps file: unknown format {}", f.format));
    }
    Ok(f.step)
}

impl StepText {
    /// The commands to show, filled from `values`: the conditional ones that apply, then the
    /// step's own.
    pub fn commands(&self, values: &BTreeMap<String, String>) -> Vec<String> {
        self.cli_if
            .iter()
            .filter(|(cond, _)| values.get(*cond).is_some_and(|v| v == "yes"))
            .flat_map(|(_, cmds)| cmds.iter())
            .chain(&self.cli)
            .map(|c| fill_shell(c, values))
            .collect()
    }
}

/// Fill `{name}` placeholders from `values`; unknown ones stay as they are, so a command
/// shown before a value exists reads `{topic_arn}` rather than an empty string.
pub fn fill(template: &str, values: &BTreeMap<String, String>) -> String {
    fill_with(template, values, |_, v, out| out.push_str(v))
}

/// [`fill`] for a shell command: each value is one word as the shell reads it (quoted when it
/// holds anything but plain characters), except where the template quotes it already (`'{x}'`)
/// and the `…_flags` values, which are several words built shell-safe.
pub fn fill_shell(template: &str, values: &BTreeMap<String, String>) -> String {
    fill_with(template, values, |name, v, out| {
        let quoted_by_template = out.ends_with('\'');
        if quoted_by_template || name.ends_with("_flags") {
            out.push_str(v);
        } else {
            out.push_str(&crate::util::shell_word(v));
        }
    })
}

fn fill_with(
    template: &str,
    values: &BTreeMap<String, String>,
    put: impl Fn(&str, &str, &mut String),
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if after[..end]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
                    && end > 0 =>
            {
                let name = &after[..end];
                match values.get(name) {
                    Some(v) => put(name, v, &mut out),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_steps_parse_and_cover_the_chapter() {
        let s = steps().expect("steps");
        let ids: Vec<&str> = s.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "generate-data-key",
                "find-in-cloudtrail",
                "sns-topic",
                "eventbridge-rule",
                "kms-alarm",
                "cleanup"
            ]
        );
        assert!(s.iter().all(|s| !s.verify.is_empty() && !s.cli.is_empty()));
    }

    #[test]
    fn shell_commands_get_each_value_as_one_word() {
        let v: BTreeMap<String, String> = [
            ("email", "o'brien;id@example.com"),
            ("file", "/home/a b/topic-policy.json"),
            ("pattern", "{\"source\":[\"aws.kms\"]}"),
            (
                "target_flags",
                "--endpoint http://127.0.0.1:1 --region us-east-1",
            ),
            ("region", "us-east-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (template, shown) in [
            (
                "--notification-endpoint {email} --region {region}",
                "--notification-endpoint 'o'\\''brien;id@example.com' --region us-east-1",
            ),
            ("file://{file}", "file://'/home/a b/topic-policy.json'"),
            (
                "--event-pattern '{pattern}'",
                "--event-pattern '{\"source\":[\"aws.kms\"]}'",
            ),
            (
                "cleanup {target_flags}",
                "cleanup --endpoint http://127.0.0.1:1 --region us-east-1",
            ),
        ] {
            assert_eq!(fill_shell(template, &v), shown);
        }
    }

    #[test]
    fn placeholders() {
        let v: BTreeMap<String, String> = [("topic".to_string(), "snsworkshop".to_string())].into();
        assert_eq!(
            fill("--name {topic} {topic_arn}", &v),
            "--name snsworkshop {topic_arn}"
        );
        assert_eq!(
            fill("--event-pattern '{\"source\":[\"aws.kms\"]}'", &v),
            "--event-pattern '{\"source\":[\"aws.kms\"]}'"
        );
    }
}
