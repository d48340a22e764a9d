//! The actions on one region's resources: keys and aliases, the instance, its profile
//! association and the volume, the rule, the topic, alarms and the trail.

use super::actions::{changed, misrouted};
use super::{ActionOutcome, Executor};
use crate::aws::Regional;
use crate::plan::Action;
use crate::report::Outcome;
use crate::{AwsFailure, ErrorClass};

impl Executor {
    /// An action on a resource of region `rc`.
    pub(super) async fn regional_action(&self, rc: &Regional, action: &Action) -> ActionOutcome {
        let pace = &self.inner.pace;
        match action {
            Action::DeleteAlias { alias, .. } => {
                pace.send("DeleteAlias", || {
                    rc.kms.delete_alias().alias_name(alias).send()
                })
                .await?;
            }
            Action::ScheduleKeyDeletion {
                key_id,
                window_days,
                ..
            } => return self.schedule_key_deletion(rc, key_id, *window_days).await,
            Action::DisassociateInstanceProfile { association_id, .. } => {
                pace.send("DisassociateIamInstanceProfile", || {
                    rc.ec2
                        .disassociate_iam_instance_profile()
                        .association_id(association_id)
                        .send()
                })
                .await?;
            }
            Action::TerminateInstance { instance_id, .. } => {
                self.terminate_instance(rc, instance_id).await?;
                return changed("terminated");
            }
            Action::DeleteVolume { volume_id, .. } => self.delete_volume(rc, volume_id).await?,
            Action::RemoveTargets { rule, ids, .. } => self.remove_targets(rc, rule, ids).await?,
            Action::DeleteRule { rule, .. } => {
                pace.send("DeleteRule", || rc.events.delete_rule().name(rule).send())
                    .await?;
            }
            Action::Unsubscribe {
                subscription_arn, ..
            } => {
                pace.send("Unsubscribe", || {
                    rc.sns
                        .unsubscribe()
                        .subscription_arn(subscription_arn)
                        .send()
                })
                .await?;
            }
            Action::DeleteTopic { topic_arn, .. } => {
                pace.send("DeleteTopic", || {
                    rc.sns.delete_topic().topic_arn(topic_arn).send()
                })
                .await?;
            }
            Action::DeleteAlarms { names, .. } => {
                pace.send("DeleteAlarms", || {
                    rc.cloudwatch
                        .delete_alarms()
                        .set_alarm_names(Some(names.clone()))
                        .send()
                })
                .await?;
            }
            Action::DeleteTrail { name, .. } => {
                // TrailNotFoundException is "not found", hence already gone, in `perform`.
                pace.send("DeleteTrail", || {
                    rc.cloudtrail.delete_trail().name(name).send()
                })
                .await?;
            }
            _ => return Err(misrouted(action)),
        }
        changed("")
    }

    /// ScheduleKeyDeletion, unless the key is already pending deletion.
    async fn schedule_key_deletion(
        &self,
        rc: &Regional,
        key_id: &str,
        window_days: i32,
    ) -> ActionOutcome {
        let pace = &self.inner.pace;
        let kms = &rc.kms;
        let d = pace
            .send("DescribeKey", || kms.describe_key().key_id(key_id).send())
            .await?;
        let state = d
            .key_metadata()
            .and_then(|m| m.key_state())
            .map(|s| s.as_str().to_string());
        if state.as_deref() == Some("PendingDeletion") {
            return Ok((Outcome::AlreadyGone, "already pending deletion".into()));
        }
        let out = pace
            .send("ScheduleKeyDeletion", || {
                kms.schedule_key_deletion()
                    .key_id(key_id)
                    .pending_window_in_days(window_days)
                    .send()
            })
            .await?;
        changed(format!(
            "deletion on {}",
            out.deletion_date()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "the scheduled date".into())
        ))
    }

    /// TerminateInstances, then wait until the instance is `terminated`.
    async fn terminate_instance(&self, rc: &Regional, instance_id: &str) -> Result<(), AwsFailure> {
        let pace = &self.inner.pace;
        let ec2 = &rc.ec2;
        pace.send("TerminateInstances", || {
            ec2.terminate_instances().instance_ids(instance_id).send()
        })
        .await?;
        self.wait_until(
            "TerminateInstances",
            &format!("instance {instance_id} terminated"),
            || async {
                let d = pace
                    .send("DescribeInstances", || {
                        ec2.describe_instances().instance_ids(instance_id).send()
                    })
                    .await;
                match d {
                    Ok(o) => Ok(o
                        .reservations()
                        .iter()
                        .flat_map(|r| r.instances())
                        .all(|i| {
                            i.state().and_then(|s| s.name()).map(|n| n.as_str())
                                == Some("terminated")
                        })),
                    Err(e) if e.is_not_found() => Ok(true),
                    Err(e) => Err(e),
                }
            },
        )
        .await
    }

    /// Wait until the volume is detached (`available`), then DeleteVolume.
    async fn delete_volume(&self, rc: &Regional, volume_id: &str) -> Result<(), AwsFailure> {
        let pace = &self.inner.pace;
        let ec2 = &rc.ec2;
        self.wait_until(
            "DeleteVolume",
            &format!("volume {volume_id} available"),
            || async {
                let d = pace
                    .send("DescribeVolumes", || {
                        ec2.describe_volumes().volume_ids(volume_id).send()
                    })
                    .await?;
                Ok(d.volumes().iter().all(|v| {
                    matches!(
                        v.state().map(|s| s.as_str()),
                        Some("available" | "deleting" | "deleted" | "error")
                    )
                }))
            },
        )
        .await?;
        pace.send("DeleteVolume", || {
            ec2.delete_volume().volume_id(volume_id).send()
        })
        .await?;
        Ok(())
    }

    /// RemoveTargets; a target EventBridge did not remove fails it as a conflict (retried).
    async fn remove_targets(
        &self,
        rc: &Regional,
        rule: &str,
        ids: &[String],
    ) -> Result<(), AwsFailure> {
        let out = self
            .inner
            .pace
            .send("RemoveTargets", || {
                rc.events
                    .remove_targets()
                    .rule(rule)
                    .set_ids(Some(ids.to_vec()))
                    .send()
            })
            .await?;
        if out.failed_entry_count() > 0 {
            let first = out.failed_entries().first();
            return Err(AwsFailure::new(
                "RemoveTargets",
                first.and_then(|f| f.error_code()).unwrap_or("FailedEntry"),
                first
                    .and_then(|f| f.error_message())
                    .unwrap_or("a target was not removed"),
                ErrorClass::Conflict,
            ));
        }
        Ok(())
    }
}
