// Identity Center on moto for one test file's account. Moto creates one sso-admin instance per
// account and region when that backend is first touched, with a random instance ARN and identity
// store id, so both are discovered with ListInstances rather than configured.
import { CreatePermissionSetCommand, ListInstancesCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { type CallCounter, callCounter } from './fault-injection.ts';
import { motoAccount, motoClientConfig } from './moto.ts';

export interface IdentityCenterFixture {
  /** An sso-admin client pinned to the account, counting its calls in `calls`. */
  readonly client: SSOAdminClient;
  readonly calls: CallCounter;
  readonly instanceArn: string;
  readonly identityStoreId: string;
  /** Creates a permission set (session duration PT1H, as JIT sets use) and answers its ARN. */
  createPermissionSet(name: string): Promise<string>;
}

export async function createIdentityCenterFixture(accountId: string): Promise<IdentityCenterFixture> {
  // Built by hand: `motoClient`'s constructor type does not accept a rest-tuple config parameter.
  const client = new SSOAdminClient(motoClientConfig());
  client.middlewareStack.use(motoAccount(accountId) as Parameters<typeof client.middlewareStack.use>[0]);
  const calls = callCounter();
  client.middlewareStack.use(calls);

  const { Instances } = await client.send(new ListInstancesCommand({}));
  const instance = Instances?.[0];
  if (!instance?.InstanceArn || !instance.IdentityStoreId)
    throw new Error(`moto listed no sso-admin instance for account ${accountId}`);
  const { InstanceArn: instanceArn, IdentityStoreId: identityStoreId } = instance;
  calls.reset();

  return {
    client,
    calls,
    instanceArn,
    identityStoreId,
    async createPermissionSet(name) {
      const { PermissionSet } = await client.send(
        new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: name, SessionDuration: 'PT1H' }),
      );
      if (!PermissionSet?.PermissionSetArn) throw new Error(`moto created no permission set ${name}`);
      return PermissionSet.PermissionSetArn;
    },
  };
}
