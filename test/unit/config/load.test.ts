import { describe, expect, it } from 'vitest';
import { makeCatalog } from '#app/catalog.ts';
import {
  loadConfigFile,
  missingGroupIds,
  parseConfig,
  validateConfigObject,
  validateConfigText,
} from '#config/load.ts';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import { ConfigInvalidError } from '#domain/errors.ts';
import { baseDoc, type Doc, inline, yamlWith } from './config-fixture.ts';

const HOUR = 3_600_000;

function issuesOf(text: string): readonly string[] {
  const result = validateConfigText(text);
  if (result.ok) throw new Error('expected the config to be invalid');
  return result.issues;
}

describe('the example config', () => {
  it('validates and maps to the domain model', () => {
    // Act
    const config = loadConfigFile('infra/config/example.yaml');
    // Assess
    expect(config.entitlements.map((e) => e.id)).toEqual([
      'dev-readonly',
      'dev-deployer',
      'prod-readonly',
      'prod-admin',
    ]);
    const prodAdmin = config.entitlements.find((e) => e.id === 'prod-admin');
    expect(prodAdmin).toMatchObject({
      privileged: true,
      strictExpiry: true,
      breakGlass: ['cloud-ops'],
      approval: { required: 2, autoApprove: false },
      maxDurationMs: 2 * HOUR,
      maxTotalDurationMs: 4 * HOUR,
      defaultDurationMs: HOUR,
      target: {
        accounts: ['444444444444'],
        permissionSet: { managedPolicies: ['arn:aws:iam::aws:policy/AdministratorAccess'] },
      },
    });
    expect(config.identityCenter.hubAccountId).toBe('111111111111');
    expect(config.drift).toEqual({ mode: 'remove', graceMs: HOUR });
    expect(config.approvalTimeoutMs).toBe(24 * HOUR);
    expect(missingGroupIds(config)).toEqual([]);
  });
});

describe('defaults', () => {
  it('fills every documented default', () => {
    // Act
    const config = parseConfig(yamlWith());
    const [first] = config.entitlements;
    // Assess
    expect(config.drift.graceMs).toBe(HOUR);
    expect(config.approvalTimeoutMs).toBe(24 * HOUR);
    expect(first).toMatchObject({
      maxDurationMs: 4 * HOUR,
      maxTotalDurationMs: 4 * HOUR,
      defaultDurationMs: HOUR,
      requireReason: true,
      breakGlass: [],
      strictExpiry: false,
      privileged: false,
      approval: { autoApprove: false },
      target: { permissionSet: { customerManagedPolicies: [] } },
    });
    expect(first?.ticketPattern).toBeUndefined();
  });

  it('defaults defaultDuration to maxDuration when that is shorter than PT1H', () => {
    const config = parseConfig(
      yamlWith((d) => {
        d.entitlements[0].maxDuration = 'PT30M';
      }),
    );
    expect(config.entitlements[0]?.defaultDurationMs).toBe(HOUR / 2);
  });

  it('normalizes AWS managed policy names (with or without a path) to ARNs in the instance partition', () => {
    // Prepare
    const text = yamlWith((d) => {
      d.identityCenter.instanceArn = 'arn:aws-us-gov:sso:::instance/ssoins-0123456789abcdef';
      d.entitlements[0].target.permissionSet.managedPolicies = [
        'ReadOnlyAccess',
        'job-function/ViewOnlyAccess',
        'arn:aws-us-gov:iam::aws:policy/AWSSupportAccess',
      ];
    });
    // Act
    const config = parseConfig(text);
    // Assess
    expect(config.entitlements[0]?.target.permissionSet.managedPolicies).toEqual([
      'arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess',
      'arn:aws-us-gov:iam::aws:policy/job-function/ViewOnlyAccess',
      'arn:aws-us-gov:iam::aws:policy/AWSSupportAccess',
    ]);
  });

  it('gives customer managed policies the root path by default', () => {
    const config = parseConfig(
      yamlWith((d) => {
        Object.assign(d.entitlements[0], {
          privileged: true,
          approval: { approvers: ['cloud-ops'], required: 2 },
        });
        d.entitlements[0].target.permissionSet.customerManagedPolicies = [{ name: 'app-reader' }];
      }),
    );
    expect(config.entitlements[0]?.target.permissionSet.customerManagedPolicies).toEqual([
      { name: 'app-reader', path: '/' },
    ]);
  });
});

