// The `/v1` JSON API: routes, their zod schemas, and the views they answer with. The caller has
// already been mapped to an Identity Store user id (SigV4 → PamRequester session → user); every
// route acts only as that id. Durations are ISO-8601 strings on the wire. Views carry the names
// recorded when each person acted, for people to read; ids stay the identities. Every answer's
// `Date` header is the server clock's time, so a client can tell how long a grant has left without
// trusting its own clock (the local runtime's clock may be moved; its gateway passes this header on).
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { CoreDeps } from '#app/deps.ts';
import { makeListRequestableEntitlements, type RequestableEntitlement } from '#app/entitlements.ts';
import {
  makeActivateBreakGlass,
  makeCreateRequest,
  makeDecideRequest,
  makeGetRequest,
  makeListAwaitingMyApproval,
  makeListMyRequests,
  type UserAction,
} from '#app/requests.ts';
import { type CreateSlackLinkCode, linkInstructions } from '#app/slack/link.ts';
import { formatIsoDuration, parseIsoDuration } from '#domain/duration.ts';
import { NotFoundError, SlackNotConfiguredError, ValidationError } from '#domain/errors.ts';
import type { AccessRequest, Approval } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import { assertCleanText } from '#domain/text.ts';
import * as z from '#domain/zod.ts';
import { json, parseJsonBody, parseQuery } from '#runtime/http.ts';

const isoDuration = z.pipe(
  z.string().check(
    z.maxLength(32),
    z.refine((text: string) => parseIsoDuration(text).ok, {
      error: 'expected an ISO-8601 duration such as PT2H',
    }),
  ),
  z.transform((text: string) => {
    const parsed = parseIsoDuration(text);
    return parsed.ok ? parsed.ms : 0;
  }),
);
/** Trimmed first, so surrounding whitespace neither counts towards the bounds nor is stored. */
const trimmed = (max: number) => z.string().check(z.trim(), z.minLength(1), z.maxLength(max));
const reason = trimmed(1000);
const ticket = trimmed(128);
const comment = trimmed(1000);
const entitlementId = z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected an entitlement id'));
const accountId = z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit AWS account id'));
const requestIdParam = z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a request id (ULID)'));

function requestIdOf(params: Readonly<Record<string, string>>): string {
  const parsed = requestIdParam.safeParse(params.id);
  if (!parsed.success) throw new ValidationError('path.id: expected a request id (ULID)');
  return parsed.data;
}

const CreateBody = z.strictObject({
  entitlementId,
  accountId,
  /** More accounts in the same grant (all or nothing); the first must equal accountId. */
  accountIds: z.optional(z.array(accountId).check(z.minLength(1), z.maxLength(20))),
  duration: z.optional(isoDuration),
  reason: z.optional(reason),
  ticket: z.optional(ticket),
  startAt: z.optional(z.iso.datetime({ offset: true })),
});
const BreakGlassBody = z.strictObject({
  entitlementId,
  accountId,
  duration: z.optional(isoDuration),
  reason,
  ticket: z.optional(ticket),
});
const DecisionBody = z.strictObject({ comment: z.optional(comment) });
const ExtendBody = z.strictObject({ duration: isoDuration, reason: z.optional(reason) });
const SlackLinkBody = z.strictObject({});
const PageQuery = z.strictObject({
  limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(100))),
  nextToken: z.optional(z.string().check(z.maxLength(2048))),
});

export interface ApprovalView {
  readonly approverId: string;
  /** Absent on approvals recorded before names were kept. */
  readonly approverName?: string;
  readonly at: string;
  readonly comment?: string;
}

function approvalView(approval: Approval): ApprovalView {
  return {
    approverId: approval.approverId,
    ...optional('approverName', approval.approverName),
    at: approval.at,
    ...(approval.comment ? { comment: approval.comment } : {}),
  };
}

