// Property tests: random command sequences by random people (requester, their second account,
// approvers, admin, outsiders, a disabled user) with random clock advances. The state machine must
// keep its invariants after every step, and the use cases over the in-memory ports must leave an
// audit chain that verifies and counts exactly the changes and the refusals.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DecisionInput,
  makeActivateBreakGlass,
  makeApplySystemCommand,
  makeCreateRequest,
  makeDecideRequest,
  type UserAction,
} from '#app/requests.ts';
import { verifyChain } from '#domain/audit.ts';
import { requestChainId } from '#domain/audit-types.ts';
import { PamError } from '#domain/errors.ts';
import {
  type AccessRequest,
  type Approval,
  REQUEST_STATUSES,
  type RequestStatus,
  TERMINAL_STATUSES,
} from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import { intersects, samePerson } from '#domain/policy.ts';
import { type Command, decide, type Outcome, openBreakGlass, openRequest } from '#domain/state-machine.ts';
import {
  at,
  FIXTURE_ID,
  fixtureActor,
  fixtureCatalog,
  fixtureConfig,
  fixtureEntitlement,
  fixtureEntitlements,
  GROUPS,
  makeTestDeps,
  PROD_ADMIN,
  READ_ONLY,
  SANDBOX,
  U,
  VALID_JUSTIFICATION,
} from '../support/fakes.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ALL_USERS = Object.values(U);
const APPROVED_PATH: ReadonlySet<RequestStatus> = new Set([
  'APPROVED',
  'SCHEDULED',
  'PROVISIONING',
  'ACTIVE',
  'EXTENSION_PENDING',
  'FAILED',
  'EXPIRED',
  'REVOKED',
]);

// ---------------------------------------------------------------------------------------------
// Generators

interface Start {
  readonly entitlementId: string;
  readonly requester: string;
  readonly breakGlass: boolean;
  readonly withStartAt: boolean;
}

const startArb: fc.Arbitrary<Start> = fc.record({
  entitlementId: fc.constantFrom(READ_ONLY, PROD_ADMIN, SANDBOX),
  requester: fc.constantFrom(U.eve, U.erin, U.aliceAlt),
  breakGlass: fc.boolean(),
  withStartAt: fc.boolean(),
});

/** Stands for whoever made the request (resolved per run). */
const REQUESTER = '@requester';

/** Approvers and the requester come up more often than outsiders, so sequences reach the later statuses. */
const actorIdArb = fc.oneof(
  { arbitrary: fc.constantFrom(U.alice, U.bob, U.aliceAlt), weight: 4 },
  { arbitrary: fc.constant(REQUESTER), weight: 2 },
  { arbitrary: fc.constantFrom(...ALL_USERS), weight: 3 },
);

interface UserStep {
  readonly kind: 'user';
  readonly action: UserAction;
  readonly actorId: string;
  readonly additionalMs: number;
  /** The decider's comment, or for `extend` the requester's reason. */
  readonly text?: string;
}
interface SystemStep {
  readonly kind: 'system';
  readonly command: Exclude<Command, { actor: unknown }>;
}
/** "Whatever moves this request along the normal path now" (so runs reach the deep statuses). */
interface ProgressStep {
  readonly kind: 'progress';
  readonly variant: number;
}
type Step = UserStep | SystemStep | ProgressStep;
type ConcreteStep = UserStep | SystemStep;

const userStepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constant('user' as const),
  action: fc.constantFrom<UserAction>('approve', 'approve', 'deny', 'cancel', 'revoke', 'extend', 'review'),
  actorId: actorIdArb,
  additionalMs: fc.oneof(
    fc.constantFrom(30 * MINUTE, HOUR, 2 * HOUR, 5 * HOUR),
    fc.integer({ min: -HOUR, max: 9 * HOUR }),
  ),
  text: fc.option(fc.constantFrom('because', '  ', 'ok'), { nil: undefined }),
});

