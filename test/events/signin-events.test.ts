import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { eventually } from '../effects/support/wait.js';
import {
  Browser,
  formAction,
  GOOD_PASSWORD,
  hiddenField,
  REDIRECT_URI,
  relyingParty,
  type SigninService,
  setPasswordThroughLink,
  signInThroughPages,
  startSigninService,
} from '../signin/support.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, REPS_URL } from '../support/fixtures.js';
import { startReceiver } from '../support/receiver.js';
import { allEvents, type EventBody } from './support.js';

const NEW_PASSWORD = 'copper lantern meadow 77';
const WRONG_PASSWORD = 'not the password at all';

describe.each(databaseKinds)('sign-in events in the audit log on %s', (kind) => {
  let service: SigninService;
  let alpha: Organization;
  let beta: Organization;
  let alphaAdmin: string;
  let betaAdmin: string;
  let rp: Awaited<ReturnType<typeof relyingParty>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  /** The person in both organizations: its account id is the user id its tokens carry. */
  let both: { accountId: string; email: string };
  /** Every link mailed in the tests: none may appear in an event. */
  const links: string[] = [];

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string, body?: object) =>
    service.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body ? { payload: body } : {}),
    });
  const api = { call: (m: string, u: string, t: string, b?: unknown) => call(m as 'GET', u, t, b as object) };
  const eventsOf = (token: string, action?: string) =>
    allEvents(api, token, action ? `&action=${action}` : '');
  const asPerson = (accountId: string) => ({ type: 'user', id: accountId });

  beforeAll(async () => {
    receiver = await startReceiver();
    service = await startSigninService(kind, { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' });
    alpha = await service.createOrganization('Alpha Supply');
    beta = await service.createOrganization('Beta Supply');
    alphaAdmin = await service.adminToken(alpha);
    betaAdmin = await service.adminToken(beta);
    rp = await relyingParty(service.app);
    const hook = await call('POST', '/api/organizations/webhooks', alphaAdmin, {
      url: receiver.url,
      eventTypes: ['sign_in.succeeded'],
    });
    expect(hook.statusCode, hook.body).toBe(201);

    const email = 'both.orgs@example.com';
    const rep = await addRep(api, alphaAdmin, { email });
    await addRep(api, betaAdmin, { email });
    both = { accountId: rep.identityProviderUserId, email };
    // Both memberships are provisioned by the effect worker before the person sets a password.
    await eventually(async () => {
      const memberships = await service.db
        .selectFrom('idp_membership')
        .select('identity_organization_id')
        .where('account_id', '=', both.accountId)
        .execute();
      if (memberships.length !== 2) throw new Error('memberships not provisioned yet');
    });
    const link = await service.linkMailedTo(email, 'Beta Supply');
    links.push(link);
    const set = await setPasswordThroughLink(new Browser(service.app), link, GOOD_PASSWORD);
    expect(set.statusCode, set.body).toBe(200);
  });
  afterAll(async () => {
    await service?.close();
    await receiver?.close();
  });

  it('a password set from an invitation link is a password.set event in every organization of the person', async () => {
    for (const admin of [alphaAdmin, betaAdmin]) {
      const events = await eventsOf(admin, 'password.set');
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        actor: asPerson(both.accountId),
        targets: [{ type: 'user', id: both.accountId }],
        changes: {},
        requestId: expect.any(String),
      });
    }
    expect((await eventsOf(alphaAdmin, 'password.set'))[0]?.organizationId).toBe(alpha.id);
    expect((await eventsOf(betaAdmin, 'password.set'))[0]?.organizationId).toBe(beta.id);
  });

  it('a sign-in to one organization is recorded there only: the other organization of the person sees nothing', async () => {
    const betaBefore = await eventsOf(betaAdmin);
    const flow = await rp.start({ org_code: alpha.identity_organization_id });
    const signedIn = await signInThroughPages(new Browser(service.app), flow.url, {
      email: both.email,
      password: GOOD_PASSWORD,
    });
    expect(signedIn.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);

    const [succeeded, ...more] = await eventsOf(alphaAdmin, 'sign_in.succeeded');
    expect(more).toHaveLength(0);
    expect(succeeded).toMatchObject({
      organizationId: alpha.id,
      actor: asPerson(both.accountId),
      targets: [{ type: 'user', id: both.accountId }],
      changes: { method: { from: null, to: 'password' } },
      requestId: expect.any(String),
    });
    expect(await eventsOf(betaAdmin)).toEqual(betaBefore);

    // The webhook of the organization signed in to is told, through recordEvents' fan-out.
    await eventually(() => {
      const delivered = receiver.received.find((delivery) => delivery.id === succeeded?.id);
      if (!delivered) throw new Error('not delivered yet');
      expect(JSON.parse(delivered.body)).toMatchObject({
        type: 'sign_in.succeeded',
        data: { id: succeeded?.id },
      });
    });
  });

  it('a wrong password of an existing account is sign_in.failed in every organization of the person, with the request id', async () => {
    const browser = new Browser(service.app);
    const start = await browser.follow('GET', (await rp.start()).url);
    const failed = await browser.request('POST', formAction(start.response.body), {
      csrf: hiddenField(start.response.body, 'csrf'),
      email: both.email,
      password: WRONG_PASSWORD,
    });
    expect(failed.statusCode).toBe(401);
    const requestId = failed.headers['x-request-id'];
    expect(typeof requestId).toBe('string');
    for (const [admin, organization] of [
      [alphaAdmin, alpha],
      [betaAdmin, beta],
    ] as const) {
      expect(await eventsOf(admin, 'sign_in.failed')).toEqual([
        expect.objectContaining({
          organizationId: organization.id,
          actor: asPerson(both.accountId),
          targets: [{ type: 'user', id: both.accountId }],
          requestId,
          changes: { method: { from: null, to: 'password' } },
        }),
      ]);
    }
  });

  it('a failed sign-in with an unknown email records no event anywhere', async () => {
    const count = async () =>
      Number(
        (
          await service.db
            .selectFrom('event')
            .select(({ fn }) => fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const attempt = await signInThroughPages(new Browser(service.app), (await rp.start()).url, {
      email: 'nobody.here@example.com',
      password: WRONG_PASSWORD,
    });
    expect(attempt.response.statusCode).toBe(401);
    expect(await count()).toBe(before);
    expect(service.logLines.some((line) => line.includes('"event":"signin.failed"'))).toBe(true);
  });

  it('a password reset through a reset link is password.reset in every organization of the person', async () => {
    const browser = new Browser(service.app);
    const form = await browser.request('GET', '/signin/reset');
    const asked = await browser.request('POST', '/signin/reset', {
      csrf: hiddenField(form.body, 'csrf'),
      email: both.email,
    });
    expect(asked.statusCode).toBe(200);
    const link = await service.linkMailedTo(both.email, 'reset');
    links.push(link);
    const reset = await setPasswordThroughLink(browser, link, NEW_PASSWORD);
    expect(reset.statusCode, reset.body).toBe(200);
    for (const [admin, organization] of [
      [alphaAdmin, alpha],
      [betaAdmin, beta],
    ] as const) {
      expect(await eventsOf(admin, 'password.reset')).toEqual([
        expect.objectContaining({
          organizationId: organization.id,
          actor: asPerson(both.accountId),
          targets: [{ type: 'user', id: both.accountId }],
          changes: {},
        }),
      ]);
    }
  });

  it('a refused sign-in (deactivated rep) is sign_in.refused in that organization; an organization that never knew the person records nothing', async () => {
    const email = 'soon.inactive@example.com';
    const rep = await addRep(api, alphaAdmin, { email });
    const link = await service.linkMailedTo(email);
    links.push(link);
    await setPasswordThroughLink(new Browser(service.app), link, GOOD_PASSWORD);
    const deactivated = await call('POST', `${REPS_URL}/deactivate`, alphaAdmin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(deactivated.statusCode, deactivated.body).toBe(200);

    const refused = await signInThroughPages(
      new Browser(service.app),
      (await rp.start({ org_code: alpha.identity_organization_id })).url,
      { email, password: GOOD_PASSWORD },
    );
    expect(refused.response.statusCode).toBe(403);
    expect(await eventsOf(alphaAdmin, 'sign_in.refused')).toEqual([
      expect.objectContaining({
        organizationId: alpha.id,
        actor: asPerson(rep.identityProviderUserId),
        targets: [{ type: 'user', id: rep.identityProviderUserId }],
        requestId: expect.any(String),
        changes: { method: { from: null, to: 'password' } },
      }),
    ]);

    // The same person asking for Beta, which never had it: refused, and Beta's log says nothing of it.
    const betaBefore = await eventsOf(betaAdmin);
    const elsewhere = await signInThroughPages(
      new Browser(service.app),
      (await rp.start({ org_code: beta.identity_organization_id })).url,
      { email, password: GOOD_PASSWORD },
    );
    expect(elsewhere.response.statusCode).toBe(403);
    expect(await eventsOf(betaAdmin)).toEqual(betaBefore);
    expect(await eventsOf(alphaAdmin, 'sign_in.refused')).toHaveLength(1);
  });

  it('an invitation sent again is invitation.resent by the admin, with the rep as target and the request id', async () => {
    const email = 'not.yet@example.com';
    const rep = await addRep(api, alphaAdmin, { email });
    links.push(await service.linkMailedTo(email));
    const resent = await service.app.inject({
      method: 'POST',
      url: '/api/organizations/salesreps/invitation',
      headers: { authorization: `Bearer ${alphaAdmin}`, 'x-request-id': 'resend-req-1' },
      payload: { organizationSalesRepId: rep.organizationSalesRepId },
    });
    expect(resent.statusCode, resent.body).toBe(202);
    expect(await eventsOf(alphaAdmin, 'invitation.resent')).toEqual([
      expect.objectContaining({
        organizationId: alpha.id,
        actor: { type: 'user', id: 'admin-1' },
        targets: [
          { type: 'organization_sales_rep', id: rep.organizationSalesRepId },
          { type: 'sales_rep', id: rep.salesRepId },
        ],
        requestId: 'resend-req-1',
        changes: {},
      }),
    ]);
    expect(await eventsOf(betaAdmin, 'invitation.resent')).toEqual([]);
    links.push(await service.linkMailedTo(email, 'Alpha Supply'));
  });

  it('no event carries a password, a link or its token', async () => {
    const events: EventBody[] = [...(await eventsOf(alphaAdmin)), ...(await eventsOf(betaAdmin))];
    const signinEvents = events.filter((event) => /^(sign_in|password|invitation)\./.test(event.action));
    expect(signinEvents.length).toBeGreaterThanOrEqual(9);
    const text = JSON.stringify(events);
    for (const secret of [GOOD_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, 'scrypt', '/signin/link/']) {
      expect(text).not.toContain(secret);
    }
    expect(links.length).toBeGreaterThanOrEqual(4);
    for (const link of links) expect(text).not.toContain(link.split('/').pop());
  });
});
