// Who a Slack user is in the Identity Store, decided fresh at every decision (process-command) and
// for every link (./link.ts). Slack's signed payload names a workspace and a user; nothing in it says
// who the person is in AWS. So, failing closed at the first check that does not hold:
// 1. the payload's workspace (or Enterprise Grid org) is allow-listed — else `workspace`;
// 2. Slack knows the user and has not deactivated them (`users.info`) — else `deleted`;
// 3. a person, not a bot or app — else `bot`;
// 4. a full member, not a multi- or single-channel guest — else `guest`;
// 5. a member of an allow-listed workspace or org, not a Slack Connect user of another
//    organization (`is_stranger`, or a home team outside the allow-list) — else `external`;
// 6. bound to one Identity Store user: `email` mode by the Slack profile's email (an Identity Store
//    user with that email, matched without regard to case, and only one); `strict` mode only by a
//    link the person made with the SigV4 CLI (./link.ts), never by email, so whoever can change a
//    Slack email cannot change who approves — else `no-identity` / `not-linked`;
// 7. that Identity Store user exists and is enabled — else `no-identity`.
// A binding that passed is remembered for `cacheTtlMs` (a minute), by workspace and user: a person
// who clicks three buttons costs one users.info. Refusals are never remembered, and neither are
// groups: the use cases read them uncached at decision time. Messages speak to the person in Slack
// and never repeat their email.
import { SlackIdentityError } from '#domain/errors.ts';
import type { SlackConfig } from '#domain/model.ts';
import type { Clock, Directory, DirectoryUser } from '#ports/index.ts';
import type { SlackApi, SlackStore, SlackUserInfo, SlackUserRef } from '#ports/slack.ts';

export const DEFAULT_SLACK_IDENTITY_TTL_MS = 60_000;
/** Bindings kept at most; the oldest goes first (a warm function meets few Slack users). */
const MAX_CACHED_BINDINGS = 1000;

/** How to make a link, in the words the refusals and the CLI use. */
export const LINK_HINT = 'Run `pam slack link` in a terminal, then type `/pam link <code>` here.';

export const SLACK_REFUSAL_MESSAGE = {
  workspace: 'This Slack workspace is not allowed to use cloud-pam.',
  deleted: 'cloud-pam could not find your Slack account, or it is deactivated.',
  bot: 'cloud-pam acts only for people, not for bots or apps.',
  guest: 'Slack guests cannot use cloud-pam. Ask a workspace admin if you need it.',
  external:
    'cloud-pam acts only for members of its own Slack workspaces, not for people from other organizations (Slack Connect).',
  noEmail:
    'Your Slack profile shows no email, so cloud-pam cannot tell who you are. Ask your cloud-pam admin.',
  noIdentity:
    'No active cloud-pam user (IAM Identity Center) has the email of your Slack account. Ask your cloud-pam admin.',
  ambiguous:
    'More than one cloud-pam user (IAM Identity Center) has the email of your Slack account, so cloud-pam will not guess. Ask your cloud-pam admin.',
  notLinked: `Your Slack account is not linked to cloud-pam. ${LINK_HINT}`,
  linkedUserGone:
    'The cloud-pam user your Slack account is linked to no longer exists or is disabled. Ask your cloud-pam admin.',
} as const;

export interface SlackUserChecks {
  readonly config: SlackConfig;
  readonly slack: Pick<SlackApi, 'userInfo'>;
}

/** An allow-listed workspace, or any workspace of an allow-listed Enterprise Grid org. */
function allowListed(config: SlackConfig, teamId: string, enterpriseId: string | undefined): boolean {
  return (
    config.teamIds.includes(teamId) ||
    (enterpriseId !== undefined && config.enterpriseIds.includes(enterpriseId))
  );
}

/**
 * Steps 1–5: the workspace of the payload and what `users.info` says of the user. Answers what Slack
 * said (the home team is what links are keyed by), or throws SlackIdentityError.
 */
