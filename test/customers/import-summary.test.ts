import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { allEvents } from '../events/support.js';
import { databaseKinds } from '../support/databases.js';
import { CUSTOMERS_URL, expectProblem } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

describe.each(databaseKinds)('one audit entry per customer import on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let admin: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    organization = await service.createOrganization('Import Summary');
    admin = await service.token(organization, 'admin-import-summary', ['Admin']);
  }, 120_000);
  afterAll(() => service?.close());

  const put = async (body: unknown) => {
    const response = await service.call('PUT', CUSTOMERS_URL, admin, body);
    expect(response.statusCode, response.body).toBe(200);
  };

  it('sums an import up in one customer.imported event, which collapseImports shows alone', async () => {
    await put({ customerNumber: 'SUM-1', companyName: 'Northwind' });
    // Two new, one changed and one as it was: 4 customers, 2 created, 1 updated.
    await put([
      { customerNumber: 'SUM-1', companyName: 'Northwind Traders' },
      { customerNumber: 'SUM-2', companyName: 'Contoso' },
      { customerNumber: 'SUM-3', companyName: 'Fabrikam' },
    ]);
    await put([{ customerNumber: 'SUM-3', companyName: 'Fabrikam' }]);

    const summaries = await allEvents(service, admin, '&action=customer.imported');
    expect(summaries).toHaveLength(2);
    const [unchanged, first] = summaries;
    expect(first?.changes).toEqual({
      customers: { from: null, to: 3 },
      created: { from: null, to: 2 },
      updated: { from: null, to: 1 },
    });
    expect(unchanged?.changes).toEqual({
      customers: { from: null, to: 1 },
      created: { from: null, to: 0 },
      updated: { from: null, to: 0 },
    });
    const importId = first?.targets[0]?.id as string;
    expect(first?.targets).toEqual([{ type: 'customer_import', id: importId }]);

    // Collapsed, the log holds the single PUT's event and one entry per import, none of an import's customers.
    const collapsed = await allEvents(service, admin, '&collapseImports=true');
    expect(collapsed.map((event) => event.action)).toEqual([
      'customer.imported',
      'customer.imported',
      'customer.created',
    ]);
    expect(collapsed.at(-1)?.targets).toEqual([{ type: 'customer', id: 'SUM-1' }]);

    // By default, and by the import's id, each customer's event is there, naming its customer and then the import.
    const everything = await allEvents(service, admin);
    expect(everything).toHaveLength(6);
    const parts = await allEvents(service, admin, `&targetId=${importId}`);
    expect(parts.map((event) => [event.action, event.targets])).toEqual(
      expect.arrayContaining([
        [
          'customer.updated',
          [
            { type: 'customer', id: 'SUM-1' },
            { type: 'customer_import', id: importId },
          ],
        ],
        [
          'customer.created',
          [
            { type: 'customer', id: 'SUM-2' },
            { type: 'customer_import', id: importId },
          ],
        ],
        [
          'customer.created',
          [
            { type: 'customer', id: 'SUM-3' },
            { type: 'customer_import', id: importId },
          ],
        ],
        ['customer.imported', [{ type: 'customer_import', id: importId }]],
      ]),
    );
    expect(parts).toHaveLength(4);
    expectProblem(await service.call('GET', '/api/organizations/events?collapseImports=maybe', admin), 400, [
      'collapseImports',
    ]);
  });

  it("keeps each customer's event for webhooks: a subscription to customer.created gets one delivery per customer", async () => {
    const own = await service.createOrganization('Import Webhooks');
    const ownAdmin = await service.token(own, 'admin-import-webhooks', ['Admin']);
    await service.db
      .insertInto('webhook_subscription')
      .values({
        id: 'wh_import_summary',
        organization_id: own.id,
        url: 'https://hooks.example.com/salesreps',
        event_types: ['customer.created'],
        secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
        previous_secret: null,
        previous_secret_until: null,
        disabled_reason: null,
        failing_since: null,
      })
      .execute();
    const response = await service.call('PUT', CUSTOMERS_URL, ownAdmin, [
      { customerNumber: 'WH-1', companyName: 'One' },
      { customerNumber: 'WH-2', companyName: 'Two' },
    ]);
    expect(response.statusCode, response.body).toBe(200);
    const deliveries = await service.db
      .selectFrom('effect')
      .select('ordering_key')
      .where('kind', '=', 'webhook.deliver')
      .where('organization_id', '=', own.id)
      .orderBy('ordering_key')
      .execute();
    // One per customer, each in its customer's order of delivery; the summary is not an action it takes.
    expect(deliveries.map((row) => row.ordering_key)).toEqual([
      'webhook:wh_import_summary:WH-1',
      'webhook:wh_import_summary:WH-2',
    ]);
  });
});
