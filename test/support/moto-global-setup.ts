// Starts a private moto server for the integration suite unless MOTO_ENDPOINT is already set (the
// Makefile starts one per `make test`). Files isolate themselves by moto account id. The server is
// the local runtime's (local/moto.ts: scripts/moto-server.py on a free loopback port).
import { startMoto } from '../../local/moto.ts';

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.MOTO_ENDPOINT) return async () => {};
  const moto = await startMoto();
  process.env.MOTO_ENDPOINT = moto.endpoint;
  return () => moto.stop();
}