describe('limits.maxOpenRequestsPerUser', () => {
  it('defaults to 10 open requests per user, whether limits or the field is omitted', () => {
    // Act
    const omitted = parseConfig(yamlWith());
    const empty = parseConfig(
      yamlWith((d) => {
        d.limits = {};
      }),
    );
    const spelledOut = parseConfig(
      yamlWith((d) => {
        d.limits = { maxOpenRequestsPerUser: 10 };
      }),
    );
    // Assess
    expect(omitted.limits).toEqual({ maxOpenRequestsPerUser: 10 });
    expect(empty.configHash).toBe(omitted.configHash);
    expect(spelledOut.configHash).toBe(omitted.configHash);
  });

  it('takes the configured number, and it counts in the config hash', () => {
    const config = parseConfig(
      yamlWith((d) => {
        d.limits = { maxOpenRequestsPerUser: 3 };
      }),
    );
    expect(config.limits).toEqual({ maxOpenRequestsPerUser: 3 });
    expect(config.configHash).not.toBe(parseConfig(yamlWith()).configHash);
  });

  it.each<[string, unknown, string]>([
    ['zero', { maxOpenRequestsPerUser: 0 }, 'limits.maxOpenRequestsPerUser: expected a number ≥ 1'],
    ['a fraction', { maxOpenRequestsPerUser: 2.5 }, 'limits.maxOpenRequestsPerUser: expected a whole number'],
    ['text', { maxOpenRequestsPerUser: 'ten' }, 'limits.maxOpenRequestsPerUser: expected a whole number'],
    [
      'over 1000',
      { maxOpenRequestsPerUser: 1001 },
      'limits.maxOpenRequestsPerUser: expected a number ≤ 1000',
    ],
    [
      'a typo',
      { maxOpenRequests: 5 },
      'limits.maxOpenRequests: expected no such key (unknown key; allowed here: maxOpenRequestsPerUser)',
    ],
    ['not a mapping', 5, 'limits: expected a mapping'],
  ])('refuses %s, naming the field', (_name, limits, expected) => {
    expect(
      issuesOf(
        yamlWith((d) => {
          d.limits = limits;
        }),
      ),
    ).toEqual([expected]);
  });
});

