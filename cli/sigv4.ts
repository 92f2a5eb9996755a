// Deployed mode: every /v1 call is signed with SigV4 for `execute-api`, from the standard AWS
// credential chain (environment, SSO and other profiles, container and instance roles). The
// signature covers the exact method, path, query, host and body that the client then sends.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { optional } from '#domain/optional.ts';
import type { Authorizer } from './http-client.ts';

/** The region of an API Gateway host (`abc.execute-api.eu-west-1.amazonaws.com`), if it is one. */
export function regionOfApiHost(hostname: string): string | undefined {
  return /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/.exec(hostname)?.[1];
}

export interface SigV4Options {
  readonly credentials: AwsCredentialIdentityProvider;
  readonly region: string;
  readonly service?: string;
}

export function sigV4Authorizer(options: SigV4Options): Authorizer {
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: options.service ?? 'execute-api',
    sha256: Sha256,
  });
  return async (request) => {
    const { url } = request;
    const signed = await signer.sign({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: { ...request.query },
      headers: { ...request.headers },
      ...optional('body', request.body),
    });
    return signed.headers;
  };
}
