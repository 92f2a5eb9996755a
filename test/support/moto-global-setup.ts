// Starts a private moto server for the integration and e2e suites unless MOTO_ENDPOINT is already
// set (the Makefile starts one per `make test`). Files isolate themselves by moto account id.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`moto_server did not answer at ${endpoint}`);
}

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.MOTO_ENDPOINT) return async () => {};
  const port = await freePort();
  // See scripts/moto-server.py for why requests are served one at a time.
  const script = fileURLToPath(new URL('../../scripts/moto-server.py', import.meta.url));
  const child = spawn('python3', [script, '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilUp(endpoint, child);
  process.env.MOTO_ENDPOINT = endpoint;
  return async () => {
    child.kill('SIGTERM');
  };
}
