// The notify-slack worker's use case: one Slack job (shared/app/slack/jobs.ts) at a time, from the
// Slack FIFO queue.
// - `render`: the approval message of a request, always from the request's *current* state (read
//   at send time, never from the job), posted once in the approvers' channel
//   (`approval.slackChannel ?? slack.approversChannel`) and updated in place after; the message's
//   channel, ts and rendered version are kept, and a version already shown is never rendered again,
//   so a late retry cannot put stale state back. The requester gets a DM at each change, once per
//   version.
// - `fill-request-modal`, `list`, `link`, `home`: the deferred halves of `/pam` and the App Home.
// Slack failures are thrown: the queue retries, and past its retries the message lands in the DLQ
// (metric + log in the handler). A person cloud-pam will not act for gets a refusal, not a retry.
//
// Why the requester's DM goes *before* the channel post or update: the message reference can only
// move forward (`SlackStore.putMessage` writes only a higher `renderedVersion`), so the DM's
// `notifiedVersion` has to be written in the same write as the render. Sending the DM first means a
// failed post is retried with the DM (the requester may be told twice about that one change); the
// other order would lose the DM instead, or post a second channel message if the reference were
// written before the DM.
import { PamError, RetryableError } from '#domain/errors.ts';
import type { AccessRequest, Entitlement, SlackConfig } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import type { AccessStore, Clock, Directory, EntitlementCatalog } from '#ports/index.ts';
import {
  type SlackApi,
  SlackApiError,
  type SlackMessage,
  type SlackMessageRef,
  type SlackStore,
} from '#ports/slack.ts';
import type { SlackActors } from '../commands.ts';
import type { CoreDeps } from '../deps.ts';
import { makeListRequestableEntitlements } from '../entitlements.ts';
import { makeListAwaitingMyApproval, makeListMyRequests } from '../requests.ts';
import type { SlackJob, SlackOrigin } from './jobs.ts';
import {
  approvalMessage,
  homeNoticeView,
  homeView,
  linkedMessage,
  listMessage,
  refusalMessage,
  refusalView,
  requesterDm,
  requestModal,
} from './render.ts';

/** Structured log lines (Powertools' Logger fits). Never given an email, a user id, a code or a URL. */
export interface SlackWorkerLog {
  info(message: string, details?: Readonly<Record<string, string | number | boolean>>): void;
  warn(message: string, details?: Readonly<Record<string, string | number | boolean>>): void;
}

/** What `/pam list` and the App Home show: newest requests of mine, and what awaits my decision. */
export interface SlackLists {
  mine(userId: string): Promise<readonly AccessRequest[]>;
  awaiting(userId: string): Promise<readonly AccessRequest[]>;
}

/** One-time link codes (`pam slack link`), bound to the Slack user who types one (strict binding). */
export interface SlackLinkCodes {
  /**
   * Binds `origin`'s Slack user to the code's Identity Store user and uses the code up, answering
   * that user's id (shared/app/slack/link.ts). A code that is unknown, used or expired is refused
   * with a PamError (or `undefined`), as is a Slack user cloud-pam will not act for (a guest).
   */
  consume(code: string, origin: SlackOrigin): Promise<string | undefined>;
}

export interface SlackWorkerDeps {
  readonly store: Pick<AccessStore, 'get'>;
  readonly catalog: EntitlementCatalog;
  readonly slack: SlackApi;
  readonly slackStore: SlackStore;
  readonly directory: Pick<Directory, 'getUser'>;
  /** The Slack → Identity Store binding (shared/app/slack/identity.ts). */
  readonly actors: SlackActors;
  readonly lists: SlackLists;
  /** The entitlements the user may request through the normal flow (`makeEntitlementsFor`). */
  readonly entitlementsFor: (userId: string) => Promise<readonly Entitlement[]>;
  readonly linkCodes: SlackLinkCodes;
  readonly clock: Clock;
  readonly log?: SlackWorkerLog;
}

export type RenderOutcome =
  | 'posted'
  | 'updated'
  | 'up-to-date'
  | 'superseded'
  | 'no-request'
  | 'not-configured';
export type DmOutcome = 'sent' | 'skipped' | 'already-sent';

