// Readers of what Slack sends the ingress, after its signature checked out: slash commands and
// interactions (application/x-www-form-urlencoded; an interaction is JSON in the `payload` field)
// and the Events API (JSON). zod at the edge: every string is bounded, identifiers match Slack's
// shapes, free text is well-formed Unicode without control characters (shared/domain/text.ts), and
// fields Slack adds later are allowed and dropped. Each reader answers `{ ok: false, message }` for
// anything else — a 1 MB body, bytes that are not UTF-8, a broken percent-escape, a lone surrogate —
// naming the field, never echoing its text; none of them throws. What comes out is camelCase and
// carries only what the ingress reads: the `token` Slack still sends (a legacy credential) is
// dropped here, with everything else nobody reads.
import { optional } from '#domain/optional.ts';
import { formatIssues, textProblem } from '#domain/text.ts';
import * as z from '#domain/zod.ts';

/**
 * The largest body the ingress reads. Slack's own payloads are far smaller (an approval message is
 * a few KB; Block Kit caps a message at 50 blocks of ≤ 3,000 characters, and an interaction carries
 * the message percent-encoded): 512 KiB leaves room, and bounds the work an unauthenticated caller
 * can cause before the signature is even checked.
 */
export const MAX_SLACK_BODY_BYTES = 512 * 1024;

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly message: string };

const refuse = (message: string): { readonly ok: false; readonly message: string } => ({
  ok: false,
  message,
});

/** `build()` on the first call, its result after. */
function once<T>(build: () => T): () => T {
  let built: { readonly value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}

// Slack's identifiers, as the Slack queue contract (shared/app/slack/jobs.ts) has them.
const TEAM_ID = /^T[A-Z0-9]{2,30}$/;
const ENTERPRISE_ID = /^E[A-Z0-9]{2,30}$/;
const USER_ID = /^[UW][A-Z0-9]{2,30}$/;
const OCCURRENCE_ID = /^[\w.-]{1,128}$/;

const teamId = z.string().check(z.regex(TEAM_ID, 'expected a Slack team id'));
const userId = z.string().check(z.regex(USER_ID, 'expected a Slack user id'));
const triggerId = z.string().check(z.regex(OCCURRENCE_ID, 'expected a Slack trigger_id'));
const eventId = z.string().check(z.regex(OCCURRENCE_ID, 'expected a Slack event_id'));
/** Slack sends `enterprise_id` empty, null or absent outside Enterprise Grid: all three mean none. */
const enterpriseId = z.nullish(
  z.union([z.literal(''), z.string().check(z.regex(ENTERPRISE_ID, 'expected a Slack enterprise id'))]),
);
/** A credential for 30 minutes: kept whole for the worker, never logged (the ingress does not). */
const responseUrl = z
  .string()
  .check(z.maxLength(500), z.regex(/^https?:\/\/[^\s]+$/, 'expected an http(s) URL'));

/** Free text: bounded, well-formed, no control characters but newline and tab. */
function text(max: number) {
  return z.string().check(
    z.maxLength(max),
    z.superRefine((value, ctx) => {
      const problem = textProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );
}

/** Text the ingress checks itself (modal inputs: their errors go on the field): only bounded here. */
const inputText = (max: number) => z.string().check(z.maxLength(max));

function noneIfEmpty(value: string | null | undefined): string | undefined {
  return value === '' || value === null ? undefined : value;
}

function schemaResult<S extends z.core.$ZodType>(schema: S, raw: unknown, root: string): Parsed<z.output<S>> {
  const parsed = z.safeParse(schema, raw);
  // The first issue only: one clear reason, and a hostile body cannot make the answer long.
  return parsed.success
    ? { ok: true, value: parsed.data }
    : refuse(formatIssues(parsed.error.issues.slice(0, 1), root));
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text: within the size bound and valid UTF-8 (never silently repaired). */
export function decodeBody(rawBody: Uint8Array): Parsed<string> {
  if (rawBody.byteLength > MAX_SLACK_BODY_BYTES)
    return refuse(`body is larger than ${MAX_SLACK_BODY_BYTES / 1024} KiB`);
  try {
    return { ok: true, value: utf8.decode(rawBody) };
  } catch {
    return refuse('body is not valid UTF-8');
  }
}

const FIELD_NAME = /^[\w.[\]-]{1,64}$/;

/**
 * An application/x-www-form-urlencoded body as its fields. Strict where URLSearchParams would
 * repair: a broken percent-escape or an escaped byte sequence that is not UTF-8 (a lone surrogate
 * arrives as one) is refused, and so is a field given twice (which of the two counts would be a
 * guess).
 */
export function decodeForm(body: string): Parsed<Readonly<Record<string, string>>> {
  const fields: Record<string, string> = Object.create(null);
  if (body === '') return { ok: true, value: fields };
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent((at < 0 ? pair : pair.slice(0, at)).replaceAll('+', ' '));
      value = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1).replaceAll('+', ' '));
    } catch {
      return refuse('form: a field is not valid percent-encoded UTF-8');
    }
    if (!FIELD_NAME.test(name)) return refuse('form: a field name is not one Slack sends');
    if (Object.hasOwn(fields, name)) return refuse(`form.${name}: given more than once`);
    fields[name] = value;
  }
  return { ok: true, value: fields };
}

