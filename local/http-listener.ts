// The one way the local HTTP stand-ins (the Slack stand-in, the fake Identity Center, the AWS proxy)
// bind a port and let it go. Each had its own copy; they must agree on the parts tests lean on: a
// failed bind rejects instead of crashing, the base URL brackets an IPv6 address, and close() ends
// open connections at once (a client's keep-alive or half-sent request would otherwise hold it until
// that client lets go) and resolves once, however often it is called.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HttpListener {
  /** `http://host:port` of the bound address (an IPv6 host in brackets). */
  readonly base: string;
  /** Stops accepting, destroys every open connection; the same promise on every call. */
  close(): Promise<void>;
}

/** Listens on `host` (127.0.0.1 unless given) and `port` (any free one unless given). */
export async function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  options: { readonly port?: number; readonly host?: string } = {},
): Promise<HttpListener> {
  const sockets = new Set<Socket>();
  const server = createServer(handler);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    base: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