describe('configHash', () => {
  it('is the SHA-256 of the canonical JSON of the validated config without the hash', () => {
    const { configHash, ...rest } = parseConfig(yamlWith());
    expect(configHash).toBe(sha256Hex(canonicalJson(rest)));
    expect(configHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores formatting and key order but changes with any value', () => {
    const a = parseConfig(yamlWith()).configHash;
    const reordered = parseConfig(
      `# a comment\n${yamlWith((d) => {
        d.drift = { mode: 'report', grace: 'PT60M' };
      })}`,
    ).configHash;
    const changed = parseConfig(
      yamlWith((d) => {
        d.entitlements[0].maxDuration = 'PT5H';
      }),
    ).configHash;
    expect(reordered).toBe(a);
    expect(changed).not.toBe(a);
  });
});

describe('error messages name the field path and what was expected', () => {
  it.each<[string, (d: Doc) => void, string]>([
    [
      'required below 1',
      (d) => {
        d.entitlements[2].approval.required = 0;
      },
      'entitlements[2].approval.required: expected a number ≥ 1',
    ],
    [
      'required above 5',
      (d) => {
        d.entitlements[2].approval.required = 6;
      },
      'entitlements[2].approval.required: expected a number ≤ 5',
    ],
    [
      'required not an integer',
      (d) => {
        d.entitlements[2].approval.required = 1.5;
      },
      'entitlements[2].approval.required: expected an integer',
    ],
    [
      'required missing',
      (d) => void delete d.entitlements[1].approval.required,
      'entitlements[1].approval.required: expected a number (the field is required)',
    ],
    [
      'required as a string',
      (d) => {
        d.entitlements[1].approval.required = '2';
      },
      'entitlements[1].approval.required: expected a number',
    ],
    [
      'no accounts',
      (d) => {
        d.entitlements[0].target.accounts = [];
      },
      'entitlements[0].target.accounts: expected a non-empty list',
    ],
    [
      'short account id',
      (d) => {
        d.entitlements[0].target.accounts = ['12345'];
      },
      'entitlements[0].target.accounts[0]: expected a 12-digit AWS account id as a quoted string',
    ],
    [
      'unquoted account id',
      (d) => {
        d.entitlements[0].target.accounts = [333333333333];
      },
      'entitlements[0].target.accounts[0]: expected a 12-digit AWS account id as a quoted string',
    ],
    [
      'repeated account',
      (d) => {
        d.entitlements[0].target.accounts = ['333333333333', '333333333333'];
      },
      'entitlements[0].target.accounts[1]: expected unique account ids; "333333333333" repeats [0]',
    ],
    [
      'id not kebab-case',
      (d) => {
        d.entitlements[0].id = 'Dev_ReadOnly';
      },
      'entitlements[0].id: expected a kebab-case id (lowercase letters and digits separated by single hyphens)',
    ],
    [
      'repeated id',
      (d) => {
        d.entitlements[2].id = 'dev-readonly';
      },
      'entitlements[2].id: expected a unique id; "dev-readonly" is also entitlements[0]',
    ],
    [
      'title missing',
      (d) => void delete d.entitlements[0].title,
      'entitlements[0].title: expected a string (the field is required)',
    ],
    [
      'months',
      (d) => {
        d.entitlements[0].maxDuration = 'P1M';
      },
      'entitlements[0].maxDuration: expected an ISO-8601 duration such as PT30M, PT1H, P1D or P1DT12H; years and months have no fixed length, use days (P30D)',
    ],
    [
      'years',
      (d) => {
        d.entitlements[0].maxDuration = 'P1Y';
      },
      'entitlements[0].maxDuration: expected an ISO-8601 duration such as PT30M, PT1H, P1D or P1DT12H; years and months have no fixed length, use days (P30D)',
    ],
    [
      'not ISO-8601',
      (d) => {
        d.entitlements[0].maxDuration = '4h';
      },
      'entitlements[0].maxDuration: expected an ISO-8601 duration such as PT30M, PT1H, P1D or P1DT12H',
    ],
    [
      'zero duration',
      (d) => {
        d.entitlements[0].maxDuration = 'PT0S';
      },
      'entitlements[0].maxDuration: expected a positive duration, such as PT1H',
    ],
    [
      'duration as a number',
      (d) => {
        d.entitlements[0].maxDuration = 3600;
      },
      'entitlements[0].maxDuration: expected a string',
    ],
    [
      'defaultDuration above maxDuration',
      (d) => {
        d.entitlements[1].defaultDuration = 'PT5H';
      },
      'entitlements[1].defaultDuration: expected a duration ≤ maxDuration (PT4H), got PT5H',
    ],
    [
      'maxTotalDuration below maxDuration',
      (d) => {
        d.entitlements[1].maxTotalDuration = 'PT2H';
      },
      'entitlements[1].maxTotalDuration: expected a duration ≥ maxDuration (PT4H), got PT2H',
    ],
    [
      'autoApprove with a quorum',
      (d) => {
        d.entitlements[0].approval = { approvers: ['cloud-ops'], required: 2, autoApprove: true };
      },
      'entitlements[0].approval.autoApprove: expected false when approval.required is 2 (auto-approval needs no approver, so no quorum)',
    ],
    [
      'no approvers',
      (d) => {
        d.entitlements[0].approval.approvers = [];
      },
      'entitlements[0].approval.approvers: expected a non-empty list',
    ],
    [
      'no eligible groups',
      (d) => {
        d.entitlements[0].eligible = [];
      },
      'entitlements[0].eligible: expected a non-empty list',
    ],
    [
      'permission set name too long',
      (d) => {
        d.entitlements[0].target.permissionSet.name = 'x'.repeat(33);
      },
      'entitlements[0].target.permissionSet.name: expected 1 to 32 characters of letters, digits and +=,.@_-',
    ],
    [
      'permission set name with a space',
      (d) => {
        d.entitlements[0].target.permissionSet.name = 'Pam Dev';
      },
      'entitlements[0].target.permissionSet.name: expected 1 to 32 characters of letters, digits and +=,.@_-',
    ],
    [
      'permission set without policies',
      (d) => {
        d.entitlements[0].target.permissionSet = { name: 'Empty' };
      },
      'entitlements[0].target.permissionSet: expected at least one of managedPolicies, customerManagedPolicies or inlinePolicy',
    ],
    [
      'customer managed policy given as managed',
      (d) => {
        d.entitlements[0].target.permissionSet.managedPolicies = ['arn:aws:iam::333333333333:policy/app'];
      },
      'entitlements[0].target.permissionSet.managedPolicies[0]: expected an AWS managed policy name (ReadOnlyAccess, job-function/ViewOnlyAccess) or ARN (arn:aws:iam::aws:policy/ReadOnlyAccess); customer managed policies go in customerManagedPolicies',
    ],
    [
      'managed policy in another partition',
      (d) => {
        d.entitlements[0].target.permissionSet.managedPolicies = [
          'arn:aws-cn:iam::aws:policy/ReadOnlyAccess',
        ];
      },
      'entitlements[0].target.permissionSet.managedPolicies[0]: expected an ARN in partition aws (the partition of identityCenter.instanceArn)',
    ],
    [
      'bad customer managed policy path',
      (d) =>
        Object.assign(d.entitlements[0], {
          privileged: true,
          approval: { approvers: ['cloud-ops'], required: 2 },
          target: {
            accounts: ['333333333333'],
            permissionSet: { name: 'X', customerManagedPolicies: [{ name: 'p', path: 'pam' }] },
          },
        }),
      'entitlements[0].target.permissionSet.customerManagedPolicies[0].path: expected an IAM path such as "/" or "/pam/"',
    ],
    [
      'policy version',
      (d) => {
        d.entitlements[0].target.permissionSet.inlinePolicy = {
          Version: '2008-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
        };
      },
      'entitlements[0].target.permissionSet.inlinePolicy.Version: expected "2012-10-17"',
    ],
    [
      'statement with Principal',
      (d) => {
        d.entitlements[0].target.permissionSet.inlinePolicy = inline({
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: '*',
        });
      },
      'entitlements[0].target.permissionSet.inlinePolicy.Statement[0].Principal: expected no such key (unknown key; allowed here: Sid, Effect, Action, NotAction, Resource, NotResource, Condition)',
    ],
    [
      'statement with Action and NotAction',
      (d) => {
        d.entitlements[0].target.permissionSet.inlinePolicy = inline({
          Effect: 'Deny',
          Action: 's3:*',
          NotAction: 's3:Get*',
          Resource: '*',
        });
      },
      'entitlements[0].target.permissionSet.inlinePolicy.Statement[0].Action: expected exactly one of Action or NotAction',
    ],
    [
      'statement without Resource',
      (d) => {
        d.entitlements[0].target.permissionSet.inlinePolicy = inline({
          Effect: 'Allow',
          Action: 's3:GetObject',
        });
      },
      'entitlements[0].target.permissionSet.inlinePolicy.Statement[0].Resource: expected exactly one of Resource or NotResource',
    ],
    [
      'malformed action',
      (d) => {
        d.entitlements[0].target.permissionSet.inlinePolicy = inline({
          Effect: 'Allow',
          Action: ['s3:GetObject', 'GetObject'],
          Resource: '*',
        });
      },
      'entitlements[0].target.permissionSet.inlinePolicy.Statement[0].Action[1]: expected an IAM action such as "s3:GetObject", "ec2:Describe*" or "*"',
    ],
    [
      'bad Effect',
      (d) => {
        d.entitlements[0].target.permissionSet.inlinePolicy = inline({
          Effect: 'allow',
          Action: 's3:GetObject',
          Resource: '*',
        });
      },
      'entitlements[0].target.permissionSet.inlinePolicy.Statement[0].Effect: expected one of "Allow", "Deny"',
    ],
    [
      'ticketPattern too long',
      (d) => {
        d.entitlements[0].ticketPattern = `^${'A'.repeat(200)}$`;
      },
      'entitlements[0].ticketPattern: expected at most 200 characters',
    ],
    [
      'instance ARN',
      (d) => {
        d.identityCenter.instanceArn = 'arn:aws:sso:::instance/example';
      },
      'identityCenter.instanceArn: expected an Identity Center instance ARN such as arn:aws:sso:::instance/ssoins-0123456789abcdef',
    ],
    [
      'identity store id',
      (d) => {
        d.identityCenter.identityStoreId = 'store-1';
      },
      'identityCenter.identityStoreId: expected an identity store id such as d-1234567890',
    ],
    [
      'hub account id',
      (d) => {
        d.identityCenter.hubAccountId = '1111';
      },
      'identityCenter.hubAccountId: expected a 12-digit AWS account id as a quoted string',
    ],
    [
      'organization id',
      (d) => {
        d.identityCenter.organizationId = 'org-1';
      },
      'identityCenter.organizationId: expected an AWS Organizations id such as o-a1b2c3d4e5',
    ],
    [
      'group id',
      (d) => {
        d.identityCenter.groupIds['cloud ops'] = 'nope';
      },
      'identityCenter.groupIds["cloud ops"]: expected an Identity Store group id such as 9067a1b2c3-1a2b3c4d-…',
    ],
    [
      'drift mode',
      (d) => {
        d.drift.mode = 'delete';
      },
      'drift.mode: expected one of "remove", "report"',
    ],
    ['admins missing', (d) => void delete d.admins, 'admins: expected a list (the field is required)'],
    [
      'entitlements not a list',
      (d) => {
        d.entitlements = { id: 'x' };
      },
      'entitlements: expected a list',
    ],
  ])('%s', (_name, change, expected) => {
    // Act
    const issues = issuesOf(yamlWith(change));
    // Assess
    expect(issues).toEqual([expected]);
  });
});

describe('strict objects', () => {
  it.each<[string, (d: Doc) => void, string]>([
    [
      'top level',
      (d) => {
        d.entitlement = [];
      },
      'entitlement: expected no such key (unknown key; allowed here: identityCenter, admins, drift, approvalTimeout, maxStartDelay, limits, slack, entitlements)',
    ],
    [
      'identityCenter',
      (d) => {
        d.identityCenter.region = 'us-east-1';
      },
      'identityCenter.region: expected no such key (unknown key; allowed here: instanceArn, identityStoreId, hubAccountId, managementAccountId, organizationId, groupIds)',
    ],
    [
      'entitlement',
      (d) => {
        d.entitlements[1].maxduration = 'PT1H';
      },
      'entitlements[1].maxduration: expected no such key (unknown key; allowed here: id, title, description, kind, target, eligible, approval, maxDuration, maxTotalDuration, defaultDuration, requireReason, ticketPattern, breakGlass, strictExpiry, privileged)',
    ],
    [
      'permission set',
      (d) => {
        d.entitlements[0].target.permissionSet.sessionDuration = 'PT8H';
      },
      'entitlements[0].target.permissionSet.sessionDuration: expected no such key (unknown key; allowed here: name, description, managedPolicies, customerManagedPolicies, inlinePolicy)',
    ],
    [
      'approval',
      (d) => {
        d.entitlements[0].approval.reqired = 2;
      },
      'entitlements[0].approval.reqired: expected no such key (unknown key; allowed here: approvers, required, autoApprove, slackChannel)',
    ],
  ])('refuses an unknown key in %s', (_name, change, expected) => {
    expect(issuesOf(yamlWith(change))).toEqual([expected]);
  });
});

describe('reserved kinds', () => {
  it.each(['secret', 'session'])('refuses kind %s as reserved, not supported yet', (kind) => {
    const issues = issuesOf(
      yamlWith((d) => {
        d.entitlements[1].kind = kind;
      }),
    );
    expect(issues).toEqual([
      `entitlements[1].kind: expected "aws-role" ("${kind}" is reserved, not supported yet)`,
    ]);
  });

  it('names the supported kinds for an unknown one', () => {
    const issues = issuesOf(
      yamlWith((d) => {
        d.entitlements[1].kind = 'database';
      }),
    );
    expect(issues).toEqual(['entitlements[1].kind: expected one of "aws-role", "secret", "session"']);
  });
});

describe('every problem at once', () => {
  it('reports structural, cross-field and guardrail problems of several entitlements in one error', () => {
    // Prepare
    const text = yamlWith((d) => {
      d.drift.mode = 'delete';
      d.entitlements[0].approval.required = 0;
      d.entitlements[0].title = '';
      d.entitlements[1].target.accounts = ['222222222222'];
      d.entitlements[1].defaultDuration = 'PT6H';
      d.entitlements[2].kind = 'secret';
      d.entitlements[2].ticketPattern = '(a+)+';
    });
    // Act
    const thrown = (() => {
      try {
        parseConfig(text);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    // Assess
    expect(thrown).toBeInstanceOf(ConfigInvalidError);
    expect((thrown as ConfigInvalidError).issues).toEqual([
      'drift.mode: expected one of "remove", "report"',
      'entitlements[0].title: expected a non-empty string',
      'entitlements[0].approval.required: expected a number ≥ 1',
      'entitlements[1].defaultDuration: expected a duration ≤ maxDuration (PT4H), got PT6H',
      'entitlements[1].privileged: expected true because target.accounts[0] is the management account 222222222222',
      'entitlements[1].approval.required: expected a number ≥ 2 because the entitlement is privileged, got 1',
      'entitlements[2].kind: expected "aws-role" ("secret" is reserved, not supported yet)',
      'entitlements[2].ticketPattern: expected a regular expression without catastrophic backtracking: the repeated group (a+)+ contains a quantifier (nested quantifiers)',
    ]);
    expect((thrown as ConfigInvalidError).message).toContain('entitlements[2].kind');
  });

  it('checks the rules of an entitlement even while another of its fields is invalid', () => {
    const issues = issuesOf(
      yamlWith((d) => {
        d.entitlements[0].eligible = 'engineers';
        d.entitlements[0].target.accounts = ['111111111111'];
      }),
    );
    expect(issues).toEqual([
      'entitlements[0].eligible: expected a list',
      'entitlements[0].privileged: expected true because target.accounts[0] is the hub account 111111111111',
      'entitlements[0].approval.required: expected a number ≥ 2 because the entitlement is privileged, got 1',
    ]);
  });
});

describe('YAML errors', () => {
  it.each([
    ['a syntax error', 'identityCenter: [1\nadmins: []\n', /^cfg\.yaml:2:1: YAML syntax error: /],
    [
      'a repeated key',
      'admins: [a]\nadmins: [b]\n',
      /^cfg\.yaml:2:1: YAML syntax error: Map keys must be unique/,
    ],
    ['an unresolved alias', 'admins: *groups\n', /^cfg\.yaml: YAML error: Unresolved alias/],
  ])('reports %s with its position', (_name, text, expected) => {
    const result = validateConfigText(text, 'cfg.yaml');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues).toEqual([expect.stringMatching(expected)]);
  });

  it('refuses an empty document', () => {
    expect(issuesOf('')).toEqual(['(root): expected a mapping']);
  });
});

describe('clean text', () => {
  it('refuses a control character in an entitlement title, naming its path and not the title', () => {
    // Prepare
    const text = yamlWith((d) => {
      d.entitlements[1].title = 'Prod\rreadonly';
    });
    // Act
    const issues = issuesOf(text);
    // Assess
    expect(issues).toEqual(['entitlements[1].title: control character U+000D not allowed']);
    expect(() => parseConfig(text)).toThrow(ConfigInvalidError);
    expect(() => parseConfig(text)).toThrow(/entitlements\[1\]\.title: control character U\+000D/);
    expect(issues.join('\n')).not.toContain('readonly');
  });

  it('catches control characters written as YAML escapes', () => {
    const text = yamlWith().replace('title: Title of dev-viewer', 'title: "Title\\x07of dev-viewer"');
    expect(issuesOf(text)).toEqual(['entitlements[2].title: control character U+0007 not allowed']);
  });

  it('reports every bad string, keys included, before (and instead of) the schema problems', () => {
    const doc = baseDoc();
    doc.entitlements[0].title = 'a\u0085b';
    doc.entitlements[0].approval.required = 0; // a schema problem, held back until the text is clean
    doc.identityCenter.groupIds['bad\ud800'] = '44444444-4444-4444-8444-444444444444';
    doc.entitlements[2].eligible = ['engineers', 'x\u001b[2J'];
    const result = validateConfigObject(doc);
    expect(result.ok ? [] : result.issues).toEqual([
      'identityCenter.groupIds: object key: not well-formed Unicode (lone surrogate U+D800)',
      'entitlements[0].title: control character U+0085 not allowed',
      'entitlements[2].eligible[1]: control character U+001B not allowed',
    ]);
  });

  it('accepts newlines, tabs and emoji', () => {
    const config = parseConfig(
      yamlWith((d) => {
        d.entitlements[0].title = 'Dev read-only 🔍';
        d.entitlements[0].description = 'line one\n\tline two';
      }),
    );
    expect(config.entitlements[0]).toMatchObject({
      title: 'Dev read-only 🔍',
      description: 'line one\n\tline two',
    });
  });
});

describe('missingGroupIds', () => {
  it('lists the groups named anywhere that have no id, in order of first mention', () => {
    // Prepare
    const config = parseConfig(
      yamlWith((d) => {
        d.identityCenter.groupIds = { engineers: '11111111-1111-4111-8111-111111111111' };
        d.admins = ['pam-admins', 'auditors'];
        d.entitlements[0].breakGlass = ['on-call'];
      }),
    );
    // Act / Assess
    expect(missingGroupIds(config)).toEqual(['pam-admins', 'auditors', 'cloud-ops', 'on-call']);
  });

  it('is empty when groupIds covers every group', () => {
    expect(missingGroupIds(parseConfig(yamlWith()))).toEqual([]);
  });

  it('treats an absent groupIds map as empty', () => {
    const config = parseConfig(yamlWith((d) => void delete d.identityCenter.groupIds));
    expect(config.identityCenter.groupIds).toEqual({});
    expect(missingGroupIds(config)).toEqual(['pam-admins', 'engineers', 'cloud-ops']);
  });
});

describe('makeCatalog', () => {
  it('looks entitlements up by id and lists them in config order', () => {
    const config = parseConfig(yamlWith());
    const catalog = makeCatalog(config);
    expect(catalog.config).toBe(config);
    expect(catalog.get('prod-readonly')?.target.accounts).toEqual(['444444444444']);
    expect(catalog.get('nope')).toBeUndefined();
    expect(catalog.list().map((e) => e.id)).toEqual(['dev-readonly', 'prod-readonly', 'dev-viewer']);
  });
});

describe('revocation: privileged implies strict expiry, and the inline policy leaves room for denies', () => {
  function privileged(doc: Doc, strictExpiry?: boolean) {
    const entitlement = doc.entitlements[1];
    entitlement.privileged = true;
    entitlement.approval = { approvers: ['cloud-ops'], required: 2 };
    if (strictExpiry !== undefined) entitlement.strictExpiry = strictExpiry;
  }

  it('makes a privileged entitlement strict when strictExpiry is omitted', () => {
    const config = parseConfig(yamlWith((doc) => privileged(doc)));

    expect(config.entitlements[1]).toMatchObject({ privileged: true, strictExpiry: true });
    expect(config.entitlements[0]).toMatchObject({ privileged: false, strictExpiry: false });
  });

  it('refuses privileged: true with strictExpiry: false, naming the field', () => {
    const issues = issuesOf(yamlWith((doc) => privileged(doc, false)));

    expect(issues).toContainEqual(expect.stringMatching(/^entitlements\[1\]\.strictExpiry: expected true/));
  });

  it('refuses an inline policy that leaves no room for the reserved revocation denies, naming the entitlement', () => {
    const actions = Array.from({ length: 400 }, (_, i) => `s3:GetObjectVersionTagging${i}`);
    const issues = issuesOf(
      yamlWith((doc) => {
        doc.entitlements[2].target.permissionSet.inlinePolicy = inline({
          Effect: 'Allow',
          Action: actions,
          Resource: '*',
        });
      }),
    );

    expect(issues).toContainEqual(
      expect.stringMatching(
        /^entitlements\[2\]\.target\.permissionSet\.inlinePolicy: expected at most \d+ non-whitespace characters.*10240/,
      ),
    );
  });
});
