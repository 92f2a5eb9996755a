// The environment contract is written once (shared/runtime/env-names.ts): no other source — the
// functions, shared code, stacks and constructs, the local runtime, the CLI, and the tests and
// benchmarks that set or expect a variable — writes a variable's name as a string or an object key;
// they use `ENV`, so a rename is a type error.
// (Property reads such as `env.ACCESS_TABLE_NAME` are typed by the shape they come from.)
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV } from '#runtime/env-names.ts';
import { codeOf, sourceFiles } from '../support/source-code.ts';

const CONTRACT = path.join('shared', 'runtime', 'env-names.ts');
/** This file names the variables to look for them. */
const SELF = path.join('test', 'unit', 'env-names.test.ts');

describe('environment variable names', () => {
  it('are written only in the contract', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles()) {
      if (file === CONTRACT || file === SELF) continue;
      const text = codeOf(file);
      for (const name of Object.keys(ENV)) {
        // A string, or an object key (at the start of a line or after `{` or `,`).
        const written = new RegExp(`(['"\`]${name}['"\`])|((^|[{,])\\s*${name}\\s*:)`, 'm');
        if (written.test(text)) offenders.push(`${file}: ${name}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('name themselves (the key is the variable)', () => {
    for (const [key, value] of Object.entries(ENV)) expect(value).toBe(key);
  });
});