/** What a job did, for the handler's log line (ids of requests only; no people, codes or URLs). */
export type SlackJobOutcome =
  | {
      readonly kind: 'render';
      readonly requestId: string;
      readonly outcome: RenderOutcome;
      readonly version?: number;
      readonly dm?: DmOutcome;
    }
  | {
      readonly kind: Exclude<SlackJob['kind'], 'render'>;
      readonly outcome: 'done' | 'linked' | 'invalid-code' | 'refused';
      /** The refusal's PamError code. */
      readonly code?: string;
    };

type RenderJob = Extract<SlackJob, { kind: 'render' }>;
type PersonJob = Exclude<SlackJob, RenderJob>;

/** Where the requester's DM goes, or why it does not. */
type DmTarget = { readonly slackUserId: string } | { readonly skipped: string };

const INVALID_LINK_CODE =
  'That link code is not valid or has expired. Run `pam slack link` for a new one: each code works once, for a few minutes.';

const SILENT: SlackWorkerLog = { info: () => {}, warn: () => {} };

/** A final refusal (the person is told); a retryable PamError or anything else is not one. */
function refusalOf(error: unknown): PamError | undefined {
  return error instanceof PamError && !(error instanceof RetryableError) ? error : undefined;
}

/** A Slack refusal that trying again will not change (as opposed to an outage: thrown, retried). */
function finalSlackRefusal(error: unknown): SlackApiError | undefined {
  return error instanceof SlackApiError && !error.retryable ? error : undefined;
}

function admitted(config: SlackConfig, info: { teamId: string; enterpriseId?: string }): boolean {
  return (
    config.teamIds.includes(info.teamId) ||
    (info.enterpriseId !== undefined && config.enterpriseIds.includes(info.enterpriseId))
  );
}

