import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createService, type Service } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import { startSmtpServer, type TestSmtpServer } from '../effects/support/smtp.js';
import { eventually } from '../effects/support/wait.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';

const METRICS_TOKEN = 'scaleout-metrics-token-0123';

/** The value of one series in Prometheus text, or undefined when the series is absent. */
function seriesValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(databaseKinds)(
  'effect failures in GET /metrics, service built by createService on %s',
  (kind) => {
    let dataDir: string;
    let database: TestDatabase | undefined;
    let smtp: TestSmtpServer;
    let service: Service;

    const scrape = async () => {
      const response = await service.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(response.statusCode).toBe(200);
      return response.body;
    };

    beforeAll(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-effect-metrics-'));
      if (kind === 'postgres') database = await openTestDatabase(kind);
      smtp = await startSmtpServer();
      // The mail server is gone: every welcome mail fails (a refused connection, which a retry may fix).
      await smtp.down();
      service = await createService(
        loadConfig({
          DATA_DIR: dataDir,
          ...(database?.url ? { DATABASE_URL: database.url } : {}),
          DEMO: 'false',
          LOG_LEVEL: 'silent',
          METRICS_TOKEN,
          MAIL: 'smtp',
          SMTP_URL: smtp.url,
          EFFECTS_MAX_ATTEMPTS: '2',
          EFFECTS_RETRY_BASE_MS: '20',
          EFFECTS_RETRY_MAX_MS: '40',
          EFFECTS_POLL_MS: '20',
          EFFECTS_CALL_TIMEOUT_MS: '500',
          EFFECTS_LEASE_MS: '2000',
        }),
      );
      await service.app.ready();
    });
    afterAll(async () => {
      await service?.close();
      await smtp?.close();
      await database?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('counts each failed attempt of an effect by kind, the last one (the effect went dead) as final="true"', async () => {
      const organization = await createOrganization(service.database.db, {
        name: 'Metrics Supplies',
        identityOrganizationId: `org_metrics_${kind}`,
      });
      const issuer = service.localIssuer;
      if (!issuer) throw new Error('the service has no local issuer');
      const admin = await issuer.sign(
        { userId: 'metrics-admin', organization: organization.identity_organization_id, roles: ['Admin'] },
        600,
      );
      const before = await scrape();
      expect(before).toContain('# TYPE salesreps_effects_failures_total counter');
      expect(
        seriesValue(before, 'salesreps_effects_failures_total{kind="email.welcome",final="false"}'),
      ).toBeUndefined();

      const created = await service.app.inject({
        method: 'PUT',
        url: '/api/organizations/salesreps',
        headers: { authorization: `Bearer ${admin}` },
        payload: {
          firstName: 'Fay',
          lastName: 'Failing',
          email: 'fay.failing@example.com',
          repNumber: 'FAIL-1',
        },
      });
      expect(created.statusCode).toBe(200);
      await eventually(async () => {
        const dead = await service.database.db
          .selectFrom('effect')
          .select(['kind', 'attempts'])
          .where('status', '=', 'dead')
          .execute();
        expect(dead).toEqual([{ kind: 'email.welcome', attempts: 2 }]);
      });

      const after = await scrape();
      // Two attempts: the first failed and was scheduled again, the second gave the effect up.
      expect(seriesValue(after, 'salesreps_effects_failures_total{kind="email.welcome",final="false"}')).toBe(
        1,
      );
      expect(seriesValue(after, 'salesreps_effects_failures_total{kind="email.welcome",final="true"}')).toBe(
        1,
      );
      // The rep's other effects succeeded and count nothing.
      expect(after).not.toMatch(/salesreps_effects_failures_total\{kind="(identity|sync)\./);
      expect(seriesValue(after, 'salesreps_effects_pending{kind="email.welcome"}')).toBeUndefined();
    });
  },
);
