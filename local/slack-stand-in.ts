// A local stand-in for Slack's Web API and its `response_url`s, with Slack's documented semantics, served
// over HTTP so that the real clients talk to it: shared/adapters/slack/web-api.ts (@slack/web-api with
// `slackApiUrl` = `apiUrl`), the ingress's minimal `views.open` fetch, and anything posting to a
// `response_url`. It records every call (to the console through `log`, to tests through `calls`), keeps
// channels as Slack would show them (`messages`, `views`), and refuses what Slack refuses. It lives in
// local/ and is imported only by tests and the local runtime; it is never bundled.
//
// Emulated, and where it is documented:
// - Protocol (https://docs.slack.dev/apis/web-api): `POST <apiUrl><method>`; arguments as
//   `application/x-www-form-urlencoded` (object/array arguments JSON-encoded, as @slack/web-api sends them)
//   or as a JSON object; the token in `Authorization: Bearer …`, or as a `token` form field — JSON bodies
//   must use the header (https://docs.slack.dev/changelog/2017-10-keeping-up-with-the-jsons). Answers are
//   HTTP 200 `{"ok":true,…}` / `{"ok":false,"error":…}`; no token → `not_authed`, another token →
//   `invalid_auth`; a body that is not JSON → `invalid_json`, not an object → `json_not_object`;
//   multipart bodies → `invalid_post_type`. An unknown method → `unknown_method` (with `req_method`).
// - Rate limits (https://docs.slack.dev/apis/web-api/rate-limits): on demand (`rateLimitNext`, counting
//   Web API and response_url requests alike), HTTP 429 with `Retry-After: <seconds>` and
//   `{"ok":false,"error":"ratelimited"}`, nothing done.
// - Methods: auth.test; chat.postMessage, chat.update, chat.postEphemeral
//   (https://docs.slack.dev/reference/methods/chat.postMessage, …/chat.update, …/chat.postEphemeral):
//   a message needs `text` or `blocks` (`no_text`), text over 40,000 characters is `msg_too_long`; a user id
//   (`U…`/`W…`) as channel of chat.postMessage is that user's DM with the app (answered as its `D…` id);
//   chat.update needs the `D…` id for a DM ("For direct messages, ensure that this value is a DM ID (starts
//   with D) instead of a User ID"), an unknown channel is `channel_not_found`, an unknown ts
//   `message_not_found`; blocks not given are kept, blocks given replace (`[]` removes them).
//   chat.postEphemeral answers `message_ts`; an unknown recipient is `user_not_in_channel`.
//   conversations.open (https://docs.slack.dev/reference/methods/conversations.open) opens one user's DM
//   (`users_list_not_supplied`, `user_not_found`). users.info (`user_not_found`) and users.lookupByEmail
//   (`users_not_found`, also for a deactivated user: https://api.slack.com/methods/users.lookupByEmail)
//   answer the user object (https://api.slack.com/types/user: id, team_id, name, deleted, is_bot,
//   is_restricted, is_ultra_restricted, is_stranger, profile {email, display_name, real_name},
//   enterprise_user for Enterprise Grid users).
// - Views (https://docs.slack.dev/reference/methods/views.open, …/views.update, …/views.publish,
//   https://api.slack.com/docs/triggers): a trigger from `issueTrigger` opens one view within 3 seconds of
//   the stand-in's clock ("Triggers expire in three seconds… may only be used once"): unknown →
//   `invalid_trigger_id`, used → `exchanged_trigger_id`, 3 s old → `expired_trigger_id`; views.update by
//   `view_id` or `external_id` (`not_found`), a `hash` that is not the view's current one → `hash_conflict`;
//   views.publish keeps one Home view per user. A view over 250 kB is `view_too_large`.
// - Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks and each block/element page,
//   https://docs.slack.dev/reference/views/modal-views): ≤ 50 blocks per message, ≤ 100 per modal or Home;
//   block_id, action_id ≤ 255; section text ≤ 3,000, fields ≤ 10 of ≤ 2,000; header plain_text ≤ 150;
//   button text ≤ 75, value ≤ 2,000, url ≤ 3,000; static_select ≤ 100 options (or option groups), option
//   text ≤ 75, value ≤ 150; placeholder ≤ 150; input label/hint ≤ 2,000; confirm title ≤ 100, text ≤ 300,
//   buttons ≤ 30; modal title/submit/close ≤ 24 (submit required with an input block), private_metadata
//   ≤ 3,000, callback_id ≤ 255; texts at least 1 character; required fields present; no field a type does
//   not define. A message's blocks break → `invalid_blocks` with `errors` and
//   `response_metadata.messages` (`[ERROR] <reason> [json-pointer:/blocks/…]`); a view's →
//   `invalid_arguments` with the same messages (pointers under `/view`), as views.* answer.
// - response_url (https://docs.slack.dev/interactivity/handling-user-interaction): `responseUrlFor` mints
//   one for a user (and channel, and the message a click came from); it takes JSON with `text`/`blocks`,
//   `response_type` (`ephemeral` by default, or `in_channel`), `replace_original`, `delete_original`, at
//   most 5 answers within 30 minutes.
//
// Assumed where the documentation is silent: every Web API error is HTTP 200 (Slack says errors come in
// `error`; whether `unknown_method` is a 404 is not documented); a failed views.open does not use up its
// trigger; a response_url answers 200 `{"ok":true}`, 404 `{"ok":false,"error":"expired_url"}` once used 5
// times or 30 minutes old, 404 `no_service` when unknown, 400 `invalid_blocks`/`no_text`/`invalid_payload`
// for a bad body, and only accepted answers count as uses; `replace_original` without an original message
// is a new answer; e-mail lookup ignores case and Slack Connect strangers; channel ids are `C…`/`G…`
// (every well-formed one exists unless `channels` lists them); a user id that is not a member is not
// DM-able (`channel_not_found`).
//
// Down (`down()`): every request — Web API and response_url — answers HTTP 503 (recorded with error
// `service_unavailable`) rather than refusing the connection: the port stays bound (closing and binding
// it again could race another process for it, and the URL is already in every function's environment),
// and the calls that arrived during the outage are still recorded, so a test can show they were retried
// and nothing was lost. The adapter treats a connection refusal as retryable too
// (test/unit/slack/web-api.test.ts covers it with a closed stand-in).
//
// NOT emulated: GET requests with query-string arguments (POST only, as @slack/web-api sends), channel
// membership (`not_in_channel`), scopes, per-method rate tiers (only on demand), threads, attachments and
// files (refused as `invalid_arguments`), multi-person DMs, block types and elements other than those in
// BLOCK_CHECKS/ELEMENT_CHECKS (refused, naming the type), the `response_metadata` warnings
// (`missing_charset`, …), Events API / interactivity payloads (the CLI builds those), message deletion
// through the Web API, pagination.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { listen } from './http-listener.ts';
import { readBody } from './read-body.ts';

// ---------------------------------------------------------------------------------------------------
// Public surface

