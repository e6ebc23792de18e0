import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, expectProblem, MY_ORGANIZATIONS_URL, newRep, REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { effectKinds, tableCounts } from './fixtures.js';

const ACTIVATE_URL = `${REPS_URL}/activate`;
const DEACTIVATE_URL = `${REPS_URL}/deactivate`;

describe.each(databaseKinds)('PATCH, activate and deactivate on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let admin: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    organization = await service.createOrganization('Acme Distributors');
    admin = await service.token(organization, 'admin-1', ['Admin']);
  });
  afterAll(() => service.close());

  async function storedAssignment(id: string) {
    return service.db
      .selectFrom('organization_sales_rep')
      .select(['rep_number', 'active'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  }

  describe('PATCH /api/organizations/salesreps', () => {
    it('changes the rep number and answers with exactly the documented fields and success true', async () => {
      const rep = await addRep(service, admin, newRep({ firstName: 'Pat', lastName: 'Change' }));
      const response = await service.call('PATCH', REPS_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
        repNumber: 'REP-099',
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toStrictEqual({
        organizationId: organization.id,
        organizationSalesRepId: rep.organizationSalesRepId,
        salesRepId: rep.salesRepId,
        repNumber: 'REP-099',
        firstName: 'Pat',
        lastName: 'Change',
        email: rep.email,
        success: true,
      });
      expect((await storedAssignment(rep.organizationSalesRepId)).rep_number).toBe('REP-099');
      expect(await effectKinds(service.db, rep.salesRepId)).toEqual([
        'identity.provision',
        'email.welcome',
        'sync.grant',
        'sync.grant',
      ]);
    });

    it('answers 200 for the same number and records nothing', async () => {
      const rep = await addRep(service, admin, newRep());
      const before = await tableCounts(service.db);
      const response = await service.call('PATCH', REPS_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
        repNumber: rep.repNumber,
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ repNumber: rep.repNumber, success: true });
      expect(await tableCounts(service.db)).toEqual(before);
    });

    it('answers 409 when another rep of the organization holds the number, and changes nothing', async () => {
      const holder = await addRep(service, admin, newRep());
      const rep = await addRep(service, admin, newRep());
      const before = await tableCounts(service.db);
      const response = await service.call('PATCH', REPS_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
        repNumber: holder.repNumber,
      });
      expectProblem(response, 409);
      expect(response.json().type).toBe('urn:salesreps:problem:rep-number-taken');
      expect((await storedAssignment(rep.organizationSalesRepId)).rep_number).toBe(rep.repNumber);
      expect(await tableCounts(service.db)).toEqual(before);
    });

    it('gives a number to exactly one of 8 reps asking for it at once; the others get 409', async () => {
      const reps = await Promise.all(Array.from({ length: 8 }, () => addRep(service, admin, newRep())));
      const responses = await Promise.all(
        reps.map((rep) =>
          service.call('PATCH', REPS_URL, admin, {
            organizationSalesRepId: rep.organizationSalesRepId,
            repNumber: 'HOT-1',
          }),
        ),
      );
      const statuses = responses.map((response) => response.statusCode).sort();
      expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
      const holders = await service.db
        .selectFrom('organization_sales_rep')
        .select('id')
        .where('organization_id', '=', organization.id)
        .where('rep_number', '=', 'HOT-1')
        .execute();
      expect(holders).toHaveLength(1);
    });

    it('answers 404 for an unknown id', async () => {
      const response = await service.call('PATCH', REPS_URL, admin, {
        organizationSalesRepId: 'NoSuchAssignment000000',
        repNumber: 'REP-404',
      });
      expectProblem(response, 404);
    });

    it.each([
      ['organizationSalesRepId', { organizationSalesRepId: undefined }],
      ['organizationSalesRepId', { organizationSalesRepId: '' }],
      ['organizationSalesRepId', { organizationSalesRepId: 42 }],
      ['organizationSalesRepId', { organizationSalesRepId: 'x'.repeat(65) }],
      ['repNumber', { repNumber: undefined }],
      ['repNumber', { repNumber: '' }],
      ['repNumber', { repNumber: 'R'.repeat(33) }],
      ['repNumber', { repNumber: ' R1' }],
      ['repNumber', { repNumber: 7 }],
      ['email', { email: 'x@example.com' }],
    ])('rejects a body with a bad %s (%o) with 400 naming it', async (field, overrides) => {
      const rep = await addRep(service, admin, newRep());
      const before = await tableCounts(service.db);
      const response = await service.call('PATCH', REPS_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
        repNumber: 'REP-NEW',
        ...overrides,
      });
      expectProblem(response, 400, [field]);
      expect(await tableCounts(service.db)).toEqual(before);
      expect((await storedAssignment(rep.organizationSalesRepId)).rep_number).toBe(rep.repNumber);
    });
  });

  describe('activate and deactivate', () => {
    it('deactivates with 200 and an empty body, revoking membership and sync; a second call records nothing', async () => {
      const rep = await addRep(service, admin, newRep());
      const first = await service.call('POST', DEACTIVATE_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
      });
      expect(first.statusCode).toBe(200);
      expect(first.body).toBe('');
      expect(first.headers['content-length']).toBe('0');
      expect(first.headers['content-type']).toBeUndefined();
      expect((await storedAssignment(rep.organizationSalesRepId)).active).toBe(false);
      const effectsAfterFirst = await effectKinds(service.db, rep.salesRepId);
      expect(effectsAfterFirst.slice(3)).toEqual(['identity.revokeMembership', 'sync.revoke']);

      const before = await tableCounts(service.db);
      const second = await service.call('POST', DEACTIVATE_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
      });
      expect(second.statusCode).toBe(200);
      expect(second.body).toBe('');
      expect(await tableCounts(service.db)).toEqual(before);
      expect((await storedAssignment(rep.organizationSalesRepId)).active).toBe(false);
    });

    it('activates with 200 and an empty body, restoring access and re-inviting; a second call records nothing', async () => {
      const rep = await addRep(service, admin, newRep());
      await service.call('POST', DEACTIVATE_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
      });
      const first = await service.call('POST', ACTIVATE_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
      });
      expect(first.statusCode).toBe(200);
      expect(first.body).toBe('');
      expect((await storedAssignment(rep.organizationSalesRepId)).active).toBe(true);
      expect((await effectKinds(service.db, rep.salesRepId)).slice(5)).toEqual([
        'identity.grantMembership',
        'email.reinvitation',
        'sync.grant',
      ]);

      const before = await tableCounts(service.db);
      const second = await service.call('POST', ACTIVATE_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
      });
      expect(second.statusCode).toBe(200);
      expect(second.body).toBe('');
      expect(await tableCounts(service.db)).toEqual(before);
    });

    it('records the effects once when 10 deactivations of one rep arrive at once', async () => {
      const rep = await addRep(service, admin, newRep());
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          service.call('POST', DEACTIVATE_URL, admin, { organizationSalesRepId: rep.organizationSalesRepId }),
        ),
      );
      expect(responses.map((response) => response.statusCode)).toEqual(responses.map(() => 200));
      expect((await effectKinds(service.db, rep.salesRepId)).slice(3)).toEqual([
        'identity.revokeMembership',
        'sync.revoke',
      ]);
    });

    it('answers 200 and records nothing when activating a rep that was never deactivated', async () => {
      const rep = await addRep(service, admin, newRep());
      const before = await tableCounts(service.db);
      const response = await service.call('POST', ACTIVATE_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
      });
      expect(response.statusCode).toBe(200);
      expect(await tableCounts(service.db)).toEqual(before);
    });

    it("refuses a deactivated rep's SalesRep token at once (403) and accepts it again after reactivation", async () => {
      const rep = await addRep(service, admin, newRep());
      const repToken = await service.token(organization, rep.identityProviderUserId, ['SalesRep']);
      expect((await service.call('GET', MY_ORGANIZATIONS_URL, repToken)).statusCode).toBe(200);

      await service.call('POST', DEACTIVATE_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
      });
      expectProblem(await service.call('GET', MY_ORGANIZATIONS_URL, repToken), 403);

      await service.call('POST', ACTIVATE_URL, admin, { organizationSalesRepId: rep.organizationSalesRepId });
      const restored = await service.call('GET', MY_ORGANIZATIONS_URL, repToken);
      expect(restored.statusCode).toBe(200);
      expect(restored.json().salesRepOrganizations).toEqual([
        expect.objectContaining({ organizationSalesRepId: rep.organizationSalesRepId, active: true }),
      ]);
    });

    it('keeps the record of a deactivated rep and lists it as inactive', async () => {
      const rep = await addRep(service, admin, newRep());
      await service.call('POST', DEACTIVATE_URL, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
      });
      const listed = await service.call('GET', `${REPS_URL}?pageSize=100`, admin);
      expect(listed.json()).toContainEqual(
        expect.objectContaining({ organizationSalesRepId: rep.organizationSalesRepId, active: false }),
      );
    });

    it.each([ACTIVATE_URL, DEACTIVATE_URL])('%s answers 404 for an unknown id', async (url) => {
      expectProblem(
        await service.call('POST', url, admin, { organizationSalesRepId: 'NoSuchAssignment000000' }),
        404,
      );
    });

    it.each([
      [ACTIVATE_URL, {}, 'organizationSalesRepId'],
      [DEACTIVATE_URL, { organizationSalesRepId: '' }, 'organizationSalesRepId'],
      [DEACTIVATE_URL, { organizationSalesRepId: ['x'] }, 'organizationSalesRepId'],
      [ACTIVATE_URL, { organizationSalesRepId: 'x', active: true }, 'active'],
    ])('%s rejects %o with 400 naming %s', async (url, body, field) => {
      expectProblem(await service.call('POST', url, admin, body), 400, [field]);
    });
  });
});
