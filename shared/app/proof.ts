// Access follows the audit chain, not the record: the checks the use cases and the grant engine
// make before anything widens access (an approval that completes quorum, an extension, a start, a
// provisioning, an activation), and the refusal they record when the record or a message claims
// more than the chain proves. See shared/domain/grant-proof.ts for what a chain proves.
import { requestChainId } from '#domain/audit-types.ts';
import { type ChainProof, proveFromChain, unprovenClaims } from '#domain/grant-proof.ts';
import type { AccessRequest, Approval } from '#domain/model.ts';
import { groupsPinnedBySnapshot, intersects } from '#domain/policy.ts';
import type { CoreDeps } from './deps.ts';
import { systemRejection } from './rejections.ts';

export async function proofOf(deps: Pick<CoreDeps, 'audit'>, requestId: string): Promise<ChainProof> {
  return proveFromChain(await deps.audit.readChain(requestChainId(requestId)));
}

/** What the record claims beyond its chain (empty when the chain proves it all). */
export async function unproven(deps: Pick<CoreDeps, 'audit'>, request: AccessRequest): Promise<string[]> {
  return unprovenClaims(request, await proofOf(deps, request.id));
}

/** Whether the requester is still active and in a group the snapshot makes eligible (read uncached). */
export async function requesterStillEligible(
  deps: Pick<CoreDeps, 'directory' | 'catalog'>,
  request: AccessRequest,
): Promise<boolean> {
  // Break-glass activations were checked against the break-glass groups; they are not re-checked.
  const groupsThatCount = request.breakGlass
    ? request.snapshot.breakGlassGroups
    : request.snapshot.eligibleGroups;
  const [user, groups] = await Promise.all([
    deps.directory.getUser(request.requesterId),
    deps.directory.groupsOf(request.requesterId),
  ]);
  return user?.active === true && intersects(pinnedGroups(deps, request, groups), groupsThatCount);
}

function pinnedGroups(
  deps: Pick<CoreDeps, 'catalog'>,
  request: AccessRequest,
  groups: readonly string[],
): string[] {
  return groupsPinnedBySnapshot(groups, request.snapshot, deps.catalog.config.identityCenter.groupIds);
}

/** The approvals whose approvers are, right now, still in one of the snapshot's approver groups. */
export async function approvalsStillCounting(
  deps: Pick<CoreDeps, 'directory' | 'catalog'>,
  request: AccessRequest,
  approvals: readonly Approval[],
): Promise<Approval[]> {
  const verdicts = await Promise.all(
    approvals.map(async (approval) => {
      const [user, groups] = await Promise.all([
        deps.directory.getUser(approval.approverId),
        deps.directory.groupsOf(approval.approverId),
      ]);
      return (
        user?.active === true &&
        intersects(pinnedGroups(deps, request, groups), request.snapshot.approverGroups)
      );
    }),
  );
  return approvals.filter((_, index) => verdicts[index]);
}

/**
 * Records that access was refused because it was not proven: on the `system` chain (never the
 * request's, which a forger may be trying to extend), and to the alarm. Never throws: the refusal
 * stands whatever happens to its record.
 */
export async function refuseUnproven(
  deps: Pick<CoreDeps, 'audit' | 'clock' | 'diagnostics'>,
  refusal: { check: string; requestId?: string; problems: readonly string[] },
): Promise<void> {
  deps.diagnostics?.unprovenAccessRefused?.(refusal);
  try {
    await deps.audit.append(
      systemRejection(deps.clock.now(), {
        requestId: refusal.requestId ?? null,
        reason: `refused ${refusal.check}: not proven by the audit chain`,
        details: { check: refusal.check, problems: refusal.problems.map((p) => p.slice(0, 300)) },
      }),
    );
  } catch (error) {
    deps.diagnostics?.auditOfRejectionFailed({
      action: refusal.check,
      code: 'RECORD_NOT_PROVEN',
      ...(refusal.requestId ? { requestId: refusal.requestId } : {}),
      error,
    });
  }
}
