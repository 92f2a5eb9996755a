// CloudFormation's intrinsic functions, resolved against the resources the local runtime created
// (the subset the templates use: Ref, Fn::GetAtt, Fn::ImportValue, Fn::Join, Fn::Select, Fn::Split,
// Fn::Sub and the pseudo parameters). Anything else is an error, never a guess.
import type { CfnValue, WiringManifest } from '../infra/wiring/manifest.ts';

export interface PhysicalResource {
  /** What `Ref` answers. */
  readonly ref: string;
  /** What `Fn::GetAtt` answers, by attribute name. */
  readonly attrs: Readonly<Record<string, string>>;
}

export interface ResolveContext {
  readonly manifest: WiringManifest;
  /** `stack/logicalId` → the created resource. */
  readonly physical: ReadonlyMap<string, PhysicalResource>;
  /** Literal strings to replace wherever they appear whole (placeholders the config was synthesized with). */
  readonly substitutions: ReadonlyMap<string, string>;
}

export class ResolveError extends Error {
  override name = 'ResolveError';
}

function pseudo(ctx: ResolveContext, stackId: string, name: string): string {
  const stack = ctx.manifest.stacks.find((s) => s.id === stackId);
  if (!stack) throw new ResolveError(`unknown stack ${stackId}`);
  switch (name) {
    case 'AWS::AccountId':
      return stack.account;
    case 'AWS::Region':
      return stack.region;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return stack.id;
    default:
      throw new ResolveError(`pseudo parameter ${name} is not supported locally`);
  }
}

function physicalOf(ctx: ResolveContext, stack: string, logicalId: string): PhysicalResource {
  const found = ctx.physical.get(`${stack}/${logicalId}`);
  if (!found) throw new ResolveError(`${stack}/${logicalId} was not created by the local runtime`);
  return found;
}

/** Resolves `value` in `stack` to plain JSON. */
export function resolveValue(ctx: ResolveContext, stack: string, value: CfnValue): CfnValue {
  if (typeof value === 'string') return ctx.substitutions.get(value) ?? value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => resolveValue(ctx, stack, v));
  const keys = Object.keys(value);
  const [key] = keys;
  if (keys.length === 1 && key && (key === 'Ref' || key.startsWith('Fn::'))) {
    const arg = value[key] as CfnValue;
    switch (key) {
      case 'Ref': {
        if (typeof arg !== 'string') throw new ResolveError('Ref takes a name');
        return arg.startsWith('AWS::') ? pseudo(ctx, stack, arg) : physicalOf(ctx, stack, arg).ref;
      }
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg : typeof arg === 'string' ? arg.split('.') : [];
        if (typeof id !== 'string' || typeof attr !== 'string')
          throw new ResolveError('Fn::GetAtt takes [id, attr]');
        const found = physicalOf(ctx, stack, id).attrs[attr];
        if (found === undefined) throw new ResolveError(`${stack}/${id} has no attribute ${attr} locally`);
        return found;
      }
      case 'Fn::ImportValue': {
        const name = resolveValue(ctx, stack, arg);
        if (typeof name !== 'string') throw new ResolveError('Fn::ImportValue takes a name');
        const exported = ctx.manifest.exports[name];
        if (!exported) throw new ResolveError(`no export named ${name}`);
        return resolveValue(ctx, exported.stack, exported.value);
      }
      case 'Fn::Join': {
        const [separator, parts] = Array.isArray(arg) ? arg : [];
        const resolved = resolveValue(ctx, stack, parts ?? null);
        if (typeof separator !== 'string' || !Array.isArray(resolved))
          throw new ResolveError('Fn::Join takes [sep, list]');
        return resolved.map((p) => String(p)).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = Array.isArray(arg) ? arg : [];
        const resolved = resolveValue(ctx, stack, list ?? null);
        const i = Number(resolveValue(ctx, stack, index ?? null));
        if (!Array.isArray(resolved) || !(i in resolved)) throw new ResolveError('Fn::Select out of range');
        return resolved[i] as CfnValue;
      }
      case 'Fn::Split': {
        const [separator, text] = Array.isArray(arg) ? arg : [];
        const resolved = resolveValue(ctx, stack, text ?? null);
        if (typeof separator !== 'string' || typeof resolved !== 'string')
          throw new ResolveError('Fn::Split takes [sep, text]');
        return resolved.split(separator);
      }
      case 'Fn::Sub': {
        const [template, vars] = typeof arg === 'string' ? [arg, {}] : Array.isArray(arg) ? arg : [];
        if (typeof template !== 'string') throw new ResolveError('Fn::Sub takes a template');
        const variables = (vars ?? {}) as Record<string, CfnValue>;
        return template.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
          if (name in variables) return String(resolveValue(ctx, stack, variables[name] as CfnValue));
          if (name.startsWith('AWS::')) return pseudo(ctx, stack, name);
          const [id, attr] = name.split('.');
          const found = physicalOf(ctx, stack, id as string);
          return attr ? (found.attrs[attr] ?? '') : found.ref;
        });
      }
      default:
        throw new ResolveError(`${key} is not supported by the local runtime`);
    }
  }
  const out: Record<string, CfnValue> = {};
  for (const [k, v] of Object.entries(value)) out[k] = resolveValue(ctx, stack, v);
  return out;
}

/** Resolves to a string (environment variables must be strings). */
export function resolveString(ctx: ResolveContext, stack: string, value: CfnValue, what: string): string {
  const resolved = resolveValue(ctx, stack, value);
  if (typeof resolved === 'string') return resolved;
  if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
  throw new ResolveError(`${what}: resolved to ${JSON.stringify(resolved)}, not a string`);
}

/** Logical ids a value references in its own stack (to order creation). */
export function localReferences(value: CfnValue, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) localReferences(v, out);
  else if (value && typeof value === 'object') {
    const ref = value.Ref;
    const getAtt = value['Fn::GetAtt'];
    if (typeof ref === 'string' && !ref.startsWith('AWS::')) out.add(ref);
    else if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') out.add(getAtt[0]);
    else for (const v of Object.values(value)) localReferences(v, out);
  }
  return out;
}
