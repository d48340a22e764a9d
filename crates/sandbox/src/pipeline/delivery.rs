//! Delivery: SNS publish to subscribers, the outbox of emails, HTTP endpoints.
