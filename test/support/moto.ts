// SDK client configuration for tests against moto. Each test file picks its own 12-digit account id
// and every request carries it in `x-moto-account-id`, so files never see each other's state and no
// file needs `POST /moto-api/reset` (which would wipe every file's state).
import type { Pluggable } from '@smithy/types';

export const MOTO_REGION = 'us-east-1';

export function motoEndpoint(): string {
  const endpoint = process.env.MOTO_ENDPOINT;
  if (!endpoint)
    throw new Error('MOTO_ENDPOINT is not set: run through `make test` or the vitest global setup');
  return endpoint;
}

/** A middleware that pins every request to one moto account. */
export function motoAccount(accountId: string): Pluggable<object, object> {
  return {
    applyToStack(stack) {
      stack.add(
        (next) => async (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if (request.headers) request.headers['x-moto-account-id'] = accountId;
          return next(args);
        },
        { step: 'build', name: 'motoAccountId' },
      );
    },
  };
}

/** Client config for moto: fast failure (an unimplemented call is a 500, not something to retry). */
export function motoClientConfig() {
  return {
    endpoint: motoEndpoint(),
    region: MOTO_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
    forcePathStyle: true,
  };
}

/** A random moto account id for one test file. */
export function testAccountId(): string {
  return String(100000000000 + Math.floor(Math.random() * 899999999999)).padStart(12, '0');
}

/** Builds a client for one moto account. */
export function motoClient<C>(
  // biome-ignore lint/suspicious/noExplicitAny: SDK clients declare their config as a rest tuple.
  Ctor: new (...args: any[]) => C,
  accountId: string,
): C {
  const client = new Ctor(motoClientConfig());
  (client as unknown as { middlewareStack: { use(p: unknown): void } }).middlewareStack.use(
    motoAccount(accountId),
  );
  return client;
}
