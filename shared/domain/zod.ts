// The one zod that code bundled into a function imports (`import * as z from '#domain/zod.ts'`):
// zod's tree-shakable API (`zod/mini`) with zod's English messages loaded, and nothing else. The
// classic `zod` entry point brings every locale, JSON Schema conversion and the JIT compiler into the
// bundle whatever the schemas use (~450 KB of a ~1 MB bundle, most of a cold start's compile time);
// this brings ~35 KB, with the same messages. Re-exported name by name (not as one `z` object), so
// esbuild keeps only what the schemas use. Synth-time code (infra/config), the CLI, the local runtime
// and tests are not bundled into a function and may use classic `zod`. test/infra/bundle-budget.test.ts
// fails if a bundle takes the classic API or another locale again.
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