export async function checkSlackUser(deps: SlackUserChecks, origin: SlackUserRef): Promise<SlackUserInfo> {
  if (!allowListed(deps.config, origin.teamId, origin.enterpriseId)) {
    throw new SlackIdentityError('workspace', SLACK_REFUSAL_MESSAGE.workspace);
  }
  const info = await deps.slack.userInfo(origin.userId);
  // An answer about someone else is no answer about this user.
  if (!info || info.deleted || info.id !== origin.userId) {
    throw new SlackIdentityError('deleted', SLACK_REFUSAL_MESSAGE.deleted);
  }
  if (info.isBot) throw new SlackIdentityError('bot', SLACK_REFUSAL_MESSAGE.bot);
  if (info.isRestricted || info.isUltraRestricted) {
    throw new SlackIdentityError('guest', SLACK_REFUSAL_MESSAGE.guest);
  }
  if (info.isStranger || !allowListed(deps.config, info.teamId, info.enterpriseId)) {
    throw new SlackIdentityError('external', SLACK_REFUSAL_MESSAGE.external);
  }
  return info;
}

export interface SlackActorsDeps extends SlackUserChecks {
  readonly directory: Directory;
  readonly slackStore: Pick<SlackStore, 'getLink'>;
  readonly clock: Clock;
  /** How long a binding that passed is trusted without asking again (default one minute). */
  readonly cacheTtlMs?: number;
}

export interface SlackIdentity {
  /** The Identity Store user id acting for `origin`; throws SlackIdentityError when there is none. */
  identify(origin: SlackUserRef): Promise<string>;
}

export function makeSlackActors(deps: SlackActorsDeps): SlackIdentity {
  const ttlMs = deps.cacheTtlMs ?? DEFAULT_SLACK_IDENTITY_TTL_MS;
  const cache = new Map<string, { readonly userId: string; readonly at: number }>();

  /** Step 6, email mode: exactly one active Identity Store user with the Slack email. */
  async function byEmail(info: SlackUserInfo): Promise<DirectoryUser> {
    const email = info.email?.trim();
    if (!email) throw new SlackIdentityError('no-identity', SLACK_REFUSAL_MESSAGE.noEmail);
    // The Identity Store looks emails up as written; Slack may write them in another case. Both
    // spellings are asked, and two different users answering is a refusal, never a guess.
    const spellings = [...new Set([email, email.toLowerCase()])];
    const found = new Map<string, DirectoryUser>();
    for (const spelling of spellings) {
      const user = await deps.directory.findUserByEmail(spelling);
      if (user) found.set(user.userId, user);
    }
    if (found.size > 1) throw new SlackIdentityError('no-identity', SLACK_REFUSAL_MESSAGE.ambiguous);
    const [user] = found.values();
    if (!user?.active) throw new SlackIdentityError('no-identity', SLACK_REFUSAL_MESSAGE.noIdentity);
    return user;
  }

  /** Step 6, strict mode: the link only (keyed by the user's home team, the same in every workspace). */
  async function byLink(info: SlackUserInfo): Promise<DirectoryUser> {
    const link = await deps.slackStore.getLink(info.teamId, info.id);
    if (!link) throw new SlackIdentityError('not-linked', SLACK_REFUSAL_MESSAGE.notLinked);
    const user = await deps.directory.getUser(link.userId);
    if (!user?.active) throw new SlackIdentityError('no-identity', SLACK_REFUSAL_MESSAGE.linkedUserGone);
    return user;
  }

  return {
    async identify(origin) {
      // The workspace is checked on every call, cached or not: it costs nothing.
      if (!allowListed(deps.config, origin.teamId, origin.enterpriseId)) {
        throw new SlackIdentityError('workspace', SLACK_REFUSAL_MESSAGE.workspace);
      }
      const key = `${origin.enterpriseId ?? ''}:${origin.teamId}:${origin.userId}`;
      const now = deps.clock.now().getTime();
      const cached = cache.get(key);
      if (cached && cached.at <= now && now < cached.at + ttlMs) return cached.userId;
      cache.delete(key);

      const info = await checkSlackUser(deps, origin);
      const user = deps.config.identityBinding === 'strict' ? await byLink(info) : await byEmail(info);

      if (ttlMs > 0) {
        cache.set(key, { userId: user.userId, at: now });
        while (cache.size > MAX_CACHED_BINDINGS) cache.delete(cache.keys().next().value as string);
      }
      return user.userId;
    },
  };
}
