// SDK v3 middleware for tests and the lifecycle benchmark — never wired into a function. Moto answers
// every sso-admin operation at once and never throttles, so the paths that matter in production
// (throttling, an assignment still IN_PROGRESS after several polls, a FAILED one) are injected here:
//
//   client.middlewareStack.use(faultInjection([
//     { command: 'CreateAccountAssignmentCommand', fault: 'throttle', times: 2 },
//     { command: 'DescribeAccountAssignmentCreationStatusCommand', fault: 'in-progress', times: 3 },
//   ]));
//
// `command` is the SDK's `context.commandName` (the command class name, `…Command` included);
// `client` optionally narrows to `context.clientName` (e.g. 'SSOAdminClient'). Both run in the
// `initialize` step, around everything else: an injected throttle never reaches the service nor the
// SDK's own retry strategy — it is what the caller's retry loop sees — and a status rewrite changes
// the deserialized output the caller receives. A rewrite does not change what the service did: on
// moto an assignment reported IN_PROGRESS or FAILED has in fact been created.
import { ThrottlingException } from '@aws-sdk/client-sso-admin';
import type {
  AbsoluteLocation,
  HandlerExecutionContext,
  InitializeHandlerOptions,
  Pluggable,
} from '@smithy/types';

export type InjectedFault = 'throttle' | 'in-progress' | 'failed';

export interface FaultRule {
  /** `context.commandName`, e.g. 'CreateAccountAssignmentCommand'. */
  readonly command: string;
  /** `context.clientName`, e.g. 'SSOAdminClient'; every client when absent. */
  readonly client?: string;
  readonly fault: InjectedFault;
  /** How many of the next matching calls get the fault; after that they pass through. */
  readonly times: number;
  /** For 'failed' (default: 'Injected failure'). */
  readonly failureReason?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the plugins fit any SDK client's middleware stack.
type AnyPluggable = Pluggable<any, any>;

export interface FaultInjection extends AnyPluggable {
  /** Adds rules after the plugin is in use (the benchmark changes faults between phases). */
  add(...rules: FaultRule[]): void;
  /** Injections still to come, over all rules. */
  remaining(): number;
  /** Injections made so far. */
  injected(): number;
}

export interface CallCounter extends AnyPluggable {
  /** Calls per `<clientName>.<commandName>`, e.g. `SSOAdminClient.CreateAccountAssignmentCommand`. */
  counts(): Record<string, number>;
  reset(): void;
}

/** Output members that carry an asynchronous operation's status, by the operations that return one. */
const STATUS_MEMBERS = [
  'AccountAssignmentCreationStatus',
  'AccountAssignmentDeletionStatus',
  'PermissionSetProvisioningStatus',
] as const;

let pluginSequence = 0;

function nameOf(context: HandlerExecutionContext) {
  return { client: context.clientName ?? 'UnknownClient', command: context.commandName ?? 'UnknownCommand' };
}

/** A real sso-admin `ThrottlingException`, shaped as the SDK deserializes an HTTP 429. */
export function injectedThrottle(command: string): ThrottlingException {
  return new ThrottlingException({
    message: `Rate exceeded (injected on ${command})`,
    $metadata: { httpStatusCode: 429, attempts: 1, totalRetryDelay: 0 },
  });
}

function rewriteStatus(output: unknown, rule: FaultRule, command: string): unknown {
  const record = (typeof output === 'object' && output !== null ? output : {}) as Record<string, unknown>;
  const member = STATUS_MEMBERS.find((key) => typeof record[key] === 'object' && record[key] !== null);
  // A rule on a command without an operation status is a mistake in the test, not something to skip.
  if (!member) throw new Error(`faultInjection: ${command} returned no operation status to rewrite`);
  const { FailureReason: _dropped, ...status } = record[member] as Record<string, unknown>;
  const rewritten =
    rule.fault === 'failed'
      ? { ...status, Status: 'FAILED', FailureReason: rule.failureReason ?? 'Injected failure' }
      : { ...status, Status: 'IN_PROGRESS' };
  return { ...record, [member]: rewritten };
}

/** Injects each rule's fault into the next `times` matching calls, first matching rule first. */
export function faultInjection(rules: readonly FaultRule[]): FaultInjection {
  const active = rules.map((rule) => ({ rule, left: Math.max(0, Math.floor(rule.times)) }));
  let injected = 0;
  const options: InitializeHandlerOptions & AbsoluteLocation = {
    step: 'initialize',
    priority: 'low',
    name: `faultInjection${++pluginSequence}`,
  };

  return {
    add(...more) {
      for (const rule of more) active.push({ rule, left: Math.max(0, Math.floor(rule.times)) });
    },
    remaining: () => active.reduce((sum, entry) => sum + entry.left, 0),
    injected: () => injected,
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          const { client, command } = nameOf(context);
          const entry = active.find(
            ({ rule, left }) =>
              left > 0 && rule.command === command && (rule.client === undefined || rule.client === client),
          );
          if (!entry) return next(args);
          // Reserved before the call so concurrent calls cannot both take the last injection.
          entry.left--;
          if (entry.rule.fault === 'throttle') {
            injected++;
            throw injectedThrottle(command);
          }
          let result: Awaited<ReturnType<typeof next>>;
          try {
            result = await next(args);
          } catch (error) {
            // The call failed on its own: nothing was rewritten, so the injection is still owed.
            entry.left++;
            throw error;
          }
          injected++;
          return { ...result, output: rewriteStatus(result.output, entry.rule, command) };
        },
        options,
      );
    },
  };
}

/** Counts every `send` (injected faults included: they stand for calls the service rejected). */
export function callCounter(): CallCounter {
  const calls = new Map<string, number>();
  const options: InitializeHandlerOptions & AbsoluteLocation = {
    step: 'initialize',
    priority: 'high',
    name: `callCounter${++pluginSequence}`,
  };
  return {
    counts: () => Object.fromEntries(calls),
    reset: () => calls.clear(),
    applyToStack(stack) {
      stack.add(
        (next, context) => (args) => {
          const { client, command } = nameOf(context);
          const key = `${client}.${command}`;
          calls.set(key, (calls.get(key) ?? 0) + 1);
          return next(args);
        },
        options,
      );
    },
  };
}