const systemStepArb: fc.Arbitrary<Step> = fc
  .oneof(
    fc.constant({ type: 'timeout', approvalTimeoutMs: 0 } as const),
    fc.constant({ type: 'schedule' } as const),
    fc.constant({ type: 'start-provisioning' } as const),
    fc.constant({ type: 'activate' } as const),
    fc.constant({ type: 'fail', failure: 'assignment FAILED' } as const),
    fc.integer({ min: 0, max: 3 }).map((grantVersion) => ({ type: 'expire', grantVersion }) as const),
  )
  .map((command) => ({ kind: 'system' as const, command }));

const progressStepArb: fc.Arbitrary<Step> = fc
  .nat(5)
  .map((variant) => ({ kind: 'progress' as const, variant }));

const anyStepArb = fc.oneof(
  { arbitrary: userStepArb, weight: 3 },
  { arbitrary: systemStepArb, weight: 2 },
  { arbitrary: progressStepArb, weight: 3 },
);

const stepArb = fc.record({
  step: anyStepArb,
  advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 * HOUR })),
});

const stepsArb = fc.array(stepArb, { minLength: 1, maxLength: 40 });

const CANDIDATE_APPROVERS = [U.alice, U.bob, U.aliceAlt] as const;

function nextApprover(request: AccessRequest, counted: readonly Approval[]): string | undefined {
  const requester = { userId: request.requesterId, personKeys: request.requesterPersonKeys };
  return CANDIDATE_APPROVERS.find((userId) => {
    const candidate = fixtureActor(userId);
    return (
      intersects(candidate.groups, request.snapshot.approverGroups) &&
      !samePerson(candidate, requester) &&
      !counted.some((approval) =>
        samePerson({ userId: approval.approverId, personKeys: approval.personKeys }, candidate),
      )
    );
  });
}

/** Turns a step into a concrete one for this request and requester. */
function resolve(step: Step, request: AccessRequest, requester: string): ConcreteStep {
  if (step.kind === 'user') return step.actorId === REQUESTER ? { ...step, actorId: requester } : step;
  if (step.kind === 'system') return step;
  const system = (command: SystemStep['command']): SystemStep => ({ kind: 'system', command });
  const approve = (counted: readonly Approval[]): ConcreteStep => {
    const approver = nextApprover(request, counted);
    return approver
      ? { kind: 'user', action: 'approve', actorId: approver, additionalMs: 0 }
      : system({ type: 'timeout', approvalTimeoutMs: 0 });
  };
  switch (request.status) {
    case 'PENDING':
      return approve(request.approvals);
    case 'EXTENSION_PENDING':
      return approve(request.extension?.approvals ?? []);
    case 'APPROVED':
      return system({ type: request.startAt && step.variant % 2 === 0 ? 'schedule' : 'start-provisioning' });
    case 'SCHEDULED':
      return system({ type: 'start-provisioning' });
    case 'PROVISIONING':
      return system({ type: 'activate' });
    case 'ACTIVE':
      if (step.variant % 3 === 0)
        return system({ type: 'expire', grantVersion: request.grant?.grantVersion ?? 1 });
      return {
        kind: 'user',
        action: 'extend',
        actorId: requester,
        additionalMs: 30 * MINUTE,
        text: 'because',
      };
    default:
      return system({ type: 'expire', grantVersion: request.grant?.grantVersion ?? 1 });
  }
}

function commandOf(step: ConcreteStep): Command {
  if (step.kind === 'system') return step.command;
  // Named as resolveActor names a fixture user: no display name, so its user name (its id).
  const actor = { ...fixtureActor(step.actorId), displayName: step.actorId };
  if (step.action === 'extend') {
    return {
      type: 'extend',
      actor,
      additionalMs: step.additionalMs,
      ...optional('reason', step.text),
    };
  }
  return { type: step.action, actor, ...optional('comment', step.text) };
}

/** The same step as the use case's input. */
function decisionOf(step: UserStep, requestId: string): DecisionInput {
  const { action, actorId } = step;
  return action === 'extend'
    ? { action, actorId, requestId, additionalMs: step.additionalMs, ...optional('reason', step.text) }
    : { action, actorId, requestId, ...optional('comment', step.text) };
}