export interface SlackStandInUser {
  /** `U…` (or `W…` for an Enterprise Grid user). */
  readonly id: string;
  /** Home workspace (default: the stand-in's `teamId`). */
  readonly teamId?: string;
  /** Enterprise Grid organization (`E…`): answered as `enterprise_user.enterprise_id`. */
  readonly enterpriseId?: string;
  /** The handle (default: the e-mail's local part, else the id in lower case). */
  readonly name?: string;
  readonly email?: string;
  readonly displayName?: string;
  readonly realName?: string;
  readonly deleted?: boolean;
  readonly isBot?: boolean;
  /** Multi-channel guest. */
  readonly isRestricted?: boolean;
  /** Single-channel guest. */
  readonly isUltraRestricted?: boolean;
  /** A Slack Connect user of another organization. */
  readonly isStranger?: boolean;
}

export interface SlackStandInOptions {
  /** The bot token every Web API call must carry. */
  readonly botToken: string;
  /** The workspace (`T…`). */
  readonly teamId: string;
  readonly users: readonly SlackStandInUser[];
  /** Channels that exist (`C…`/`G…`); default: every well-formed channel id. */
  readonly channels?: readonly string[];
  /** Epoch milliseconds (default Date.now): trigger and response_url expiry, `ts`, `at`. */
  readonly clock?: () => number;
  /** One line per request: method, channel or user, ok or the error. Never a token or a response_url. */
  readonly log?: (line: string) => void;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Port to listen on (default: a free one). */
  readonly port?: number;
}

export interface RecordedCall {
  readonly method: string;
  /** The arguments as parsed (JSON-encoded form fields decoded), `token` replaced by `[redacted]`. */
  readonly args: Readonly<Record<string, unknown>>;
  /** Stand-in clock, epoch ms. */
  readonly at: number;
  readonly status: number;
  readonly ok: boolean;
  readonly error?: string;
}

export interface ResponseUrlBody {
  readonly text?: string;
  readonly blocks?: unknown;
  readonly response_type?: string;
  readonly replace_original?: boolean;
  readonly delete_original?: boolean;
}

/** One POST to a response_url. */
export interface RecordedResponse {
  /** The response_url's id (the path segment before its secret); `?` for an unknown one. */
  readonly hook: string;
  /** Whom the response_url answers (as given to `responseUrlFor`). */
  readonly userId?: string;
  readonly channelId?: string;
  readonly at: number;
  readonly status: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly body: ResponseUrlBody;
}

export interface StandInMessage {
  readonly type: 'message';
  readonly channel: string;
  readonly ts: string;
  readonly text: string;
  readonly blocks?: readonly unknown[];
  /** The app's bot user. */
  readonly user: string;
  readonly bot_id: string;
  readonly team: string;
  readonly edited?: { readonly user: string; readonly ts: string };
}

export interface StandInEphemeral {
  readonly channel: string;
  readonly user: string;
  readonly ts: string;
  readonly text: string;
  readonly blocks?: readonly unknown[];
}

export interface StandInView {
  readonly id: string;
  readonly type: string;
  readonly blocks: readonly unknown[];
  readonly hash: string;
  readonly [field: string]: unknown;
}

export interface ResponseUrlTarget {
  readonly userId: string;
  readonly channelId?: string;
  /** The message the interaction came from (what `replace_original`/`delete_original` act on). */
  readonly message?: { readonly channel: string; readonly ts: string };
}

