// One Lambda function in a worker thread, as the local runtime hosts it. Plain JavaScript: it runs
// before anything else in the thread. First the clock: `Date` (constructor, `Date()` and
// `Date.now()`) reads the runtime's shared offset, so the bundle sees the local clock from its first
// line on. Then the bundle loads (its environment is the worker's own `process.env`) and the thread
// answers `invoke` messages one at a time, as one Lambda execution environment does.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

// [offset from real time, frozen instant or NaN] — see local/clock.ts.
const cells = new Float64Array(workerData.clock);
const RealDate = Date;
const realNow = RealDate.now.bind(RealDate);
const clockNow = () => (Number.isNaN(cells[1]) ? realNow() + cells[0] : cells[1]);
globalThis.Date = new Proxy(RealDate, {
  construct(target, args, newTarget) {
    return args.length === 0
      ? Reflect.construct(target, [clockNow()], newTarget)
      : Reflect.construct(target, args, newTarget);
  },
  apply() {
    return new RealDate(clockNow()).toString();
  },
  get(target, property, receiver) {
    if (property === 'now') return clockNow;
    return Reflect.get(target, property, receiver);
  },
});
globalThis.__pamLocalClock = clockNow;

const { module: modulePath, exportName, functionName, memoryMb, timeoutMs, region, accountId } = workerData;
let handler;
try {
  // The tests host the TypeScript sources the same way (tsx is a dev dependency; bundles never need it).
  if (modulePath.endsWith('.ts')) (await import('tsx/esm/api')).register();
  const loaded = await import(pathToFileURL(modulePath).href);
  handler = loaded[exportName];
  if (typeof handler !== 'function') throw new Error(`${modulePath} exports no function "${exportName}"`);
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  parentPort.postMessage({
    type: 'init-error',
    error: { name: error?.name, message: String(error?.message ?? error) },
  });
}

parentPort.on('message', async (message) => {
  if (message.type !== 'invoke' || !handler) return;
  const started = realNow();
  const requestId = randomUUID();
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${requestId}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (realNow() - started)),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const result = await handler(message.event, context);
    parentPort.postMessage({ type: 'result', id: message.id, result: result === undefined ? null : result });
  } catch (error) {
    parentPort.postMessage({
      type: 'result',
      id: message.id,
      error: { name: error?.name ?? 'Error', message: String(error?.message ?? error) },
    });
  }
});
