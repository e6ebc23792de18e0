// The test tiers (docs in README.md, "Test it"): unit, integration, process and browser, each a vitest project.
import { defineConfig } from 'vitest/config';

/** Pure logic: no database, no service, no process. */
const UNIT = [
  'test/architecture/layers.test.ts',
  'test/console/logic.test.ts',
  'test/console/sso-logic.test.ts',
  'test/deploy/manifests.test.ts',
  'test/hardening/config.test.ts',
  'test/http/openapi-validation.test.ts',
  'test/salesreps/way.test.ts',
];

/** Tests that start the built service as a process (`salesreps`, `npm start`). */
const PROCESS = [
  'test/cli/*.test.ts',
  'test/signin/cli.test.ts',
  'test/events/cli.test.ts',
  'test/sso/cli.test.ts',
  'test/sso/saml-cli.test.ts',
  'test/effects/processes.test.ts',
  'test/hardening/private-files.test.ts',
  'test/hardening/shutdown.test.ts',
  'test/hardening/backup.test.ts',
  'test/hardening/tracing.test.ts',
  'test/hardening/young-generation.test.ts',
  'test/scaleout/replicas.test.ts',
];

/** Tests that drive Chromium against the service. */
const BROWSER = [
  'test/console/journey.test.ts',
  'test/console/session.test.ts',
  'test/console/second-round.test.ts',
  'test/console/bulk.test.ts',
  'test/console/reps-state.test.ts',
  'test/console/external-provider.test.ts',
  'test/console/directory-sync.test.ts',
  'test/console/single-sign-on.test.ts',
  'test/console/single-sign-on-actions.test.ts',
  'test/signin/pages.test.ts',
  'test/signin/oidc-client-ts.test.ts',
];

const DATABASES = 'test/support/database-templates.ts';

export default defineConfig({
  test: {
    // Opening a database takes a while on a loaded machine; each test file gets its own.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...UNIT, ...PROCESS, ...BROWSER],
          globalSetup: [DATABASES],
          // One worker runs many files: the app's modules and the embedded engine's compiled code are loaded once.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'process',
          include: PROCESS,
          globalSetup: [DATABASES, 'test/support/service-build.ts'],
        },
      },
      { extends: true, test: { name: 'browser', include: BROWSER, globalSetup: [DATABASES] } },
    ],
  },
});
