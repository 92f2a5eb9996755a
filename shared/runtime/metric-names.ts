// Metric names shared by the functions that emit them and the alarms that watch them.
export const REJECTION_AUDIT_FAILED_METRIC = 'RejectionAuditFailed';
