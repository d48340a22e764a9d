//! An email of the sandbox's outbox as the learner's mail client would show it: sender,
//! recipient, subject, then the text (with the confirmation link, for a subscription). One
//! rendering for `kms-workshop sandbox inbox` and for the guided run, which shows each email
//! the chapter causes.

use kms_workshop_sandbox::services::sns::OutboxMessage;

/// The headers and text of `m`, one line each, without a trailing newline.
pub fn render(m: &OutboxMessage) -> String {
    let time = m
        .time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut lines = vec![
        format!("── #{} {} {} ({})", m.seq, time, m.kind, m.protocol),
        format!("From:    {}", m.from),
        format!("To:      {}", m.recipient),
        format!("Subject: {}", m.subject),
    ];
    if let Some(d) = &m.delivery {
        lines.push(format!("HTTP:    {d}"));
    }
    lines.push(String::new());
    lines.push(m.body.trim_end().to_string());
    lines.join("\n")
}

/// `render`, each line indented by `indent` (the runner's output is indented under its step).
pub fn render_indented(m: &OutboxMessage, indent: &str) -> String {
    render(m)
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{indent}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The link that confirms a subscription (`SubscribeURL`), for a confirmation message.
pub fn confirmation_link(m: &OutboxMessage) -> Option<&str> {
    m.document["SubscribeURL"].as_str()
}
