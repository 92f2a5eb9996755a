import { describe, expect, it } from 'vitest';
import { globsIntersect, privilegeReasons } from '#config/guardrails.ts';
import { parseConfig, validateConfigText } from '#config/load.ts';
import { type Doc, inline, yamlWith } from './config-fixture.ts';

const quorum = { approvers: ['cloud-ops'], required: 2 };

function issuesOf(change: (d: Doc) => void): readonly string[] {
  const result = validateConfigText(yamlWith(change));
  return result.ok ? [] : result.issues;
}

/** Puts an inline policy on entitlements[0] (non-privileged, required 1). */
const withInline =
  (...statements: Doc[]) =>
  (d: Doc) => {
    d.entitlements[0].target.permissionSet.inlinePolicy = inline(...statements);
  };

describe('privileged entitlements must say so', () => {
  it.each<[string, (d: Doc) => void, string]>([
    [
      'a target in the hub account',
      (d) => {
        d.entitlements[0].target.accounts = ['333333333333', '111111111111'];
      },
      'entitlements[0].privileged: expected true because target.accounts[1] is the hub account 111111111111',
    ],
    [
      'a target in the management account',
      (d) => {
        d.entitlements[1].target.accounts = ['222222222222'];
      },
      'entitlements[1].privileged: expected true because target.accounts[0] is the management account 222222222222',
    ],
    [
      'iam:* in an inline policy',
      withInline({ Effect: 'Allow', Action: 'iam:*', Resource: '*' }),
      'entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action "iam:*" can administer IAM',
    ],
    [
      'the * action',
      withInline({ Effect: 'Allow', Action: ['s3:GetObject', '*'], Resource: 'arn:aws:s3:::app/*' }),
      'entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action[1] "*" can administer IAM',
    ],
    [
      '*:* in an inline policy',
      withInline({ Effect: 'Allow', Action: '*:*', Resource: '*' }),
      'entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action "*:*" can administer IAM',
    ],
    [
      'a wildcard IAM write',
      withInline({ Effect: 'Allow', Action: ['IAM:put*'], Resource: 'arn:aws:iam::*:role/app' }),
      'entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action[0] "IAM:put*" can administer IAM',
    ],
    [
      'iam:PassRole',
      withInline({ Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::333333333333:role/app' }),
      'entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action "iam:PassRole" can administer IAM',
    ],
    [
      'Identity Center administration',
      withInline({ Effect: 'Allow', Action: 'sso:CreateAccountAssignment', Resource: '*' }),
      'entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action "sso:CreateAccountAssignment" can administer IAM Identity Center',
    ],
    [
      'Identity Store administration',
      withInline({ Effect: 'Allow', Action: 'identitystore:CreateGroupMembership', Resource: '*' }),
      'entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action "identitystore:CreateGroupMembership" can administer the Identity Store (users, groups, memberships)',
    ],
    [
      'Organizations administration',
      withInline({ Effect: 'Allow', Action: 'organizations:Leave*', Resource: '*' }),
      'entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action "organizations:Leave*" can administer AWS Organizations',
    ],
    [
      'an Allow with NotAction',
      withInline({ Effect: 'Allow', NotAction: ['iam:*', 'organizations:*'], Resource: '*' }),
      'entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0] allows every action except its NotAction list',
    ],
    [
      'assuming the spoke pam-operator role',
      withInline({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::*:role/pam-*' }),
      `entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action "sts:AssumeRole" can assume cloud-pam's roles (the spoke pam-operator role)`,
    ],
    [
      'assuming any role through NotResource',
      withInline({ Effect: 'Allow', Action: 'sts:AssumeRole', NotResource: 'arn:aws:iam::*:role/admin' }),
      `entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action "sts:AssumeRole" can assume cloud-pam's roles (the spoke pam-operator role)`,
    ],
    [
      "changing cloud-pam's stacks",
      withInline({
        Effect: 'Allow',
        Action: 'cloudformation:*',
        Resource: 'arn:aws:cloudformation:*:*:stack/CloudPam*',
      }),
      `entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action "cloudformation:*" can change cloud-pam's stacks or StackSets`,
    ],
    [
      "changing cloud-pam's StackSets",
      withInline({
        Effect: 'Allow',
        Action: 'cloudformation:UpdateStackSet',
        Resource: 'arn:aws:cloudformation:*:*:stackset/cloud-pam-spoke:*',
      }),
      `entitlements[0].privileged: expected true because target.permissionSet.inlinePolicy.Statement[0].Action "cloudformation:UpdateStackSet" can change cloud-pam's stacks or StackSets`,
    ],
    [
      'AdministratorAccess',
      (d) => {
        d.entitlements[0].target.permissionSet.managedPolicies = ['ReadOnlyAccess', 'AdministratorAccess'];
      },
      'entitlements[0].privileged: expected true because target.permissionSet.managedPolicies[1] AdministratorAccess allows every action on every resource',
    ],
    [
      'AdministratorAccess by ARN, in any case',
      (d) => {
        d.entitlements[0].target.permissionSet.managedPolicies = [
          'arn:aws:iam::aws:policy/administratoraccess',
        ];
      },
      'entitlements[0].privileged: expected true because target.permissionSet.managedPolicies[0] AdministratorAccess allows every action on every resource',
    ],
    [
      'a privileged job-function policy',
      (d) => {
        d.entitlements[0].target.permissionSet.managedPolicies = ['job-function/SystemAdministrator'];
      },
      'entitlements[0].privileged: expected true because target.permissionSet.managedPolicies[0] SystemAdministrator passes roles and changes stacks, functions and SSM documents',
    ],
    [
      'a customer managed policy (unreadable at synth)',
      (d) => {
        d.entitlements[0].target.permissionSet.customerManagedPolicies = [{ name: 'app-reader' }];
      },
      'entitlements[0].privileged: expected true because target.permissionSet.customerManagedPolicies[0] (app-reader) cannot be inspected before deployment',
    ],
  ])('requires privileged: true for %s', (_name, change, expected) => {
    // Act
    const issues = issuesOf((d) => {
      d.entitlements[0].approval = { ...quorum };
      d.entitlements[1].approval = { ...quorum };
      change(d);
    });
    // Assess
    expect(issues).toEqual([expected]);
  });

  it('lists every reason at once', () => {
    const issues = issuesOf((d) => {
      d.entitlements[0].approval = { ...quorum };
      d.entitlements[0].target.accounts = ['222222222222', '111111111111'];
      d.entitlements[0].target.permissionSet.managedPolicies = ['IAMFullAccess'];
    });
    expect(issues).toEqual([
      'entitlements[0].privileged: expected true because target.accounts[0] is the management account 222222222222; ' +
        'target.accounts[1] is the hub account 111111111111; ' +
        'target.permissionSet.managedPolicies[0] IAMFullAccess administers IAM',
    ]);
  });

  it.each<[string, Doc[]]>([
    ['IAM reads', [{ Effect: 'Allow', Action: ['iam:Get*', 'iam:List*', 'sso:Describe*'], Resource: '*' }]],
    [
      'a Deny of everything privileged',
      [
        { Effect: 'Deny', Action: ['iam:*', '*'], Resource: '*' },
        { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
      ],
    ],
    [
      'a Deny with NotAction',
      [
        { Effect: 'Deny', NotAction: 's3:*', Resource: '*' },
        { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::app-data/*' },
      ],
    ],
    [
      'assuming an unrelated role',
      [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Resource: 'arn:aws:iam::333333333333:role/app-deployer',
        },
      ],
    ],
    [
      'deploying application functions',
      [
        {
          Effect: 'Allow',
          Action: 'lambda:Update*',
          Resource: 'arn:aws:lambda:*:333333333333:function:app-*',
        },
      ],
    ],
    ['reading stacks', [{ Effect: 'Allow', Action: 'cloudformation:Describe*', Resource: '*' }]],
    [
      'writing application objects',
      [{ Effect: 'Allow', Action: 's3:Put*', Resource: 'arn:aws:s3:::app-data/*' }],
    ],
    [
      'conditions (ignored, they only narrow)',
      [
        {
          Effect: 'Allow',
          Action: 'ec2:StartInstances',
          Resource: '*',
          Condition: { StringEquals: { 'aws:ResourceTag/team': 'app' } },
        },
      ],
    ],
  ])('does not count %s as privileged', (_name, statements) => {
    expect(issuesOf(withInline(...statements))).toEqual([]);
  });
});

describe('privileged: true forces a quorum of two and no auto-approval', () => {
  it('requires approval.required ≥ 2', () => {
    const issues = issuesOf((d) => {
      d.entitlements[1].privileged = true;
    });
    expect(issues).toEqual([
      'entitlements[1].approval.required: expected a number ≥ 2 because the entitlement is privileged, got 1',
    ]);
  });

  it('refuses autoApprove, once, with the privileged reason', () => {
    const issues = issuesOf((d) => {
      d.entitlements[1].privileged = true;
      d.entitlements[1].approval = { approvers: ['cloud-ops'], required: 2, autoApprove: true };
    });
    expect(issues).toEqual([
      'entitlements[1].approval.autoApprove: expected false because the entitlement is privileged',
    ]);
  });

  it('reports the missing flag and the approval rules together', () => {
    const issues = issuesOf((d) => {
      d.entitlements[2].target.accounts = ['111111111111'];
      d.entitlements[2].approval.autoApprove = true;
    });
    expect(issues).toEqual([
      'entitlements[2].privileged: expected true because target.accounts[0] is the hub account 111111111111',
      'entitlements[2].approval.required: expected a number ≥ 2 because the entitlement is privileged, got 1',
      'entitlements[2].approval.autoApprove: expected false because the entitlement is privileged',
    ]);
  });

  it('accepts a privileged entitlement with a quorum of two', () => {
    const config = parseConfig(
      yamlWith((d) => {
        Object.assign(d.entitlements[1], {
          privileged: true,
          approval: { ...quorum },
          breakGlass: ['cloud-ops'],
        });
        d.entitlements[1].target.accounts = ['222222222222'];
      }),
    );
    expect(config.entitlements[1]?.privileged).toBe(true);
  });
});

describe('privilegeReasons', () => {
  it('reads the domain model too (so synth can explain a privileged entitlement)', () => {
    const config = parseConfig(
      yamlWith((d) => {
        Object.assign(d.entitlements[0], { privileged: true, approval: { ...quorum } });
        d.entitlements[0].target.permissionSet.managedPolicies = ['PowerUserAccess'];
      }),
    );
    const [entitlement] = config.entitlements;
    expect(privilegeReasons(entitlement as NonNullable<typeof entitlement>, {})).toEqual([
      "target.permissionSet.managedPolicies[0] PowerUserAccess allows every service but IAM and Organizations, including Identity Center and cloud-pam's resources",
    ]);
  });
});

describe('globsIntersect', () => {
  it.each<[string, string, boolean]>([
    ['*', 'iam', true],
    ['i*', 'iam', true],
    ['iam', 'IAM', true],
    ['s3', 'iam', false],
    ['arn:aws:iam::*:role/*', 'arn:%:iam::%:role/pam-operator#', true],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a template
    ['arn:aws:iam::*:role/${aws:username}', 'arn:%:iam::%:role/pam-operator#', true],
    ['arn:aws:iam::123456789012:role/app-*', 'arn:%:iam::%:role/pam-operator#', false],
    ['arn:aws:lambda:*:333333333333:function:app-*', 'arn:%:lambda:%:%:function:cloud-pam%', false],
    ['arn:aws:lambda:*:*:function:*', 'arn:%:lambda:%:%:function:cloud-pam%', true],
    ['arn:aws:s3:::app-data/*', 'arn:%:s3:::cloud-pam%', false],
    ['arn:aws:s3:::*', 'arn:%:s3:::cloud-pam%', true],
    ['arn:aws:s3:::cloud-pam-?/*', 'arn:%:s3:::cloud-pam%/*', true],
  ])('%s ∩ %s → %s', (policy, rule, expected) => {
    expect(globsIntersect(policy, rule)).toBe(expected);
  });
});
