// The whole body of an incoming HTTP request, refused past a size (the local servers — the AWS proxy,
// the fake Identity Center — answer one JSON call per request and never stream).
import type { IncomingMessage } from 'node:http';

/** Rejects (and destroys the request) once more than `maxBytes` arrive. */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new Error('request body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
