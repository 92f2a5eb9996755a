// The standing PamRequester permission set (it may only call this API's /v1 routes) and its
// assignment, in the hub account, to every group that takes part in cloud-pam: requesters,
// approvers, break-glass users and admins. Without it nobody could reach the API to ask for access.
import { CfnAssignment, CfnPermissionSet } from 'aws-cdk-lib/aws-sso';
import { Construct } from 'constructs';
import type { PamConfig } from '#domain/model.ts';
import { REQUESTER_PERMISSION_SET_NAME } from './pam-api.ts';

/** Display names of every group that may request, approve, activate break-glass or administer. */
export function participatingGroups(config: PamConfig): string[] {
  const names = new Set<string>(config.admins);
  for (const entitlement of config.entitlements) {
    for (const name of [
      ...entitlement.eligible,
      ...entitlement.approval.approvers,
      ...entitlement.breakGlass,
    ]) {
      names.add(name);
    }
  }
  return [...names].sort();
}

export interface RequesterAccessProps {
  readonly config: PamConfig;
  /** `execute-api` ARN (pattern) of the API's `/v1` routes. */
  readonly invokeArn: string;
  /** Group names that have no id in `identityCenter.groupIds` (from the config loader). */
  readonly missingGroupNames: readonly string[];
}

export class RequesterAccess extends Construct {
  readonly permissionSet: CfnPermissionSet;
  readonly assignments: readonly CfnAssignment[];

  constructor(scope: Construct, id: string, props: RequesterAccessProps) {
    super(scope, id);
    const { identityCenter } = props.config;
    if (props.missingGroupNames.length > 0) {
      throw new Error(
        `identityCenter.groupIds has no Identity Store group id for: ${props.missingGroupNames.join(', ')}. ` +
          'The PamRequester permission set is assigned to every group that requests, approves, uses break-glass or administers; add their ids to the config.',
      );
    }

    this.permissionSet = new CfnPermissionSet(this, 'PermissionSet', {
      instanceArn: identityCenter.instanceArn,
      name: REQUESTER_PERMISSION_SET_NAME,
      description: 'cloud-pam: call the cloud-pam API (requests and decisions) and nothing else',
      // A standing, low-privilege set: a working day per sign-in.
      sessionDuration: 'PT8H',
      inlinePolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'InvokeCloudPamV1',
            Effect: 'Allow',
            Action: 'execute-api:Invoke',
            Resource: props.invokeArn,
          },
        ],
      },
    });

    this.assignments = participatingGroups(props.config).map((name) => {
      const groupId = identityCenter.groupIds[name] as string;
      return new CfnAssignment(this, `Group-${groupId}`, {
        instanceArn: identityCenter.instanceArn,
        permissionSetArn: this.permissionSet.attrPermissionSetArn,
        principalType: 'GROUP',
        principalId: groupId,
        targetType: 'AWS_ACCOUNT',
        targetId: identityCenter.hubAccountId,
      });
    });
  }
}
