// The `IdentityCenter` port over the sso-admin API: account assignments, their asynchronous status,
// a permission set's inline policy and its re-provisioning. Each call is one request (plus retries);
// nothing here waits for an operation to finish — the provisioning worker polls `…Status` with its
// own budget and re-enqueues a status check rather than hold a FIFO group (docs/architecture.md §5.2).
//
// Identity Center allows about 20 TPS across all its APIs, shared with every other caller in the
// account, and 10 outstanding asynchronous assignment operations. A throttled call (and a
// `ConflictException`, whose API reference says "a retry (with appropriate backoff logic) is the
// recommended response") was not carried out, so it is retried here with exponential backoff and full
// jitter, a bounded number of times, then rethrown so the queue's own retry and DLQ take over. This
// runs on top of the SDK client's retry strategy, which spends its few attempts within a second.
//
// Every status answer is validated with zod: a response without a RequestId or a known Status is an
// error, never a guessed SUCCEEDED (fail closed).
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DeleteInlinePolicyFromPermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetProvisioningStatusCommand,
  GetInlinePolicyForPermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListAccountsForProvisionedPermissionSetCommand,
  ListPermissionSetProvisioningStatusCommand,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  type SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { formatIssues } from '#domain/text.ts';
import * as z from '#domain/zod.ts';
import type { AssignmentTuple, IdentityCenter, OperationStatus } from '#ports/grants.ts';

/** Retries after a throttle or conflict before the error is rethrown (so up to 6 calls in all). */
export const DEFAULT_MAX_THROTTLE_RETRIES = 5;
/** First backoff ceiling; it doubles per retry up to `MAX_BACKOFF_MS`. */
export const BASE_BACKOFF_MS = 200;
export const MAX_BACKOFF_MS = 5_000;
/** ListAccountAssignments' largest page. */
const LIST_PAGE_SIZE = 100;

export interface SsoAdminIdentityCenterOptions {
  readonly client: SSOAdminClient;
  readonly instanceArn: string;
  /** Waits between retries; tests pass a recorder. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly maxThrottleRetries?: number;
  /** Source of jitter in [0, 1); tests pin it. */
  readonly random?: () => number;
}

/** Identity Center answered with something this adapter cannot trust. Never shown to a caller. */
export class IdentityCenterResponseError extends Error {
  constructor(operation: string, error: z.core.$ZodError) {
    super(`unexpected ${operation} response from Identity Center: ${formatIssues(error.issues, '')}`);
    this.name = 'IdentityCenterResponseError';
  }
}

// Moto answers `null` or omits members the real service omits; FailureReason may be either.
const operationStatusSchema = z.object({
  Status: z.enum(['IN_PROGRESS', 'SUCCEEDED', 'FAILED']),
  RequestId: z.string().check(z.minLength(1)),
  FailureReason: z.nullish(z.string()),
});

const creationStatusSchema = z.object({ AccountAssignmentCreationStatus: operationStatusSchema });
const deletionStatusSchema = z.object({ AccountAssignmentDeletionStatus: operationStatusSchema });
const provisioningStatusSchema = z.object({ PermissionSetProvisioningStatus: operationStatusSchema });

const assignmentsPageSchema = z.object({
  AccountAssignments: z.nullish(
    z.array(z.object({ PrincipalType: z.nullish(z.string()), PrincipalId: z.nullish(z.string()) })),
  ),
  NextToken: z.nullish(z.string()),
});

const inlinePolicySchema = z.object({ InlinePolicy: z.nullish(z.string()) });
const accountsPageSchema = z.object({
  AccountIds: z.nullish(z.array(z.string())),
  NextToken: z.nullish(z.string()),
});
const provisioningPageSchema = z.object({
  PermissionSetsProvisioningStatus: z.nullish(
    z.array(z.object({ RequestId: z.string().check(z.minLength(1)), Status: z.nullish(z.string()) })),
  ),
  NextToken: z.nullish(z.string()),
});
const provisioningDetailSchema = z.object({
  PermissionSetProvisioningStatus: z.extend(operationStatusSchema, {
    PermissionSetArn: z.nullish(z.string()),
  }),
});

function parse<T extends z.core.$ZodType>(schema: T, operation: string, value: unknown): z.output<T> {
  const result = z.safeParse(schema, value);
  if (!result.success) throw new IdentityCenterResponseError(operation, result.error);
  return result.data;
}

function toOperationStatus(status: z.infer<typeof operationStatusSchema>): OperationStatus {
  return {
    status: status.Status,
    operationId: status.RequestId,
    ...(status.FailureReason ? { failureReason: status.FailureReason } : {}),
  };
}