export interface SlackStandIn {
  /** Web API base URL, ending with `/` (@slack/web-api's `slackApiUrl`, `SLACK_API_URL`). */
  readonly apiUrl: string;
  /** Every response_url starts with this (`SLACK_RESPONSE_URL_PREFIX`). */
  readonly responseUrlPrefix: string;
  /** Web API calls received, in order. */
  readonly calls: readonly RecordedCall[];
  /** POSTs to response_urls, in order. */
  readonly responses: readonly RecordedResponse[];
  /** Ephemeral messages (chat.postEphemeral, ephemeral response_url answers): never in `messages`. */
  readonly ephemerals: readonly StandInEphemeral[];
  /** channel → ts → the message as Slack shows it now (DMs under their `D…` id). */
  readonly messages: ReadonlyMap<string, ReadonlyMap<string, StandInMessage>>;
  /** view id → the view as last opened, updated or published. */
  readonly views: ReadonlyMap<string, StandInView>;
  /** A fresh trigger_id for the user, valid 3 s of the stand-in clock, once. */
  issueTrigger(userId: string): string;
  /** A fresh response_url, valid 30 minutes of the stand-in clock, for 5 answers. */
  responseUrlFor(target: ResponseUrlTarget): string;
  /** The user's DM channel with the app, once one was opened. */
  dmChannelOf(userId: string): string | undefined;
  /** Every request answers 503 until `up()`. */
  down(): void;
  up(): void;
  /** The next `n` requests (Web API or response_url) answer 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitNext(n: number, retryAfterSeconds: number): void;
  resetCalls(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Limits (Block Kit reference pages cited above)

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_MESSAGE_TEXT = 40_000;
const MAX_MESSAGE_BLOCKS = 50;
const MAX_VIEW_BLOCKS = 100;
const MAX_VIEW_BYTES = 250 * 1024;
const TRIGGER_LIFETIME_MS = 3_000;
const RESPONSE_URL_LIFETIME_MS = 30 * 60_000;
const RESPONSE_URL_USES = 5;
const BOT_USER_ID = 'U0PAMBOT01';
const BOT_ID = 'B0PAMBOT01';
const APP_ID = 'A0PAMAPP01';
const API_PATH = '/api/';
const HOOK_PATH = '/hooks/';

const UserSchema = z.strictObject({
  id: z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id (U… or W…)'),
  teamId: z
    .string()
    .regex(/^T[A-Z0-9]{2,}$/)
    .optional(),
  enterpriseId: z
    .string()
    .regex(/^E[A-Z0-9]{2,}$/)
    .optional(),
  name: z.string().min(1).optional(),
  email: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/)
    .optional(),
  displayName: z.string().optional(),
  realName: z.string().optional(),
  deleted: z.boolean().optional(),
  isBot: z.boolean().optional(),
  isRestricted: z.boolean().optional(),
  isUltraRestricted: z.boolean().optional(),
  isStranger: z.boolean().optional(),
});

const OptionsSchema = z.object({
  botToken: z.string().min(1),
  teamId: z.string().regex(/^T[A-Z0-9]{2,}$/, 'a Slack team id (T…)'),
  users: z.array(UserSchema),
  channels: z.array(z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'a channel id (C… or G…)')).optional(),
});

// ---------------------------------------------------------------------------------------------------
// Block Kit checks: each pushes `<reason> [json-pointer:<where>]`, the way Slack reports them.

type Json = Record<string, unknown>;
type Surface = 'message' | 'modal' | 'home';

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const length = (text: string) => [...text].length;

class Issues {
  readonly list: string[] = [];
  add(pointer: string, reason: string): void {
    this.list.push(`${reason} [json-pointer:${pointer}]`);
  }
}

function fieldsOf(issues: Issues, value: Json, pointer: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value))
    if (!allowed.includes(key))
      issues.add(`${pointer}/${key}`, `${key} is not a field of ${String(value.type)}`);
}

function checkString(
  issues: Issues,
  value: unknown,
  pointer: string,
  rule: { max: number; required?: boolean },
): void {
  if (value === undefined) {
    if (rule.required) issues.add(pointer, 'missing required field');
    return;
  }
  if (typeof value !== 'string') {
    issues.add(pointer, 'must be a string');
    return;
  }
  if (length(value) < 1) {
    issues.add(pointer, 'must be more than 0 characters');
    return;
  }
  if (length(value) > rule.max) issues.add(pointer, `must be less than ${rule.max + 1} characters`);
}

function checkBoolean(issues: Issues, value: unknown, pointer: string): void {
  if (value !== undefined && typeof value !== 'boolean') issues.add(pointer, 'must be a boolean');
}

function checkText(
  issues: Issues,
  value: unknown,
  pointer: string,
  rule: { max: number; plainOnly?: boolean; required?: boolean },
): void {
  if (value === undefined) {
    if (rule.required) issues.add(pointer, 'missing required field');
    return;
  }
  if (!isObject(value)) {
    issues.add(pointer, 'must be a text object');
    return;
  }
  if (value.type !== 'plain_text' && value.type !== 'mrkdwn') {
    issues.add(`${pointer}/type`, 'must be plain_text or mrkdwn');
    return;
  }
  if (rule.plainOnly && value.type !== 'plain_text') issues.add(`${pointer}/type`, 'must be plain_text');
  fieldsOf(
    issues,
    value,
    pointer,
    value.type === 'plain_text' ? ['type', 'text', 'emoji'] : ['type', 'text', 'verbatim'],
  );
  checkString(issues, value.text, `${pointer}/text`, { max: rule.max, required: true });
  checkBoolean(issues, value.emoji, `${pointer}/emoji`);
  checkBoolean(issues, value.verbatim, `${pointer}/verbatim`);
}

function checkArray(
  issues: Issues,
  value: unknown,
  pointer: string,
  rule: { min?: number; max: number; required?: boolean },
): value is unknown[] {
  if (value === undefined) {
    if (rule.required) issues.add(pointer, 'missing required field');
    return false;
  }
  if (!Array.isArray(value)) {
    issues.add(pointer, 'must be an array');
    return false;
  }
  if (value.length < (rule.min ?? 0)) issues.add(pointer, `must provide at least ${rule.min} items`);
  if (value.length > rule.max) issues.add(pointer, `must be less than ${rule.max + 1} items`);
  return true;
}

function checkConfirm(issues: Issues, value: unknown, pointer: string): void {
  if (value === undefined) return;
  if (!isObject(value)) {
    issues.add(pointer, 'must be an object');
    return;
  }
  fieldsOf(issues, { type: 'confirm', ...value }, pointer, [
    'type',
    'title',
    'text',
    'confirm',
    'deny',
    'style',
  ]);
  checkText(issues, value.title, `${pointer}/title`, { max: 100, plainOnly: true, required: true });
  checkText(issues, value.text, `${pointer}/text`, { max: 300, required: true });
  checkText(issues, value.confirm, `${pointer}/confirm`, { max: 30, plainOnly: true, required: true });
  checkText(issues, value.deny, `${pointer}/deny`, { max: 30, plainOnly: true, required: true });
  checkStyle(issues, value.style, `${pointer}/style`);
}

function checkStyle(issues: Issues, value: unknown, pointer: string): void {
  if (value !== undefined && value !== 'primary' && value !== 'danger')
    issues.add(pointer, 'must be primary or danger');
}

function checkOption(
  issues: Issues,
  value: unknown,
  pointer: string,
  rule: { plainOnly: boolean; url?: boolean },
): void {
  if (!isObject(value)) {
    issues.add(pointer, 'must be an option object');
    return;
  }
  fieldsOf(issues, { type: 'option', ...value }, pointer, [
    'type',
    'text',
    'value',
    'description',
    ...(rule.url ? ['url'] : []),
  ]);
  checkText(issues, value.text, `${pointer}/text`, { max: 75, plainOnly: rule.plainOnly, required: true });
  checkString(issues, value.value, `${pointer}/value`, { max: 150, required: true });
  checkText(issues, value.description, `${pointer}/description`, { max: 75, plainOnly: rule.plainOnly });
  if (rule.url) checkString(issues, value.url, `${pointer}/url`, { max: 3000 });
}

function checkOptions(
  issues: Issues,
  value: unknown,
  pointer: string,
  rule: { min?: number; max: number; plainOnly: boolean; required?: boolean; url?: boolean },
): void {
  if (!checkArray(issues, value, pointer, rule)) return;
  value.forEach((option, i) => {
    checkOption(issues, option, `${pointer}/${i}`, rule);
  });
}

const COMMON_ELEMENT_FIELDS = ['type', 'action_id', 'confirm', 'focus_on_load', 'placeholder'] as const;

function checkCommonElement(issues: Issues, element: Json, pointer: string): void {
  checkString(issues, element.action_id, `${pointer}/action_id`, { max: 255 });
  checkConfirm(issues, element.confirm, `${pointer}/confirm`);
  checkBoolean(issues, element.focus_on_load, `${pointer}/focus_on_load`);
  checkText(issues, element.placeholder, `${pointer}/placeholder`, { max: 150, plainOnly: true });
}

function checkSelect(issues: Issues, element: Json, pointer: string, multi: boolean): void {
  fieldsOf(issues, element, pointer, [
    ...COMMON_ELEMENT_FIELDS,
    'options',
    'option_groups',
    ...(multi ? ['initial_options', 'max_selected_items'] : ['initial_option']),
  ]);
  checkCommonElement(issues, element, pointer);
  if ((element.options === undefined) === (element.option_groups === undefined))
    issues.add(`${pointer}/options`, 'exactly one of options and option_groups is required');
  checkOptions(issues, element.options, `${pointer}/options`, { max: 100, plainOnly: true });
  if (checkArray(issues, element.option_groups, `${pointer}/option_groups`, { max: 100 }))
    element.option_groups.forEach((group, i) => {
      const at = `${pointer}/option_groups/${i}`;
      if (!isObject(group)) {
        issues.add(at, 'must be an option group');
        return;
      }
      fieldsOf(issues, { type: 'option_group', ...group }, at, ['type', 'label', 'options']);
      checkText(issues, group.label, `${at}/label`, { max: 75, plainOnly: true, required: true });
      checkOptions(issues, group.options, `${at}/options`, { max: 100, plainOnly: true, required: true });
    });
  if (multi) {
    checkOptions(issues, element.initial_options, `${pointer}/initial_options`, {
      max: 100,
      plainOnly: true,
    });
    const max = element.max_selected_items;
    if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1))
      issues.add(`${pointer}/max_selected_items`, 'must be a whole number of at least 1');
  } else if (element.initial_option !== undefined) {
    checkOption(issues, element.initial_option, `${pointer}/initial_option`, { plainOnly: true });
  }
}

const ELEMENT_CHECKS: Record<string, (issues: Issues, element: Json, pointer: string) => void> = {
  // https://docs.slack.dev/reference/block-kit/block-elements/button-element
  button(issues, element, pointer) {
    fieldsOf(issues, element, pointer, [
      'type',
      'text',
      'action_id',
      'url',
      'value',
      'style',
      'confirm',
      'accessibility_label',
    ]);
    checkText(issues, element.text, `${pointer}/text`, { max: 75, plainOnly: true, required: true });
    checkString(issues, element.action_id, `${pointer}/action_id`, { max: 255 });
    checkString(issues, element.url, `${pointer}/url`, { max: 3000 });
    checkString(issues, element.value, `${pointer}/value`, { max: 2000 });
    checkStyle(issues, element.style, `${pointer}/style`);
    checkConfirm(issues, element.confirm, `${pointer}/confirm`);
    checkString(issues, element.accessibility_label, `${pointer}/accessibility_label`, { max: 75 });
  },
  // https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#static_select
  static_select(issues, element, pointer) {
    checkSelect(issues, element, pointer, false);
  },
  // https://docs.slack.dev/reference/block-kit/block-elements/multi-select-menu-element#static_multi_select
  multi_static_select(issues, element, pointer) {
    checkSelect(issues, element, pointer, true);
  },
  // https://docs.slack.dev/reference/block-kit/block-elements/overflow-menu-element
  overflow(issues, element, pointer) {
    fieldsOf(issues, element, pointer, ['type', 'action_id', 'options', 'confirm']);
    checkString(issues, element.action_id, `${pointer}/action_id`, { max: 255 });
    checkOptions(issues, element.options, `${pointer}/options`, {
      min: 1,
      max: 5,
      plainOnly: true,
      required: true,
      url: true,
    });
    checkConfirm(issues, element.confirm, `${pointer}/confirm`);
  },
  // https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element
  plain_text_input(issues, element, pointer) {
    fieldsOf(issues, element, pointer, [
      ...COMMON_ELEMENT_FIELDS,
      'initial_value',
      'multiline',
      'min_length',
      'max_length',
      'dispatch_action_config',
    ]);
    checkCommonElement(issues, element, pointer);
    checkBoolean(issues, element.multiline, `${pointer}/multiline`);
    for (const key of ['min_length', 'max_length'] as const) {
      const value = element[key];
      if (
        value !== undefined &&
        (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 3000)
      )
        issues.add(`${pointer}/${key}`, 'must be a whole number from 0 to 3000');
    }
    if (element.initial_value !== undefined && typeof element.initial_value !== 'string')
      issues.add(`${pointer}/initial_value`, 'must be a string');
  },
  // https://docs.slack.dev/reference/block-kit/block-elements/number-input-element
  number_input(issues, element, pointer) {
    fieldsOf(issues, element, pointer, [
      ...COMMON_ELEMENT_FIELDS,
      'is_decimal_allowed',
      'initial_value',
      'min_value',
      'max_value',
      'dispatch_action_config',
    ]);
    checkCommonElement(issues, element, pointer);
    if (typeof element.is_decimal_allowed !== 'boolean')
      issues.add(`${pointer}/is_decimal_allowed`, 'missing required field');
  },
  // https://docs.slack.dev/reference/block-kit/block-elements/date-picker-element
  datepicker(issues, element, pointer) {
    fieldsOf(issues, element, pointer, [...COMMON_ELEMENT_FIELDS, 'initial_date']);
    checkCommonElement(issues, element, pointer);
    if (element.initial_date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(element.initial_date)))
      issues.add(`${pointer}/initial_date`, 'must be YYYY-MM-DD');
  },
  // https://docs.slack.dev/reference/block-kit/block-elements/time-picker-element
  timepicker(issues, element, pointer) {
    fieldsOf(issues, element, pointer, [...COMMON_ELEMENT_FIELDS, 'initial_time', 'timezone']);
    checkCommonElement(issues, element, pointer);
    if (element.initial_time !== undefined && !/^\d{2}:\d{2}$/.test(String(element.initial_time)))
      issues.add(`${pointer}/initial_time`, 'must be HH:mm');
  },
  // https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#users_select
  users_select(issues, element, pointer) {
    fieldsOf(issues, element, pointer, [...COMMON_ELEMENT_FIELDS, 'initial_user']);
    checkCommonElement(issues, element, pointer);
  },
  // https://docs.slack.dev/reference/block-kit/block-elements/checkboxes-element
  checkboxes(issues, element, pointer) {
    fieldsOf(issues, element, pointer, [
      'type',
      'action_id',
      'options',
      'initial_options',
      'confirm',
      'focus_on_load',
    ]);
    checkCommonElement(issues, element, pointer);
    checkOptions(issues, element.options, `${pointer}/options`, {
      min: 1,
      max: 10,
      plainOnly: false,
      required: true,
    });
    checkOptions(issues, element.initial_options, `${pointer}/initial_options`, {
      max: 10,
      plainOnly: false,
    });
  },
  // https://docs.slack.dev/reference/block-kit/block-elements/radio-button-group-element
  radio_buttons(issues, element, pointer) {
    fieldsOf(issues, element, pointer, [
      'type',
      'action_id',
      'options',
      'initial_option',
      'confirm',
      'focus_on_load',
    ]);
    checkCommonElement(issues, element, pointer);
    checkOptions(issues, element.options, `${pointer}/options`, {
      min: 1,
      max: 10,
      plainOnly: false,
      required: true,
    });
    if (element.initial_option !== undefined)
      checkOption(issues, element.initial_option, `${pointer}/initial_option`, { plainOnly: false });
  },
  // https://docs.slack.dev/reference/block-kit/block-elements/image-element
  image(issues, element, pointer) {
    fieldsOf(issues, element, pointer, ['type', 'image_url', 'slack_file', 'alt_text']);
    if (element.slack_file === undefined)
      checkString(issues, element.image_url, `${pointer}/image_url`, { max: 3000, required: true });
    checkString(issues, element.alt_text, `${pointer}/alt_text`, { max: 2000, required: true });
  },
};

const INTERACTIVE = [
  'button',
  'static_select',
  'multi_static_select',
  'overflow',
  'datepicker',
  'timepicker',
  'users_select',
  'checkboxes',
  'radio_buttons',
];
const INPUTS = [
  'plain_text_input',
  'number_input',
  'static_select',
  'multi_static_select',
  'datepicker',
  'timepicker',
  'users_select',
  'checkboxes',
  'radio_buttons',
];

function checkElement(issues: Issues, value: unknown, pointer: string, allowed: readonly string[]): void {
  if (!isObject(value)) {
    issues.add(pointer, 'must be an element object');
    return;
  }
  const type = String(value.type);
  const check = ELEMENT_CHECKS[type];
  if (!check || !allowed.includes(type)) {
    issues.add(
      `${pointer}/type`,
      `element type ${type} is not allowed here (or not emulated by the stand-in)`,
    );
    return;
  }
  check(issues, value, pointer);
}

const BLOCK_CHECKS: Record<string, (issues: Issues, block: Json, pointer: string) => void> = {
  // https://docs.slack.dev/reference/block-kit/blocks/section-block
  section(issues, block, pointer) {
    fieldsOf(issues, block, pointer, ['type', 'block_id', 'text', 'fields', 'accessory', 'expand']);
    if (block.text === undefined && block.fields === undefined)
      issues.add(`${pointer}/text`, 'missing required field: text or fields');
    checkText(issues, block.text, `${pointer}/text`, { max: 3000 });
    if (checkArray(issues, block.fields, `${pointer}/fields`, { min: 1, max: 10 }))
      block.fields.forEach((field, i) => {
        checkText(issues, field, `${pointer}/fields/${i}`, { max: 2000, required: true });
      });
    if (block.accessory !== undefined)
      checkElement(issues, block.accessory, `${pointer}/accessory`, [...INTERACTIVE, 'image']);
    checkBoolean(issues, block.expand, `${pointer}/expand`);
  },
  // https://docs.slack.dev/reference/block-kit/blocks/header-block
  header(issues, block, pointer) {
    fieldsOf(issues, block, pointer, ['type', 'block_id', 'text']);
    checkText(issues, block.text, `${pointer}/text`, { max: 150, plainOnly: true, required: true });
  },
  // https://docs.slack.dev/reference/block-kit/blocks/divider-block
  divider(issues, block, pointer) {
    fieldsOf(issues, block, pointer, ['type', 'block_id']);
  },
  // https://docs.slack.dev/reference/block-kit/blocks/actions-block
  actions(issues, block, pointer) {
    fieldsOf(issues, block, pointer, ['type', 'block_id', 'elements']);
    if (checkArray(issues, block.elements, `${pointer}/elements`, { min: 1, max: 25, required: true }))
      block.elements.forEach((element, i) => {
        checkElement(issues, element, `${pointer}/elements/${i}`, INTERACTIVE);
      });
  },
  // https://docs.slack.dev/reference/block-kit/blocks/context-block
  context(issues, block, pointer) {
    fieldsOf(issues, block, pointer, ['type', 'block_id', 'elements']);
    if (checkArray(issues, block.elements, `${pointer}/elements`, { min: 1, max: 10, required: true }))
      block.elements.forEach((element, i) => {
        const at = `${pointer}/elements/${i}`;
        if (isObject(element) && element.type === 'image') checkElement(issues, element, at, ['image']);
        else checkText(issues, element, at, { max: 3000, required: true });
      });
  },
  // https://docs.slack.dev/reference/block-kit/blocks/input-block
  input(issues, block, pointer) {
    fieldsOf(issues, block, pointer, [
      'type',
      'block_id',
      'label',
      'element',
      'dispatch_action',
      'hint',
      'optional',
    ]);
    checkText(issues, block.label, `${pointer}/label`, { max: 2000, plainOnly: true, required: true });
    if (block.element === undefined) issues.add(`${pointer}/element`, 'missing required field');
    else checkElement(issues, block.element, `${pointer}/element`, INPUTS);
    checkText(issues, block.hint, `${pointer}/hint`, { max: 2000, plainOnly: true });
    checkBoolean(issues, block.optional, `${pointer}/optional`);
    checkBoolean(issues, block.dispatch_action, `${pointer}/dispatch_action`);
  },
  // https://docs.slack.dev/reference/block-kit/blocks/image-block
  image(issues, block, pointer) {
    fieldsOf(issues, block, pointer, ['type', 'block_id', 'image_url', 'slack_file', 'alt_text', 'title']);
    if (block.slack_file === undefined)
      checkString(issues, block.image_url, `${pointer}/image_url`, { max: 3000, required: true });
    checkString(issues, block.alt_text, `${pointer}/alt_text`, { max: 2000, required: true });
    checkText(issues, block.title, `${pointer}/title`, { max: 2000, plainOnly: true });
  },
  // https://docs.slack.dev/reference/block-kit/blocks/markdown-block
  markdown(issues, block, pointer) {
    fieldsOf(issues, block, pointer, ['type', 'block_id', 'text']);
    checkString(issues, block.text, `${pointer}/text`, { max: 12_000, required: true });
  },
};

function checkBlocks(issues: Issues, value: unknown, pointer: string, surface: Surface): void {
  const max = surface === 'message' ? MAX_MESSAGE_BLOCKS : MAX_VIEW_BLOCKS;
  if (!checkArray(issues, value, pointer, { max, required: surface !== 'message' })) return;
  value.forEach((block, i) => {
    const at = `${pointer}/${i}`;
    if (!isObject(block)) {
      issues.add(at, 'must be a block object');
      return;
    }
    const check = BLOCK_CHECKS[String(block.type)];
    if (!check) {
      issues.add(`${at}/type`, `block type ${String(block.type)} is not emulated by the stand-in`);
      return;
    }
    checkString(issues, block.block_id, `${at}/block_id`, { max: 255 });
    check(issues, block, at);
  });
}

/** https://docs.slack.dev/reference/views/modal-views, …/home-tab-views */
function checkView(issues: Issues, view: unknown, pointer: string, expected?: 'home'): void {
  if (!isObject(view)) {
    issues.add(pointer, 'must be a view object');
    return;
  }
  if (view.type !== 'modal' && view.type !== 'home') {
    issues.add(`${pointer}/type`, 'must be modal or home');
    return;
  }
  if (expected && view.type !== expected) {
    issues.add(`${pointer}/type`, `must be ${expected}`);
    return;
  }
  const common = ['type', 'blocks', 'private_metadata', 'callback_id', 'external_id'];
  if (view.type === 'modal') {
    fieldsOf(issues, view, pointer, [
      ...common,
      'title',
      'close',
      'submit',
      'clear_on_close',
      'notify_on_close',
      'submit_disabled',
    ]);
    checkText(issues, view.title, `${pointer}/title`, { max: 24, plainOnly: true, required: true });
    checkText(issues, view.close, `${pointer}/close`, { max: 24, plainOnly: true });
    checkText(issues, view.submit, `${pointer}/submit`, { max: 24, plainOnly: true });
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined)
      issues.add(`${pointer}/submit`, 'missing required field (a modal with input blocks needs submit)');
    checkBoolean(issues, view.clear_on_close, `${pointer}/clear_on_close`);
    checkBoolean(issues, view.notify_on_close, `${pointer}/notify_on_close`);
  } else {
    fieldsOf(issues, view, pointer, common);
  }
  checkBlocks(issues, view.blocks, `${pointer}/blocks`, view.type);
  checkString(issues, view.private_metadata, `${pointer}/private_metadata`, { max: 3000 });
  checkString(issues, view.callback_id, `${pointer}/callback_id`, { max: 255 });
  checkString(issues, view.external_id, `${pointer}/external_id`, { max: 255 });
}

