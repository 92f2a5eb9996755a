// "Entitlements I may request": one uncached group read, then a lookup in an index built once per
// catalog (group → entitlements), so the answer costs the same for 10 or 10,000 entitlements.
import { ValidationError } from '#domain/errors.ts';
import type { Entitlement } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import type { EntitlementCatalog, Page, PageRequest } from '#ports/index.ts';
import { resolveActor } from './actors.ts';
import type { CoreDeps } from './deps.ts';

export interface RequestableEntitlement {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly kind: Entitlement['kind'];
  readonly accounts: readonly string[];
  readonly permissionSetName: string;
  readonly maxDurationMs: number;
  readonly defaultDurationMs: number;
  readonly requireReason: boolean;
  readonly ticketPattern?: string;
  readonly approvalsRequired: number;
  readonly autoApprove: boolean;
  /** The user may request it through the normal approval flow. */
  readonly eligible: boolean;
  /** The user may activate it as break-glass. */
  readonly breakGlass: boolean;
}

interface GroupIndex {
  readonly order: ReadonlyMap<string, number>;
  readonly eligible: ReadonlyMap<string, readonly Entitlement[]>;
  readonly breakGlass: ReadonlyMap<string, readonly Entitlement[]>;
}

const indexes = new WeakMap<EntitlementCatalog, GroupIndex>();

function indexOf(catalog: EntitlementCatalog): GroupIndex {
  const cached = indexes.get(catalog);
  if (cached) return cached;
  const eligible = new Map<string, Entitlement[]>();
  const breakGlass = new Map<string, Entitlement[]>();
  const order = new Map<string, number>();
  catalog.list().forEach((entitlement, position) => {
    order.set(entitlement.id, position);
    for (const group of entitlement.eligible)
      eligible.set(group, [...(eligible.get(group) ?? []), entitlement]);
    for (const group of entitlement.breakGlass)
      breakGlass.set(group, [...(breakGlass.get(group) ?? []), entitlement]);
  });
  const index = { order, eligible, breakGlass };
  indexes.set(catalog, index);
  return index;
}

function toView(entitlement: Entitlement, eligible: boolean, breakGlass: boolean): RequestableEntitlement {
  return {
    id: entitlement.id,
    title: entitlement.title,
    ...optional('description', entitlement.description),
    kind: entitlement.kind,
    accounts: entitlement.target.accounts,
    permissionSetName: entitlement.target.permissionSet.name,
    maxDurationMs: entitlement.maxDurationMs,
    defaultDurationMs: entitlement.defaultDurationMs,
    requireReason: entitlement.requireReason,
    ...optional('ticketPattern', entitlement.ticketPattern),
    approvalsRequired: entitlement.approval.required,
    autoApprove: entitlement.approval.autoApprove,
    eligible,
    breakGlass,
  };
}

function offsetOf(token: string | undefined): number {
  if (token === undefined) return 0;
  const offset = Number(Buffer.from(token, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new ValidationError('nextToken: expected a token returned by a previous call');
  }
  return offset;
}

/** Lists, in config order, the entitlements the actor may request or activate as break-glass. */
export function makeListRequestableEntitlements(deps: CoreDeps) {
  return async (input: { actorId: string } & PageRequest): Promise<Page<RequestableEntitlement>> => {
    const actor = await resolveActor(deps.directory, deps.catalog, input.actorId);
    const index = indexOf(deps.catalog);
    const eligibleIds = new Set<string>();
    const breakGlassIds = new Set<string>();
    const found = new Map<string, Entitlement>();
    for (const group of actor.groups) {
      for (const entitlement of index.eligible.get(group) ?? []) {
        eligibleIds.add(entitlement.id);
        found.set(entitlement.id, entitlement);
      }
      for (const entitlement of index.breakGlass.get(group) ?? []) {
        breakGlassIds.add(entitlement.id);
        found.set(entitlement.id, entitlement);
      }
    }
    const sorted = [...found.values()].sort(
      (a, b) => (index.order.get(a.id) ?? 0) - (index.order.get(b.id) ?? 0),
    );
    const limit = Math.min(Math.max(input.limit ?? 100, 1), 1000);
    const offset = offsetOf(input.nextToken);
    const items = sorted
      .slice(offset, offset + limit)
      .map((entitlement) =>
        toView(entitlement, eligibleIds.has(entitlement.id), breakGlassIds.has(entitlement.id)),
      );
    const nextOffset = offset + limit;
    return nextOffset < sorted.length
      ? { items, nextToken: Buffer.from(String(nextOffset), 'utf8').toString('base64url') }
      : { items };
  };
}
