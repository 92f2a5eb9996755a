// Boots the local runtime in-process (its own moto, the synthesized bundles in worker threads) and
// drives it the way a person does: the `pam` CLI (in-process, with the real HTTP client and the real
// local.json) and plain HTTP. State is checked directly in moto with the hub's credentials.
// Background polling is off: a test waits for the event sources with `settle()` instead of sleeping.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  GetInlinePolicyForPermissionSetCommand,
  ListAccountAssignmentsCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { defaultDeps } from '../../cli/context.ts';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.ts';
import { runCliWith } from '../support/cli-run.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (for `--json` runs). */
  json<T = Record<string, unknown>>(): T;
}

export interface E2e {
  readonly runtime: LocalRuntime;
  readonly stateDir: string;
  pam(...argv: string[]): Promise<CliRun>;
  /** Runs the event sources until nothing is left to do. */
  settle(): Promise<void>;
  /** USER assignments of `permissionSetName` in `accountId`, as moto lists them (user ids). */
  assignments(accountId: string, permissionSetName: string): Promise<string[]>;
  permissionSetArn(name: string): string;
  userId(name: string): string;
  /** A permission set's inline policy document as moto holds it (undefined when it has none). */
  inlinePolicy(
    permissionSetName: string,
  ): Promise<{ Statement: { Sid?: string; Effect: string }[] } | undefined>;
  /** Audit events of one chain, straight from the audit table. */
  auditEvents(chainId: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

/** `log` receives the runtime's console lines (default: dropped). */
export async function bootE2e(options: { readonly log?: (line: string) => void } = {}): Promise<E2e> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'pam-e2e-'));
  const runtime = await startLocalRuntime({
    stateDir,
    port: 0,
    pollIntervalMs: 0,
    log: options.log ?? (() => {}),
  });
  const config = {
    endpoint: runtime.awsEndpoint,
    region: runtime.region,
    credentials: runtime.credentials,
    maxAttempts: 1,
  };
  const ssoAdmin = new SSOAdminClient(config);
  const dynamo = new DynamoDBClient(config);
  const arnOf = (name: string): string => {
    const env = runtime.functions.get('provision-access')?.spec.environment.PERMISSION_SET_ARNS;
    const arn = (JSON.parse(env ?? '{}') as Record<string, string>)[name];
    if (!arn) throw new Error(`no permission set ${name}`);
    return arn;
  };
  return {
    runtime,
    stateDir,
    async pam(...argv) {
      const run = await runCliWith(defaultDeps, argv, {
        env: { PAM_LOCAL_FILE: runtime.localFile },
        cwd: stateDir,
      });
      return { ...run, json: <T>() => JSON.parse(run.stdout) as T };
    },
    async settle() {
      await runtime.settle();
    },
    async assignments(accountId, permissionSetName) {
      const users: string[] = [];
      let token: string | undefined;
      do {
        const page = await ssoAdmin.send(
          new ListAccountAssignmentsCommand({
            InstanceArn: runtime.directory.instanceArn,
            AccountId: accountId,
            PermissionSetArn: arnOf(permissionSetName),
            ...(token ? { NextToken: token } : {}),
          }),
        );
        for (const a of page.AccountAssignments ?? [])
          if (a.PrincipalType === 'USER' && a.PrincipalId) users.push(a.PrincipalId);
        token = page.NextToken ?? undefined;
      } while (token);
      return users;
    },
    permissionSetArn: arnOf,
    async inlinePolicy(permissionSetName) {
      const { InlinePolicy } = await ssoAdmin.send(
        new GetInlinePolicyForPermissionSetCommand({
          InstanceArn: runtime.directory.instanceArn,
          PermissionSetArn: arnOf(permissionSetName),
        }),
      );
      return InlinePolicy ? JSON.parse(InlinePolicy) : undefined;
    },
    userId(name) {
      const id = runtime.directory.userIds[name];
      if (!id) throw new Error(`no demo user ${name}`);
      return id;
    },
    async auditEvents(chainId) {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, never> | undefined;
      do {
        const page = await dynamo.send(
          new ScanCommand({ TableName: runtime.tables.audit, ExclusiveStartKey: start }),
        );
        for (const item of page.Items ?? []) items.push(unmarshall(item));
        start = page.LastEvaluatedKey as Record<string, never> | undefined;
      } while (start);
      return (
        items
          // seq 0 is the chain's head item, not an event.
          .filter((item) => item.chainId === chainId && Number(item.seq) > 0)
          .sort((a, b) => Number(a.seq) - Number(b.seq))
      );
    },
    async stop() {
      ssoAdmin.destroy();
      dynamo.destroy();
      await runtime.stop();
    },
  };
}
