// The config as the functions load it at cold start (shared/runtime/bundled-config.ts): what synth
// validated must arrive whole — the open-request cap included — and a bundle whose cap is malformed
// must stop the cold start rather than run without one.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#config/load.ts';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import { bundledConfigText, parseBundledConfig } from '#runtime/bundled-config.ts';
import { loadHashCheckedConfig } from '#runtime/bundled-config-text.ts';
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

  describe('integrity, as synth writes it (canonical JSON, checked over its bytes)', () => {
    const config = parseConfig(yamlWith(() => {}));

    it('reads back exactly the config synth validated', () => {
      expect(parseBundledConfig(bundledConfigText(config))).toEqual(config);
    });

    it('refuses the text with one character changed after synth', () => {
      const text = bundledConfigText(config);
      const title = config.entitlements[0]?.title as string;
      const edited = text.replace(JSON.stringify(title), JSON.stringify(`${title}!`));
      expect(edited).not.toBe(text);

      expect(() => parseBundledConfig(edited)).toThrow(
        'bundled config: configHash does not match its content',
      );
    });

    it('refuses it with the hash member moved, so the bytes no longer show the hash', () => {
      const text = bundledConfigText(config);
      const member = `,"configHash":"${config.configHash}"`;
      const moved = `${text.replace(member, '').slice(0, -1)}${member}}`;

      // Still self-consistent once parsed: the slow check accepts what the fast one cannot show.
      expect(parseBundledConfig(moved)).toEqual(config);
      expect(() => parseBundledConfig(moved.replace('"admins":[', '"admins":["intruders",'))).toThrow(
        'bundled config: configHash does not match its content',
      );
    });

    it('still reads a consistent file that is not canonical (pretty-printed by hand)', () => {
      expect(parseBundledConfig(JSON.stringify(config, null, 2))).toEqual(config);
    });
  });

  describe('loadHashCheckedConfig (the Slack ingress: integrity without the shape check)', () => {
    const config = parseConfig(yamlWith(() => {}));
    const dir = mkdtempSync(join(tmpdir(), 'pam-bundled-config-'));
    const load = (text: string) => {
      const file = join(dir, 'pam-config.json');
      writeFileSync(file, text);
      return loadHashCheckedConfig(file);
    };

    it('reads back exactly the config synth validated, from the text synth writes', () => {
      expect(load(bundledConfigText(config))).toEqual(config);
      expect(load(`${bundledConfigText(config)}\n`)).toEqual(config);
    });

    it.each<[string, (text: string) => string]>([
      ['one character changed', (t) => t.replace('"admins":[', '"admins":["intruders",')],
      [
        'pretty-printed (consistent, but not the text synth wrote)',
        (t) => JSON.stringify(JSON.parse(t), null, 2),
      ],
      ['no hash member', (t) => t.replace(`,"configHash":"${config.configHash}"`, '')],
      ['a second hash member', (t) => t.replace('{', `{"configHash":"${config.configHash}",`)],
      ['not JSON', () => 'admins: []'],
    ])('refuses the file with %s', (_what, edit) => {
      const text = edit(bundledConfigText(config));
      expect(text).not.toBe(bundledConfigText(config));
      expect(() => load(text)).toThrow(
        'bundled config: not the canonical text synth wrote, or configHash does not match it',
      );
    });
  });
});
