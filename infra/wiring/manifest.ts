// The wiring manifest: what the local runtime needs to host the synthesized functions exactly as
// CloudFormation would wire them. The CDK app writes it into the cloud assembly at synth
// (`cdk.out/pam-wiring.json`, built from the templates by ./build.ts); the local runtime reads only
// this file, never a list of its own. Values keep CloudFormation's intrinsic form (`Ref`,
// `Fn::GetAtt`, `Fn::ImportValue`, `Fn::Join`, …) so the runtime resolves them against the
// resources it created, the way CloudFormation resolves them against the ones it deployed.
import { z } from 'zod';

export const WIRING_FILE = 'pam-wiring.json';
export const WIRING_VERSION = 1;

/** A literal, or an intrinsic function over other values (kept exactly as in the template). */
export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };
const cfnValue: z.ZodType<CfnValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(cfnValue), z.record(z.string(), cfnValue)]),
);

const account = z.string().regex(/^\d{12}$/);

export const wiringStackSchema = z.strictObject({
  /** Artifact id (the stack name CloudFormation sees). */
  id: z.string().min(1),
  account,
  region: z.string().min(1),
});

/** A resource the handlers reach (directly or through another such resource), with its properties. */
export const wiringResourceSchema = z.strictObject({
  stack: z.string().min(1),
  logicalId: z.string().min(1),
  type: z.string().min(1),
  properties: z.record(z.string(), cfnValue),
});

export const wiringFunctionSchema = z.strictObject({
  /** Folder under `functions/` (also the Powertools service name). */
  name: z.string().regex(/^[a-z][a-z0-9-]*$/),
  stack: z.string().min(1),
  logicalId: z.string().min(1),
  /** The bundle's folder, relative to the cloud assembly. */
  asset: z.string().regex(/^asset\.[0-9a-f]{64}$/),
  /** The module file inside the asset and its exported handler (from `Handler`, e.g. `index.handler`). */
  module: z.string().min(1),
  export: z.string().min(1),
  timeoutSeconds: z.number().int().positive(),
  memoryMb: z.number().int().positive(),
  environment: z.record(z.string(), cfnValue),
  /** Its execution role's ARN as the template writes it (`Fn::GetAtt <Role>.Arn`). */
  role: cfnValue,
});

const sqsSource = z.strictObject({
  kind: z.literal('sqs'),
  stack: z.string().min(1),
  logicalId: z.string().min(1),
  function: z.string().min(1),
  /** The queue's ARN (intrinsic). */
  source: cfnValue,
  batchSize: z.number().int().positive(),
  reportBatchItemFailures: z.boolean(),
  maxConcurrency: z.number().int().positive().optional(),
});

const streamSource = z.strictObject({
  kind: z.literal('dynamodb-stream'),
  stack: z.string().min(1),
  logicalId: z.string().min(1),
  function: z.string().min(1),
  /** The table's stream ARN (intrinsic). */
  source: cfnValue,
  batchSize: z.number().int().positive(),
  reportBatchItemFailures: z.boolean(),
  bisectBatchOnError: z.boolean(),
  /** -1: retry until the record expires. */
  maxRetryAttempts: z.number().int(),
  startingPosition: z.enum(['TRIM_HORIZON', 'LATEST']),
  /** Lambda event filter patterns (JSON text, as in the template). */
  filters: z.array(z.string()),
  /** Where a batch that exhausted its retries is described (a queue ARN, intrinsic). */
  onFailure: cfnValue.optional(),
});

export const wiringEventSourceSchema = z.discriminatedUnion('kind', [sqsSource, streamSource]);

export const wiringRuleSchema = z.strictObject({
  stack: z.string().min(1),
  logicalId: z.string().min(1),
  function: z.string().min(1),
  description: z.string().optional(),
  /** `rate(…)` or `cron(…)`; absent for pattern rules. */
  schedule: z.string().optional(),
  /** An EventBridge event pattern (intrinsics kept); absent for schedule rules. */
  eventPattern: cfnValue.optional(),
  retryAttempts: z.number().int().nonnegative().optional(),
});

export const wiringRouteSchema = z.strictObject({
  stack: z.string().min(1),
  logicalId: z.string().min(1),
  function: z.string().min(1),
  /** `ANY`, `GET`, … */
  method: z.string().min(1),
  /** Resource path as API Gateway writes it, e.g. `/v1/{proxy+}`. */
  path: z.string().startsWith('/'),
  authorization: z.enum(['AWS_IAM', 'NONE', 'CUSTOM', 'COGNITO_USER_POOLS']),
  integration: z.literal('AWS_PROXY'),
  stage: z.string().min(1),
  /**
   * The stage's throttle for this method: its own MethodSettings entry, else the stage-wide `/*` `*`
   * one. API Gateway keeps one token bucket per method (rate = tokens per second, burst = capacity);
   * absent when the stage sets no throttle.
   */
  throttle: z
    .strictObject({ rateLimit: z.number().nonnegative(), burstLimit: z.number().int().nonnegative() })
    .optional(),
});

export const wiringManifestSchema = z.strictObject({
  version: z.literal(WIRING_VERSION),
  /** The identity-center values the config was synthesized with (the local runtime replaces them). */
  identityCenter: z.strictObject({
    instanceArn: z.string().min(1),
    identityStoreId: z.string().min(1),
    hubAccountId: account,
    managementAccountId: account,
    groupIds: z.record(z.string(), z.string()),
  }),
  /** The config file each bundle carries (`PAM_CONFIG_FILE`). */
  configFile: z.string().min(1),
  stacks: z.array(wiringStackSchema),
  resources: z.array(wiringResourceSchema),
  /** Export name → the exporting stack and value (for `Fn::ImportValue`). */
  exports: z.record(z.string(), z.strictObject({ stack: z.string().min(1), value: cfnValue })),
  functions: z.array(wiringFunctionSchema),
  /** `<stack>/<role logical id>` → the actions its policies allow (resources and conditions left out). */
  roleActions: z.record(z.string(), z.array(z.string())),
  eventSources: z.array(wiringEventSourceSchema),
  rules: z.array(wiringRuleSchema),
  routes: z.array(wiringRouteSchema),
});

export type WiringManifest = z.infer<typeof wiringManifestSchema>;
export type WiringFunction = z.infer<typeof wiringFunctionSchema>;
export type WiringResource = z.infer<typeof wiringResourceSchema>;
export type WiringEventSource = z.infer<typeof wiringEventSourceSchema>;
export type WiringRule = z.infer<typeof wiringRuleSchema>;
export type WiringRoute = z.infer<typeof wiringRouteSchema>;
