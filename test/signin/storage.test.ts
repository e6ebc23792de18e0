import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { createService, type Service } from '../../src/main.js';
import { startSigninRetention } from '../../src/signin/retention.js';
import { databaseKinds } from '../support/databases.js';
import { addRep } from '../support/fixtures.js';
import {
  Browser,
  GOOD_PASSWORD,
  REDIRECT_URI,
  relyingParty,
  type SigninService,
  setPasswordThroughLink,
  signInThroughPages,
  startSigninService,
} from './support.js';

describe.each(databaseKinds)('the provider records in the database on %s', (kind) => {
  let service: SigninService;
  let replica: Service;
  let organization: Organization;
  let admin: string;

  beforeAll(async () => {
    service = await startSigninService(kind);
    organization = await service.createOrganization('Stored Supply');
    admin = await service.adminToken(organization);
    // A second process of the same deployment: the same database and issuer key, nothing else shared.
    replica = await createService(service.config, {
      database: service.database,
      log: false,
      runEffects: false,
    });
    await replica.app.ready();
  });
  afterAll(async () => {
    await replica?.close();
    await service?.close();
  });

  it('a session made by one process signs in silently on another (a restart or a replica keeps it)', async () => {
    await addRep(service, admin, { email: 'stored@example.com' });
    const browser = new Browser(service.app);
    await setPasswordThroughLink(browser, await service.linkMailedTo('stored@example.com'), GOOD_PASSWORD);
    const first = await signInThroughPages(browser, (await (await relyingParty(service.app)).start()).url, {
      email: 'stored@example.com',
      password: GOOD_PASSWORD,
    });
    expect(first.leftTo?.startsWith(REDIRECT_URI)).toBe(true);

    const onReplica = new Browser(replica.app);
    for (const [name, value] of browser.cookies) onReplica.cookies.set(name, value);
    const replicaRp = await relyingParty(replica.app);
    const flow = await replicaRp.start();
    const silent = await onReplica.follow('GET', flow.url);
    expect(silent.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);
    const tokens = await replicaRp.exchange(silent.leftTo as string, flow);
    expect(tokens.access_token).toBeTruthy();
  });

  it('purges expired records in bounded batches and leaves live ones', async () => {
    const past = new Date(Date.now() - 3 * 24 * 3600_000);
    const future = new Date(Date.now() + 3600_000);
    await service.db
      .insertInto('oidc_payload')
      .values([
        ...Array.from({ length: 5 }, (_, i) => ({
          model: 'Session',
          id: `old-${i}`,
          payload: '{}',
          expires_at: past,
        })),
        { model: 'Session', id: 'live', payload: '{}', expires_at: future },
      ])
      .execute();
    await service.db
      .insertInto('signin_link')
      .values({ id: 'old-link', token_hash: 'old-hash', account_id: 'a', purpose: 'reset', expires_at: past })
      .execute();
    const lines: string[] = [];
    const retention = startSigninRetention(
      service.db,
      { intervalMs: 60_000, batchSize: 2 },
      { info: (...args: unknown[]) => lines.push(JSON.stringify(args)), error: () => {} },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await retention.stop();
    const left = await service.db
      .selectFrom('oidc_payload')
      .select('id')
      .where('id', 'like', 'old-%')
      .execute();
    expect(left).toEqual([]);
    const live = await service.db.selectFrom('oidc_payload').select('id').where('id', '=', 'live').execute();
    expect(live).toHaveLength(1);
    expect(
      await service.db.selectFrom('signin_link').select('id').where('id', '=', 'old-link').execute(),
    ).toEqual([]);
    expect(lines.join('')).toContain('deleted');
  });
});
