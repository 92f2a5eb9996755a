// What a function's environment looks like once deployed, without deploying: the template (or the
// wiring manifest, which keeps the template's form) writes deploy-time tokens — table names, queue
// URLs and ARNs, permission set ARNs, role ids — as intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Join`,
// `Fn::ImportValue`). Literals stay as deployed; each token becomes a well-formed stand-in, so a
// handler that validates their shape still starts. Used by test/infra/hub-config.test.ts (each
// bundle cold-starts with it) and bench/cold-start (each bundle's init is timed with it).

const STAND_IN_ACCOUNT = '111111111111';
const STAND_IN_ROLE_ID = 'AROASTANDIN000000000001';
const STAND_IN_PERMISSION_SET_ARN = 'arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-0000000000000000';

/** What a deploy-time token in the environment variable `key` looks like once deployed. */
export function standIn(key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  // PERMISSION_SET_ARNS: JSON whose values are permission set ARNs; COMMAND_SENDERS: role ids.
  if (join) {
    return join[1]
      .map((part) => {
        if (typeof part === 'string') return part;
        const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
        return getAtt?.[1] === 'RoleId' ? STAND_IN_ROLE_ID : STAND_IN_PERMISSION_SET_ARN;
      })
      .join(join[0]);
  }
  const name = `placeholder-${key.toLowerCase().replaceAll('_', '-')}`;
  if (key.endsWith('_QUEUE_URL'))
    return `https://sqs.eu-west-1.amazonaws.com/${STAND_IN_ACCOUNT}/${name}.fifo`;
  if (key.endsWith('_QUEUE_ARN')) return `arn:aws:sqs:eu-west-1:${STAND_IN_ACCOUNT}:${name}.fifo`;
  if (key.endsWith('_DLQ_ARN')) return `arn:aws:sqs:eu-west-1:${STAND_IN_ACCOUNT}:${name}`;
  if (key.endsWith('_ROLE_ARN')) return `arn:aws:iam::${STAND_IN_ACCOUNT}:role/${name}`;
  return name;
}

/** Every variable of `variables` with its stand-in (see `standIn`). */
export function standInEnvironment(variables: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, standIn(key, value)]));
}
