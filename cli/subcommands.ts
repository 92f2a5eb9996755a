// The `pam` subcommands: each declares its words, flags (node's util.parseArgs), positionals, usage
// and what it runs. Arguments are checked here, before anything leaves the machine, so a typo is a
// usage error (exit 2) rather than a round trip; the API still validates everything again.
import { isAbsolute, resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { documentClient } from '#adapters/aws/audit-chain-writes.ts';
import { validateConfigFile } from '#config/validate-cli.ts';
import { optional } from '#domain/optional.ts';
import { textProblem } from '#domain/text.ts';
import { needsAccessTable, TableReadError, verifyAuditTables } from './audit-verify.ts';
import {
  apiClient,
  type CliDeps,
  type CliIo,
  dynamoClientFor,
  type GlobalFlags,
  LOCAL_USER_HEADER,
  type Mode,
  resolveMode,
} from './context.ts';
import { humanDuration, parseDurationFlag } from './duration.ts';
import { CliError, oneLine, UsageError } from './errors.ts';
import {
  approvalsTable,
  EntitlementViewSchema,
  entitlementsTable,
  myRequestsTable,
  pageSchema,
  parseAnswer,
  RequestViewSchema,
  requestBlock,
} from './format.ts';
import { ApiClient } from './http-client.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

export interface SubcommandContext {
  readonly io: CliIo;
  readonly deps: CliDeps;
  readonly flags: GlobalFlags;
  readonly values: Values;
  readonly args: readonly string[];
  /** One line (or several) on stdout. */
  readonly print: (...lines: string[]) => void;
  /** One JSON document on stdout. */
  readonly printJson: (value: unknown) => void;
}

export interface Subcommand {
  readonly words: readonly string[];
  readonly summary: string;
  /** Usage line(s) after `pam `, and a short description of the flags. */
  readonly usage: string;
  readonly options: Options;
  /** Positional argument names; a trailing `?` marks an optional one. */
  readonly positionals: readonly string[];
  readonly run: (context: SubcommandContext) => Promise<number>;
}

const ENTITLEMENT_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const ACCOUNT_ID = /^\d{12}$/;
const REQUEST_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const PAGE_SIZE_MAX = 100;

function str(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

function durationOf(values: Values, flag: string): string | undefined {
  const text = str(values, flag);
  if (text === undefined) return undefined;
  const parsed = parseDurationFlag(text);
  if (!parsed.ok) throw new UsageError(`--${flag} ${oneLine(text, 40)}: ${parsed.reason}`);
  return parsed.iso;
}

function entitlementIdOf(text: string | undefined): string {
  if (!text || !ENTITLEMENT_ID.test(text)) {
    throw new UsageError(`expected an entitlement id such as prod-admin, got "${oneLine(text ?? '', 40)}"`);
  }
  return text;
}

function requestIdOf(text: string | undefined): string {
  const id = (text ?? '').toUpperCase();
  if (!REQUEST_ID.test(id)) {
    throw new UsageError(`expected a request id (26-character ULID), got "${oneLine(text ?? '', 40)}"`);
  }
  return id;
}

function accountOf(flag: string, text: string): string {
  const account = text.trim();
  if (!ACCOUNT_ID.test(account)) {
    throw new UsageError(`--${flag}: expected a 12-digit AWS account id, got "${oneLine(account, 40)}"`);
  }
  return account;
}

/**
 * A free-text flag (--reason, --comment, --ticket): clean text as the API requires it (well-formed
 * Unicode, no control character but newline and tab; a \r from a CRLF file is refused, not trimmed
 * away), then trimmed and 1–max characters. The error never repeats the text.
 */
export function textFlag(values: Values, flag: string, max: number): string | undefined {
  const value = str(values, flag);
  if (value === undefined) return undefined;
  const problem = textProblem(value);
  if (problem !== undefined) throw new UsageError(`--${flag}: ${problem}`);
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) {
    throw new UsageError(`--${flag}: expected 1–${max} characters`);
  }
  return trimmed;
}

function limitOf(values: Values): number | undefined {
  const text = str(values, 'limit');
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError('--limit: expected a positive whole number');
  return Number(text);
}

async function connect(context: SubcommandContext): Promise<{ mode: Mode; api: ApiClient }> {
  const mode = resolveMode(context.flags, context.io, context.deps);
  return { mode, api: await apiClient(mode, context.flags, context.io, context.deps) };
}

/**
 * The time to count a grant's time left from: the server's, from the answer just received (the
 * local runtime's clock may be moved by `pam local clock advance`), else this machine's.
 */
function nowOf(context: SubcommandContext, api: ApiClient): number {
  return api.serverTime ?? context.deps.now();
}

/** Prints a request view: the API's document under --json, else the block. */
function printRequest(context: SubcommandContext, api: ApiClient, answer: unknown): number {
  if (context.flags.json) context.printJson(answer);
  else
    context.print(...requestBlock(parseAnswer(RequestViewSchema, answer, 'a request'), nowOf(context, api)));
  return 0;
}

/**
 * Follows `nextToken` until the end, or until `limit` items (each page asks for at most what is
 * still wanted, so no page is cut and the last token is exactly where to go on from).
 */
async function allPages(api: ApiClient, path: string, limit: number | undefined) {
  const items: unknown[] = [];
  let nextToken: string | null = null;
  const seen = new Set<string>();
  do {
    const wanted = limit === undefined ? undefined : Math.min(limit - items.length, PAGE_SIZE_MAX);
    const answer = await api.call('GET', path, {
      query: { ...optional('limit', wanted), ...(nextToken ? { nextToken } : {}) },
    });
    const page = parseAnswer(pageSchema(z.unknown()), answer, 'a page of results');
    items.push(...page.items);
    nextToken = page.nextToken ?? null;
    if (nextToken !== null) {
      if (seen.has(nextToken)) throw new CliError(`GET ${path} returned the same nextToken twice`);
      seen.add(nextToken);
    }
  } while (nextToken !== null && (limit === undefined || items.length < limit));
  return { items, nextToken };
}

const requestOptions: Options = {
  account: { type: 'string' },
  accounts: { type: 'string' },
  for: { type: 'string' },
  reason: { type: 'string' },
  ticket: { type: 'string' },
  'start-at': { type: 'string' },
};

function targetAccounts(values: Values): { accountId: string; accountIds?: string[] } {
  const single = str(values, 'account');
  const more = (str(values, 'accounts') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => accountOf('accounts', part));
  const first = single === undefined ? more[0] : accountOf('account', single);
  if (first === undefined) throw new UsageError('--account <12-digit account id> is required');
  if (str(values, 'accounts') === undefined) return { accountId: first };
  const all = [...new Set([first, ...more])];
  return { accountId: first, accountIds: all };
}

const decisionSubcommand = (
  action: 'approve' | 'deny' | 'cancel' | 'revoke' | 'review',
  summary: string,
): Subcommand => ({
  words: [action],
  summary,
  usage: `${action} <id> [--comment <text>]`,
  options: { comment: { type: 'string' } },
  positionals: ['id'],
  run: async (context) => {
    const id = requestIdOf(context.args[0]);
    const comment = textFlag(context.values, 'comment', 1000);
    const { api } = await connect(context);
    const answer = await api.call('POST', `/v1/requests/${id}/${action}`, {
      body: optional('comment', comment),
    });
    const code = printRequest(context, api, answer);
    if (action === 'revoke' && !context.flags.json) {
      const view = parseAnswer(RequestViewSchema, answer, 'a request');
      // The deny that ends sessions already issued is per (permission set, user), in every account.
      context.print(
        `note: every session of ${view.permissionSetName} that ${view.requesterName || view.requesterId} signed in to before this revocation now ends, in every account (a deny on the permission set, lifted after one session duration); other grants of it need a new sign-in.`,
      );
    }
    return code;
  },
});

const ClockSchema = z.object({ now: z.string(), offsetMs: z.number() });
const AdvanceSchema = ClockSchema.extend({
  fired: z.object({ schedules: z.number().int().nonnegative(), rules: z.array(z.string()) }),
});

function clockLine(clock: z.infer<typeof ClockSchema>): string {
  // The offset is from real time (an advance also lets real seconds pass), not the last step.
  const offset = Math.round(clock.offsetMs / 1000) * 1000;
  const relation =
    offset === 0
      ? 'real time'
      : `${humanDuration(Math.abs(offset))} ${offset > 0 ? 'ahead of' : 'behind'} real time`;
  return `clock: ${oneLine(clock.now)} (${relation})`;
}

async function localApi(context: SubcommandContext): Promise<ApiClient> {
  const mode = resolveMode(context.flags, context.io, context.deps);
  if (mode.kind !== 'local') {
    throw new UsageError(
      context.flags.apiUrl || context.io.env.PAM_API_URL
        ? '`pam local` works only in local mode, and PAM_API_URL (or --api-url) selects a deployed API'
        : '`pam local` needs the local runtime: no .pam/local.json found (run `make start`)',
    );
  }
  const user = context.flags.as ?? context.io.env.PAM_USER;
  return new ApiClient({
    baseUrl: mode.local.apiUrl,
    fetch: context.deps.fetch,
    authorize: async (): Promise<Record<string, string>> => (user ? { [LOCAL_USER_HEADER]: user } : {}),
    unreachableHint: 'is `make start` running?',
  });
}

export const SUBCOMMANDS: readonly Subcommand[] = [
  {
    words: ['request'],
    summary: 'ask for an entitlement',
    usage:
      'request <entitlementId> --account <12 digits> [--accounts a,b] [--for 1h|PT1H] [--reason <text>]\n' +
      '            [--ticket <id>] [--start-at <ISO date-time>]\n' +
      '  --accounts adds more accounts to the same all-or-nothing grant; --for defaults to the entitlement’s default',
    options: requestOptions,
    positionals: ['entitlementId'],
    run: async (context) => {
      const { values } = context;
      const entitlementId = entitlementIdOf(context.args[0]);
      const targets = targetAccounts(values);
      const duration = durationOf(values, 'for');
      const reason = textFlag(values, 'reason', 1000);
      const ticket = textFlag(values, 'ticket', 128);
      const startAt = str(values, 'start-at');
      if (startAt !== undefined && !z.iso.datetime({ offset: true }).safeParse(startAt).success) {
        throw new UsageError(
          '--start-at: expected an ISO-8601 date-time with Z or an offset, e.g. 2026-07-01T09:00Z',
        );
      }
      const { api } = await connect(context);
      const answer = await api.call('POST', '/v1/requests', {
        body: {
          entitlementId,
          ...targets,
          ...optional('duration', duration),
          ...optional('reason', reason),
          ...optional('ticket', ticket),
          ...optional('startAt', startAt),
        },
      });
      return printRequest(context, api, answer);
    },
  },
  {
    words: ['break-glass'],
    summary: 'activate an entitlement at once, reviewed afterwards',
    usage: 'break-glass <entitlementId> --account <12 digits> --reason <text> [--for 1h] [--ticket <id>]',
    options: {
      account: { type: 'string' },
      reason: { type: 'string' },
      for: { type: 'string' },
      ticket: { type: 'string' },
    },
    positionals: ['entitlementId'],
    run: async (context) => {
      const { values } = context;
      const entitlementId = entitlementIdOf(context.args[0]);
      const account = str(values, 'account');
      if (account === undefined) throw new UsageError('--account <12-digit account id> is required');
      const accountId = accountOf('account', account);
      const reason = textFlag(values, 'reason', 1000);
      if (reason === undefined) throw new UsageError('break-glass needs --reason <text>');
      const duration = durationOf(values, 'for');
      const ticket = textFlag(values, 'ticket', 128);
      const { api } = await connect(context);
      const answer = await api.call('POST', '/v1/break-glass', {
        body: {
          entitlementId,
          accountId,
          reason,
          ...optional('duration', duration),
          ...optional('ticket', ticket),
        },
      });
      return printRequest(context, api, answer);
    },
  },
  {
    words: ['list'],
    summary: 'my requests, or with --approvals the requests awaiting my approval',
    usage: 'list [--approvals] [--limit <n>]\n  follows every page unless --limit is given',
    options: { approvals: { type: 'boolean' }, limit: { type: 'string' } },
    positionals: [],
    run: async (context) => {
      const limit = limitOf(context.values);
      const approvals = context.values.approvals === true;
      const { api } = await connect(context);
      const page = await allPages(api, approvals ? '/v1/approvals' : '/v1/requests', limit);
      if (context.flags.json) {
        context.printJson(page);
        return 0;
      }
      const views = page.items.map((item) => parseAnswer(RequestViewSchema, item, 'a request'));
      context.print(...(approvals ? approvalsTable(views) : myRequestsTable(views, nowOf(context, api))));
      if (page.nextToken) context.print(`(more: the first ${views.length} are shown; raise --limit)`);
      return 0;
    },
  },
  {
    words: ['show'],
    summary: 'one request',
    usage: 'show <id>',
    options: {},
    positionals: ['id'],
    run: async (context) => {
      const id = requestIdOf(context.args[0]);
      const { api } = await connect(context);
      return printRequest(context, api, await api.call('GET', `/v1/requests/${id}`));
    },
  },
  decisionSubcommand('approve', 'approve a pending request (or extension)'),
  decisionSubcommand('deny', 'deny a pending request (or extension)'),
  decisionSubcommand('cancel', 'cancel your pending or scheduled request'),
  decisionSubcommand('revoke', 'end an approved or active grant now'),
  decisionSubcommand('review', 'review a break-glass activation'),
  {
    words: ['extend'],
    summary: 'ask for more time on an active grant',
    usage: 'extend <id> --by <1h|PT1H> [--reason <text>]',
    options: { by: { type: 'string' }, reason: { type: 'string' } },
    positionals: ['id'],
    run: async (context) => {
      const id = requestIdOf(context.args[0]);
      const duration = durationOf(context.values, 'by');
      if (duration === undefined) throw new UsageError('extend needs --by <duration>, e.g. --by 1h');
      const reason = textFlag(context.values, 'reason', 1000);
      const { api } = await connect(context);
      const answer = await api.call('POST', `/v1/requests/${id}/extend`, {
        body: { duration, ...optional('reason', reason) },
      });
      return printRequest(context, api, answer);
    },
  },
  {
    words: ['entitlements'],
    summary: 'what I may request or activate',
    usage: 'entitlements [--limit <n>]',
    options: { limit: { type: 'string' } },
    positionals: [],
    run: async (context) => {
      const limit = limitOf(context.values);
      const { api } = await connect(context);
      const page = await allPages(api, '/v1/entitlements', limit);
      if (context.flags.json) {
        context.printJson(page);
        return 0;
      }
      const views = page.items.map((item) => parseAnswer(EntitlementViewSchema, item, 'an entitlement'));
      context.print(...entitlementsTable(views));
      return 0;
    },
  },
  {
    words: ['audit', 'verify'],
    summary: 'verify the audit chains and that they prove every request record (reads the tables)',
    usage:
      'audit verify [--chain <chainId>] [--table <audit table>] [--access-table <access table>]\n' +
      '  table: --table, else PAM_AUDIT_TABLE, else the local runtime’s\n' +
      '  access table: --access-table, else PAM_ACCESS_TABLE, else the local runtime’s\n' +
      '  exit 0 all chains verify and every request is proven, 1 a chain is broken or a request unproven',
    options: { chain: { type: 'string' }, table: { type: 'string' }, 'access-table': { type: 'string' } },
    positionals: [],
    run: async (context) => {
      const mode = resolveMode(context.flags, context.io, context.deps);
      const table =
        str(context.values, 'table') ??
        context.io.env.PAM_AUDIT_TABLE ??
        (mode.kind === 'local' ? mode.local.auditTableName : undefined);
      if (!table) throw new UsageError('audit verify needs --table <audit table name> or PAM_AUDIT_TABLE');
      const chain = str(context.values, 'chain');
      const access =
        str(context.values, 'access-table') ??
        context.io.env.PAM_ACCESS_TABLE ??
        (mode.kind === 'local' ? mode.local.accessTableName : undefined);
      if (!access && needsAccessTable(chain)) {
        throw new UsageError(
          'audit verify needs --access-table <access table name> or PAM_ACCESS_TABLE (to check the request records)',
        );
      }
      const client = dynamoClientFor(mode, context.flags, context.deps);
      let result: Awaited<ReturnType<typeof verifyAuditTables>>;
      try {
        result = await verifyAuditTables(documentClient(client), { audit: table, access }, chain);
      } catch (error) {
        throw dynamoFailure(error, mode);
      } finally {
        client.destroy();
      }
      if (context.flags.json) context.printJson(result);
      else if (result.ok) {
        context.print(
          `audit verify: OK — ${result.chains} ${plural(result.chains, 'chain')}, ` +
            `${result.events} ${plural(result.events, 'event')}, ` +
            `${result.requests} ${plural(result.requests, 'request')}`,
        );
      } else {
        for (const broken of result.broken) {
          context.print(
            `audit verify: BROKEN ${oneLine(broken.chainId)} at seq ${broken.seq}: ${oneLine(broken.reason)}`,
          );
        }
        for (const request of result.unproven) {
          context.print(
            `audit verify: UNPROVEN request ${oneLine(request.requestId)}: ${oneLine(request.reasons.join('; '), 1000)}`,
          );
        }
      }
      if (!result.ok) {
        const failures: string[] = [];
        if (result.broken.length > 0) {
          const total = Math.max(result.chains, result.broken.length);
          failures.push(`${result.broken.length} of ${total} ${plural(total, 'chain')} broken`);
        }
        if (result.unproven.length > 0) {
          const total = Math.max(result.requests, result.unproven.length);
          failures.push(`${result.unproven.length} of ${total} ${plural(total, 'request')} unproven`);
        }
        throw new CliError(`audit verify failed: ${failures.join(', ')}`, 1);
      }
      return 0;
    },
  },
  {
    words: ['config', 'validate'],
    summary: 'validate an entitlements file (every problem with its field path)',
    usage: 'config validate <file>\n  exit 0 valid, 1 invalid, 2 unreadable',
    options: {},
    positionals: ['file'],
    run: async (context) => {
      const file = context.args[0] ?? '';
      const target =
        isAbsolute(file) || context.io.cwd === process.cwd() ? file : resolve(context.io.cwd, file);
      const result = validateConfigFile(target);
      if (!result.ok && result.unreadable) throw new CliError(result.issues[0] ?? `cannot read ${file}`);
      if (context.flags.json) {
        context.printJson(
          result.ok
            ? { ok: true, file, entitlements: result.config.entitlements.length, issues: [] }
            : { ok: false, file, issues: result.issues },
        );
      } else if (result.ok) {
        const count = result.config.entitlements.length;
        context.print(`OK ${file}: ${count} ${plural(count, 'entitlement')}`);
      } else {
        context.print(...result.issues);
      }
      if (!result.ok) {
        throw new CliError(
          `${file} is invalid: ${result.issues.length} ${plural(result.issues.length, 'problem')}`,
          1,
        );
      }
      return 0;
    },
  },
  {
    words: ['local', 'clock'],
    summary: 'the local runtime’s clock (local mode only)',
    usage: 'local clock',
    options: {},
    positionals: [],
    run: async (context) => {
      const api = await localApi(context);
      const answer = await api.call('GET', '/local/clock');
      if (context.flags.json) context.printJson(answer);
      else context.print(clockLine(parseAnswer(ClockSchema, answer, 'the clock')));
      return 0;
    },
  },
  {
    words: ['local', 'clock', 'advance'],
    summary: 'move the local clock forward and fire what is due (local mode only)',
    usage: 'local clock advance <duration>   e.g. 30m, 2h, 25h, 1d, PT2H',
    options: {},
    positionals: ['duration'],
    run: async (context) => {
      const text = context.args[0] ?? '';
      const parsed = parseDurationFlag(text);
      if (!parsed.ok) throw new UsageError(`${oneLine(text, 40)}: ${parsed.reason}`);
      const api = await localApi(context);
      const answer = await api.call('POST', '/local/clock/advance', { body: { by: parsed.iso } });
      if (context.flags.json) {
        context.printJson(answer);
        return 0;
      }
      const clock = parseAnswer(AdvanceSchema, answer, 'the advanced clock');
      const { schedules, rules } = clock.fired;
      context.print(
        `${clockLine(clock)}; fired ${schedules} ${plural(schedules, 'schedule')}, ` +
          `rules: ${rules.length ? rules.map((rule) => oneLine(rule, 60)).join(', ') : 'none'}`,
      );
      return 0;
    },
  },
];

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}

function dynamoFailure(failure: unknown, mode: Mode): CliError {
  if (failure instanceof CliError) return failure;
  // Every read is wrapped in a TableReadError naming its table; anything else is not DynamoDB's.
  const read = failure instanceof TableReadError ? failure : undefined;
  const error = read ? read.cause : failure;
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  const reason = oneLine(error instanceof Error ? error.message : String(error), 200);
  const label = typeof name === 'string' ? name : 'error';
  if (!read) return new CliError(`audit verify could not finish (${label}: ${reason})`);
  const what = `${read.role} table ${oneLine(read.table, 255)}`;
  if (name === 'ResourceNotFoundException') return new CliError(`${what} not found`);
  if (mode.kind === 'local' && (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String(error)))) {
    return new CliError(
      `cannot reach ${new URL(mode.local.awsEndpoint).origin} (is \`make start\` running?)`,
    );
  }
  return new CliError(`cannot read ${what} (${label}: ${reason})`);
}