/** What callers see of a request: person keys and the full snapshot stay internal. */
export function requestView(request: AccessRequest) {
  return {
    id: request.id,
    status: request.status,
    requesterId: request.requesterId,
    requesterName: request.requesterName ?? null,
    entitlementId: request.entitlementId,
    entitlementTitle: request.snapshot.entitlementTitle,
    accountId: request.accountId,
    accountIds: request.accountIds ?? [request.accountId],
    permissionSetName: request.snapshot.permissionSetName,
    duration: formatIsoDuration(request.durationMs),
    reason: request.reason ?? null,
    ticket: request.ticket ?? null,
    startAt: request.startAt ?? null,
    approvals: request.approvals.map(approvalView),
    approvalsRequired: request.snapshot.required,
    approverGroups: request.snapshot.approverGroups,
    denial: request.denial ?? null,
    cancellation: request.cancellation ?? null,
    revocation: request.revocation ?? null,
    extension: request.extension
      ? {
          requestedBy: request.extension.requestedBy,
          at: request.extension.at,
          additional: formatIsoDuration(request.extension.additionalMs),
          reason: request.extension.reason ?? null,
          approvals: request.extension.approvals.map(approvalView),
        }
      : null,
    grant: request.grant
      ? {
          grantVersion: request.grant.grantVersion,
          startedAt: request.grant.startedAt,
          expiresAt: request.grant.expiresAt,
          totalDuration: formatIsoDuration(request.grant.totalDurationMs),
        }
      : null,
    breakGlass: request.breakGlass ?? null,
    failure: request.failure ?? null,
    version: request.version,
    createdAt: request.createdAt,
    updatedAt: request.updatedAt,
    endedAt: request.endedAt ?? null,
  };
}

export function entitlementView(entitlement: RequestableEntitlement) {
  const { maxDurationMs, defaultDurationMs, ...rest } = entitlement;
  return {
    ...rest,
    maxDuration: formatIsoDuration(maxDurationMs),
    defaultDuration: formatIsoDuration(defaultDurationMs),
  };
}

interface RouteContext {
  readonly actorId: string;
  readonly params: Readonly<Record<string, string>>;
  readonly event: APIGatewayProxyEvent;
}

interface Route {
  readonly method: string;
  readonly path: RegExp;
  readonly params: readonly string[];
  readonly run: (context: RouteContext) => Promise<APIGatewayProxyResult>;
}

function route(method: string, template: string, run: Route['run']): Route {
  const params: string[] = [];
  const pattern = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    params.push(name);
    return '([^/]+)';
  });
  return { method, path: new RegExp(`^${pattern}/?$`), params, run };
}

function body(event: APIGatewayProxyEvent) {
  return { text: event.body, base64: event.isBase64Encoded };
}

/**
 * Builds the route table over the use cases. `createSlackLinkCode` is there when the deployment has a
 * `slack` section (absent: `/v1/slack/link` answers SLACK_NOT_CONFIGURED).
 */
