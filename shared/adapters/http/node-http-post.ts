// One HTTP POST over node:http / node:https, answered in the shape of `fetch`'s Response (the part
// of it the Slack ingress reads). Node's global `fetch` is undici, which Node loads on first use:
// ~40 ms on this machine, more than a bare `node -e 0` (bench/slack-ingress, bench/README.md). The
// ingress answers Slack within 3 s from a cold start, so its three calls — views.open, SQS, Secrets
// Manager — go through this instead; everything else keeps `fetch`. `fetch` itself is an HttpPost,
// so tests may pass it or a stub.
//
// The two modules are taken with process.getBuiltinModule, not `import`: an ESM import of a builtin
// reads every export to build its namespace, and node:http's exports include lazy getters
// (WebSocket, MessageEvent, …) that load undici — 36 ms for `import 'node:http'` against 3 ms here.
import type * as Http from 'node:http';

const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

/** What a caller reads of an answer: `fetch`'s Response has all of it. */
export interface HttpAnswer {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
  readonly body: { cancel(): Promise<void> } | null;
}

export interface HttpPostInit {
  readonly method: 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Aborts the call; the promise then rejects with the signal's reason (`TimeoutError` for AbortSignal.timeout), as `fetch` does. */
  readonly signal?: AbortSignal;
}

export type HttpPost = (url: string | URL, init: HttpPostInit) => Promise<HttpAnswer>;

/** An answer larger than this is refused: the ingress's answers are a few kilobytes. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

export const nodeHttpPost: HttpPost = (url, init) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const target = typeof url === 'string' ? new URL(url) : url;
    const request: typeof Http.request = target.protocol === 'https:' ? https.request : http.request;
    const body = Buffer.from(init.body, 'utf8');
    const failed = (error: unknown) => reject(init.signal?.aborted ? init.signal.reason : error);
    const outgoing = request(
      target,
      {
        method: init.method,
        headers: { ...init.headers, 'content-length': String(body.byteLength) },
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on('data', (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > MAX_ANSWER_BYTES) {
            incoming.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        incoming.on('error', failed);
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = incoming.statusCode ?? 0;
          resolve({
            status,
            ok: status >= 200 && status < 300,
            headers: {
              get(name) {
                const value = incoming.headers[name.toLowerCase()];
                if (value === undefined) return null;
                return Array.isArray(value) ? value.join(', ') : value;
              },
            },
            text: async () => text,
            json: async () => JSON.parse(text) as unknown,
            // Already read to the end: nothing left to cancel.
            body: { cancel: async () => {} },
          });
        });
      },
    );
    outgoing.on('error', failed);
    outgoing.end(body);
  });