function open(start: Start, now: Date): Outcome {
  const entitlement = fixtureEntitlement(start.entitlementId);
  const requester = fixtureActor(start.requester);
  const base = {
    id: FIXTURE_ID,
    requester,
    entitlement,
    configHash: fixtureConfig().configHash,
    accountId: entitlement.target.accounts[0] as string,
    ...VALID_JUSTIFICATION,
    now,
  };
  if (start.breakGlass && intersects(requester.groups, entitlement.breakGlass)) return openBreakGlass(base);
  return openRequest({ ...base, ...(start.withStartAt ? { startAt: new Date(now.getTime() + HOUR) } : {}) });
}

// ---------------------------------------------------------------------------------------------
// Invariants

function assertNoDoubleCounting(approvals: readonly Approval[], request: AccessRequest): void {
  for (const [index, approval] of approvals.entries()) {
    expect(approval.approverId).not.toBe(request.requesterId);
    expect(intersects(approval.personKeys, request.requesterPersonKeys)).toBe(false);
    for (const other of approvals.slice(index + 1)) {
      expect(
        samePerson(
          { userId: approval.approverId, personKeys: approval.personKeys },
          { userId: other.approverId, personKeys: other.personKeys },
        ),
      ).toBe(false);
    }
  }
}

/** What must hold of any request, whatever happened to it. */
function assertInvariants(request: AccessRequest, initial: AccessRequest): void {
  expect(REQUEST_STATUSES).toContain(request.status);
  expect(request.snapshot).toEqual(initial.snapshot);
  assertNoDoubleCounting(request.approvals, request);
  if (request.extension) assertNoDoubleCounting(request.extension.approvals, request);
  if (request.status === 'EXTENSION_PENDING') expect(request.extension).toBeDefined();
  if (APPROVED_PATH.has(request.status) && !request.snapshot.autoApprove && !request.breakGlass) {
    expect(request.approvals.length).toBeGreaterThanOrEqual(request.snapshot.required);
  }
  if (request.grant)
    expect(request.grant.totalDurationMs).toBeLessThanOrEqual(request.snapshot.maxTotalDurationMs);
}

/** What must hold of one step from `before` to `after`. */
function assertStep(before: AccessRequest, outcome: Outcome | PamError): void {
  if (outcome instanceof PamError) return;
  const after = outcome.request;
  if (TERMINAL_STATUSES.has(before.status)) expect(after.status).toBe(before.status);
  if (outcome.changed) {
    expect(after.version).toBe(before.version + 1);
    expect(outcome.events.length).toBeGreaterThanOrEqual(1);
    for (const event of outcome.events) expect(event.chainId).toBe(requestChainId(before.id));
  } else {
    expect(after).toBe(before);
    expect(outcome.events).toEqual([]);
  }
}

function attempt(request: AccessRequest, command: Command, now: Date): Outcome | PamError {
  try {
    return decide(request, command, now);
  } catch (error) {
    // Every refusal is a domain error, never a TypeError or a bare Error.
    expect(error).toBeInstanceOf(PamError);
    return error as PamError;
  }
}

// ---------------------------------------------------------------------------------------------
// Properties of the pure state machine

describe('the invariant checks themselves', () => {
  it.each<{ name: string; tamper: (request: AccessRequest) => AccessRequest }>([
    {
      name: 'an approval counted twice for one person',
      tamper: (request) => ({
        ...request,
        status: 'APPROVED',
        approvals: [
          { approverId: U.alice, at: at(1).toISOString(), personKeys: fixtureActor(U.alice).personKeys },
          {
            approverId: U.aliceAlt,
            at: at(2).toISOString(),
            personKeys: fixtureActor(U.aliceAlt).personKeys,
          },
        ],
      }),
    },
    {
      name: 'an approval by the requester',
      tamper: (request) => ({
        ...request,
        approvals: [{ approverId: U.eve, at: at(1).toISOString(), personKeys: [`user:${U.eve}`] }],
      }),
    },
    { name: 'an approved status without quorum', tamper: (request) => ({ ...request, status: 'ACTIVE' }) },
    {
      name: 'a changed snapshot',
      tamper: (request) => ({ ...request, snapshot: { ...request.snapshot, required: 1 } }),
    },
  ])('catch $name (so the properties below can fail)', ({ tamper }) => {
    // Prepare
    const initial = open(
      { entitlementId: PROD_ADMIN, requester: U.eve, breakGlass: false, withStartAt: false },
      at(0),
    ).request;

    // Act / Assess
    expect(() => assertInvariants(initial, initial)).not.toThrow();
    expect(() => assertInvariants(tamper(initial), initial)).toThrow();
  });
});

