// Metric names shared by the functions that emit them and the alarms that watch them.
export const REJECTION_AUDIT_FAILED_METRIC = 'RejectionAuditFailed';

/** A record or message claimed access its audit chain does not prove, and was refused (alarmed). */
export const UNPROVEN_ACCESS_METRIC = 'UnprovenAccessRefused';
