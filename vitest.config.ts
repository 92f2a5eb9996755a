// Four suites, one runner. Integration talks to moto over HTTP; the global setup starts one when
// MOTO_ENDPOINT is not already set (the Makefile sets it for `make test`). E2e boots the whole local
// runtime per file, with a moto of its own.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/moto-global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Each file boots the local runtime, which starts its own moto (and may synthesize cdk.out).
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
