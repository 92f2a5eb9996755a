// `views.open` as one `fetch`: the only Web API call the Slack ingress makes, and the one that must
// land within the trigger's 3 seconds. @slack/web-api (with axios, p-queue, p-retry…) would be most
// of the ingress's bundle and cold start for this one POST; notify-slack, which makes every other
// call, uses it (shared/adapters/slack/web-api.ts). A 429 is waited out once when its Retry-After
// still fits in the budget; anything else fails at once as a SlackApiError naming the method and
// Slack's error code — never the token, the trigger or the view.
import type { HttpAnswer, HttpPost } from '#adapters/http/node-http-post.ts';
import * as z from '#domain/zod.ts';
import { SlackApiError, type SlackView } from '#ports/slack.ts';

const METHOD = 'views.open';

/** How long views.open may take in all, from the call: Slack's 3 s, less what came before it. */
export const OPEN_VIEW_BUDGET_MS = 2500;

export interface OpenViewOptions {
  /** The Web API base URL, ending in `/` (`https://slack.com/api/`, or the local stand-in). */
  readonly apiUrl: string;
  /** The bot token (`xoxb-…`), read when needed (cached by the caller). */
  readonly token: () => Promise<string>;
  /** Default the global `fetch`; the ingress passes nodeHttpPost (no undici to load on a cold start). */
  readonly fetch?: HttpPost;
  readonly budgetMs?: number;
  /** Milliseconds, for the budget (a monotonic clock in production). */
  readonly nowMs?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const answer = z.object({
  ok: z.boolean(),
  error: z.optional(z.string()),
  view: z.optional(z.object({ id: z.string().check(z.regex(/^V[A-Z0-9]{2,30}$/)) })),
});

/** Slack's error codes are snake_case words; anything else is not repeated. */
const errorCode = (value: string | undefined) =>
  value !== undefined && /^[a-z_]{1,64}$/.test(value) ? value : 'unknown_error';

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function makeOpenView(options: OpenViewOptions) {
  const fetchFn = options.fetch ?? fetch;
  const budgetMs = options.budgetMs ?? OPEN_VIEW_BUDGET_MS;
  // process.hrtime, not performance.now: the global `performance` loads perf_hooks on first use.
  const nowMs = options.nowMs ?? (() => Number(process.hrtime.bigint()) / 1e6);
  const sleep = options.sleep ?? defaultSleep;
  const url = `${options.apiUrl}${METHOD}`;

  return async function openView(triggerId: string, view: SlackView): Promise<{ readonly viewId: string }> {
    const started = nowMs();
    const token = await options.token();
    const body = JSON.stringify({ trigger_id: triggerId, view });
    for (let attempt = 1; ; attempt++) {
      const remaining = budgetMs - (nowMs() - started);
      let response: HttpAnswer;
      try {
        response = await fetchFn(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
          body,
          signal: AbortSignal.timeout(Math.max(1, Math.floor(remaining))),
        });
      } catch (error) {
        const timedOut = (error as { name?: unknown })?.name === 'TimeoutError';
        throw new SlackApiError(METHOD, timedOut ? 'timeout' : 'network_error', true);
      }
      if (response.status === 429) {
        await response.body?.cancel();
        const seconds = Number(response.headers.get('retry-after') ?? '1');
        const waitMs = (Number.isFinite(seconds) && seconds >= 0 ? seconds : 1) * 1000;
        // Once, and only when the wait and the call still fit: a modal opened after the trigger
        // expired is refused anyway (`expired_trigger_id`).
        if (attempt === 1 && nowMs() - started + waitMs < budgetMs) {
          await sleep(waitMs);
          continue;
        }
        throw new SlackApiError(METHOD, 'ratelimited', true);
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new SlackApiError(METHOD, `http_${response.status}`, response.status >= 500);
      }
      let parsed: z.output<typeof answer> | undefined;
      try {
        const result = answer.safeParse(await response.json());
        parsed = result.success ? result.data : undefined;
      } catch {
        parsed = undefined;
      }
      if (!parsed) throw new SlackApiError(METHOD, 'invalid_response', true);
      if (!parsed.ok || !parsed.view) throw new SlackApiError(METHOD, errorCode(parsed.error), false);
      return { viewId: parsed.view.id };
    }
  };
}
