import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JSON_SCHEMA_PATH, renderJsonSchema } from '#config/write-json-schema.ts';

describe('entitlements.schema.json', () => {
  it('is up to date with the zod schema (run `npm run schema` after changing schema.ts)', () => {
    expect(readFileSync(JSON_SCHEMA_PATH, 'utf8')).toBe(renderJsonSchema());
  });

  it('describes the input side: strict objects, defaults optional, durations as strings', () => {
    const schema = JSON.parse(renderJsonSchema());
    const entitlement = schema.properties.entitlements.items;
    expect(schema.additionalProperties).toBe(false);
    expect(entitlement.additionalProperties).toBe(false);
    expect(entitlement.required).toEqual([
      'id',
      'title',
      'kind',
      'target',
      'eligible',
      'approval',
      'maxDuration',
    ]);
    expect(entitlement.properties.maxDuration).toMatchObject({
      type: 'string',
      pattern: expect.stringMatching(/^\^P/),
    });
    expect(entitlement.properties.privileged).toMatchObject({ type: 'boolean', default: false });
    expect(schema.properties.approvalTimeout.default).toBe('P1D');
    expect(schema.required).not.toContain('limits');
    expect(schema.properties.limits.properties.maxOpenRequestsPerUser).toMatchObject({
      type: 'integer',
      default: 10,
      minimum: 1,
      maximum: 1000,
    });
  });
});
