// Metric names shared by the functions that emit them and the alarms that watch them.
export const REJECTION_AUDIT_FAILED_METRIC = 'RejectionAuditFailed';

/** A record or message claimed access its audit chain does not prove, and was refused (alarmed). */
export const UNPROVEN_ACCESS_METRIC = 'UnprovenAccessRefused';

/** A command arrived from a role that may not send it, and was refused without retry (alarmed). */
export const COMMAND_SENDER_REFUSED_METRIC = 'CommandSenderRefused';

/**
 * Work a reconciler pass did not reach before its time budget ran out (statuses and steps left, 0
 * when it finished). Now and then is harmless (the next pass starts again from what ends access);
 * pass after pass means expiry backstops and revocations may be waiting.
 */
export const RECONCILE_WORK_LEFT_METRIC = 'ReconcileWorkLeft';

/** A Slack message, DM or reply gave up after its retries (the decision itself is committed). */
export const SLACK_DELIVERY_FAILED_METRIC = 'SlackDeliveryFailed';

/** A Slack request failed signature or timestamp verification (401). */
export const SLACK_SIGNATURE_REFUSED_METRIC = 'SlackSignatureRefused';

/** A Slack user was refused (workspace, guest, external, no identity). */
export const SLACK_USER_REFUSED_METRIC = 'SlackUserRefused';