// ---------------------------------------------------------------------------------------------------
// The server

type Answer = { readonly status: number; readonly body: Json; readonly headers?: Record<string, string> };

const ok = (body: Json = {}): Answer => ({ status: 200, body: { ok: true, ...body } });
const refuse = (error: string, extra: Json = {}): Answer => ({
  status: 200,
  body: { ok: false, error, ...extra },
});

function invalidBlocks(issues: Issues): Answer {
  return refuse('invalid_blocks', {
    errors: issues.list,
    response_metadata: { messages: issues.list.map((m) => `[ERROR] ${m}`) },
  });
}

function invalidArguments(messages: readonly string[]): Answer {
  return refuse('invalid_arguments', {
    response_metadata: { messages: messages.map((m) => `[ERROR] ${m}`) },
  });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();
const sameSecret = (given: string, expected: Buffer) => timingSafeEqual(sha256(given), expected);
const randomId = (prefix: string, n = 10) =>
  `${prefix}${randomBytes(n)
    .map((b) => b % 36)
    .reduce((s, b) => s + b.toString(36).toUpperCase(), '')}`;

/** Log targets are ids only: anything else (a mistyped secret, free text) prints as `?`. */
const printable = (value: unknown) =>
  typeof value === 'string' && /^[A-Za-z0-9#._,-]{1,64}$/.test(value) ? value : '?';

const JSON_ARGUMENTS = new Set(['blocks', 'attachments', 'view']);

interface Trigger {
  readonly userId: string;
  readonly issuedAt: number;
  used: boolean;
}

interface Hook {
  readonly secret: Buffer;
  readonly target: ResponseUrlTarget;
  readonly issuedAt: number;
  uses: number;
}

export async function startSlackStandIn(options: SlackStandInOptions): Promise<SlackStandIn> {
  const checked = OptionsSchema.safeParse(options);
  if (!checked.success) {
    const problems = checked.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Slack stand-in options: ${problems.join('; ')}`);
  }
  const clock = options.clock ?? Date.now;
  const log = options.log ?? (() => {});
  const teamId = options.teamId;
  const tokenHash = sha256(options.botToken);
  const channelSet = options.channels ? new Set(options.channels) : undefined;
  const users = new Map<string, SlackStandInUser>();
  for (const user of options.users) {
    if (users.has(user.id)) throw new Error(`Slack stand-in options: user ${user.id} twice`);
    users.set(user.id, user);
  }

  let calls: RecordedCall[] = [];
  const responses: RecordedResponse[] = [];
  const ephemerals: StandInEphemeral[] = [];
  const messages = new Map<string, Map<string, StandInMessage>>();
  const views = new Map<string, StandInView>();
  const homes = new Map<string, string>();
  const triggers = new Map<string, Trigger>();
  const hooks = new Map<string, Hook>();
  const dmByUser = new Map<string, string>();
  const userByDm = new Map<string, string>();
  let isDown = false;
  let rateLimited = 0;
  let retryAfter = 1;
  let sequence = 0;

  // ts as Slack writes it ("1405894322.002768" in the chat.update reference): epoch seconds, then 6 digits
  // that keep it unique and increasing.
  const mintTs = () => `${Math.floor(clock() / 1000)}.${String(++sequence % 1_000_000).padStart(6, '0')}`;

  function dmOf(userId: string): string {
    let dm = dmByUser.get(userId);
    if (!dm) {
      dm = randomId('D');
      dmByUser.set(userId, dm);
      userByDm.set(dm, userId);
    }
    return dm;
  }

  /** A channel id as chat.update and chat.postEphemeral take it (a DM by its `D…` id). */
  function existingChannel(channel: unknown): string | undefined {
    if (typeof channel !== 'string') return undefined;
    if (/^D[A-Z0-9]+$/.test(channel)) return userByDm.has(channel) ? channel : undefined;
    if (/^[CG][A-Z0-9]{2,}$/.test(channel))
      return !channelSet || channelSet.has(channel) ? channel : undefined;
    return undefined;
  }

  /** chat.postMessage also takes a member's user id: their DM with the app. */
  function postChannel(channel: unknown): string | undefined {
    if (typeof channel === 'string' && /^[UW][A-Z0-9]+$/.test(channel))
      return users.has(channel) ? dmOf(channel) : undefined;
    return existingChannel(channel);
  }

  function userJson(user: SlackStandInUser): Json {
    const name = user.name ?? user.email?.split('@')[0] ?? user.id.toLowerCase();
    return {
      id: user.id,
      team_id: user.teamId ?? teamId,
      name,
      deleted: user.deleted ?? false,
      real_name: user.realName ?? '',
      is_bot: user.isBot ?? false,
      is_app_user: false,
      is_admin: false,
      is_owner: false,
      is_restricted: user.isRestricted ?? false,
      is_ultra_restricted: user.isUltraRestricted ?? false,
      ...(user.isStranger ? { is_stranger: true } : {}),
      profile: {
        ...(user.email ? { email: user.email } : {}),
        display_name: user.displayName ?? '',
        display_name_normalized: user.displayName ?? '',
        real_name: user.realName ?? '',
        real_name_normalized: user.realName ?? '',
        team: user.teamId ?? teamId,
      },
      ...(user.enterpriseId
        ? {
            enterprise_user: {
              id: user.id,
              enterprise_id: user.enterpriseId,
              teams: [user.teamId ?? teamId],
            },
          }
        : {}),
    };
  }

  /** Content shared by chat.postMessage/chat.update/response_url: null when it is fine. */
  function messageProblem(args: Json, requireContent: boolean): Answer | null {
    if (args.attachments !== undefined)
      return invalidArguments(['attachments are not emulated by the stand-in']);
    if (args.text !== undefined && typeof args.text !== 'string') return refuse('invalid_arguments');
    if (requireContent && (args.text === undefined || args.text === '') && args.blocks === undefined)
      return refuse('no_text');
    if (typeof args.text === 'string' && length(args.text) > MAX_MESSAGE_TEXT) return refuse('msg_too_long');
    if (args.blocks !== undefined) {
      if (!Array.isArray(args.blocks)) return refuse('invalid_blocks_format');
      const issues = new Issues();
      checkBlocks(issues, args.blocks, '/blocks', 'message');
      if (issues.list.length > 0) return invalidBlocks(issues);
    }
    return null;
  }

  function store(message: StandInMessage): void {
    let channel = messages.get(message.channel);
    if (!channel) {
      channel = new Map();
      messages.set(message.channel, channel);
    }
    channel.set(message.ts, message);
  }

  function newMessage(channel: string, text: string, blocks: unknown): StandInMessage {
    return {
      type: 'message',
      channel,
      ts: mintTs(),
      text,
      ...(Array.isArray(blocks) ? { blocks } : {}),
      user: BOT_USER_ID,
      bot_id: BOT_ID,
      team: teamId,
    };
  }

  function viewProblem(view: unknown, expected?: 'home'): Answer | null {
    if (JSON.stringify(view ?? null).length > MAX_VIEW_BYTES) return refuse('view_too_large');
    const issues = new Issues();
    checkView(issues, view, '/view', expected);
    return issues.list.length > 0 ? invalidArguments(issues.list) : null;
  }

  function saveView(view: Json, id: string, extra: Json = {}): StandInView {
    const saved = {
      ...view,
      id,
      team_id: teamId,
      blocks: Array.isArray(view.blocks) ? view.blocks : [],
      private_metadata: view.private_metadata ?? '',
      callback_id: view.callback_id ?? '',
      external_id: view.external_id ?? '',
      state: { values: {} },
      hash: `${Math.floor(clock() / 1000)}.${randomBytes(4).toString('hex')}`,
      root_view_id: id,
      app_id: APP_ID,
      bot_id: BOT_ID,
      ...extra,
    } as unknown as StandInView;
    views.set(id, saved);
    return saved;
  }

  const externalIdTaken = (externalId: unknown, except?: string) =>
    typeof externalId === 'string' &&
    externalId !== '' &&
    [...views.values()].some((v) => v.external_id === externalId && v.id !== except);

  const methods: Record<string, (args: Json) => Answer> = {
    'auth.test': () =>
      ok({
        url: 'http://stand-in.slack.local/',
        team: 'cloud-pam local',
        user: 'pam',
        team_id: teamId,
        user_id: BOT_USER_ID,
        bot_id: BOT_ID,
      }),

    'chat.postMessage': (args) => {
      const channel = postChannel(args.channel);
      if (!channel) return refuse('channel_not_found');
      const problem = messageProblem(args, true);
      if (problem) return problem;
      const message = newMessage(channel, typeof args.text === 'string' ? args.text : '', args.blocks);
      store(message);
      return ok({ channel, ts: message.ts, message });
    },

    'chat.update': (args) => {
      const channel = existingChannel(args.channel);
      if (!channel) return refuse('channel_not_found');
      const current = typeof args.ts === 'string' ? messages.get(channel)?.get(args.ts) : undefined;
      if (!current) return refuse('message_not_found');
      const problem = messageProblem(args, false);
      if (problem) return problem;
      if (args.text === undefined && args.blocks === undefined) return refuse('no_text');
      const blocks = args.blocks === undefined ? current.blocks : (args.blocks as unknown[]);
      const { blocks: _previous, ...rest } = current;
      const message: StandInMessage = {
        ...rest,
        text: typeof args.text === 'string' ? args.text : current.text,
        ...(blocks === undefined ? {} : { blocks }),
        edited: { user: BOT_USER_ID, ts: mintTs() },
      };
      store(message);
      return ok({ channel, ts: message.ts, text: message.text, message });
    },

    'chat.postEphemeral': (args) => {
      const channel = postChannel(args.channel);
      if (!channel) return refuse('channel_not_found');
      const user = typeof args.user === 'string' ? users.get(args.user) : undefined;
      if (!user || user.deleted) return refuse('user_not_in_channel');
      const problem = messageProblem(args, true);
      if (problem) return problem;
      const ts = mintTs();
      ephemerals.push({
        channel,
        user: user.id,
        ts,
        text: typeof args.text === 'string' ? args.text : '',
        ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}),
      });
      return ok({ message_ts: ts });
    },

    'conversations.open': (args) => {
      if (typeof args.channel === 'string' && args.users === undefined) {
        const channel = existingChannel(args.channel);
        return channel?.startsWith('D') ? ok({ channel: { id: channel } }) : refuse('channel_not_found');
      }
      const ids =
        typeof args.users === 'string'
          ? args.users
              .split(',')
              .map((u) => u.trim())
              .filter(Boolean)
          : [];
      if (ids.length === 0) return refuse('users_list_not_supplied');
      if (ids.length > 1) return refuse('stand_in_not_emulated', { detail: 'multi-person DMs' });
      const user = users.get(ids[0] as string);
      if (!user) return refuse('user_not_found');
      const existed = dmByUser.has(user.id);
      return ok({ channel: { id: dmOf(user.id) }, ...(existed ? { no_op: true, already_open: true } : {}) });
    },

    'users.info': (args) => {
      const user = typeof args.user === 'string' ? users.get(args.user) : undefined;
      return user ? ok({ user: userJson(user) }) : refuse('user_not_found');
    },

    'users.lookupByEmail': (args) => {
      if (typeof args.email !== 'string' || args.email === '') return refuse('invalid_arguments');
      const wanted = args.email.toLowerCase();
      const user = [...users.values()].find(
        (u) => u.email?.toLowerCase() === wanted && !u.deleted && !u.isStranger,
      );
      return user ? ok({ user: userJson(user) }) : refuse('users_not_found');
    },

    'views.open': (args) => {
      if (typeof args.trigger_id !== 'string')
        return invalidArguments(['missing required field: trigger_id']);
      const trigger = triggers.get(args.trigger_id);
      if (!trigger) return refuse('invalid_trigger_id');
      if (trigger.used) return refuse('exchanged_trigger_id');
      if (clock() >= trigger.issuedAt + TRIGGER_LIFETIME_MS) return refuse('expired_trigger_id');
      const problem = viewProblem(args.view);
      if (problem) return problem;
      const view = args.view as Json;
      if (externalIdTaken(view.external_id)) return refuse('duplicate_external_id');
      trigger.used = true;
      // Slack shows a modal to the user whose trigger opened it: remembered for local tools.
      return ok({ view: saveView(view, randomId('V'), { user: trigger.userId }) });
    },

    'views.update': (args) => {
      const byId = typeof args.view_id === 'string' ? args.view_id : undefined;
      const byExternal = typeof args.external_id === 'string' ? args.external_id : undefined;
      if ((byId === undefined) === (byExternal === undefined))
        return invalidArguments(['exactly one of view_id and external_id is required']);
      const current = byId
        ? views.get(byId)
        : [...views.values()].find((v) => v.external_id !== '' && v.external_id === byExternal);
      if (!current) return refuse('not_found');
      if (args.hash !== undefined && args.hash !== current.hash) return refuse('hash_conflict');
      const problem = viewProblem(args.view);
      if (problem) return problem;
      const view = args.view as Json;
      if (externalIdTaken(view.external_id, current.id)) return refuse('duplicate_external_id');
      return ok({
        view: saveView(
          view,
          current.id,
          current.user === undefined ? {} : { user: current.user as Json[string] },
        ),
      });
    },

    'views.publish': (args) => {
      if (typeof args.user_id !== 'string') return invalidArguments(['missing required field: user_id']);
      const user = users.get(args.user_id);
      if (!user) return refuse('user_not_found');
      const problem = viewProblem(args.view, 'home');
      if (problem) return problem;
      const existing = homes.get(user.id);
      if (existing && args.hash !== undefined && args.hash !== views.get(existing)?.hash)
        return refuse('hash_conflict');
      const id = existing ?? randomId('V');
      homes.set(user.id, id);
      return ok({ view: saveView(args.view as Json, id) });
    },
  };

  // --- HTTP ----------------------------------------------------------------------------------------

  function reply(response: ServerResponse, answer: Answer): void {
    const payload = Buffer.from(JSON.stringify(answer.body));
    response.writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': payload.length,
      ...answer.headers,
    });
    response.end(payload);
  }

  /** Down or rate limited: the answer every request gets before anything else happens. */
  function outage(): Answer | null {
    if (isDown) return { status: 503, body: { ok: false, error: 'service_unavailable' } };
    if (rateLimited > 0) {
      rateLimited--;
      return {
        status: 429,
        body: { ok: false, error: 'ratelimited' },
        headers: { 'retry-after': String(retryAfter) },
      };
    }
    return null;
  }

  function parseArgs(request: IncomingMessage, raw: Buffer): { args: Json; form: boolean; error?: string } {
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const text = raw.toString('utf8');
    if (type === 'application/json') {
      let parsed: unknown;
      try {
        parsed = text === '' ? {} : JSON.parse(text);
      } catch {
        return { args: {}, form: false, error: 'invalid_json' };
      }
      return isObject(parsed)
        ? { args: parsed, form: false }
        : { args: {}, form: false, error: 'json_not_object' };
    }
    if (type.startsWith('multipart/')) return { args: {}, form: true, error: 'invalid_post_type' };
    // Form bodies (and text/plain, read the same way — assumed).
    const args: Json = {};
    for (const [key, value] of new URLSearchParams(text)) {
      if (JSON_ARGUMENTS.has(key)) {
        try {
          args[key] = JSON.parse(value);
        } catch {
          return {
            args: {},
            form: true,
            error: key === 'blocks' ? 'invalid_blocks_format' : 'invalid_arguments',
          };
        }
      } else {
        args[key] = value;
      }
    }
    return { args, form: true };
  }

  function record(method: string, args: Json, at: number, answer: Answer): void {
    const { token, ...rest } = args;
    const redacted = token === undefined ? rest : { ...rest, token: '[redacted]' };
    const okay = answer.body.ok === true;
    const error = okay ? undefined : String(answer.body.error);
    calls.push({ method, args: redacted, at, status: answer.status, ok: okay, ...(error ? { error } : {}) });
    const target =
      args.channel ??
      args.user ??
      args.user_id ??
      args.users ??
      args.view_id ??
      args.external_id ??
      (typeof args.trigger_id === 'string' ? triggers.get(args.trigger_id)?.userId : undefined);
    log(`slack ${printable(method)} ${printable(target)} ${okay ? 'ok' : error}`);
  }

  async function handleApi(
    request: IncomingMessage,
    response: ServerResponse,
    method: string,
  ): Promise<void> {
    const raw = await readBody(request, MAX_BODY_BYTES);
    const at = clock();
    const { args, form, error: parseError } = parseArgs(request, raw);
    const answer = ((): Answer => {
      const down = outage();
      if (down) return down;
      if (request.method !== 'POST') return refuse('invalid_post_type');
      const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
      if (!handler) return refuse('unknown_method', { req_method: method });
      const header = request.headers.authorization;
      const bearer =
        typeof header === 'string' && /^Bearer\s+/i.test(header)
          ? header.replace(/^Bearer\s+/i, '')
          : undefined;
      const token = bearer ?? (form && typeof args.token === 'string' ? args.token : undefined);
      if (token === undefined || token === '') return refuse('not_authed');
      if (!sameSecret(token, tokenHash)) return refuse('invalid_auth');
      if (parseError) return refuse(parseError);
      return handler(args);
    })();
    record(method, args, at, answer);
    reply(response, answer);
  }

  async function handleHook(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const raw = await readBody(request, MAX_BODY_BYTES);
    const at = clock();
    let body: ResponseUrlBody = {};
    const parts = path.split('/');
    const hookId = parts.length === 4 ? (parts[2] as string) : undefined;
    const hook = hookId === undefined ? undefined : hooks.get(hookId);
    const answer = ((): Answer => {
      const down = outage();
      if (down) return down;
      if (!hook || request.method !== 'POST' || !sameSecret(parts[3] ?? '', hook.secret))
        return { status: 404, body: { ok: false, error: 'no_service' } };
      if (hook.uses >= RESPONSE_URL_USES || at >= hook.issuedAt + RESPONSE_URL_LIFETIME_MS)
        return { status: 404, body: { ok: false, error: 'expired_url' } };
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        return { status: 400, body: { ok: false, error: 'invalid_payload' } };
      }
      if (!isObject(parsed)) return { status: 400, body: { ok: false, error: 'invalid_payload' } };
      body = parsed as ResponseUrlBody;
      if (
        body.response_type !== undefined &&
        body.response_type !== 'ephemeral' &&
        body.response_type !== 'in_channel'
      )
        return { status: 400, body: { ok: false, error: 'invalid_payload' } };
      const problem = messageProblem(parsed, body.delete_original !== true);
      if (problem) return { status: 400, body: problem.body };
      hook.uses++;
      deliver(hook.target, body);
      return { status: 200, body: { ok: true } };
    })();
    const okay = answer.body.ok === true;
    const error = okay ? undefined : String(answer.body.error);
    responses.push({
      hook: hook ? (hookId as string) : '?',
      ...(hook ? { userId: hook.target.userId } : {}),
      ...(hook?.target.channelId ? { channelId: hook.target.channelId } : {}),
      at,
      status: answer.status,
      ok: okay,
      ...(error ? { error } : {}),
      body,
    });
    log(`slack response_url #${hook ? hookId : '?'} ${okay ? 'ok' : error}`);
    reply(response, answer);
  }

  /** What an accepted response_url answer does to the channel. */
  function deliver(target: ResponseUrlTarget, body: ResponseUrlBody): void {
    const original = target.message
      ? messages.get(target.message.channel)?.get(target.message.ts)
      : undefined;
    const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
    if (body.delete_original === true && original) {
      messages.get(original.channel)?.delete(original.ts);
      return;
    }
    if (body.replace_original === true && original) {
      const { blocks: _previous, ...rest } = original;
      store({
        ...rest,
        text: body.text ?? original.text,
        ...(blocks ? { blocks } : {}),
        edited: { user: BOT_USER_ID, ts: mintTs() },
      });
      return;
    }
    const channel = target.channelId ?? target.message?.channel ?? dmOf(target.userId);
    if (body.response_type === 'in_channel' && existingChannel(channel)) {
      store(newMessage(channel, body.text ?? '', blocks));
      return;
    }
    ephemerals.push({
      channel,
      user: target.userId,
      ts: mintTs(),
      text: body.text ?? '',
      ...(blocks ? { blocks } : {}),
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://stand-in').pathname;
    if (path.startsWith(API_PATH))
      return handleApi(request, response, decodeURIComponent(path.slice(API_PATH.length)));
    if (path.startsWith(HOOK_PATH)) return handleHook(request, response, path.slice(HOOK_PATH.length));
    reply(response, { status: 404, body: { ok: false, error: 'not_found' } });
  }

  const listener = await listen((request, response) => {
    handle(request, response).catch(() => response.destroy());
  }, options);
  const { base } = listener;

  return {
    apiUrl: `${base}${API_PATH}`,
    responseUrlPrefix: `${base}${HOOK_PATH}`,
    get calls() {
      return [...calls];
    },
    get responses() {
      return [...responses];
    },
    get ephemerals() {
      return [...ephemerals];
    },
    messages,
    views,
    issueTrigger(userId) {
      if (!users.has(userId)) throw new Error(`Slack stand-in: no user ${userId}`);
      const id = `${Math.floor(clock() / 1000)}.${++sequence}.${randomBytes(16).toString('hex')}`;
      triggers.set(id, { userId, issuedAt: clock(), used: false });
      return id;
    },
    responseUrlFor(target) {
      if (!users.has(target.userId)) throw new Error(`Slack stand-in: no user ${target.userId}`);
      const hookId = String(++sequence);
      const secret = randomBytes(18).toString('base64url');
      hooks.set(hookId, { secret: sha256(secret), target, issuedAt: clock(), uses: 0 });
      return `${base}${HOOK_PATH}${target.message ? 'actions' : 'commands'}/${teamId}/${hookId}/${secret}`;
    },
    dmChannelOf(userId) {
      return dmByUser.get(userId);
    },
    down() {
      isDown = true;
    },
    up() {
      isDown = false;
    },
    rateLimitNext(n, retryAfterSeconds) {
      if (!Number.isInteger(n) || n < 0) throw new Error('rateLimitNext: n must be a whole number ≥ 0');
      if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0)
        throw new Error('rateLimitNext: retryAfterSeconds must be a whole number ≥ 0');
      rateLimited = n;
      retryAfter = retryAfterSeconds;
    },
    resetCalls() {
      calls = [];
    },
    close: listener.close,
  };
}
