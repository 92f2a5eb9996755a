// In-memory Slack for unit tests: a Web API that records every call, refuses what Slack refuses
// (payloads past Block Kit's limits, as `invalid_blocks`) and can be taken down. The in-memory
// SlackStore and the Slack user builder live in ./slack-identity-fakes.ts, re-exported here. Values
// are deep-copied in and out, so a test cannot change recorded state by mutating one.
import { blockKitProblems } from '#app/slack/render.ts';
import {
  type SlackApi,
  SlackApiError,
  type SlackMessage,
  type SlackUserInfo,
  type SlackView,
} from '#ports/slack.ts';
import { slackUser as memberOfWorkspace } from './slack-identity-fakes.ts';

export { InMemorySlackStore } from './slack-identity-fakes.ts';

const copy = <T>(value: T): T => structuredClone(value);

export type SlackMethod =
  | 'chat.postMessage'
  | 'chat.update'
  | 'chat.postEphemeral'
  | 'views.open'
  | 'views.update'
  | 'views.publish'
  | 'users.info'
  | 'users.lookupByEmail'
  | 'response_url';

export interface SlackCall {
  readonly method: SlackMethod;
  readonly args: Readonly<Record<string, unknown>>;
  /** False when the call was refused (down, an injected failure, invalid blocks). */
  readonly ok: boolean;
}

/** A Slack user of the fake workspace, with `email` as given (none when undefined). */
export function slackUser(
  id: string,
  email: string | undefined,
  extra: Partial<SlackUserInfo> = {},
): SlackUserInfo {
  const { email: _default, ...member } = memberOfWorkspace(id);
  return { ...member, ...(email === undefined ? {} : { email }), ...extra };
}

export class FakeSlackApi implements SlackApi {
  readonly calls: SlackCall[] = [];
  /** While set, every call fails as an outage does (`http_503`, retryable). */
  down = false;
  private readonly failures: { method: SlackMethod; code: string; retryable: boolean; channel?: string }[] =
    [];
  private readonly users: SlackUserInfo[];
  private ts = 0;

  constructor(users: readonly SlackUserInfo[] = []) {
    this.users = copy([...users]);
  }

  /** The next call of `method` (into `channel`, when given) fails with `code`. */
  failNext(method: SlackMethod, code: string, options: { retryable?: boolean; channel?: string } = {}): void {
    this.failures.push({
      method,
      code,
      retryable: options.retryable ?? false,
      ...(options.channel === undefined ? {} : { channel: options.channel }),
    });
  }

  /** The successful calls of one method, in order. */
  sent(method: SlackMethod): Readonly<Record<string, unknown>>[] {
    return this.calls.filter((call) => call.method === method && call.ok).map((call) => copy(call.args));
  }

  async postMessage(channel: string, message: SlackMessage) {
    this.enter('chat.postMessage', { channel, message }, message);
    this.ts += 1;
    return { channel, ts: `1772442000.${String(this.ts).padStart(6, '0')}` };
  }

  async updateMessage(channel: string, ts: string, message: SlackMessage): Promise<void> {
    this.enter('chat.update', { channel, ts, message }, message);
  }

  async postEphemeral(channel: string, user: string, message: SlackMessage): Promise<void> {
    this.enter('chat.postEphemeral', { channel, user, message }, message);
  }

  async openView(triggerId: string, view: SlackView) {
    this.enter('views.open', { triggerId, view }, view);
    return { viewId: 'V0OPENED01' };
  }

  async updateView(viewId: string, view: SlackView): Promise<void> {
    this.enter('views.update', { viewId, view }, view);
  }

  async publishHome(userId: string, view: SlackView): Promise<void> {
    this.enter('views.publish', { userId, view }, view);
  }

  async userInfo(userId: string): Promise<SlackUserInfo | undefined> {
    this.enter('users.info', { userId });
    return copy(this.users.find((user) => user.id === userId));
  }

  async lookupUserByEmail(email: string): Promise<SlackUserInfo | undefined> {
    this.enter('users.lookupByEmail', { email });
    return copy(this.users.find((user) => user.email === email));
  }

  async respond(
    responseUrl: string,
    message: SlackMessage & { readonly replaceOriginal?: boolean; readonly inChannel?: boolean },
  ): Promise<void> {
    this.enter('response_url', { responseUrl, message }, message);
  }

  private enter(
    method: SlackMethod,
    args: Record<string, unknown>,
    payload?: SlackMessage | SlackView,
  ): void {
    const fail = (code: string, retryable: boolean) => {
      this.calls.push({ method, args: copy(args), ok: false });
      throw new SlackApiError(method, code, retryable);
    };
    if (this.down) fail('http_503', true);
    const index = this.failures.findIndex(
      (failure) =>
        failure.method === method && (failure.channel === undefined || failure.channel === args.channel),
    );
    if (index !== -1) {
      const [failure] = this.failures.splice(index, 1);
      if (failure) fail(failure.code, failure.retryable);
    }
    if (payload && blockKitProblems(payload).length > 0) fail('invalid_blocks', false);
    this.calls.push({ method, args: copy(args), ok: true });
  }
}
