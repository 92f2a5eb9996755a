// The Slack ingress's secrets (shared/adapters/aws/secret-string-provider.ts): cached for their max
// age, one Secrets Manager call for callers who ask at the same moment (the ingress reads the bot
// token alongside the signing secret on a cold start), and the read's own error, never the value.
import { describe, expect, it } from 'vitest';
import { SecretStringProvider } from '#adapters/aws/secret-string-provider.ts';

function counted(answer: (id: string) => Promise<{ SecretString?: string }>) {
  const reads: string[] = [];
  const provider = new SecretStringProvider(async (id) => {
    reads.push(id);
    return answer(id);
  });
  return { provider, reads };
}

describe('SecretStringProvider', () => {
  it('makes one call for two callers asking for the same secret at once, then serves the cache', async () => {
    // Prepare
    const { provider, reads } = counted(async (id) => ({ SecretString: `value of ${id}` }));

    // Act
    const [first, second] = await Promise.all([
      provider.getString('token', 300),
      provider.getString('token', 300),
    ]);
    const third = await provider.getString('token', 300);

    // Assess
    expect([first, second, third]).toEqual(['value of token', 'value of token', 'value of token']);
    expect(reads).toEqual(['token']);
  });

  it('reads again after a failure, and fails with the read’s own error', async () => {
    // Prepare
    let fail = true;
    const { provider, reads } = counted(async () => {
      if (fail) throw Object.assign(new Error('ResourceNotFoundException'), { name: 'AwsJsonCallError' });
      return { SecretString: 's3cr3t' };
    });

    // Act
    const failed = await provider.getString('signing', 300).catch((error: Error) => error.message);
    fail = false;
    const value = await provider.getString('signing', 300);

    // Assess
    expect(failed).toBe('ResourceNotFoundException');
    expect(value).toBe('s3cr3t');
    expect(reads).toEqual(['signing', 'signing']);
  });

  it('refuses a secret without a string, naming the secret and not a value', async () => {
    const { provider } = counted(async () => ({}));
    await expect(provider.getString('token', 300)).rejects.toThrow('secret token has no string value');
  });
});
