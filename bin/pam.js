#!/usr/bin/env node
// The `pam` command (package.json `bin`). The project runs from a clone, so the CLI stays TypeScript
// and tsx compiles it on load. The AWS SDK's Node-version notice is turned off before any SDK module
// loads: it is not the CLI's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= '1';

const { register } = await import('tsx/esm/api');
register();
const { runFromProcess } = await import('../cli/main.ts');
process.exitCode = await runFromProcess();
