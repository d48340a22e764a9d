//! The event bus: scheduling, rule matching and routing of events to targets.
