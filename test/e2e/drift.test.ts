// Standing access made outside cloud-pam, on the local runtime: an assignment created directly in
// moto's Identity Center is found by the daily drift sweep, removed once its grace period (PT1H in
// the demo config) has passed, and audited on the `drift` chain — all within one
// `pam local clock advance 25h`. Moto deviation worked around: schedules and rules never fire in
// moto; the runtime fires them on its clock, in time order.
import { CreateAccountAssignmentCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { describe, expect, it } from 'vitest';
import { perFile } from '../support/per-file.ts';
import { bootE2e } from './support.ts';

const DEV = '333333333333';
const e2e = perFile(bootE2e, (booted) => booted.stop());

describe('drift', () => {
  it('removes an assignment created outside cloud-pam after `pam local clock advance 25h`, and audits it', async () => {
    // Prepare: someone gives erin PamDevReadOnly in dev directly in Identity Center.
    const ssoAdmin = new SSOAdminClient({
      endpoint: e2e.runtime.awsEndpoint,
      region: e2e.runtime.region,
      credentials: e2e.runtime.credentials,
      maxAttempts: 1,
    });
    await ssoAdmin.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: e2e.runtime.directory.instanceArn,
        TargetId: DEV,
        TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: e2e.permissionSetArn('PamDevReadOnly'),
        PrincipalType: 'USER',
        PrincipalId: e2e.userId('erin'),
      }),
    );
    ssoAdmin.destroy();
    expect(await e2e.assignments(DEV, 'PamDevReadOnly')).toContain(e2e.userId('erin'));

    // Act
    const advanced = await e2e.pam('local', 'clock', 'advance', '25h', '--json');

    // Assess: the daily sweep ran, the assignment is gone, and the drift chain says why.
    expect(advanced.code, advanced.stderr).toBe(0);
    expect(advanced.json<{ fired: { rules: string[] } }>().fired.rules).toContain('sweep-drift');
    expect(await e2e.assignments(DEV, 'PamDevReadOnly')).not.toContain(e2e.userId('erin'));
    const drift = await e2e.auditEvents('drift');
    expect(drift.map((event) => event.type)).toEqual(['drift.detected', 'drift.removed']);
    expect(drift[0]).toMatchObject({
      accountId: DEV,
      details: { userId: e2e.userId('erin'), mode: 'remove' },
    });
    const verify = await e2e.pam('audit', 'verify', '--chain', 'drift');
    expect(verify.code, verify.stderr).toBe(0);
  });
});
