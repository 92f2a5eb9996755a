// Each function's bundle has a size budget: bundle size is deterministic (same sources, same lock
// file, same esbuild), so growth is a change someone made, and this test says which packages grew
// (esbuild's metafile, written beside each bundle). Cold start is mostly V8 compiling the bundle's
// source text, so bytes are what a test can hold steady; the time itself is measured in
// bench/cold-start, never here. The budgets (bundle-budget.json) are the sizes when they were set plus
// a margin. A new function gets its budget, leaving the others as they are, with
//   BUNDLE_BUDGET_UPDATE=new npx vitest run --project infra test/infra/bundle-budget.test.ts
// and after a deliberate change to one function its budget alone is set again with `=<function name>`
// (every budget with `=all`).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '#config/load.ts';
import { functionFolders } from '../support/function-folders.ts';
import { synthHub } from './templates.ts';

const BUDGET_FILE = path.join(import.meta.dirname, 'bundle-budget.json');
/** Room for ordinary growth before someone has to look (and update the budget on purpose). */
const MARGIN = 0.1;

interface Budget {
  /** Bytes of index.mjs the bundle may reach. */
  readonly budget: number;
  /** Bytes it had when the budget was set, and what each package contributed then. */
  readonly measured: number;
  readonly packages: Readonly<Record<string, number>>;
}
interface BudgetFile {
  readonly note: string;
  readonly functions: Readonly<Record<string, Budget>>;
}

interface Bundle {
  readonly name: string;
  readonly bytes: number;
  /** Output bytes by package (`(app)` for cloud-pam's own code). */
  readonly packages: Record<string, number>;
  /** Every input module bundled. */
  readonly inputs: readonly string[];
}

/** `…/node_modules/@scope/name/x.js` → `@scope/name`; cloud-pam's own files → `(app)`. */
function packageOf(input: string): string {
  const index = input.lastIndexOf('node_modules/');
  if (index < 0) return '(app)';
  const parts = input.slice(index + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
}

function readBundle(name: string, dir: string): Bundle {
  const meta = JSON.parse(readFileSync(path.join(dir, 'index.meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const output = Object.entries(meta.outputs).find(([file]) => file.endsWith('index.mjs'));
  if (!output) throw new Error(`${name}: no index.mjs in its metafile`);
  const packages: Record<string, number> = {};
  for (const [input, { bytesInOutput }] of Object.entries(output[1].inputs)) {
    const name_ = packageOf(input);
    packages[name_] = (packages[name_] ?? 0) + bytesInOutput;
  }
  return {
    name,
    bytes: statSync(path.join(dir, 'index.mjs')).size,
    packages,
    inputs: Object.keys(output[1].inputs),
  };
}

/** Packages that grew against the budget's record, largest growth first (`zod +412.3 KB`). */
function growth(bundle: Bundle, budget: Budget): string[] {
  const names = new Set([...Object.keys(bundle.packages), ...Object.keys(budget.packages)]);
  return [...names]
    .map((name) => [name, (bundle.packages[name] ?? 0) - (budget.packages[name] ?? 0)] as const)
    .filter(([, delta]) => delta > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, delta]) => `${name} +${(delta / 1024).toFixed(1)} KB`);
}

let bundles: Bundle[];
let budgets: BudgetFile;

beforeAll(() => {
  const hub = synthHub(loadConfigFile('infra/config/example.yaml'), { bundle: true });
  const template = hub.template.toJSON() as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  bundles = Object.values(template.Resources)
    .filter((resource) => resource.Type === 'AWS::Lambda::Function')
    .map(({ Properties: fn }) => {
      const name = String(
        (fn.Environment as { Variables: Record<string, unknown> }).Variables.POWERTOOLS_SERVICE_NAME,
      );
      const key = (fn.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
      return readBundle(name, path.join(hub.assemblyDir, `asset.${key}`));
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const update = process.env.BUNDLE_BUDGET_UPDATE;
  const current = JSON.parse(readFileSync(BUDGET_FILE, 'utf8')) as BudgetFile;
  const names = bundles.map((bundle) => bundle.name);
  if (update === 'new' || update === 'all' || (update !== undefined && names.includes(update))) {
    const functions = Object.fromEntries(
      bundles.map((bundle) => {
        const reset = update === 'all' || update === bundle.name;
        const kept = reset ? undefined : current.functions[bundle.name];
        const budget: Budget = kept ?? {
          budget: Math.ceil(bundle.bytes * (1 + MARGIN)),
          measured: bundle.bytes,
          packages: Object.fromEntries(Object.entries(bundle.packages).sort((a, b) => b[1] - a[1])),
        };
        return [bundle.name, budget];
      }),
    );
    const note = `Each bundle's size when its budget was set, plus ${MARGIN * 100} %. See bundle-budget.test.ts.`;
    writeFileSync(BUDGET_FILE, `${JSON.stringify({ note, functions }, null, 2)}\n`);
  }
  budgets = JSON.parse(readFileSync(BUDGET_FILE, 'utf8')) as BudgetFile;
});

describe('bundle budgets', () => {
  it('has a budget for every function, and none for a function that is gone', () => {
    expect(Object.keys(budgets.functions).sort()).toEqual(functionFolders());
    expect(bundles.map((bundle) => bundle.name)).toEqual(functionFolders());
  });

  it.each(functionFolders())('keeps %s within its budget', (name) => {
    const bundle = bundles.find((candidate) => candidate.name === name) as Bundle;
    const budget = budgets.functions[name] as Budget;
    const over = bundle.bytes > budget.budget;
    expect(
      over
        ? `${bundle.bytes} bytes > budget ${budget.budget}; grew: ${growth(bundle, budget).join(', ')}`
        : 'within',
      `${name}: index.mjs`,
    ).toBe('within');
  });

  it('bundles no X-Ray SDK: Lambda active tracing records each invocation without one', () => {
    for (const bundle of bundles)
      expect(
        bundle.inputs.filter((input) =>
          /node_modules\/(aws-xray-sdk|@aws-lambda-powertools\/tracer)/.test(input),
        ),
        bundle.name,
      ).toEqual([]);
  });

  it("bundles zod's tree-shakable API only: no classic API, no locale but English", () => {
    for (const bundle of bundles) {
      const zod = bundle.inputs.filter((input) => input.includes('node_modules/zod/'));
      expect(
        zod.filter((input) => /\/v4\/classic\/|\/v4\/locales\/(?!en\.js)/.test(input)),
        bundle.name,
      ).toEqual([]);
    }
  });
});
