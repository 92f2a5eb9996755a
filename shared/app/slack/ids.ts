// The ids that tie Slack views and messages to the payloads that come back from them: the ingress
// reads submissions and clicks by these, the renderer builds views and buttons with them. Written
// once here so the two cannot drift.

/** `callback_id` of the modals. */
export const SLACK_CALLBACK = {
  /** The request modal (`/pam request`). */
  requestModal: 'pam-request',
  /** The reason asked for a Deny. */
  denyModal: 'pam-deny',
} as const;

/** `action_id` of the approval message's buttons; their `value` is the request id. */
export const SLACK_ACTION = {
  approve: 'pam-approve',
  deny: 'pam-deny-open',
} as const;

/**
 * The request modal's inputs: `block_id` and `action_id` alike. `target` is a static_select whose
 * option value is `<entitlementId>:<accountId>`; `duration` a static_select whose value is the
 * duration in milliseconds (options capped at the longest maxDuration the user may ask for);
 * `reason` and `ticket` plain_text_inputs (optional in the view; required-ness is checked on submit).
 */
export const REQUEST_FIELD = {
  target: 'target',
  duration: 'duration',
  reason: 'reason',
  ticket: 'ticket',
} as const;

/** The deny modal's reason input (plain_text_input, required); `private_metadata` is the request id. */
export const DENY_FIELD = { reason: 'deny-reason' } as const;

/** The `/pam` subcommands. */
export const SLASH_SUBCOMMANDS = ['request', 'list', 'help', 'link'] as const;
