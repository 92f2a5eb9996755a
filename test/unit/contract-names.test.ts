// Names shared between the stacks and the functions are written once: the access table's key
// prefixes in shared/adapters/aws/tables.ts, metric names in shared/app/grants/deps.ts
// (GRANT_METRICS) and shared/runtime/metric-names.ts. Everything else imports them, so a rename is a
// type error rather than an IAM condition or an alarm that silently stops matching. (Environment
// variable names: test/unit/env-names.test.ts.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCESS_KEY_PREFIX } from '#adapters/aws/tables.ts';
import { GRANT_METRICS } from '#app/grants/deps.ts';
import * as runtimeMetrics from '#runtime/metric-names.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
// Tests and benchmarks too: a test that writes a prefix or a metric name keeps passing after a rename
// it should have caught.
const SOURCES = ['functions', 'shared', 'infra', 'local', 'cli', 'test', 'bench'];
const SELF = path.join('test', 'unit', 'contract-names.test.ts');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const relative = path.join(dir, name);
    if (statSync(path.join(ROOT, relative)).isDirectory()) return sources(relative);
    return /\.(ts|mjs)$/.test(name) ? [relative] : [];
  });
}

function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Files other than `home` whose code writes one of `values` as (the start of) a string literal. */
function writtenOutside(home: string, values: readonly string[], prefix: boolean): string[] {
  const offenders: string[] = [];
  for (const file of SOURCES.flatMap(sources)) {
    if (file === home || file === SELF) continue;
    const text = code(readFileSync(path.join(ROOT, file), 'utf8'));
    for (const value of values) {
      const pattern = new RegExp(`['"\`]${escapeRegExp(value)}${prefix ? '' : `['"\`]`}`);
      if (pattern.test(text)) offenders.push(`${file}: ${value}`);
    }
  }
  return offenders;
}

describe('names written once', () => {
  it('access table key prefixes live in tables.ts', () => {
    expect(
      writtenOutside(
        path.join('shared', 'adapters', 'aws', 'tables.ts'),
        Object.values(ACCESS_KEY_PREFIX),
        true,
      ),
    ).toEqual([]);
  });

  it('grant metric names live in GRANT_METRICS', () => {
    expect(
      writtenOutside(path.join('shared', 'app', 'grants', 'deps.ts'), Object.values(GRANT_METRICS), false),
    ).toEqual([]);
  });

  it('runtime metric names live in metric-names.ts', () => {
    const names: string[] = Object.values(runtimeMetrics);
    expect(names.length).toBeGreaterThan(3);
    expect(writtenOutside(path.join('shared', 'runtime', 'metric-names.ts'), names, false)).toEqual([]);
  });
});