describe('state machine under random command sequences', () => {
  it('keeps every invariant after every step', () => {
    const reached = new Set<RequestStatus>();
    fc.assert(
      fc.property(startArb, stepsArb, (start, steps) => {
        // Prepare
        let now = at(0);
        const initial = open(start, now).request;
        let request = initial;
        assertInvariants(request, initial);

        for (const { step, advanceMs } of steps) {
          now = new Date(now.getTime() + advanceMs);
          const before = request;

          // Act
          const outcome = attempt(before, commandOf(resolve(step, before, start.requester)), now);

          // Assess
          assertStep(before, outcome);
          if (!(outcome instanceof PamError)) request = outcome.request;
          assertInvariants(request, initial);
          reached.add(request.status);
        }
      }),
      { numRuns: 400 },
    );
    // The generators are worth something only if they reach the deep states.
    expect([...reached].sort()).toEqual(
      expect.arrayContaining(['ACTIVE', 'EXTENSION_PENDING', 'EXPIRED', 'REVOKED', 'DENIED']),
    );
  });

  it('never lets a refusal or a no-op change the request', () => {
    fc.assert(
      fc.property(startArb, stepsArb, (start, steps) => {
        let now = at(0);
        let request = open(start, now).request;
        for (const { step, advanceMs } of steps) {
          now = new Date(now.getTime() + advanceMs);
          const snapshotBefore = structuredClone(request);

          // Act
          const outcome = attempt(request, commandOf(resolve(step, request, start.requester)), now);

          // Assess: decide is pure; its input is untouched whatever it answers
          expect(request).toEqual(snapshotBefore);
          if (outcome instanceof PamError || !outcome.changed) continue;
          request = outcome.request;
        }
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Model-based property through the use cases and the in-memory ports

/** Refusals the use cases write to the request chain (see rejections.ts). */
const NOT_AUDITED = new Set(['CONCURRENT_MODIFICATION', 'AUDIT_UNAVAILABLE', 'NOT_FOUND', 'UNAUTHENTICATED']);

const useCaseStepArb = fc.record({
  step: anyStepArb,
  advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 * HOUR })),
  auditOutage: fc.oneof(
    { arbitrary: fc.constant(false), weight: 9 },
    { arbitrary: fc.constant(true), weight: 1 },
  ),
});

describe('use cases under random command sequences', () => {
  it('keep a verifying audit chain whose length counts the changes and the audited refusals', async () => {
    const reached = new Set<RequestStatus>();
    await fc.assert(
      fc.asyncProperty(
        startArb,
        fc.array(useCaseStepArb, { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        async (start, steps, relaxConfigAfterCreate) => {
          // Prepare
          const h = makeTestDeps();
          const entitlement = fixtureEntitlement(start.entitlementId);
          const input = {
            actorId: start.requester,
            entitlementId: start.entitlementId,
            accountId: entitlement.target.accounts[0] as string,
            ...VALID_JUSTIFICATION,
          };
          const breakGlass =
            start.breakGlass && fixtureActor(start.requester).groups.includes(GROUPS.breakGlass);
          const created =
            breakGlass && start.entitlementId === PROD_ADMIN
              ? await makeActivateBreakGlass(h.deps)(input)
              : await makeCreateRequest(h.deps)({
                  ...input,
                  ...(start.withStartAt
                    ? { startAt: new Date(h.clock.now().getTime() + HOUR).toISOString() }
                    : {}),
                });
          // "Snapshot decides": the current config may now ask for a single approval from anyone.
          const relaxed = fixtureCatalog(
            fixtureConfig({
              configHash: 'b'.repeat(64),
              entitlements: fixtureEntitlements().map((entry) => ({
                ...entry,
                approval: {
                  approvers: [...entry.approval.approvers, GROUPS.engineers],
                  required: 1,
                  autoApprove: false,
                },
                maxDurationMs: 24 * HOUR,
                maxTotalDurationMs: 48 * HOUR,
              })),
            }),
          );
          const deps = relaxConfigAfterCreate ? { ...h.deps, catalog: relaxed } : h.deps;
          const decideRequest = makeDecideRequest(deps);
          const applySystem = makeApplySystemCommand(deps);
          const chainId = requestChainId(created.id);
          let expectedLength = (await h.audit.readChain(chainId)).length;
          expect(expectedLength).toBeGreaterThanOrEqual(1);
          let model = created;

          for (const { step: generated, advanceMs, auditOutage } of steps) {
            h.clock.advance(advanceMs);
            const now = h.clock.now();
            const step = resolve(generated, model, start.requester);
            // The model's prediction, from the pure domain over the stored snapshot.
            const disabled = step.kind === 'user' && step.actorId === U.dan;
            const predicted = disabled ? undefined : attempt(model, commandOf(step), now);
            h.audit.unavailable = auditOutage;

            // Act
            let actual: AccessRequest | PamError;
            try {
              actual =
                step.kind === 'user'
                  ? await decideRequest(decisionOf(step, created.id))
                  : (await applySystem(created.id, step.command)).request;
            } catch (error) {
              expect(error).toBeInstanceOf(PamError);
              actual = error as PamError;
            }
            h.audit.unavailable = false;

            // Assess
            if (disabled) {
              expect((actual as PamError).code).toBe('UNAUTHENTICATED');
            } else if (predicted instanceof PamError) {
              expect(actual).toBeInstanceOf(PamError);
              expect((actual as PamError).code).toBe(predicted.code);
              if (step.kind === 'user' && !auditOutage && !NOT_AUDITED.has(predicted.code))
                expectedLength += 1;
            } else if (predicted?.changed && auditOutage) {
              expect((actual as PamError).code).toBe('AUDIT_UNAVAILABLE');
            } else if (predicted) {
              expect(actual).toEqual(predicted.request);
              expectedLength += predicted.events.length;
              model = predicted.request;
            }
            const stored = await h.store.get(created.id);
            expect(stored).toEqual(model);
            assertInvariants(model, created);
            const chain = await h.audit.readChain(chainId);
            expect(chain).toHaveLength(expectedLength);
            expect(verifyChain(chain)).toEqual({ ok: true, length: expectedLength });
            reached.add(model.status);
          }
        },
      ),
      { numRuns: 150 },
    );
    expect([...reached]).toEqual(expect.arrayContaining(['ACTIVE', 'EXTENSION_PENDING', 'EXPIRED']));
  });

  it('needs the snapshot quorum of 2 even when the current config asks for 1', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            actorId: actorIdArb,
            action: fc.constantFrom<UserAction>('approve', 'approve', 'deny'),
          }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        async (decisions) => {
          // Prepare
          const h = makeTestDeps();
          const created = await makeCreateRequest(h.deps)({
            actorId: U.eve,
            entitlementId: PROD_ADMIN,
            accountId: fixtureEntitlement(PROD_ADMIN).target.accounts[0] as string,
            ...VALID_JUSTIFICATION,
          });
          const oneApproval = fixtureCatalog(
            fixtureConfig({
              entitlements: fixtureEntitlements().map((entry) =>
                entry.id === PROD_ADMIN ? { ...entry, approval: { ...entry.approval, required: 1 } } : entry,
              ),
            }),
          );
          const decideRequest = makeDecideRequest({ ...h.deps, catalog: oneApproval });

          for (const { actorId, action } of decisions) {
            // Act
            const result = await decideRequest({ actorId, action, requestId: created.id }).catch(
              (error: unknown) => {
                expect(error).toBeInstanceOf(PamError);
                return undefined;
              },
            );

            // Assess
            const stored = (await h.store.get(created.id)) as AccessRequest;
            if (result) expect(result).toEqual(stored);
            if (stored.status === 'APPROVED') expect(stored.approvals.length).toBe(2);
            if (stored.status === 'PENDING') expect(stored.approvals.length).toBeLessThan(2);
            expect(stored.snapshot.required).toBe(2);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
