// Assignment tuples of a request and the FIFO message groups of the provisioning queue: one group
// per tuple (create/delete never race for one user, account and permission set) and one per
// permission set for its inline-policy edits (a read-modify-write shared by many grants).
import { sha256Hex } from '#domain/canonical-json.ts';
import { type AccessRequest, targetAccounts } from '#domain/model.ts';
import { type AssignmentTuple, type PermissionSets, tupleKey } from '#ports/grants.ts';

export function tupleGroup(tuple: AssignmentTuple): string {
  return `tuple-${tupleKey(tuple)}`;
}

export function permissionSetGroup(permissionSetArn: string): string {
  return `ps-${sha256Hex(permissionSetArn).slice(0, 40)}`;
}

export function tuplesOf(
  request: Pick<AccessRequest, 'requesterId' | 'accountId' | 'accountIds' | 'snapshot'>,
  permissionSets: PermissionSets,
): AssignmentTuple[] {
  const permissionSetArn = permissionSets.arnOf(request.snapshot.permissionSetName);
  return targetAccounts(request).map((accountId) => ({
    userId: request.requesterId,
    accountId,
    permissionSetArn,
  }));
}
