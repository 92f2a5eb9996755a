#!/usr/bin/env node
// The `pam` command (package.json `bin`). The project runs from a clone, so the CLI stays TypeScript
// and tsx compiles it on load. It runs on the Node.js the project pins (package.json devDependency
// `node`, the version Lambda runs): `npx pam` and `make` put it first on PATH. Started by an older
// `node`, it hands itself to the pinned one, or says in one line what it needs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < REQUIRED_MAJOR) {
  const pinned = new URL('../node_modules/node/bin/node', import.meta.url).pathname;
  if (!existsSync(pinned)) {
    process.stderr.write(
      `pam: needs Node.js ${REQUIRED_MAJOR} (this is ${process.version}); run \`make install\` in the clone, then \`npx pam\`\n`,
    );
    process.exit(2);
  }
  const child = spawnSync(pinned, [new URL(import.meta.url).pathname, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(child.status ?? 2);
}

const { register } = await import('tsx/esm/api');
register();
const { runFromProcess } = await import('../cli/main.ts');
process.exitCode = await runFromProcess();