/** Throttled, or a write that raced an earlier one: not carried out, safe to send again. */
export function isRetryableIdentityCenterError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata } = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return name === 'ThrottlingException' || name === 'ConflictException' || $metadata?.httpStatusCode === 429;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SsoAdminIdentityCenter implements IdentityCenter {
  private readonly client: SSOAdminClient;
  private readonly instanceArn: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxRetries: number;
  private readonly random: () => number;

  constructor(options: SsoAdminIdentityCenterOptions) {
    if (!options.instanceArn) throw new Error('SsoAdminIdentityCenter needs an instanceArn');
    this.client = options.client;
    this.instanceArn = options.instanceArn;
    this.sleep = options.sleep ?? defaultSleep;
    this.maxRetries = Math.max(0, options.maxThrottleRetries ?? DEFAULT_MAX_THROTTLE_RETRIES);
    this.random = options.random ?? Math.random;
  }

  async createAssignment(tuple: AssignmentTuple): Promise<OperationStatus> {
    const response = await this.withRetry((c) =>
      c.send(new CreateAccountAssignmentCommand({ InstanceArn: this.instanceArn, ...assignmentOf(tuple) })),
    );
    return toOperationStatus(
      parse(creationStatusSchema, 'CreateAccountAssignment', response).AccountAssignmentCreationStatus,
    );
  }

  async deleteAssignment(tuple: AssignmentTuple): Promise<OperationStatus> {
    let response: unknown;
    try {
      response = await this.withRetry((c) =>
        c.send(new DeleteAccountAssignmentCommand({ InstanceArn: this.instanceArn, ...assignmentOf(tuple) })),
      );
    } catch (error) {
      // Already gone (removed by hand, by drift removal, or by an earlier attempt): the goal holds.
      if (error instanceof Error && error.name === 'ResourceNotFoundException') {
        return { status: 'SUCCEEDED', operationId: 'already-deleted' };
      }
      throw error;
    }
    return toOperationStatus(
      parse(deletionStatusSchema, 'DeleteAccountAssignment', response).AccountAssignmentDeletionStatus,
    );
  }

  async creationStatus(operationId: string): Promise<OperationStatus> {
    const response = await this.withRetry((c) =>
      c.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: this.instanceArn,
          AccountAssignmentCreationRequestId: operationId,
        }),
      ),
    );
    return toOperationStatus(
      parse(creationStatusSchema, 'DescribeAccountAssignmentCreationStatus', response)
        .AccountAssignmentCreationStatus,
    );
  }

  async deletionStatus(operationId: string): Promise<OperationStatus> {
    const response = await this.withRetry((c) =>
      c.send(
        new DescribeAccountAssignmentDeletionStatusCommand({
          InstanceArn: this.instanceArn,
          AccountAssignmentDeletionRequestId: operationId,
        }),
      ),
    );
    return toOperationStatus(
      parse(deletionStatusSchema, 'DescribeAccountAssignmentDeletionStatus', response)
        .AccountAssignmentDeletionStatus,
    );
  }

  async listUserAssignments(accountId: string, permissionSetArn: string): Promise<readonly string[]> {
    const userIds = new Set<string>();
    const seenTokens = new Set<string>();
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const response = await this.withRetry((c) =>
        c.send(
          new ListAccountAssignmentsCommand({
            InstanceArn: this.instanceArn,
            AccountId: accountId,
            PermissionSetArn: permissionSetArn,
            MaxResults: LIST_PAGE_SIZE,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      const page = parse(assignmentsPageSchema, 'ListAccountAssignments', response);
      for (const assignment of page.AccountAssignments ?? []) {
        // Group assignments are not cloud-pam's to manage; a user one without an id is unusable.
        if (assignment.PrincipalType === 'USER' && assignment.PrincipalId)
          userIds.add(assignment.PrincipalId);
      }
      nextToken = page.NextToken || undefined;
      if (nextToken) {
        // A token handed back twice would loop forever; a partial list must not pass as whole (drift
        // and reference counts are decided from it).
        if (seenTokens.has(nextToken))
          throw new Error('ListAccountAssignments returned the same NextToken twice');
        seenTokens.add(nextToken);
      }
    } while (nextToken);
    return [...userIds];
  }

  async getInlinePolicy(permissionSetArn: string): Promise<string | undefined> {
    const response = await this.withRetry((c) =>
      c.send(
        new GetInlinePolicyForPermissionSetCommand({
          InstanceArn: this.instanceArn,
          PermissionSetArn: permissionSetArn,
        }),
      ),
    );
    const { InlinePolicy } = parse(inlinePolicySchema, 'GetInlinePolicyForPermissionSet', response);
    // A permission set without an inline policy answers an empty string (or nothing).
    return InlinePolicy?.trim() ? InlinePolicy : undefined;
  }

  /**
   * Replaces the inline policy. An empty document removes it — the inverse of `getInlinePolicy`
   * answering undefined — since PutInlinePolicyToPermissionSet refuses an empty policy.
   */
  async putInlinePolicy(permissionSetArn: string, document: string): Promise<void> {
    const target = { InstanceArn: this.instanceArn, PermissionSetArn: permissionSetArn };
    if (!document.trim()) {
      await this.withRetry((c) => c.send(new DeleteInlinePolicyFromPermissionSetCommand(target)));
      return;
    }
    await this.withRetry((c) =>
      c.send(new PutInlinePolicyToPermissionSetCommand({ ...target, InlinePolicy: document })),
    );
  }

  async provisionPermissionSet(permissionSetArn: string): Promise<OperationStatus> {
    const response = await this.withRetry((c) =>
      c.send(
        new ProvisionPermissionSetCommand({
          InstanceArn: this.instanceArn,
          PermissionSetArn: permissionSetArn,
          TargetType: 'ALL_PROVISIONED_ACCOUNTS',
        }),
      ),
    );
    return toOperationStatus(
      parse(provisioningStatusSchema, 'ProvisionPermissionSet', response).PermissionSetProvisioningStatus,
    );
  }

  async permissionSetProvisioningStatus(operationId: string): Promise<OperationStatus> {
    const response = await this.withRetry((c) =>
      c.send(
        new DescribePermissionSetProvisioningStatusCommand({
          InstanceArn: this.instanceArn,
          ProvisionPermissionSetRequestId: operationId,
        }),
      ),
    );
    return toOperationStatus(
      parse(provisioningStatusSchema, 'DescribePermissionSetProvisioningStatus', response)
        .PermissionSetProvisioningStatus,
    );
  }

  async staleAccounts(permissionSetArn: string): Promise<readonly string[]> {
    const accounts: string[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const response = await this.withRetry((c) =>
        c.send(
          new ListAccountsForProvisionedPermissionSetCommand({
            InstanceArn: this.instanceArn,
            PermissionSetArn: permissionSetArn,
            ProvisioningStatus: 'LATEST_PERMISSION_SET_NOT_PROVISIONED',
            MaxResults: LIST_PAGE_SIZE,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      const page = parse(accountsPageSchema, 'ListAccountsForProvisionedPermissionSet', response);
      accounts.push(...(page.AccountIds ?? []));
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return accounts;
  }

  async provisioningInProgress(permissionSetArn: string): Promise<string | undefined> {
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const response = await this.withRetry((c) =>
        c.send(
          new ListPermissionSetProvisioningStatusCommand({
            InstanceArn: this.instanceArn,
            Filter: { Status: 'IN_PROGRESS' },
            MaxResults: LIST_PAGE_SIZE,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      const page = parse(provisioningPageSchema, 'ListPermissionSetProvisioningStatus', response);
      for (const { RequestId } of page.PermissionSetsProvisioningStatus ?? []) {
        const detail = parse(
          provisioningDetailSchema,
          'DescribePermissionSetProvisioningStatus',
          await this.withRetry((c) =>
            c.send(
              new DescribePermissionSetProvisioningStatusCommand({
                InstanceArn: this.instanceArn,
                ProvisionPermissionSetRequestId: RequestId,
              }),
            ),
          ),
        ).PermissionSetProvisioningStatus;
        if (detail.PermissionSetArn === permissionSetArn && detail.Status === 'IN_PROGRESS') return RequestId;
      }
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return undefined;
  }

  /**
   * Sends a fresh command per attempt (a command carries per-send middleware state) and retries a
   * throttle or conflict after a full-jitter backoff: a random wait in [0, min(cap, base·2^n)).
   */
  private async withRetry<T>(call: (client: SSOAdminClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(this.client);
      } catch (error) {
        if (attempt >= this.maxRetries || !isRetryableIdentityCenterError(error)) throw error;
        const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
        await this.sleep(Math.floor(this.random() * ceiling));
      }
    }
  }
}

function assignmentOf(tuple: AssignmentTuple) {
  return {
    TargetId: tuple.accountId,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: tuple.permissionSetArn,
    PrincipalType: 'USER',
    PrincipalId: tuple.userId,
  } as const;
}
