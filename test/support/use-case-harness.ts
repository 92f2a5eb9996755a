// The request-core use cases over the in-memory ports (./fakes.ts), as the unit tests drive them: a
// harness with the use cases bound to one set of fakes, and small helpers (refusal codes, paging).
import {
  type CreateRequestInput,
  type DecisionInput,
  makeApplySystemCommand,
  makeCreateRequest,
  makeDecideRequest,
} from '#app/requests.ts';
import { requestChainId } from '#domain/audit-types.ts';
import type { AccessRequest } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import type { Page, PageRequest } from '#ports/index.ts';
import { ACCOUNTS, makeTestDeps, VALID_JUSTIFICATION } from './fakes.ts';

export const MINUTE = 60_000;
/** What a decision adds to who, what and which request: a comment, or an extension's time and reason. */
type DecisionDetails<A extends DecisionInput['action']> = A extends 'extend'
  ? { readonly additionalMs?: number; readonly reason?: string }
  : { readonly comment?: string };
export const HOUR = 60 * MINUTE;

export function harness(options: Parameters<typeof makeTestDeps>[0] = {}) {
  const t = makeTestDeps(options);
  const createRequest = makeCreateRequest(t.deps);
  const decideRequest = makeDecideRequest(t.deps);
  const applySystem = makeApplySystemCommand(t.deps);
  return {
    ...t,
    createRequest,
    decideRequest,
    applySystem,
    /** Opens a request a minute after the previous one (so creation order is unambiguous). */
    async open(requester: string, entitlementId: string, extra: Partial<CreateRequestInput> = {}) {
      t.clock.advance(MINUTE);
      return createRequest({
        actorId: requester,
        entitlementId,
        accountId: ACCOUNTS.prod,
        ...VALID_JUSTIFICATION,
        ...extra,
      });
    },
    async decideAs<A extends DecisionInput['action']>(
      actorId: string,
      requestId: string,
      action: A,
      extra: DecisionDetails<A> = {},
    ) {
      t.clock.advance(MINUTE);
      return decideRequest({ actorId, requestId, action, ...extra } as DecisionInput);
    },
    /** APPROVED → PROVISIONING → ACTIVE through the system commands. */
    async activate(requestId: string) {
      await applySystem(requestId, { type: 'start-provisioning' });
      return (await applySystem(requestId, { type: 'activate' })).request;
    },
    chain: (requestId: string) => t.audit.readChain(requestChainId(requestId)),
  };
}

export async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

export async function collect<T>(
  list: (input: { actorId: string } & PageRequest) => Promise<Page<T>>,
  actorId: string,
  limit: number,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await list({ actorId, limit, ...optional('nextToken', nextToken) });
    items.push(...page.items);
    nextToken = page.nextToken;
    pages += 1;
    if (pages > 50) throw new Error('pagination does not terminate');
  } while (nextToken !== undefined);
  return { items, pages };
}

export const ids = (requests: readonly AccessRequest[]) => requests.map((request) => request.id);
