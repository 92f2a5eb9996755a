// Who may send which command. The commands queue takes `actorId` from the message body, so a queue
// policy naming several senders would let any one of them approve as anybody or forge a revocation.
// The worker therefore checks each command against the role that sent it: SQS stamps every message
// with the sender's `SenderId` — for an assumed role `<RoleId>:<session name>` — and only the role id
// counts (the session name is whatever the caller chose). Role ids reach the worker from the stack
// (`Fn::GetAtt <Role>.RoleId`), never from a message.
import { formatIssues } from '#domain/text.ts';
import * as z from '#domain/zod.ts';
import type { CoreDeps } from './deps.ts';
import { systemRejection } from './rejections.ts';

/** The roles that send commands, named by what they are. */
export const SENDER_ROLES = [
  'ingress',
  'scheduler',
  'provision-access',
  'react-to-change',
  'reconcile',
] as const;
export type SenderRole = (typeof SENDER_ROLES)[number];

/** Role ids (`AROA…`) per sender role; `ingress` lists every authenticated ingress function's role. */
export type CommandSenders = Readonly<Record<SenderRole, readonly string[]>>;

const roleId = z.string().check(z.regex(/^AROA[A-Z0-9]{8,124}$/, 'expected an IAM role id (AROA…)'));
export const CommandSendersSchema = z.strictObject(
  Object.fromEntries(SENDER_ROLES.map((role) => [role, z.array(roleId).check(z.maxLength(20))])) as Record<
    SenderRole,
    z.ZodMiniArray<typeof roleId>
  >,
);

const HUMAN: readonly SenderRole[] = ['ingress'];

/**
 * What each sender may send. Human decisions come only from an authenticated ingress (it resolved the
 * caller); `start`/`expire`/`timeout` from the Scheduler, with the reconciler as the backstop for a
 * lost schedule and react-to-change's immediate `start` for a request approved to start now (a `start`
 * widens nothing the audit chain does not prove: see proof.ts); engine facts only from the function
 * that knows them.
 */
export const MAY_SEND: Readonly<Record<string, readonly SenderRole[]>> = {
  create: HUMAN,
  approve: HUMAN,
  deny: HUMAN,
  cancel: HUMAN,
  revoke: HUMAN,
  review: HUMAN,
  extend: HUMAN,
  start: ['scheduler', 'react-to-change', 'reconcile'],
  expire: ['scheduler', 'reconcile'],
  timeout: ['scheduler', 'reconcile'],
  'system-revoke': ['reconcile'],
  'assignment-succeeded': ['provision-access'],
  'assignment-failed': ['provision-access'],
};

/** The role id of an assumed-role `SenderId` (`AROA…:session`); undefined for anything else. */
export function senderRoleId(senderId: string | undefined): string | undefined {
  if (!senderId) return undefined;
  const [id, session] = senderId.split(':', 2);
  return id?.startsWith('AROA') && session !== undefined ? id : undefined;
}

export type SenderVerdict =
  | { readonly accepted: true; readonly as: SenderRole }
  | { readonly accepted: false; readonly senderRoleId?: string; readonly sentAs: readonly SenderRole[] };

/** Whether `action` is accepted from the message's `SenderId`. Unknown actions and senders are refused. */
export function checkSender(
  action: string,
  senderId: string | undefined,
  senders: CommandSenders,
): SenderVerdict {
  const id = senderRoleId(senderId);
  const sentAs = id ? SENDER_ROLES.filter((role) => senders[role].includes(id)) : [];
  const allowed = Object.hasOwn(MAY_SEND, action) ? (MAY_SEND[action] ?? []) : [];
  const as = sentAs.find((role) => allowed.includes(role));
  if (as) return { accepted: true, as };
  return { accepted: false, ...(id ? { senderRoleId: id } : {}), sentAs };
}

/**
 * Reads a senders JSON the stack writes (sender → role ids; `from` names the variable); throws (the
 * cold start fails) when it is malformed. The commands worker's and notify-slack's.
 */
export function parseSendersJson<S extends z.core.$ZodType>(
  schema: S,
  json: string,
  from: string,
): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error(`${from} is not JSON`);
  }
  const parsed = z.safeParse(schema, raw);
  if (!parsed.success)
    throw new Error(`${from} is invalid: ${formatIssues(parsed.error.issues.slice(0, 1), '')}`);
  return parsed.data;
}

/** Reads the commands worker's senders (COMMAND_SENDERS). */
export function parseCommandSenders(json: string, from: string): CommandSenders {
  return parseSendersJson(CommandSendersSchema, json, from) as CommandSenders;
}

/**
 * Records a command refused for its sender on the `system` chain (never the request's: the sender
 * may be trying to write there). The caller counts it on the alarm. Throws when the audit write
 * fails, so the message is retried until the refusal is on record.
 */
export async function auditRefusedSender(
  deps: Pick<CoreDeps, 'audit' | 'clock'>,
  refusal: {
    readonly action: string;
    readonly requestId: string;
    readonly verdict: Extract<SenderVerdict, { accepted: false }>;
  },
): Promise<void> {
  await deps.audit.append(
    systemRejection(deps.clock.now(), {
      requestId: refusal.requestId,
      reason: `refused ${refusal.action}: its sender may not send it`,
      details: {
        check: 'sender',
        action: refusal.action,
        senderRoleId: refusal.verdict.senderRoleId ?? null,
        sentAs: [...refusal.verdict.sentAs],
        mayBeSentBy: [...(Object.hasOwn(MAY_SEND, refusal.action) ? (MAY_SEND[refusal.action] ?? []) : [])],
      },
    }),
  );
}
