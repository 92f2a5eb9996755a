// Writes infra/config/entitlements.schema.json: the JSON Schema of the config file, generated from
// the zod schema (input side, so defaults are optional and durations are strings). It is committed
// as part of the config contract; a unit test fails when it is out of date. `npm run schema`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { configSchema } from '#config/schema.ts';

export const JSON_SCHEMA_PATH = fileURLToPath(new URL('./entitlements.schema.json', import.meta.url));

/** The JSON Schema text exactly as committed (two-space indent, trailing newline). */
export function renderJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'throw',
  });
  const document = {
    $comment: 'Generated from infra/config/schema.ts by `npm run schema`; do not edit.',
    ...schema,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function main(): void {
  writeFileSync(JSON_SCHEMA_PATH, renderJsonSchema());
  console.log(`wrote ${JSON_SCHEMA_PATH}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