export function makeV1Routes(
  deps: CoreDeps & { readonly createSlackLinkCode?: CreateSlackLinkCode | undefined },
): readonly Route[] {
  const createRequest = makeCreateRequest(deps);
  const activateBreakGlass = makeActivateBreakGlass(deps);
  const decideRequest = makeDecideRequest(deps);
  const getRequest = makeGetRequest(deps);
  const listMine = makeListMyRequests(deps);
  const listAwaiting = makeListAwaitingMyApproval(deps);
  const listEntitlements = makeListRequestableEntitlements(deps);

  const decision = (action: Exclude<UserAction, 'extend'>) =>
    route('POST', `/v1/requests/{id}/${action}`, async ({ actorId, params, event }) => {
      const requestId = requestIdOf(params);
      const { text, base64 } = body(event);
      const input = parseJsonBody(DecisionBody, text, base64);
      const request = await decideRequest({
        action,
        actorId,
        requestId,
        ...optional('comment', input.comment),
      });
      return json(200, requestView(request));
    });

  const routes = [
    route('POST', '/v1/requests', async ({ actorId, event }) => {
      const { text, base64 } = body(event);
      const input = parseJsonBody(CreateBody, text, base64);
      const request = await createRequest({
        actorId,
        entitlementId: input.entitlementId,
        accountId: input.accountId,
        ...optional('accountIds', input.accountIds),
        ...optional('durationMs', input.duration),
        ...optional('reason', input.reason),
        ...optional('ticket', input.ticket),
        ...optional('startAt', input.startAt),
      });
      return json(201, requestView(request));
    }),
    route('GET', '/v1/requests', async ({ actorId, event }) => {
      const query = parseQuery(PageQuery, event.queryStringParameters);
      const page = await listMine({ actorId, ...query });
      return json(200, { items: page.items.map(requestView), nextToken: page.nextToken ?? null });
    }),
    route('GET', '/v1/approvals', async ({ actorId, event }) => {
      const query = parseQuery(PageQuery, event.queryStringParameters);
      const page = await listAwaiting({ actorId, ...query });
      return json(200, { items: page.items.map(requestView), nextToken: page.nextToken ?? null });
    }),
    route('GET', '/v1/entitlements', async ({ actorId, event }) => {
      const query = parseQuery(PageQuery, event.queryStringParameters);
      const page = await listEntitlements({ actorId, ...query });
      return json(200, { items: page.items.map(entitlementView), nextToken: page.nextToken ?? null });
    }),
    route('GET', '/v1/requests/{id}', async ({ actorId, params }) => {
      const request = await getRequest({ actorId, requestId: requestIdOf(params) });
      return json(200, requestView(request));
    }),
    decision('approve'),
    decision('deny'),
    decision('cancel'),
    decision('revoke'),
    decision('review'),
    route('POST', '/v1/requests/{id}/extend', async ({ actorId, params, event }) => {
      const requestId = requestIdOf(params);
      const { text, base64 } = body(event);
      const input = parseJsonBody(ExtendBody, text, base64);
      const request = await decideRequest({
        action: 'extend',
        actorId,
        requestId,
        additionalMs: input.duration,
        ...optional('reason', input.reason),
      });
      return json(200, requestView(request));
    }),
    route('POST', '/v1/break-glass', async ({ actorId, event }) => {
      const { text, base64 } = body(event);
      const input = parseJsonBody(BreakGlassBody, text, base64);
      const request = await activateBreakGlass({
        actorId,
        entitlementId: input.entitlementId,
        accountId: input.accountId,
        reason: input.reason,
        ...optional('durationMs', input.duration),
        ...optional('ticket', input.ticket),
      });
      return json(201, requestView(request));
    }),
    // A one-time code that links the Slack account that types it to this caller (strict binding).
    route('POST', '/v1/slack/link', async ({ actorId, event }) => {
      const { text, base64 } = body(event);
      parseJsonBody(SlackLinkBody, text, base64);
      if (!deps.createSlackLinkCode) throw new SlackNotConfiguredError();
      const { code, expiresAt } = await deps.createSlackLinkCode({ actorId });
      return json(201, { code, expiresAt, instructions: linkInstructions(code) });
    }),
  ];
  return routes.map((candidate) => ({
    ...candidate,
    run: async (context: RouteContext) => dated(await candidate.run(context), deps.clock.now()),
  }));
}

/** The answer with the server's time as its `Date` (taken once the answer is made). */
function dated(answer: APIGatewayProxyResult, now: Date): APIGatewayProxyResult {
  return { ...answer, headers: { ...answer.headers, date: now.toUTCString() } };
}

/** A path parameter, percent-decoded and checked for clean text (named `path.<name>` if not). */
function decodePathPart(name: string, part: string | undefined): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(part ?? '');
  } catch {
    throw new ValidationError('path: malformed percent-encoding');
  }
  assertCleanText(decoded, `path.${name}`);
  return decoded;
}

/** Finds the route for a method and path; an unknown path is a 404 in the API's error format. */
export function dispatch(routes: readonly Route[], event: APIGatewayProxyEvent, actorId: string) {
  const path = event.path.replace(/^\/(?!v1\/)[^/]+(?=\/v1\/)/, '');
  for (const candidate of routes) {
    if (candidate.method !== event.httpMethod) continue;
    const match = candidate.path.exec(path);
    if (!match) continue;
    const params = Object.fromEntries(
      candidate.params.map((name, index) => [name, decodePathPart(name, match[index + 1])]),
    );
    return candidate.run({ actorId, params, event });
  }
  throw new NotFoundError(`no route ${event.httpMethod} ${path}`);
}
