// The one-time link of strict identity binding: a person proves who they are in AWS (a SigV4 call
// from their PamRequester session, `POST /v1/slack/link`) and gets a short code; typing it in Slack
// (`/pam link <code>`) proves which Slack account they hold. The link binds the two until a later
// link replaces it. Only the code's SHA-256 is stored, it works once, for ten minutes, and both the
// issue and the link are audited on the `system` chain (an audit log that cannot be written means no
// code and no link: fail closed).
// The code is 12 symbols of Crockford's base32 (no I, L, O or U, so nothing reads as something else;
// 32 symbols × 12 = 60 random bits), grouped `XXXX-XXXX-XXXX`. Whoever types a code binds their
// Slack account to its issuer, so a code is a secret of its issuer: shown once, never logged.
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { sha256Hex } from '#domain/canonical-json.ts';
import { SlackIdentityError } from '#domain/errors.ts';
import type { AuditLog, Clock, Directory } from '#ports/index.ts';
import type { SlackStore, SlackUserRef } from '#ports/slack.ts';
import { checkSlackUser, LINK_HINT, type SlackUserChecks } from './identity.ts';

export const LINK_CODE_TTL_MS = 10 * 60_000;
/** Crockford's base32: 32 symbols, so one random byte masked to 5 bits picks one without bias. */
export const LINK_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_SYMBOLS = 12;
const GROUP = 4;

/** What `/pam link` is told to type, given a code. */
export function linkInstructions(code: string): string {
  return `In Slack, type: /pam link ${code}`;
}

/**
 * The code as issued (`XXXX-XXXX-XXXX`), from what a person typed: any case, with or without the
 * dashes and spaces, and Crockford's look-alikes read as he reads them (O as 0, I and L as 1).
 * `undefined` when it cannot be a code.
 */
export function normalizeLinkCode(typed: string): string | undefined {
  if (typed.length > 64) return undefined;
  const symbols = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (symbols.length !== CODE_SYMBOLS) return undefined;
  if ([...symbols].some((symbol) => !LINK_CODE_ALPHABET.includes(symbol))) return undefined;
  return symbols.match(new RegExp(`.{${GROUP}}`, 'g'))?.join('-');
}

/** What the store keys a code by (of the normalized code, so every spelling finds it). */
export function linkCodeHash(code: string): string {
  return sha256Hex(code);
}

export interface SlackLinkCode {
  readonly code: string;
  /** ISO-8601 UTC. */
  readonly expiresAt: string;
}

export interface CreateSlackLinkCodeDeps {
  readonly slackStore: Pick<SlackStore, 'createLinkCode'>;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly clock: Clock;
  /** Cryptographically random bytes (default: node:crypto); tests pin them. */
  readonly randomBytes?: (size: number) => Uint8Array;
}

export type CreateSlackLinkCode = (input: { readonly actorId: string }) => Promise<SlackLinkCode>;

/**
 * `POST /v1/slack/link`, for the SigV4 caller `actorId` (already resolved to an active Identity Store
 * user by handle-api): 1. draw a code; 2. audit `slack.link_code_issued` on `system` (never the code
 * or its hash); 3. store its hash, valid ten minutes; 4. answer the code, once.
 */
export function makeCreateSlackLinkCode(deps: CreateSlackLinkCodeDeps): CreateSlackLinkCode {
  const random = deps.randomBytes ?? ((size: number) => cryptoRandomBytes(size));
  return async ({ actorId }) => {
    const bytes = random(CODE_SYMBOLS);
    if (bytes.length < CODE_SYMBOLS) throw new Error('the random source answered too few bytes');
    const symbols = Array.from(bytes.subarray(0, CODE_SYMBOLS), (byte) => LINK_CODE_ALPHABET[byte & 31]);
    const code = normalizeLinkCode(symbols.join('')) as string;
    const now = deps.clock.now();
    const expiresAt = new Date(now.getTime() + LINK_CODE_TTL_MS).toISOString();
    await deps.audit.append({
      chainId: 'system',
      at: now.toISOString(),
      type: 'slack.link_code_issued',
      actorId,
      details: { expiresAt },
    });
    await deps.slackStore.createLinkCode({ codeHash: linkCodeHash(code), userId: actorId, expiresAt });
    return { code, expiresAt };
  };
}

export const LINK_CODE_REFUSED = `That link code is unknown, already used or expired. ${LINK_HINT}`;

export interface ConsumeSlackLinkCodeDeps extends SlackUserChecks {
  readonly slackStore: Pick<SlackStore, 'consumeLinkCode' | 'getLink' | 'putLink'>;
  readonly directory: Pick<Directory, 'getUser'>;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly clock: Clock;
}

/** Links the Slack user to the code's issuer; answers the issuer's Identity Store user id. */
export type ConsumeSlackLinkCode = (code: string, origin: SlackUserRef) => Promise<string>;

/**
 * `/pam link <code>` (the notify-slack worker's `link` job): 1. the Slack user passes the same checks
 * as any Slack actor (workspace, users.info: no guest, external user, bot or deactivated account) —
 * before the code is touched, so a refused user does not use it up; 2. the code is consumed (one
 * conditional delete: unknown, used and expired codes are one refusal); 3. its issuer is still an
 * active Identity Store user; 4. `slack.linked` is audited on `system` (with the user it replaces,
 * if any); 5. the link is written, keyed by the Slack user's home team, replacing any earlier one.
 * A failure after 2 leaves the code used: the person makes a new one.
 */
export function makeConsumeSlackLinkCode(deps: ConsumeSlackLinkCodeDeps): ConsumeSlackLinkCode {
  return async (typed, origin) => {
    const code = normalizeLinkCode(typed);
    if (!code) throw new SlackIdentityError('not-linked', LINK_CODE_REFUSED);
    const info = await checkSlackUser(deps, origin);
    const now = deps.clock.now();
    const issued = await deps.slackStore.consumeLinkCode(linkCodeHash(code), now);
    if (!issued) throw new SlackIdentityError('not-linked', LINK_CODE_REFUSED);
    const user = await deps.directory.getUser(issued.userId);
    if (!user?.active) {
      throw new SlackIdentityError(
        'no-identity',
        'The cloud-pam user who made this code no longer exists or is disabled. Ask your cloud-pam admin.',
      );
    }
    const previous = await deps.slackStore.getLink(info.teamId, info.id);
    await deps.audit.append({
      chainId: 'system',
      at: now.toISOString(),
      type: 'slack.linked',
      actorId: user.userId,
      details: {
        slackTeamId: info.teamId,
        slackEnterpriseId: info.enterpriseId ?? null,
        slackUserId: info.id,
        replacedUserId: previous && previous.userId !== user.userId ? previous.userId : null,
      },
    });
    await deps.slackStore.putLink({
      teamId: info.teamId,
      slackUserId: info.id,
      userId: user.userId,
      linkedAt: now.toISOString(),
    });
    return user.userId;
  };
}
