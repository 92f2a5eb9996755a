// Where the CLI talks to and as whom. Deployed mode (PAM_API_URL / --api-url, else the `ApiUrl`
// output of the CloudPam-HubService stack) signs every call with SigV4. Local mode (no API URL, and a
// `.pam/local.json` from `make start`) sends the user in `x-pam-local-user` and signs nothing. The
// outside world (fetch, credentials, CloudFormation, DynamoDB, process liveness) comes in through
// `CliDeps`, so tests can run the whole CLI in-process.
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { CliError, oneLine, UsageError } from './errors.ts';
import { ApiClient, type FetchLike } from './http-client.ts';
import { findLocalFile, isProcessAlive, type LocalFile, readLocalFile } from './local-file.ts';
import { regionOfApiHost, sigV4Authorizer } from './sigv4.ts';

export const DEFAULT_STACK = 'CloudPam-HubService';
export const LOCAL_USER_HEADER = 'x-pam-local-user';

export type Env = Readonly<Record<string, string | undefined>>;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Env;
  readonly cwd: string;
}

export interface CliDeps {
  readonly fetch: FetchLike;
  readonly credentials: (profile: string | undefined) => AwsCredentialIdentityProvider;
  /** The region the SDK would use (AWS_REGION, then the profile), or undefined. */
  readonly defaultRegion: (profile: string | undefined) => Promise<string | undefined>;
  readonly stackOutputs: (stackName: string, profile: string | undefined) => Promise<Record<string, string>>;
  readonly dynamoClient: (config: DynamoDBClientConfig) => DynamoDBClient;
  readonly isProcessAlive: (pid: number) => boolean;
  /** This machine's clock (epoch ms): human output uses it only when an answer carries no server time. */
  readonly now: () => number;
}

export const defaultDeps: CliDeps = {
  fetch: (url, init) => fetch(url, init),
  credentials: (profile) => fromNodeProviderChain(profile ? { profile } : {}),
  defaultRegion: async (profile) => {
    try {
      return await new CloudFormationClient(profile ? { profile } : {}).config.region();
    } catch {
      return undefined;
    }
  },
  stackOutputs: async (stackName, profile) => {
    const client = new CloudFormationClient(profile ? { profile } : {});
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = Stacks?.[0]?.Outputs ?? [];
    return Object.fromEntries(
      outputs.flatMap((o) => (o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [])),
    );
  },
  dynamoClient: (config) => new DynamoDBClient(config),
  isProcessAlive,
  now: () => Date.now(),
};

export interface GlobalFlags {
  readonly json: boolean;
  readonly as?: string;
  readonly apiUrl?: string;
  readonly stack?: string;
  readonly profile?: string;
}

export type Mode =
  | { readonly kind: 'deployed'; readonly apiUrl?: string }
  | { readonly kind: 'local'; readonly file: string; readonly local: LocalFile };

const MAKE_START = 'is `make start` running?';

/** Deployed when an API URL is given; else local when a local.json is found; else deployed via the stack. */
export function resolveMode(flags: GlobalFlags, io: CliIo, deps: CliDeps): Mode {
  const apiUrl = flags.apiUrl ?? io.env.PAM_API_URL;
  if (apiUrl) return { kind: 'deployed', apiUrl };
  const file = findLocalFile(io.cwd, io.env);
  if (!file) return { kind: 'deployed' };
  const local = readLocalFile(file);
  if (!deps.isProcessAlive(local.pid)) {
    throw new CliError(
      `the local runtime is not running (pid ${local.pid} from ${file} has exited); start it with \`make start\``,
    );
  }
  return { kind: 'local', file, local };
}

function parseBaseUrl(text: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${source} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UsageError(`${source} is not an http(s) URL`);
  if (url.username || url.password || url.search || url.hash) {
    throw new UsageError(`${source} must be a plain base URL (no credentials, query or fragment)`);
  }
  return url;
}

async function apiUrlFromStack(flags: GlobalFlags, deps: CliDeps): Promise<string> {
  const stack = flags.stack ?? DEFAULT_STACK;
  let outputs: Record<string, string>;
  try {
    outputs = await deps.stackOutputs(stack, flags.profile);
  } catch (error) {
    const reason = oneLine(error instanceof Error ? error.message : String(error), 200);
    throw new CliError(
      `no API URL: set PAM_API_URL (or --api-url), run \`make start\` for local mode, ` +
        `or sign in to the hub account where stack ${stack} is deployed (${reason})`,
    );
  }
  const url = outputs.ApiUrl;
  if (!url) throw new CliError(`stack ${stack} has no ApiUrl output; set PAM_API_URL`);
  return url;
}

/** The client for the API of the current mode, authorized the way that mode needs. */
export async function apiClient(
  mode: Mode,
  flags: GlobalFlags,
  io: CliIo,
  deps: CliDeps,
): Promise<ApiClient> {
  if (mode.kind === 'local') {
    const user = localUser(mode, flags, io);
    return new ApiClient({
      baseUrl: mode.local.apiUrl,
      fetch: deps.fetch,
      authorize: async () => ({ [LOCAL_USER_HEADER]: user }),
      unreachableHint: MAKE_START,
    });
  }
  if (flags.as) {
    throw new UsageError('--as works only in local mode; deployed, you act as your AWS session (--profile)');
  }
  const source = flags.apiUrl ? '--api-url' : io.env.PAM_API_URL ? 'PAM_API_URL' : `the ApiUrl output`;
  const url = parseBaseUrl(mode.apiUrl ?? (await apiUrlFromStack(flags, deps)), source);
  const region =
    regionOfApiHost(url.hostname) ??
    io.env.AWS_REGION ??
    io.env.AWS_DEFAULT_REGION ??
    (await deps.defaultRegion(flags.profile));
  if (!region) {
    throw new UsageError(`cannot tell the API's region from ${url.host}; set AWS_REGION`);
  }
  const signer = sigV4Authorizer({ credentials: deps.credentials(flags.profile), region });
  return new ApiClient({
    baseUrl: url.href,
    fetch: deps.fetch,
    authorize: async (request) => {
      try {
        return await signer(request);
      } catch (error) {
        const reason = oneLine(error instanceof Error ? error.message : String(error), 200);
        const profile = flags.profile ?? io.env.AWS_PROFILE;
        throw new CliError(
          `no usable AWS credentials${profile ? ` for profile ${profile}` : ''} ` +
            `(try \`aws sso login\`): ${reason}`,
          2,
          { cause: error },
        );
      }
    },
    forbiddenHint:
      'call it with an IAM Identity Center session of the PamRequester permission set in the hub account',
  });
}

/** The user a local call acts as: --as, else PAM_USER. */
export function localUser(mode: Extract<Mode, { kind: 'local' }>, flags: GlobalFlags, io: CliIo): string {
  const user = flags.as ?? io.env.PAM_USER;
  if (!user) {
    const demo = mode.local.users.length ? ` (demo users: ${mode.local.users.join(', ')})` : '';
    throw new UsageError(`local mode needs --as <user> or PAM_USER${demo}`);
  }
  return user;
}

/** A DynamoDB client for the mode: the local runtime's moto endpoint, or the SDK's defaults. */
export function dynamoClientFor(mode: Mode, flags: GlobalFlags, deps: CliDeps): DynamoDBClient {
  if (mode.kind === 'local') {
    const { awsEndpoint, region, credentials } = mode.local;
    return deps.dynamoClient({ endpoint: awsEndpoint, region, credentials, maxAttempts: 1 });
  }
  return deps.dynamoClient(flags.profile ? { profile: flags.profile } : {});
}
