// Where the organization signs its people in through its own IdP, a rep its directory creates is told to sign in
// with the company account, and does so without a password ever being set.
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer, type TestSmtpServer } from '../effects/support/smtp.js';
import { eventually } from '../effects/support/wait.js';
import {
  PUBLIC_URL,
  REDIRECT_URI,
  relyingParty,
  type SigninService,
  startSigninService,
} from '../signin/support.js';
import { startTestIdp, type TestIdp, TwoSiteBrowser } from '../sso/support.js';
import { databaseKinds } from '../support/databases.js';
import { CUSTOMERS_URL } from '../support/fixtures.js';
import { oktaUser, TOKENS_URL } from './support.js';

describe.each(databaseKinds)('SCIM Users of an organization with single sign-on, on %s', (kind) => {
  let service: SigninService;
  let smtp: TestSmtpServer;
  let okta: TestIdp;
  let rp: Awaited<ReturnType<typeof relyingParty>>;

  /** An organization, its admin, and its directory's SCIM token; with `sso`, its connection to the test IdP. */
  const tenant = async (name: string, sso: { passwordSignIn: boolean } | undefined) => {
    const organization = await service.createOrganization(name);
    const admin = await service.adminToken(organization);
    if (sso) {
      const connected = await service.call('PUT', '/api/organizations/sso', admin, {
        protocol: 'oidc',
        issuer: okta.issuer,
        clientId: okta.clientId,
        clientSecret: okta.clientSecret,
        domains: [`${name.toLowerCase().replace(/[^a-z]/g, '')}.example`],
        passwordSignIn: sso.passwordSignIn,
      });
      expect(connected.statusCode, connected.body).toBe(200);
    }
    const created = await service.call('POST', TOKENS_URL, admin, { description: 'Okta' });
    expect(created.statusCode, created.body).toBe(201);
    return { organization, admin, token: (created.json() as { token: string }).token };
  };

  /** POST /Users as the directory sends it. */
  const provision = async (token: string, email: string, repNumber: string) => {
    const created = await service.app.inject({
      method: 'POST',
      url: '/scim/v2/Users',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      payload: JSON.stringify(oktaUser(email, repNumber)),
    });
    expect(created.statusCode, created.body).toBe(201);
    return created.json() as { id: string };
  };

  const mailTo = (address: string) =>
    eventually(() => {
      const mail = smtp.received.find(
        (candidate: ParsedMail) => candidate.to && 'text' in candidate.to && candidate.to.text === address,
      );
      if (!mail) throw new Error(`no mail to ${address} yet`);
      return mail;
    });

  const accountOf = async (email: string) =>
    (
      await service.db
        .selectFrom('sales_rep')
        .select('identity_provider_user_id')
        .where('email', '=', email)
        .executeTakeFirstOrThrow()
    ).identity_provider_user_id;

  beforeAll(async () => {
    okta = await startTestIdp();
    smtp = await startSmtpServer();
    service = await startSigninService(kind, {
      SSO_ALLOW_PRIVATE_NETWORKS: 'true',
      MAIL: 'smtp',
      SMTP_URL: smtp.url,
    });
    rp = await relyingParty(service.app);
  });
  afterAll(async () => {
    await service?.close();
    await smtp?.close();
    await okta?.close();
  });

  it('the welcome mail says to sign in with the company account at the organization\u2019s sign-in, and sets no password link', async () => {
    const { organization, token } = await tenant('Acme Directory', { passwordSignIn: false });
    await provision(token, 'sso.person@acme.example', 'S-1');
    const mail = await mailTo('sso.person@acme.example');
    expect(mail.subject).toBe('Welcome to Acme Directory as a sales rep');
    expect(mail.text).toContain('signs you in with your company account');
    expect(mail.text).toContain(
      `${PUBLIC_URL}/signin?org=${encodeURIComponent(organization.identity_organization_id)}`,
    );
    expect(mail.text).not.toMatch(/password here|Set your password/i);
    expect(mail.html).toContain('with your company account');
    // No single-use link to set a password was made for the person.
    const links = await service.db
      .selectFrom('signin_link')
      .select('id')
      .where('account_id', '=', await accountOf('sso.person@acme.example'))
      .execute();
    expect(links).toEqual([]);
  });

  it('without single sign-on, or with passwords still allowed, the welcome mail asks for a password as before', async () => {
    const plain = await tenant('Plain Supply', undefined);
    const mixed = await tenant('Mixed Supply', { passwordSignIn: true });
    await provision(plain.token, 'plain.person@plain.example', 'P-1');
    await provision(mixed.token, 'mixed.person@mixed.example', 'M-1');
    for (const address of ['plain.person@plain.example', 'mixed.person@mixed.example']) {
      const mail = await mailTo(address);
      expect(mail.text).toContain('Set your password here:');
      expect(mail.text).not.toContain('company account');
    }
  });

  it('a rep the directory created signs in through the IdP, gets a token and lists its customers, with no password ever set', async () => {
    const { organization, admin, token } = await tenant('Road Supply', { passwordSignIn: false });
    await provision(token, 'coyote@road.example', 'R-7');
    const customer = await service.call('PUT', CUSTOMERS_URL, admin, {
      customerNumber: 'C-100',
      companyName: 'Acme Anvils',
      repNumber: 'R-7',
    });
    expect(customer.statusCode, customer.body).toBe(200);
    const account = await accountOf('coyote@road.example');
    // The identity effect has made the person's account and membership.
    await eventually(async () => {
      const membership = await service.db
        .selectFrom('idp_membership')
        .select('account_id')
        .where('account_id', '=', account)
        .where('identity_organization_id', '=', organization.identity_organization_id)
        .executeTakeFirst();
      if (!membership) throw new Error('no membership yet');
    });
    await mailTo('coyote@road.example');

    okta.people.set('okta-coyote', { email: 'coyote@road.example', emailVerified: true });
    const browser = new TwoSiteBrowser(service.app, okta);
    const flow = await rp.start({ org_code: organization.identity_organization_id });
    const atIdp = await browser.follow('GET', flow.url);
    expect(atIdp.url.startsWith(okta.issuer), atIdp.body.slice(0, 300)).toBe(true);
    const back = await browser.signInAtIdp(atIdp, 'okta-coyote');
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
    const tokens = await rp.exchange(back.leftTo as string, flow);

    const customers = await service.call('GET', CUSTOMERS_URL, tokens.access_token);
    expect(customers.statusCode, customers.body).toBe(200);
    expect(customers.body).toContain('C-100');
    const credentials = await service.db
      .selectFrom('signin_credential')
      .select('account_id')
      .where('account_id', '=', account)
      .execute();
    expect(credentials).toEqual([]);
    // Nor could one be: no link to set a password was ever made for the person.
    expect(
      await service.db.selectFrom('signin_link').select('id').where('account_id', '=', account).execute(),
    ).toEqual([]);
  });
});
