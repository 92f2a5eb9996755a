// In-memory stand-ins for the Slack identity ports, faithful to their contracts: `users.info` over a
// table of Slack users (every call recorded, so a test can prove a binding was or was not cached),
// and a SlackStore that keeps DynamoDB's conditional semantics (forward-only message refs, link
// codes by hash that a consumption deletes once and an expired one never passes). Values are copied
// in and out, so a test cannot change stored state by mutating one.
import type { SlackApi, SlackLink, SlackMessageRef, SlackStore, SlackUserInfo } from '#ports/slack.ts';

const copy = <T>(value: T): T => structuredClone(value);

/** A full member of `T0EXAMPLE01` unless told otherwise. */
export function slackUser(id: string, overrides: Partial<SlackUserInfo> = {}): SlackUserInfo {
  return {
    id,
    teamId: 'T0EXAMPLE01',
    email: `${id.toLowerCase()}@example.com`,
    displayName: id,
    deleted: false,
    isBot: false,
    isRestricted: false,
    isUltraRestricted: false,
    isStranger: false,
    ...overrides,
  };
}

/** `users.info` over a table of users; absent users answer `undefined` (`user_not_found`). */
export class FakeSlackUsers implements Pick<SlackApi, 'userInfo'> {
  private readonly users = new Map<string, SlackUserInfo>();
  /** The user id of every `users.info` call, in order. */
  readonly calls: string[] = [];

  constructor(users: readonly SlackUserInfo[] = []) {
    for (const user of users) this.set(user);
  }

  set(user: SlackUserInfo): void {
    this.users.set(user.id, copy(user));
  }

  async userInfo(userId: string): Promise<SlackUserInfo | undefined> {
    this.calls.push(userId);
    const user = this.users.get(userId);
    return user ? copy(user) : undefined;
  }
}

/**
 * SlackStore with the DynamoDB adapter's conditions: `putMessage` only moves `renderedVersion`
 * forward, a link code is created once and consumed once, an expired one never. The one in-memory
 * SlackStore of the tests (test/support/slack-fakes.ts re-exports it).
 */
export class InMemorySlackStore implements SlackStore {
  private readonly messages = new Map<string, SlackMessageRef>();
  private readonly links = new Map<string, SlackLink>();
  private readonly codes = new Map<string, { userId: string; expiresAt: string }>();
  /** Every putMessage, with whether it was written. */
  readonly puts: { ref: SlackMessageRef; written: boolean }[] = [];
  private pendingHook: ((ref: SlackMessageRef) => Promise<void>) | undefined;

  /** Runs `hook` once, at the start of the next putMessage (a concurrent writer slipping in). */
  beforeNextPut(hook: (ref: SlackMessageRef) => Promise<void>): void {
    this.pendingHook = hook;
  }

  async getMessage(requestId: string): Promise<SlackMessageRef | undefined> {
    const ref = this.messages.get(requestId);
    return ref ? copy(ref) : undefined;
  }

  async putMessage(ref: SlackMessageRef): Promise<boolean> {
    const hook = this.pendingHook;
    this.pendingHook = undefined;
    if (hook) await hook(copy(ref));
    const stored = this.messages.get(ref.requestId);
    const written = stored === undefined || stored.renderedVersion < ref.renderedVersion;
    if (written) this.messages.set(ref.requestId, copy(ref));
    this.puts.push({ ref: copy(ref), written });
    return written;
  }

  async getLink(teamId: string, slackUserId: string): Promise<SlackLink | undefined> {
    const link = this.links.get(`${teamId}#${slackUserId}`);
    return link ? copy(link) : undefined;
  }

  async putLink(link: SlackLink): Promise<void> {
    this.links.set(`${link.teamId}#${link.slackUserId}`, copy(link));
  }

  async createLinkCode(code: { codeHash: string; userId: string; expiresAt: string }): Promise<void> {
    if (this.codes.has(code.codeHash)) throw new Error('link code already exists (conditional put)');
    this.codes.set(code.codeHash, { userId: code.userId, expiresAt: new Date(code.expiresAt).toISOString() });
  }

  async consumeLinkCode(codeHash: string, now: Date): Promise<{ readonly userId: string } | undefined> {
    const stored = this.codes.get(codeHash);
    if (!stored || stored.expiresAt <= now.toISOString()) return undefined;
    this.codes.delete(codeHash);
    return { userId: stored.userId };
  }

  /** The hashes of the codes still stored (test inspection). */
  codeHashes(): string[] {
    return [...this.codes.keys()];
  }

  /** Every link (test inspection). */
  allLinks(): SlackLink[] {
    return copy([...this.links.values()]);
  }
}