// ---------------------------------------------------------------------------------------------
// Slash commands

const slashCommandForm = z.object({
  team_id: teamId,
  enterprise_id: enterpriseId,
  user_id: userId,
  command: z.string().check(z.regex(/^\/[\w-]{1,31}$/, 'expected a slash command')),
  text: z.optional(text(4000)),
  response_url: responseUrl,
  trigger_id: triggerId,
  channel_id: z.optional(z.string().check(z.regex(/^[\w]{0,32}$/, 'expected a Slack channel id'))),
  api_app_id: z.optional(z.string().check(z.regex(/^[\w]{0,32}$/, 'expected a Slack app id'))),
  is_enterprise_install: z.optional(z.enum(['true', 'false'])),
});

export interface SlashCommand {
  readonly kind: 'command';
  readonly teamId: string;
  readonly enterpriseId?: string;
  readonly userId: string;
  /** `/pam` (whatever the app's manifest names it). */
  readonly command: string;
  /** What follows the command, as typed. */
  readonly text: string;
  readonly responseUrl: string;
  readonly triggerId: string;
  readonly channelId?: string;
  readonly isEnterpriseInstall: boolean;
}

/** Slack's periodic certificate check on a command URL: answered 200, nothing else. */
export interface SslCheck {
  readonly kind: 'ssl-check';
}

