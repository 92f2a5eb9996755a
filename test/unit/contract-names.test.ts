// Names shared between the stacks and the functions are written once: the access table's key
// prefixes in shared/adapters/aws/tables.ts, metric names in shared/app/grants/deps.ts
// (GRANT_METRICS) and shared/runtime/metric-names.ts. Everything else imports them, so a rename is a
// type error rather than an IAM condition or an alarm that silently stops matching. (Environment
// variable names: test/unit/env-names.test.ts.)
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCESS_KEY_PREFIX } from '#adapters/aws/tables.ts';
import { GRANT_METRICS } from '#app/grants/deps.ts';
import * as runtimeMetrics from '#runtime/metric-names.ts';
import { codeOf, sourceFiles } from '../support/source-code.ts';

const SELF = path.join('test', 'unit', 'contract-names.test.ts');

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Files other than `home` whose code writes one of `values` as (the start of) a string literal. */
function writtenOutside(home: string, values: readonly string[], prefix: boolean): string[] {
  const offenders: string[] = [];
  for (const file of sourceFiles()) {
    if (file === home || file === SELF) continue;
    const text = codeOf(file);
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
