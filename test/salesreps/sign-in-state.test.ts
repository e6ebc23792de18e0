import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { startFakeKinde } from '../effects/support/fake-kinde.js';
import { eventually } from '../effects/support/wait.js';
import {
  Browser,
  GOOD_PASSWORD,
  REDIRECT_URI,
  relyingParty,
  type SigninService,
  setPasswordThroughLink,
  signInThroughPages,
  startSigninService,
} from '../signin/support.js';
import { databaseKinds } from '../support/databases.js';
import { type AddedRep, addRep, REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

/** The seed's fields of a listed rep, in its order: what the list answers without `include`. */
const SEED_FIELDS = [
  'organizationId',
  'organizationSalesRepId',
  'salesRepId',
  'firstName',
  'lastName',
  'email',
  'phoneNumber',
  'repNumber',
  'active',
];

interface ListedRep {
  organizationSalesRepId: string;
  addedAt?: string;
  signIn?: {
    state: string;
    invitationExpiresAt: string | null;
    lastSignedInAt: string | null;
    canResendInvitation: boolean;
  };
}

describe.each(databaseKinds)("a rep's sign-in state in the admin's list (include=signIn) on %s", (kind) => {
  let service: SigninService;
  let alpha: Organization;
  let beta: Organization;
  let alphaAdmin: string;
  let betaAdmin: string;

  const listed = async (token: string, query = '?include=signIn&pageSize=100') => {
    const response = await service.call('GET', `${REPS_URL}${query}`, token);
    expect(response.statusCode, response.body).toBe(200);
    return { items: response.json() as ListedRep[], link: String(response.headers.link) };
  };
  const find = async (token: string, rep: AddedRep) => {
    const item = (await listed(token)).items.find(
      (each) => each.organizationSalesRepId === rep.organizationSalesRepId,
    );
    if (!item) throw new Error(`rep ${rep.organizationSalesRepId} not listed`);
    return item;
  };

  beforeAll(async () => {
    service = await startSigninService(kind);
    alpha = await service.createOrganization('Alpha Supply');
    beta = await service.createOrganization('Beta Supply');
    alphaAdmin = await service.adminToken(alpha);
    betaAdmin = await service.adminToken(beta);
  });
  afterAll(async () => {
    await service?.close();
  });

  it('without include the items are the seed fields only, as before; the Link keeps include when asked', async () => {
    await addRep(service, alphaAdmin);
    const plain = await listed(alphaAdmin, '');
    expect(plain.items.length).toBeGreaterThan(0);
    for (const item of plain.items) expect(Object.keys(item)).toEqual(SEED_FIELDS);
    expect(plain.link).not.toContain('include');
    const included = await listed(alphaAdmin, '?include=signIn&pageSize=1');
    expect(Object.keys(included.items[0] ?? {})).toEqual([...SEED_FIELDS, 'addedAt', 'signIn']);
    expect(included.link).toContain('include=signIn');
  });

  it('an include the API does not know is a 400', async () => {
    const response = await service.call('GET', `${REPS_URL}?include=everything`, alphaAdmin);
    expect(response.statusCode, response.body).toBe(400);
  });

  it('a new rep whose invitation was mailed is "invited" until the link expires, and can be sent another', async () => {
    const before = Date.now();
    const rep = await addRep(service, alphaAdmin, { email: 'invited@example.com' });
    await service.linkMailedTo('invited@example.com');
    const item = await find(alphaAdmin, rep);
    expect(item.signIn).toMatchObject({ state: 'invited', lastSignedInAt: null, canResendInvitation: true });
    const expires = Date.parse(item.signIn?.invitationExpiresAt ?? '');
    // INVITATION_TTL_HOURS' default: a week from the mail.
    expect(expires).toBeGreaterThan(before + 167 * 3_600_000);
    expect(expires).toBeLessThan(Date.now() + 169 * 3_600_000);
    const added = Date.parse(item.addedAt ?? '');
    expect(added).toBeGreaterThanOrEqual(before - 1000);
    expect(added).toBeLessThanOrEqual(Date.now());
  });

  it('a rep whose link has expired unused is "invitationExpired"; a resent invitation makes it "invited" again', async () => {
    const rep = await addRep(service, alphaAdmin, { email: 'expired@example.com' });
    await service.linkMailedTo('expired@example.com');
    // The link's week passes.
    await service.db
      .updateTable('signin_link')
      .set({ expires_at: new Date(Date.now() - 60_000) })
      .where('account_id', '=', rep.identityProviderUserId)
      .execute();
    expect((await find(alphaAdmin, rep)).signIn).toEqual({
      state: 'invitationExpired',
      invitationExpiresAt: null,
      lastSignedInAt: null,
      canResendInvitation: true,
    });

    const resent = await service.call('POST', `${REPS_URL}/invitation`, alphaAdmin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(resent.statusCode, resent.body).toBe(202);
    await eventually(async () => {
      const item = await find(alphaAdmin, rep);
      expect(item.signIn?.state).toBe('invited');
      expect(Date.parse(item.signIn?.invitationExpiresAt ?? '')).toBeGreaterThan(Date.now());
    });
  });

  it('a real sign-in makes the rep "signedIn" with its time in that organization only; no invitation to resend', async () => {
    const email = 'signs.in@example.com';
    const inAlpha = await addRep(service, alphaAdmin, { email });
    const inBeta = await addRep(service, betaAdmin, { email });
    await eventually(async () => {
      const memberships = await service.db
        .selectFrom('idp_membership')
        .select('identity_organization_id')
        .where('account_id', '=', inAlpha.identityProviderUserId)
        .execute();
      if (memberships.length !== 2) throw new Error('memberships not provisioned yet');
    });
    // The second organization's mail voids the first's link.
    const link = await service.linkMailedTo(email, 'Beta Supply');
    const set = await setPasswordThroughLink(new Browser(service.app), link, GOOD_PASSWORD);
    expect(set.statusCode, set.body).toBe(200);

    const rp = await relyingParty(service.app);
    const before = Date.now();
    const flow = await rp.start({ org_code: alpha.identity_organization_id });
    const signedIn = await signInThroughPages(new Browser(service.app), flow.url, {
      email,
      password: GOOD_PASSWORD,
    });
    expect(signedIn.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);

    const inAlphaList = await find(alphaAdmin, inAlpha);
    expect(inAlphaList.signIn).toMatchObject({
      state: 'signedIn',
      invitationExpiresAt: null,
      canResendInvitation: false,
    });
    const at = Date.parse(inAlphaList.signIn?.lastSignedInAt ?? '');
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now());
    // Beta sees the password set, but no sign-in of its own.
    expect((await find(betaAdmin, inBeta)).signIn).toEqual({
      state: 'signedIn',
      invitationExpiresAt: null,
      lastSignedInAt: null,
      canResendInvitation: false,
    });
    // And the invitation endpoint agrees: there is nothing to resend.
    const resend = await service.call('POST', `${REPS_URL}/invitation`, alphaAdmin, {
      organizationSalesRepId: inAlpha.organizationSalesRepId,
    });
    expect(resend.statusCode).toBe(409);
  });

  it('a deactivated rep is "inactive", with no invitation to resend, and comes back as before on activation', async () => {
    const rep = await addRep(service, alphaAdmin, { email: 'inactive@example.com' });
    await service.linkMailedTo('inactive@example.com');
    const off = await service.call('POST', `${REPS_URL}/deactivate`, alphaAdmin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(off.statusCode, off.body).toBe(200);
    expect((await find(alphaAdmin, rep)).signIn).toMatchObject({
      state: 'inactive',
      canResendInvitation: false,
    });
    const resend = await service.call('POST', `${REPS_URL}/invitation`, alphaAdmin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(resend.statusCode).toBe(409);

    const on = await service.call('POST', `${REPS_URL}/activate`, alphaAdmin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(on.statusCode, on.body).toBe(200);
    await eventually(async () => {
      const item = await find(alphaAdmin, rep);
      expect(item.signIn).toMatchObject({ state: 'invited', canResendInvitation: true });
    });
  });
});

describe.each(databaseKinds)(
  'a rep\u2019s sign-in state where the reps sign in at Kinde (IDP=kinde) on %s',
  (kind) => {
    let kinde: Awaited<ReturnType<typeof startFakeKinde>>;
    let service: TestService;
    let admin: string;

    beforeAll(async () => {
      // A local Kinde that enforces its API description: adding a rep asks it for the user.
      kinde = await startFakeKinde({
        clientId: 'm2m-client',
        clientSecret: 'm2m-secret',
        audience: 'https://acme.kinde.test/api',
      });
      service = await startTestService(kind, {
        IDP: 'kinde',
        KINDE_DOMAIN: kinde.url,
        KINDE_CLIENT_ID: 'm2m-client',
        KINDE_CLIENT_SECRET: 'm2m-secret',
        KINDE_AUDIENCE: 'https://acme.kinde.test/api',
      });
      admin = await service.token(await service.createOrganization('Kinde Supply'), 'kinde_admin', ['Admin']);
    });
    afterAll(async () => {
      await service?.close();
      await kinde?.close();
    });

    it('an active rep is "unknown" (the service never sees a sign-in at Kinde), with no invitation to resend; a deactivated one "inactive"', async () => {
      const rep = await addRep(service, admin, { email: 'kim.rep@example.com' });
      const state = async () => {
        const response = await service.call('GET', `${REPS_URL}?include=signIn`, admin);
        expect(response.statusCode, response.body).toBe(200);
        return (response.json() as ListedRep[]).find(
          (item) => item.organizationSalesRepId === rep.organizationSalesRepId,
        )?.signIn;
      };
      expect(await state()).toEqual({
        state: 'unknown',
        invitationExpiresAt: null,
        lastSignedInAt: null,
        canResendInvitation: false,
      });
      const off = await service.call('POST', `${REPS_URL}/deactivate`, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
      });
      expect(off.statusCode, off.body).toBe(200);
      expect(await state()).toMatchObject({ state: 'inactive', canResendInvitation: false });
    });
  },
);
