// The config as the functions load it at cold start (shared/runtime/bundled-config.ts): what synth
// validated must arrive whole — the open-request cap included — and a bundle whose cap is malformed
// must stop the cold start rather than run without one.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#config/load.ts';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import { parseBundledConfig } from '#runtime/bundled-config.ts';
import { yamlWith } from './config-fixture.ts';

/** The bundle synth writes: the validated config as JSON. */
function bundleOf(limits?: unknown): string {
  return JSON.stringify(
    parseConfig(
      yamlWith((d) => {
        if (limits !== undefined) d.limits = limits;
      }),
    ),
  );
}

/** A bundle edited after synth, with its hash recomputed so only the shape check can refuse it. */
function tampered(edit: (config: Record<string, unknown>) => void): string {
  const { configHash: _hash, ...rest } = JSON.parse(bundleOf()) as Record<string, unknown>;
  edit(rest);
  return JSON.stringify({ ...rest, configHash: sha256Hex(canonicalJson(rest)) });
}

describe('the bundled config', () => {
  it('carries limits.maxOpenRequestsPerUser to the functions, default or configured', () => {
    expect(parseBundledConfig(bundleOf()).limits).toEqual({ maxOpenRequestsPerUser: 10 });
    expect(parseBundledConfig(bundleOf({ maxOpenRequestsPerUser: 4 })).limits).toEqual({
      maxOpenRequestsPerUser: 4,
    });
  });

  it.each<[string, unknown]>([
    ['zero', { maxOpenRequestsPerUser: 0 }],
    ['a fraction', { maxOpenRequestsPerUser: 1.5 }],
    ['an unknown key', { maxOpenRequestsPerUser: 3, perPerson: 1 }],
  ])('refuses a cap that is %s, naming the field', (_name, limits) => {
    const bundle = tampered((config) => {
      config.limits = limits;
    });
    expect(() => parseBundledConfig(bundle)).toThrow(/^bundled config: config\.limits/);
  });
});