export function makeSlackWorker(deps: SlackWorkerDeps) {
  const log = deps.log ?? SILENT;

  /**
   * The requester's Slack user: the one remembered on the message, else (email binding) the Slack
   * account with the Identity Store user's email, when it is one cloud-pam would act for. In strict
   * binding only a link counts, and links are kept by Slack user only (no way back from the
   * Identity Store user yet), so the DM is skipped.
   */
  async function requesterTarget(
    request: AccessRequest,
    config: SlackConfig,
    ref: SlackMessageRef | undefined,
  ): Promise<DmTarget> {
    if (ref?.requesterSlackId) return { slackUserId: ref.requesterSlackId };
    if (config.identityBinding === 'strict') return { skipped: 'strict-binding-no-link-lookup' };
    const user = await deps.directory.getUser(request.requesterId);
    if (!user?.email) return { skipped: 'no-email' };
    let info: Awaited<ReturnType<SlackApi['lookupUserByEmail']>>;
    try {
      info = await deps.slack.lookupUserByEmail(user.email);
    } catch (error) {
      const refused = finalSlackRefusal(error);
      if (!refused) throw error;
      return { skipped: `lookup-${refused.code}` };
    }
    if (!info) return { skipped: 'no-slack-user' };
    if (info.deleted || info.isBot) return { skipped: 'slack-user-inactive' };
    if (info.isRestricted || info.isUltraRestricted || info.isStranger)
      return { skipped: 'slack-user-refused' };
    if (!admitted(config, info)) return { skipped: 'workspace' };
    return { slackUserId: info.id };
  }

  /** Posts the message, or updates it in place (re-posting when it was deleted in Slack). */
  async function show(
    request: AccessRequest,
    config: SlackConfig,
    entitlement: Entitlement | undefined,
    ref: SlackMessageRef | undefined,
    message: SlackMessage,
  ): Promise<{ channel: string; ts: string; outcome: 'posted' | 'updated' }> {
    if (ref) {
      try {
        await deps.slack.updateMessage(ref.channel, ref.ts, message);
        return { channel: ref.channel, ts: ref.ts, outcome: 'updated' };
      } catch (error) {
        if (!(error instanceof SlackApiError && error.code === 'message_not_found')) throw error;
        log.warn('approval message gone from Slack; posting it again', { requestId: request.id });
      }
    }
    const channel = ref?.channel ?? entitlement?.approval.slackChannel ?? config.approversChannel;
    const posted = await deps.slack.postMessage(channel, message);
    return { channel: posted.channel, ts: posted.ts, outcome: 'posted' };
  }

  async function render(job: RenderJob): Promise<SlackJobOutcome> {
    const request = await deps.store.get(job.requestId);
    if (!request) {
      log.warn('render of an unknown request: nothing to show', { requestId: job.requestId });
      return { kind: 'render', requestId: job.requestId, outcome: 'no-request' };
    }
    const config = deps.catalog.config.slack;
    if (!config) {
      log.warn('render without a slack config section: nothing sent', { requestId: request.id });
      return { kind: 'render', requestId: request.id, outcome: 'not-configured' };
    }
    const ref = await deps.slackStore.getMessage(request.id);
    if (ref && ref.renderedVersion >= request.version) {
      return { kind: 'render', requestId: request.id, outcome: 'up-to-date', version: ref.renderedVersion };
    }
    const now = deps.clock.now();

    let requesterSlackId = ref?.requesterSlackId;
    let dm: DmOutcome = 'already-sent';
    if ((ref?.notifiedVersion ?? 0) < request.version) {
      const target = await requesterTarget(request, config, ref);
      if ('skipped' in target) {
        dm = 'skipped';
        log.warn('requester DM skipped: no Slack user to send it to', {
          requestId: request.id,
          reason: target.skipped,
        });
      } else {
        try {
          await deps.slack.postMessage(target.slackUserId, requesterDm(request, { now }));
          dm = 'sent';
          requesterSlackId = target.slackUserId;
        } catch (error) {
          const refused = finalSlackRefusal(error);
          if (!refused) throw error;
          // Forgotten, so the next change looks the requester up again (a new account, a new id).
          dm = 'skipped';
          requesterSlackId = undefined;
          log.warn('requester DM refused by Slack', { requestId: request.id, reason: refused.code });
        }
      }
    }

    const entitlement = deps.catalog.get(request.entitlementId);
    const message = approvalMessage(request, { ...optional('entitlement', entitlement), now });
    const shown = await show(request, config, entitlement, ref, message);
    const written = await deps.slackStore.putMessage({
      requestId: request.id,
      channel: shown.channel,
      ts: shown.ts,
      renderedVersion: request.version,
      ...optional('requesterSlackId', requesterSlackId),
      notifiedVersion: request.version,
    });
    if (!written) {
      // A newer render was recorded while ours was in flight (the FIFO group makes this rare). Slack
      // shows whichever update landed last, which may be ours: show the current state once more.
      log.warn('a newer render was recorded meanwhile', { requestId: request.id, version: request.version });
      const [current, latest] = await Promise.all([
        deps.store.get(request.id),
        deps.slackStore.getMessage(request.id),
      ]);
      if (current && latest) {
        const entitlementNow = deps.catalog.get(current.entitlementId);
        await deps.slack.updateMessage(
          latest.channel,
          latest.ts,
          approvalMessage(current, { ...optional('entitlement', entitlementNow), now: deps.clock.now() }),
        );
      }
      return { kind: 'render', requestId: request.id, outcome: 'superseded', version: request.version, dm };
    }
    return { kind: 'render', requestId: request.id, outcome: shown.outcome, version: request.version, dm };
  }

  /** A deferred answer: through the response_url (ephemeral) when there is one, else a DM. */
  async function reply(origin: SlackOrigin, message: SlackMessage): Promise<void> {
    if (origin.responseUrl) await deps.slack.respond(origin.responseUrl, message);
    else await deps.slack.postMessage(origin.userId, message);
  }

  /**
   * Runs `work` for the Slack user's Identity Store user; a final refusal (identity, eligibility)
   * is shown to them with `refuse` instead of being retried.
   */
  async function asPerson(
    job: PersonJob,
    work: () => Promise<SlackJobOutcome>,
    refuse: (message: string) => Promise<void>,
  ): Promise<SlackJobOutcome> {
    try {
      return await work();
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      await refuse(refusal.message);
      log.info('Slack user refused', { kind: job.kind, code: refusal.code });
      return { kind: job.kind, outcome: 'refused', code: refusal.code };
    }
  }

  async function handle(job: SlackJob): Promise<SlackJobOutcome> {
    switch (job.kind) {
      case 'render':
        return render(job);
      case 'fill-request-modal':
        return asPerson(
          job,
          async () => {
            const userId = await deps.actors.identify(job.origin);
            const entitlements = await deps.entitlementsFor(userId);
            await deps.slack.updateView(job.viewId, requestModal({ entitlements }));
            return { kind: job.kind, outcome: 'done' };
          },
          (message) => deps.slack.updateView(job.viewId, refusalView(message)),
        );
      case 'list':
        return asPerson(
          job,
          async () => {
            const { mine, awaiting } = await listsOf(job.origin);
            await reply(job.origin, listMessage({ mine, awaiting, now: deps.clock.now() }));
            return { kind: job.kind, outcome: 'done' };
          },
          (message) => reply(job.origin, refusalMessage(message)),
        );
      case 'link':
        return asPerson(
          job,
          async () => {
            const linked = await deps.linkCodes.consume(job.code, job.origin);
            if (linked === undefined) {
              await reply(job.origin, refusalMessage(INVALID_LINK_CODE));
              return { kind: job.kind, outcome: 'invalid-code' };
            }
            await reply(job.origin, linkedMessage());
            return { kind: job.kind, outcome: 'linked' };
          },
          (message) => reply(job.origin, refusalMessage(message)),
        );
      case 'home':
        return asPerson(
          job,
          async () => {
            const { mine, awaiting } = await listsOf(job.origin);
            await deps.slack.publishHome(
              job.origin.userId,
              homeView({ mine, awaiting, now: deps.clock.now() }),
            );
            return { kind: job.kind, outcome: 'done' };
          },
          (message) => deps.slack.publishHome(job.origin.userId, homeNoticeView(message)),
        );
    }
  }

  /** What `/pam list` and the App Home show: the Slack user's requests and what awaits their decision. */
  async function listsOf(origin: SlackOrigin) {
    const userId = await deps.actors.identify(origin);
    const [mine, awaiting] = await Promise.all([deps.lists.mine(userId), deps.lists.awaiting(userId)]);
    return { mine, awaiting };
  }

  return { handle };
}