export function parseSlashCommand(rawBody: Uint8Array): Parsed<SlashCommand | SslCheck> {
  const body = decodeBody(rawBody);
  if (!body.ok) return body;
  const form = decodeForm(body.value);
  if (!form.ok) return form;
  if (form.value.ssl_check === '1') return { ok: true, value: { kind: 'ssl-check' } };
  const parsed = schemaResult(slashCommandForm, form.value, 'command');
  if (!parsed.ok) return parsed;
  const fields = parsed.value;
  const enterprise = noneIfEmpty(fields.enterprise_id);
  const channel = noneIfEmpty(fields.channel_id);
  return {
    ok: true,
    value: {
      kind: 'command',
      teamId: fields.team_id,
      ...optional('enterpriseId', enterprise),
      userId: fields.user_id,
      command: fields.command,
      text: fields.text ?? '',
      responseUrl: fields.response_url,
      triggerId: fields.trigger_id,
      ...optional('channelId', channel),
      isEnterpriseInstall: fields.is_enterprise_install === 'true',
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Interactions (`payload=<JSON>`)

/**
 * The interaction payloads' schemas, built on the first interaction rather than at cold start: a
 * cold start that answers `/pam` (bench/slack-ingress) never needs them, and zod's schemas cost to
 * build (~1 ms here).
 */
const interactionSchemas = once(() => {
  const user = z.object({ id: userId, team_id: z.nullish(teamId) });
  const team = z.nullish(z.object({ id: teamId, enterprise_id: enterpriseId }));
  const enterprise = z.nullish(
    z.object({ id: z.string().check(z.regex(ENTERPRISE_ID, 'expected a Slack enterprise id')) }),
  );

  const blockActionsPayload = z.object({
    type: z.literal('block_actions'),
    user,
    team,
    enterprise,
    trigger_id: triggerId,
    response_url: z.nullish(responseUrl),
    actions: z
      .array(
        z.object({
          action_id: text(255),
          block_id: z.nullish(text(255)),
          value: z.nullish(text(2000)),
          type: z.nullish(text(64)),
        }),
      )
      .check(z.maxLength(25)),
    container: z.nullish(
      z.object({
        type: text(32),
        channel_id: z.nullish(text(32)),
        message_ts: z.nullish(text(32)),
        view_id: z.nullish(text(32)),
      }),
    ),
    message: z.nullish(z.object({ ts: z.nullish(text(32)) })),
  });

  /** One input's state in a submitted view: a text input's `value`, or a select's `selected_option`. */
  const inputState = z.object({
    type: text(64),
    value: z.nullish(inputText(3000)),
    selected_option: z.nullish(z.object({ value: inputText(2000) })),
  });

  const viewSubmissionPayload = z.object({
    type: z.literal('view_submission'),
    user,
    team,
    enterprise,
    trigger_id: triggerId,
    view: z.object({
      id: z.string().check(z.regex(/^V[A-Z0-9]{2,30}$/, 'expected a Slack view id')),
      callback_id: z.nullish(text(255)),
      private_metadata: z.nullish(text(3000)),
      state: z.object({
        // A modal holds at most 100 blocks; each input block one element.
        values: z
          .record(text(255), z.record(text(255), inputState))
          .check(z.refine((blocks) => Object.keys(blocks).length <= 100, 'more than 100 blocks')),
      }),
    }),
  });

  const interactionType = z.object({ type: z.string().check(z.regex(/^[a-z_]{1,64}$/, 'expected a type')) });

  return { user, team, enterprise, blockActionsPayload, viewSubmissionPayload, interactionType };
});

/** Who acted, as every interaction names them. */
export interface SlackActor {
  /** The workspace the interaction happened in (`team.id`, else the user's). */
  readonly teamId: string;
  readonly enterpriseId?: string;
  readonly userId: string;
  /** The user's own workspace (`user.team_id`), when Slack says. */
  readonly userTeamId?: string;
}

export interface BlockActions {
  readonly kind: 'block_actions';
  readonly actor: SlackActor;
  readonly triggerId: string;
  readonly responseUrl?: string;
  readonly actions: readonly {
    readonly actionId: string;
    readonly blockId?: string;
    readonly value?: string;
  }[];
}

export interface InputState {
  readonly type: string;
  /** A text input's value (Slack sends null for an empty one: read as absent). */
  readonly value?: string;
  /** A select's chosen option value. */
  readonly selected?: string;
}

export interface ViewSubmission {
  readonly kind: 'view_submission';
  readonly actor: SlackActor;
  readonly triggerId: string;
  readonly viewId: string;
  readonly callbackId: string;
  readonly privateMetadata: string;
  /** block_id → action_id → state. */
  readonly values: Readonly<Record<string, Readonly<Record<string, InputState>>>>;
}

/** Any other interaction (`view_closed`, `block_suggestion`, shortcuts…): acknowledged, ignored. */
export interface OtherInteraction {
  readonly kind: 'other';
  readonly type: string;
}

export type Interaction = BlockActions | ViewSubmission | OtherInteraction;

type InteractionSchemas = ReturnType<typeof interactionSchemas>;

function actorOf(payload: {
  readonly user: z.output<InteractionSchemas['user']>;
  readonly team?: z.output<InteractionSchemas['team']>;
  readonly enterprise?: z.output<InteractionSchemas['enterprise']>;
}): Parsed<SlackActor> {
  const teamId = payload.team?.id ?? payload.user.team_id ?? undefined;
  if (teamId === undefined) return refuse('payload.team: missing (and no user.team_id)');
  const enterpriseId = payload.enterprise?.id ?? noneIfEmpty(payload.team?.enterprise_id);
  const userTeam = payload.user.team_id ?? undefined;
  return {
    ok: true,
    value: {
      teamId,
      ...optional('enterpriseId', enterpriseId),
      userId: payload.user.id,
      ...optional('userTeamId', userTeam),
    },
  };
}

function definedOnly<T extends Record<string, unknown>>(
  record: T,
): { [K in keyof T]: Exclude<T[K], null | undefined> } {
  return Object.fromEntries(
    Object.entries(record).filter(([, value]) => value !== undefined && value !== null),
  ) as { [K in keyof T]: Exclude<T[K], null | undefined> };
}

export function parseInteraction(rawBody: Uint8Array): Parsed<Interaction> {
  const body = decodeBody(rawBody);
  if (!body.ok) return body;
  const form = decodeForm(body.value);
  if (!form.ok) return form;
  const payloadText = form.value.payload;
  if (payloadText === undefined) return refuse('form.payload: missing');
  let raw: unknown;
  try {
    raw = JSON.parse(payloadText);
  } catch {
    return refuse('payload: not JSON');
  }
  const { interactionType, blockActionsPayload, viewSubmissionPayload } = interactionSchemas();
  const kind = schemaResult(interactionType, raw, 'payload');
  if (!kind.ok) return kind;

  if (kind.value.type === 'block_actions') {
    const parsed = schemaResult(blockActionsPayload, raw, 'payload');
    if (!parsed.ok) return parsed;
    const actor = actorOf(parsed.value);
    if (!actor.ok) return actor;
    const responseUrl = parsed.value.response_url ?? undefined;
    return {
      ok: true,
      value: {
        kind: 'block_actions',
        actor: actor.value,
        triggerId: parsed.value.trigger_id,
        ...optional('responseUrl', responseUrl),
        actions: parsed.value.actions.map((action) =>
          definedOnly({ actionId: action.action_id, blockId: action.block_id, value: action.value }),
        ),
      },
    };
  }

  if (kind.value.type === 'view_submission') {
    const parsed = schemaResult(viewSubmissionPayload, raw, 'payload');
    if (!parsed.ok) return parsed;
    const actor = actorOf(parsed.value);
    if (!actor.ok) return actor;
    const { view } = parsed.value;
    const values: Record<string, Record<string, InputState>> = {};
    for (const [blockId, inputs] of Object.entries(view.state.values)) {
      const block: Record<string, InputState> = {};
      for (const [actionId, state] of Object.entries(inputs)) {
        block[actionId] = definedOnly({
          type: state.type,
          value: state.value,
          selected: state.selected_option?.value,
        });
      }
      values[blockId] = block;
    }
    return {
      ok: true,
      value: {
        kind: 'view_submission',
        actor: actor.value,
        triggerId: parsed.value.trigger_id,
        viewId: view.id,
        callbackId: view.callback_id ?? '',
        privateMetadata: view.private_metadata ?? '',
        values,
      },
    };
  }

  return { ok: true, value: { kind: 'other', type: kind.value.type } };
}

// ---------------------------------------------------------------------------------------------
// Events API (JSON)

/** The Events API's schemas, built on the first event (see interactionSchemas). */
const eventSchemas = once(() => {
  const urlVerification = z.object({
    type: z.literal('url_verification'),
    // Echoed back verbatim: printable ASCII only (Slack's challenges are ~50 letters and digits).
    challenge: z.string().check(z.regex(/^[\x21-\x7e]{1,256}$/, 'expected a challenge string')),
  });

  const eventCallback = z.object({
    type: z.literal('event_callback'),
    team_id: teamId,
    enterprise_id: enterpriseId,
    event_id: eventId,
    event: z.object({ type: z.string().check(z.regex(/^[a-z_.]{1,64}$/, 'expected an event type')) }),
  });

  const appHomeOpened = z.object({
    type: z.literal('app_home_opened'),
    user: userId,
    tab: z.nullish(text(32)),
  });
  const eventType = z.object({ type: z.string().check(z.regex(/^[a-z_]{1,64}$/, 'expected a type')) });

  return { urlVerification, eventCallback, appHomeOpened, eventType };
});

export interface UrlVerification {
  readonly kind: 'url_verification';
  readonly challenge: string;
}

interface EventEnvelope {
  readonly teamId: string;
  readonly enterpriseId?: string;
  /** Slack's id for the event: the same on every retry of it. */
  readonly eventId: string;
}

export interface AppHomeOpened extends EventEnvelope {
  readonly kind: 'app_home_opened';
  readonly userId: string;
  /** `home` or `messages`. */
  readonly tab?: string;
}

/** An event cloud-pam does not act on (the app subscribes to none, but Slack may add some). */
export interface OtherEvent extends EventEnvelope {
  readonly kind: 'other_event';
  readonly eventType: string;
}

export type SlackEvent = UrlVerification | AppHomeOpened | OtherEvent | OtherInteraction;

export function parseEvent(rawBody: Uint8Array): Parsed<SlackEvent> {
  const body = decodeBody(rawBody);
  if (!body.ok) return body;
  let raw: unknown;
  try {
    raw = JSON.parse(body.value);
  } catch {
    return refuse('event: not JSON');
  }
  const { urlVerification, eventCallback, appHomeOpened, eventType } = eventSchemas();
  const kind = schemaResult(eventType, raw, 'event');
  if (!kind.ok) return kind;

  if (kind.value.type === 'url_verification') {
    const parsed = schemaResult(urlVerification, raw, 'event');
    return parsed.ok
      ? { ok: true, value: { kind: 'url_verification', challenge: parsed.value.challenge } }
      : parsed;
  }
  if (kind.value.type !== 'event_callback')
    return { ok: true, value: { kind: 'other', type: kind.value.type } };

  const parsed = schemaResult(eventCallback, raw, 'event');
  if (!parsed.ok) return parsed;
  const enterprise = noneIfEmpty(parsed.value.enterprise_id);
  const envelope: EventEnvelope = {
    teamId: parsed.value.team_id,
    ...optional('enterpriseId', enterprise),
    eventId: parsed.value.event_id,
  };
  if (parsed.value.event.type !== 'app_home_opened')
    return { ok: true, value: { kind: 'other_event', ...envelope, eventType: parsed.value.event.type } };
  const event = schemaResult(appHomeOpened, (raw as { event: unknown }).event, 'event.event');
  if (!event.ok) return event;
  const tab = event.value.tab ?? undefined;
  return {
    ok: true,
    value: { kind: 'app_home_opened', ...envelope, userId: event.value.user, ...optional('tab', tab) },
  };
}
