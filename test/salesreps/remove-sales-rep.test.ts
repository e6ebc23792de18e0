import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, expectProblem, MY_ORGANIZATIONS_URL, newRep, REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { effectKinds, tableCounts } from './fixtures.js';

describe.each(databaseKinds)('DELETE /api/organizations/salesreps on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let admin: string;
  let second: Organization;
  let secondAdmin: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    organization = await service.createOrganization('Acme Distributors');
    admin = await service.token(organization, 'admin-1', ['Admin']);
    second = await service.createOrganization('Beta Supply');
    secondAdmin = await service.token(second, 'admin-2', ['Admin']);
  });
  afterAll(() => service.close());

  const assignmentExists = async (id: string) =>
    (await service.db
      .selectFrom('organization_sales_rep')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst()) !== undefined;
  const repExists = async (id: string) =>
    (await service.db.selectFrom('sales_rep').select('id').where('id', '=', id).executeTakeFirst()) !==
    undefined;

  it('removes an assignment named in the body and answers exactly { success: true }', async () => {
    const rep = await addRep(service, admin, newRep());
    const response = await service.call('DELETE', REPS_URL, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toStrictEqual({ success: true });
    expect(await assignmentExists(rep.organizationSalesRepId)).toBe(false);
  });

  it('removes an assignment named in the query, for clients that cannot send a DELETE body', async () => {
    const rep = await addRep(service, admin, newRep());
    const response = await service.call(
      'DELETE',
      `${REPS_URL}?organizationSalesRepId=${rep.organizationSalesRepId}`,
      admin,
    );
    expect(response.statusCode).toBe(200);
    expect(response.json()).toStrictEqual({ success: true });
    expect(await assignmentExists(rep.organizationSalesRepId)).toBe(false);
  });

  it('accepts the id in the query when a proxy stripped the body but kept its JSON content type', async () => {
    const rep = await addRep(service, admin, newRep());
    const response = await service.app.inject({
      method: 'DELETE',
      url: `${REPS_URL}?organizationSalesRepId=${rep.organizationSalesRepId}`,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(await assignmentExists(rep.organizationSalesRepId)).toBe(false);
  });

  it('accepts the same id in both the body and the query', async () => {
    const rep = await addRep(service, admin, newRep());
    const response = await service.call(
      'DELETE',
      `${REPS_URL}?organizationSalesRepId=${rep.organizationSalesRepId}`,
      admin,
      { organizationSalesRepId: rep.organizationSalesRepId },
    );
    expect(response.statusCode).toBe(200);
  });

  it('rejects different ids in the body and the query with 400, and removes neither', async () => {
    const one = await addRep(service, admin, newRep());
    const other = await addRep(service, admin, newRep());
    const response = await service.call(
      'DELETE',
      `${REPS_URL}?organizationSalesRepId=${one.organizationSalesRepId}`,
      admin,
      { organizationSalesRepId: other.organizationSalesRepId },
    );
    expectProblem(response, 400, ['organizationSalesRepId']);
    expect(await assignmentExists(one.organizationSalesRepId)).toBe(true);
    expect(await assignmentExists(other.organizationSalesRepId)).toBe(true);
  });

  it.each([
    ['no id anywhere', '', undefined, 'organizationSalesRepId'],
    ['an empty body', '', {}, 'organizationSalesRepId'],
    ['an empty id in the query', '?organizationSalesRepId=', undefined, 'organizationSalesRepId'],
    ['a numeric id in the body', '', { organizationSalesRepId: 5 }, 'organizationSalesRepId'],
    ['an unknown body field', '', { organizationSalesRepId: 'x', force: true }, 'force'],
    ['an unknown query parameter', '?organizationSalesRepId=x&force=true', undefined, 'force'],
    [
      'a repeated query parameter',
      '?organizationSalesRepId=x&organizationSalesRepId=y',
      undefined,
      'organizationSalesRepId',
    ],
  ])('rejects %s with 400 naming the field', async (_case, query, body, field) => {
    const before = await tableCounts(service.db);
    expectProblem(await service.call('DELETE', `${REPS_URL}${query}`, admin, body), 400, [field]);
    expect(await tableCounts(service.db)).toEqual(before);
  });

  it('answers 404 for an unknown id, and for an id already removed', async () => {
    expectProblem(
      await service.call('DELETE', REPS_URL, admin, { organizationSalesRepId: 'NoSuchAssignment000000' }),
      404,
    );
    const rep = await addRep(service, admin, newRep());
    const body = { organizationSalesRepId: rep.organizationSalesRepId };
    expect((await service.call('DELETE', REPS_URL, admin, body)).statusCode).toBe(200);
    const before = await tableCounts(service.db);
    expectProblem(await service.call('DELETE', REPS_URL, admin, body), 404);
    expect(await tableCounts(service.db)).toEqual(before);
  });

  it('removes once when 5 DELETEs of one id arrive at once: one 200, the rest 404', async () => {
    const rep = await addRep(service, admin, newRep());
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        service.call('DELETE', REPS_URL, admin, { organizationSalesRepId: rep.organizationSalesRepId }),
      ),
    );
    expect(responses.map((response) => response.statusCode).sort()).toEqual([200, 404, 404, 404, 404]);
    expect((await effectKinds(service.db, rep.salesRepId)).slice(3)).toEqual([
      'identity.revokeMembership',
      'identity.deleteUser',
      'sync.deleteAccount',
    ]);
  });

  it('never answers 5xx when a DELETE of a rep and a PUT adding it again to the same organization race', async () => {
    for (let round = 0; round < 10; round++) {
      const rep = await addRep(service, admin, newRep());
      const [removed, added] = await Promise.all([
        service.call('DELETE', REPS_URL, admin, { organizationSalesRepId: rep.organizationSalesRepId }),
        service.call('PUT', REPS_URL, admin, newRep({ email: rep.email })),
      ]);
      expect(removed.statusCode).toBe(200);
      // The PUT either waited for the removal and added the rep anew, or saw the assignment still there.
      expect([200, 409]).toContain(added.statusCode);
      const assignments = await service.db
        .selectFrom('organization_sales_rep')
        .select('id')
        .where('organization_id', '=', organization.id)
        .where('email', '=', rep.email)
        .execute();
      expect(assignments).toHaveLength(added.statusCode === 200 ? 1 : 0);
    }
  });

  it('deletes the rep exactly once when its two last assignments are removed at once in two organizations', async () => {
    const email = `both.at.once.${Date.now()}@example.com`;
    const inFirst = await addRep(service, admin, newRep({ email }));
    const inSecond = await addRep(service, secondAdmin, newRep({ email }));
    const responses = await Promise.all([
      service.call('DELETE', REPS_URL, admin, { organizationSalesRepId: inFirst.organizationSalesRepId }),
      service.call('DELETE', REPS_URL, secondAdmin, {
        organizationSalesRepId: inSecond.organizationSalesRepId,
      }),
    ]);
    expect(responses.map((response) => response.statusCode)).toEqual([200, 200]);
    expect(await repExists(inFirst.salesRepId)).toBe(false);
    const kinds = await effectKinds(service.db, inFirst.salesRepId);
    expect(kinds.filter((kind) => kind === 'identity.deleteUser')).toHaveLength(1);
    expect(kinds.filter((kind) => kind === 'sync.deleteAccount')).toHaveLength(1);
    expect(kinds.filter((kind) => kind === 'identity.revokeMembership')).toHaveLength(2);
  });

  it("keeps a rep of two organizations and its other assignment, revoking only this organization's access", async () => {
    const email = `two.orgs.${Date.now()}@example.com`;
    const inFirst = await addRep(service, admin, newRep({ email }));
    const inSecond = await addRep(service, secondAdmin, newRep({ email }));
    expect(inSecond.salesRepId).toBe(inFirst.salesRepId);
    const effectsBefore = (await effectKinds(service.db, inFirst.salesRepId)).length;

    const response = await service.call('DELETE', REPS_URL, admin, {
      organizationSalesRepId: inFirst.organizationSalesRepId,
    });
    expect(response.statusCode).toBe(200);
    expect(await assignmentExists(inFirst.organizationSalesRepId)).toBe(false);
    expect(await assignmentExists(inSecond.organizationSalesRepId)).toBe(true);
    expect(await repExists(inFirst.salesRepId)).toBe(true);
    expect((await effectKinds(service.db, inFirst.salesRepId)).slice(effectsBefore)).toEqual([
      'identity.revokeMembership',
      'sync.revoke',
    ]);
    const revoke = await service.db
      .selectFrom('effect')
      .select('payload')
      .where('sales_rep_id', '=', inFirst.salesRepId)
      .where('kind', '=', 'identity.revokeMembership')
      .executeTakeFirstOrThrow();
    expect(revoke.payload).toEqual({
      identityProviderUserId: inFirst.identityProviderUserId,
      identityOrganizationId: organization.identity_organization_id,
    });

    // The rep logs in to the organization it still belongs to, and no longer to the one it left.
    const secondToken = await service.token(second, inFirst.identityProviderUserId, ['SalesRep']);
    const mine = await service.call('GET', MY_ORGANIZATIONS_URL, secondToken);
    expect(mine.statusCode).toBe(200);
    expect(mine.json().salesRepOrganizations).toEqual([
      expect.objectContaining({ organizationSalesRepId: inSecond.organizationSalesRepId }),
    ]);
    const firstToken = await service.token(organization, inFirst.identityProviderUserId, ['SalesRep']);
    expectProblem(await service.call('GET', MY_ORGANIZATIONS_URL, firstToken), 403);
  });

  it('deletes the rep with its last assignment, its identity user and sync account; the email can then be added anew', async () => {
    const email = `last.org.${Date.now()}@example.com`;
    const rep = await addRep(service, admin, newRep({ email }));
    const response = await service.call('DELETE', REPS_URL, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(response.statusCode).toBe(200);
    expect(await repExists(rep.salesRepId)).toBe(false);
    expect((await effectKinds(service.db, rep.salesRepId)).slice(3)).toEqual([
      'identity.revokeMembership',
      'identity.deleteUser',
      'sync.deleteAccount',
    ]);

    const again = await addRep(service, admin, newRep({ email, firstName: 'Fresh' }));
    expect(again.salesRepId).not.toBe(rep.salesRepId);
    expect(again.identityProviderUserId).not.toBe(rep.identityProviderUserId);
    expect(again.firstName).toBe('Fresh');
  });
});
