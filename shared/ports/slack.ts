// Ports of the Slack approval bot: the Slack Web API as the functions use it, and what cloud-pam
// keeps about Slack in its own table (approval messages, identity links, one-time link codes).
// Adapters: shared/adapters/slack/ (the Web API; the local runtime's stand-in answers the same
// wire format) and shared/adapters/aws/dynamo-slack-store.ts. Nothing here imports an SDK.

/** Who clicked or typed, as Slack's signed payload names them. */
export interface SlackUserRef {
  /** The workspace the payload came from (`T…`). */
  readonly teamId: string;
  /** The Enterprise Grid organization (`E…`), when the workspace belongs to one. */
  readonly enterpriseId?: string;
  /** The Slack user (`U…`/`W…`). */
  readonly userId: string;
}

/** Where a deferred answer goes: the `response_url` of the slash command or click, else a DM. */
export interface SlackReplyTarget extends SlackUserRef {
  /** A credential for 30 minutes (5 answers): kept out of every log and error message. */
  readonly responseUrl?: string;
}

/** What `users.info` says about a user, as far as cloud-pam reads it. */
export interface SlackUserInfo {
  readonly id: string;
  /** The user's home workspace. */
  readonly teamId: string;
  /** `enterprise_user.enterprise_id` for an Enterprise Grid user. */
  readonly enterpriseId?: string;
  readonly email?: string;
  /** `profile.display_name`, else `real_name`, else `name`. */
  readonly displayName: string;
  readonly deleted: boolean;
  readonly isBot: boolean;
  /** Multi-channel guest. */
  readonly isRestricted: boolean;
  /** Single-channel guest. */
  readonly isUltraRestricted: boolean;
  /** A user of another organization met through Slack Connect (`is_stranger`). */
  readonly isStranger: boolean;
}

/** One Block Kit block, as JSON (shared/app/slack/render.ts builds them). */
export type SlackBlock = Readonly<Record<string, unknown>>;

/** A Block Kit view (`modal` or `home`), as JSON. */
export type SlackView = Readonly<Record<string, unknown>>;

export interface SlackMessage {
  /** The notification text (and the fallback where blocks cannot be shown). */
  readonly text: string;
  readonly blocks?: readonly SlackBlock[];
}

/**
 * The Web API calls cloud-pam makes. Every method throws SlackApiError on an `ok: false` answer or
 * an HTTP failure; a 429 is waited out (Retry-After) by the adapter before it gives up.
 */
export interface SlackApi {
  postMessage(
    channel: string,
    message: SlackMessage,
  ): Promise<{ readonly channel: string; readonly ts: string }>;
  updateMessage(channel: string, ts: string, message: SlackMessage): Promise<void>;
  postEphemeral(channel: string, user: string, message: SlackMessage): Promise<void>;
  /** `views.open`: within 3 s of the trigger. */
  openView(triggerId: string, view: SlackView): Promise<{ readonly viewId: string }>;
  updateView(viewId: string, view: SlackView): Promise<void>;
  publishHome(userId: string, view: SlackView): Promise<void>;
  /** `undefined` when Slack knows no such user (`user_not_found`). */
  userInfo(userId: string): Promise<SlackUserInfo | undefined>;
  /** `undefined` when no user has that email (`users_not_found`). */
  lookupUserByEmail(email: string): Promise<SlackUserInfo | undefined>;
  /** Posts to a `response_url` (ephemeral unless `inChannel`). */
  respond(
    responseUrl: string,
    message: SlackMessage & { readonly replaceOriginal?: boolean; readonly inChannel?: boolean },
  ): Promise<void>;
}

/** A failed Slack call. `code` is Slack's error string (`invalid_auth`) or `http_<status>`. */
export class SlackApiError extends Error {
  constructor(
    readonly method: string,
    readonly code: string,
    /** Worth trying again later (rate limited past the adapter's patience, 5xx, network). */
    readonly retryable: boolean,
  ) {
    super(`Slack ${method} failed: ${code}`);
    this.name = 'SlackApiError';
  }
}

/** The approval message of one request and the last state it showed. */
export interface SlackMessageRef {
  readonly requestId: string;
  readonly channel: string;
  readonly ts: string;
  /** The request version the message was last rendered from (never rendered backwards). */
  readonly renderedVersion: number;
  /** The requester's Slack user, once known (their DMs). */
  readonly requesterSlackId?: string;
  /** The request version the requester was last told about in a DM. */
  readonly notifiedVersion?: number;
}

/** A Slack user bound to an Identity Store user by a one-time link (strict binding). */
export interface SlackLink {
  readonly teamId: string;
  readonly slackUserId: string;
  readonly userId: string;
  /** ISO-8601 UTC. */
  readonly linkedAt: string;
}

export interface SlackStore {
  getMessage(requestId: string): Promise<SlackMessageRef | undefined>;
  /**
   * Saves the message's reference if no newer render was recorded meanwhile: written only when the
   * stored `renderedVersion` is below `ref.renderedVersion` (or there is none). False when a newer
   * render won.
   */
  putMessage(ref: SlackMessageRef): Promise<boolean>;
  getLink(teamId: string, slackUserId: string): Promise<SlackLink | undefined>;
  putLink(link: SlackLink): Promise<void>;
  /** Stores a link code by its SHA-256 (the code itself is never stored). */
  createLinkCode(code: {
    readonly codeHash: string;
    readonly userId: string;
    readonly expiresAt: string;
  }): Promise<void>;
  /** Deletes the code and answers whose it was; `undefined` when unknown, used or expired at `now`. */
  consumeLinkCode(codeHash: string, now: Date): Promise<{ readonly userId: string } | undefined>;
}
