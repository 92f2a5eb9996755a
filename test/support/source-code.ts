// The project's own source code, read as text, for the tests that check a name is written in one
// place only (test/unit/env-names.test.ts, contract-names.test.ts): every .ts/.mjs file of the
// product, its tests and its benchmarks, without comments (documentation may name anything).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SOURCES = ['functions', 'shared', 'infra', 'local', 'cli', 'test', 'bench'];

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const relative = path.join(dir, name);
    if (statSync(path.join(ROOT, relative)).isDirectory()) return filesUnder(relative);
    return /\.(ts|mjs)$/.test(name) ? [relative] : [];
  });
}

/** Repository-relative paths of every source file (`shared/runtime/env.ts`, …). */
export function sourceFiles(): string[] {
  return SOURCES.flatMap(filesUnder);
}

/** A file's code without its block and line comments. */
export function codeOf(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}