/** Requests of mine shown in Slack (newest first; one page). */
const MINE_LIMIT = 50;
/** Pages of the awaiting list read at most (each page is one status partition read). */
const AWAITING_PAGES = 4;
const AWAITING_PAGE_LIMIT = 100;

/** `SlackLists` over the request core's list use cases (what `pam list` and `/v1` answer). */
export function makeSlackLists(deps: CoreDeps): SlackLists {
  const listMine = makeListMyRequests(deps);
  const listAwaiting = makeListAwaitingMyApproval(deps);
  return {
    mine: async (userId) => (await listMine({ actorId: userId, limit: MINE_LIMIT })).items,
    awaiting: async (userId) => {
      const items: AccessRequest[] = [];
      let nextToken: string | undefined;
      for (let page = 0; page < AWAITING_PAGES; page++) {
        const found = await listAwaiting({
          actorId: userId,
          limit: AWAITING_PAGE_LIMIT,
          ...optional('nextToken', nextToken),
        });
        items.push(...found.items);
        nextToken = found.nextToken;
        if (!nextToken) break;
      }
      return items;
    },
  };
}

/**
 * The entitlements a user may request through the normal (approved) flow, in config order: what
 * `/v1/entitlements` lists with `eligible`, as the catalog's entitlements. Break-glass-only ones are
 * left out: Slack requests are never break-glass.
 */
export function makeEntitlementsFor(deps: CoreDeps): (userId: string) => Promise<readonly Entitlement[]> {
  const list = makeListRequestableEntitlements(deps);
  return async (userId) => {
    const found: Entitlement[] = [];
    let nextToken: string | undefined;
    do {
      const page = await list({ actorId: userId, limit: 1000, ...optional('nextToken', nextToken) });
      for (const item of page.items) {
        const entitlement = item.eligible ? deps.catalog.get(item.id) : undefined;
        if (entitlement) found.push(entitlement);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return found;
  };
}
