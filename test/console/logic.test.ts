import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CUSTOMER_COLUMNS,
  type CustomerColumn,
  chunkErrors,
  chunks,
  customersCsv,
  IMPORT_CHUNK_ROWS,
  importErrorsCsv,
  parseCustomersCsv,
} from '../../console/src/logic/csv.js';
import {
  importChunk,
  inLineOrder,
  REP_CHECK_MAX,
  rowsWithErrors,
  unknownRepNumbers,
} from '../../console/src/logic/import.js';
import { nextCursor } from '../../console/src/logic/links.js';
import { lastPage, pageRange } from '../../console/src/logic/paging.js';
import {
  fieldMessages,
  isProblem,
  labelOf,
  type Problem,
  plainFieldMessage,
  plainMessage,
  problemCode,
} from '../../console/src/logic/problems.js';
import { readToken } from '../../console/src/logic/tokens.js';

// The console's pure modules (console/src/logic/), tested directly: what they decide is what the pages show.

const problem = (code: string, extra: Partial<Problem> = {}): Problem => ({
  type: `urn:salesreps:problem:${code}`,
  title: 'Title of the problem',
  status: 409,
  ...extra,
});

describe('paging: the range a page shows and the last page', () => {
  it('a range reads "first–last of total" with thousands separators', () => {
    expect(pageRange(1, 25, 100_000)).toBe('1–25 of 100,000');
    expect(pageRange(41, 25, 100_000)).toBe('1,001–1,025 of 100,000');
  });

  it('the last page shows only the rows that are left', () => {
    expect(pageRange(4000, 25, 99_990)).toBe('99,976–99,990 of 99,990');
    expect(pageRange(3, 10, 21)).toBe('21–21 of 21');
  });

  it('no rows at all reads "No results"; a page past the end says none of the total', () => {
    expect(pageRange(1, 25, 0)).toBe('No results');
    expect(pageRange(5, 25, 30)).toBe('None of 30');
  });

  it('the last page is the total divided by the page size, rounded up, and at least 1', () => {
    expect(lastPage(25, 100_000)).toBe(4000);
    expect(lastPage(25, 100_001)).toBe(4001);
    expect(lastPage(25, 1)).toBe(1);
    expect(lastPage(25, 0)).toBe(1);
  });

  it('the last page always shows a non-empty range ending at the total (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        (size, total) => {
          const last = lastPage(size, total);
          expect(pageRange(last, size, total)).toMatch(
            new RegExp(`–${new Intl.NumberFormat('en-US').format(total)} of `),
          );
          expect(pageRange(last + 1, size, total)).toMatch(/^None of /);
        },
      ),
    );
  });
});

describe('problems: what a form shows of a problem+json answer', () => {
  it('isProblem takes an object with a numeric status and a title, nothing else', () => {
    expect(isProblem(problem('not-found'))).toBe(true);
    expect(isProblem({ status: '404', title: 'x' })).toBe(false);
    expect(isProblem({ status: 404 })).toBe(false);
    expect(isProblem(null)).toBe(false);
    expect(isProblem('Not found')).toBe(false);
  });

  it('the code is the last part of the type', () => {
    expect(problemCode(problem('rep-number-taken'))).toBe('rep-number-taken');
    expect(problemCode({ ...problem('x'), type: 'about:blank' })).toBe('blank');
  });

  it('the first error of each field of the form goes beside it; later errors of that field are not repeated', () => {
    const messages = fieldMessages(
      problem('validation-failed', {
        errors: [
          { field: 'repNumber', message: 'must NOT have more than 20 characters' },
          { field: 'repNumber', message: 'must match the pattern' },
          { field: 'email', message: 'must match format "email"' },
        ],
      }),
      { repNumber: 'Rep number', email: 'Email', name: 'Name' },
    );
    expect(messages.byField).toEqual({
      repNumber: 'Shorten the rep number to 20 characters or fewer',
      email: 'Enter an email like name@company.com',
    });
    expect(messages.other).toEqual([]);
  });

  it('errors of fields the form does not have (or of the whole body) go into `other`, none hidden', () => {
    const messages = fieldMessages(
      problem('validation-failed', {
        errors: [
          { field: 'repNumber', message: 'is required' },
          { field: 'userId', message: 'is not a user of this organization' },
          { field: 'body', message: 'must be an object' },
        ],
      }),
      { repNumber: 'Rep number' },
    );
    expect(messages.byField).toEqual({ repNumber: 'Enter a rep number' });
    expect(messages.other).toEqual(['User id is not a user of this organization', 'Body must be an object']);
  });

  it("the schema's rules are said as what to enter, in plain words", () => {
    expect(plainFieldMessage('Last name', 'must NOT have fewer than 1 characters')).toBe('Enter a last name');
    expect(plainFieldMessage('Email', 'must match format "email"')).toBe(
      'Enter an email like name@company.com',
    );
    expect(plainFieldMessage('Email', 'is required')).toBe('Enter an email');
    expect(plainFieldMessage('Phone number', 'has characters or a form that is not allowed')).toBe(
      'Enter a phone number with at least one digit, like +1 555 555 5555',
    );
    expect(plainFieldMessage('First name', 'must NOT have more than 100 characters')).toBe(
      'Shorten the first name to 100 characters or fewer',
    );
    expect(plainFieldMessage('Active', 'must be boolean')).toBe('Enter true or false for active');
    expect(plainFieldMessage('Region', 'is not a region we serve')).toBe('Region is not a region we serve');
    expect(labelOf('[3].companyEmail')).toBe('Company email');
  });

  it('a problem without errors puts nothing beside any field', () => {
    expect(fieldMessages(problem('conflict'), { repNumber: 'Rep number' })).toEqual({
      byField: {},
      other: [],
    });
  });

  it('rep-number-taken and already-assigned show the API detail, or a plain sentence without one', () => {
    expect(plainMessage(problem('rep-number-taken', { detail: 'Rep number R-7 is taken.' }))).toBe(
      'Rep number R-7 is taken.',
    );
    expect(plainMessage(problem('rep-number-taken'))).toBe(
      'That rep number is already used in this organization.',
    );
    expect(plainMessage(problem('already-assigned', { detail: 'User u1 is already a rep.' }))).toBe(
      'User u1 is already a rep.',
    );
    expect(plainMessage(problem('already-assigned'))).toBe(
      'This person is already a sales rep of this organization.',
    );
  });

  it('rate-limited always says to wait, whatever the detail', () => {
    expect(
      plainMessage(
        problem('rate-limited', { status: 429, detail: 'Rate limit exceeded, retry in 1 minute' }),
      ),
    ).toBe('Too many requests just now; wait a moment and try again.');
  });

  it('an unavailable database or identity provider says nothing was changed', () => {
    for (const code of ['database-unavailable', 'identity-provider-unavailable']) {
      expect(plainMessage(problem(code, { status: 503 }))).toMatch(/nothing was changed/);
    }
  });

  it('any other problem shows its detail, or its title without one', () => {
    expect(plainMessage(problem('not-found', { detail: 'No sales rep r1.' }))).toBe('No sales rep r1.');
    expect(plainMessage(problem('not-found'))).toBe('Title of the problem');
  });
});

describe('CSV import: reading the file', () => {
  it('the header may name the columns in any order, with spaces around the names', () => {
    const parsed = parseCustomersCsv(' active ,companyName, customerNumber\nno,Acme,C-1\n');
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows).toEqual([
      {
        line: 2,
        customer: {
          customerNumber: 'C-1',
          companyName: 'Acme',
          companyEmail: null,
          companyPhone: null,
          pricing: null,
          terms: null,
          active: false,
          repNumber: null,
          externalId: null,
        },
      },
    ]);
  });

  it('every column of the export is read into the customer', () => {
    const header = CUSTOMER_COLUMNS.join(',');
    const parsed = parseCustomersCsv(
      `${header}\nC-1,Acme,billing@acme.test,+1 555 0100,list,net30,yes,R-7,ext-1\n`,
    );
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows[0]?.customer).toEqual({
      customerNumber: 'C-1',
      companyName: 'Acme',
      companyEmail: 'billing@acme.test',
      companyPhone: '+1 555 0100',
      pricing: 'list',
      terms: 'net30',
      active: true,
      repNumber: 'R-7',
      externalId: 'ext-1',
    });
  });

  it('an unknown column is refused at line 1, naming it and the known columns; no row is read', () => {
    const parsed = parseCustomersCsv('customerNumber,companyName,fax\nC-1,Acme,555\n');
    expect(parsed.rows).toEqual([]);
    expect(parsed.errors).toEqual([
      {
        line: 1,
        field: 'fax',
        message: expect.stringContaining('"fax" is not a known column; the columns are customerNumber, '),
      },
    ]);
  });

  it('a missing required column (customerNumber, companyName) is refused at line 1', () => {
    expect(parseCustomersCsv('companyName\nAcme\n')).toEqual({
      rows: [],
      errors: [
        { line: 1, field: 'customerNumber', message: 'Add the column "customerNumber": every row needs it' },
      ],
    });
    expect(parseCustomersCsv('customerNumber,active\nC-1,yes\n').errors).toEqual([
      { line: 1, field: 'companyName', message: 'Add the column "companyName": every row needs it' },
    ]);
  });

  it('a row without customerNumber (or companyName) is reported with its line and not sent; the others are', () => {
    const parsed = parseCustomersCsv('customerNumber,companyName\nC-1,Acme\n,Beta\nC-3,\nC-4,Delta\n');
    expect(parsed.rows.map((row) => [row.line, row.customer.customerNumber])).toEqual([
      [2, 'C-1'],
      [5, 'C-4'],
    ]);
    expect(parsed.errors).toEqual([
      { line: 3, field: 'customerNumber', message: 'Enter a customer number' },
      { line: 4, field: 'companyName', message: 'Enter a company name' },
    ]);
  });

  it('a row repeating an earlier customer number is reported by both lines and not sent', () => {
    const parsed = parseCustomersCsv('customerNumber,companyName\nC-1,A\nC-2,B\nC-3,C\nC-4,D\nC-2,E\n');
    expect(parsed.errors).toEqual([
      { line: 6, field: 'customerNumber', message: 'Line 6 repeats the customer number of line 3' },
    ]);
    expect(parsed.rows.map((row) => row.line)).toEqual([2, 3, 4, 5]);
  });

  it('`active` takes yes/no, true/false and 1/0 in any case, defaults to true when empty', () => {
    const values = ['yes', 'no', 'true', 'false', '1', '0', 'YES', 'False', ''];
    const text = `customerNumber,companyName,active\n${values.map((value, i) => `C-${i},Acme,${value}`).join('\n')}`;
    const parsed = parseCustomersCsv(text);
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows.map((row) => row.customer.active)).toEqual([
      true,
      false,
      true,
      false,
      true,
      false,
      true,
      false,
      true,
    ]);
  });

  it('an `active` that is no yes/no is reported at its line and the row is not sent', () => {
    const parsed = parseCustomersCsv('customerNumber,companyName,active\nC-1,Acme,maybe\nC-2,Beta,no\n');
    expect(parsed.errors).toEqual([
      { line: 2, field: 'active', message: 'Enter true or false (or yes or no, 1 or 0)' },
    ]);
    expect(parsed.rows.map((row) => row.customer.customerNumber)).toEqual(['C-2']);
  });

  it('quoted cells keep their commas, quotes and newlines, and the rows after them their own line numbers', () => {
    const parsed = parseCustomersCsv(
      'customerNumber,companyName,terms\nC-1,"Acme, Inc.","net 30\nno returns"\nC-2,"The ""Best"" Co",\n',
    );
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows.map((row) => [row.line, row.customer.companyName, row.customer.terms])).toEqual([
      [2, 'Acme, Inc.', 'net 30\nno returns'],
      [4, 'The "Best" Co', null],
    ]);
  });

  it('empty lines (also whitespace-only ones, and CRLF endings) are skipped, and counted in the line numbers', () => {
    const parsed = parseCustomersCsv('customerNumber,companyName\r\n\r\nC-1,Acme\r\n   \r\nC-2,Beta\r\n\r\n');
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows.map((row) => [row.line, row.customer.customerNumber])).toEqual([
      [3, 'C-1'],
      [5, 'C-2'],
    ]);
  });

  it('a row with too few or too many cells is reported by its line and never sent', () => {
    const parsed = parseCustomersCsv(
      'customerNumber,companyName,terms\nC-1,Acme\nC-2,Beta,net 30,extra\nC-3,Gamma,net 60',
    );
    expect(parsed.rows.map((row) => row.customer.customerNumber)).toEqual(['C-3']);
    expect(parsed.errors.map((error) => [error.line, error.field])).toEqual([
      [2, 'row'],
      [3, 'row'],
    ]);
  });

  it('a file of a header alone has no rows and no errors', () => {
    expect(parseCustomersCsv('customerNumber,companyName\n')).toEqual({ rows: [], errors: [] });
  });
});

describe('CSV import: chunks and the API errors of a chunk', () => {
  it('rows are sent in chunks of 1000 (the bulk PUT limit), the last one holding the rest', () => {
    expect(IMPORT_CHUNK_ROWS).toBe(1000);
    const rows = Array.from({ length: 2501 }, (_, i) => i);
    const parts = chunks(rows);
    expect(parts.map((part) => part.length)).toEqual([1000, 1000, 501]);
    expect(parts.flat()).toEqual(rows);
    expect(chunks([])).toEqual([]);
  });

  it('chunks keep every row once and in order, none larger than the size (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (rows, size) => {
        const parts = chunks(rows, size);
        expect(parts.flat()).toEqual(rows);
        expect(parts.every((part) => part.length >= 1 && part.length <= size)).toBe(true);
      }),
    );
  });

  const chunk = [{ line: 1002 }, { line: 1003 }, { line: 1005 }, { line: 1006 }];

  it('an error of `[3].companyName` is put on the 4th row of the chunk, field companyName', () => {
    expect(
      chunkErrors(chunk, [{ field: '[3].companyName', message: 'is required' }], 'not imported'),
    ).toEqual([{ line: 1006, field: 'companyName', message: 'Enter a company name' }]);
    expect(chunkErrors(chunk, [{ field: '[0]', message: 'must be an object' }], 'not imported')).toEqual([
      { line: 1002, field: '[0]', message: 'must be an object' },
    ]);
  });

  it('an error of the whole body, or of a row the chunk does not have, goes on the chunk’s first line', () => {
    expect(
      chunkErrors(
        chunk,
        [
          { field: 'body', message: 'must have at most 1000 items' },
          { field: '[9].customerNumber', message: 'is required' },
        ],
        'not imported',
      ),
    ).toEqual([
      { line: 1002, field: 'body', message: 'must have at most 1000 items' },
      { line: 1002, field: 'customerNumber', message: 'Enter a customer number' },
    ]);
  });

  it("the API's `repeats the customer number of [1]` names both rows by their lines", () => {
    expect(
      chunkErrors(
        chunk,
        [{ field: '[3].customerNumber', message: 'repeats the customer number of [1]' }],
        'not imported',
      ),
    ).toEqual([
      { line: 1006, field: 'customerNumber', message: 'Line 1006 repeats the customer number of line 1003' },
    ]);
  });

  it('a refusal without errors puts the fallback message on the chunk’s first line', () => {
    expect(chunkErrors(chunk, [], 'The rows were not imported.')).toEqual([
      { line: 1002, field: 'row', message: 'The rows were not imported.' },
    ]);
  });
});

describe('CSV export: what an import reads back', () => {
  const customer = {
    customerNumber: 'C-1',
    companyName: 'Acme, "Intl"\nNorth',
    companyEmail: 'billing@acme.test',
    companyPhone: '+1 555 0100',
    pricing: '=SUM(A1)',
    terms: '@net30',
    active: false,
    repNumber: '-R7',
    externalId: null,
  };

  it('the export has the import’s columns as its header, in order', () => {
    expect(customersCsv([]).split(/\r?\n/)[0]).toBe(CUSTOMER_COLUMNS.join(','));
  });

  it('a cell starting like a formula (=, +, -, @) is written behind an apostrophe', () => {
    const text = customersCsv([customer]);
    expect(text).toContain(`"'=SUM(A1)"`);
    expect(text).toContain(`"'+1 555 0100"`);
    expect(text).toContain(`"'@net30"`);
    expect(text).toContain(`"'-R7"`);
    expect(text).not.toMatch(/(^|,)[=+\-@]/m);
  });

  it('the import takes the apostrophe off again: export then import gives the same customer', () => {
    const parsed = parseCustomersCsv(customersCsv([customer]));
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows).toEqual([{ line: 2, customer }]);
  });

  it('no exported cell starts like a formula, even with a newline inside it', () => {
    const text = customersCsv([{ customerNumber: 'C-1', companyName: '=HYPERLINK("http://x.test")\nAcme' }]);
    const cells = text.split(/\r?\n/).slice(1).join('\n');
    expect(cells).not.toMatch(/(^|,)"?[=+\-@]/);
  });

  /** Cells the import gives back as they were: not empty and without spaces around (the import trims). */
  const cell = fc
    .string({
      unit: fc.constantFrom('=', '+', '-', '@', "'", ',', '"', '\n', ' ', 'a', 'Z', '7', 'é', '€'),
      minLength: 1,
    })
    .filter((text) => text.trim() === text && text !== '');

  it('any printable text in any column survives export then import (property)', () => {
    const textColumns = CUSTOMER_COLUMNS.filter((column) => column !== 'active');
    fc.assert(
      fc.property(
        // A customer number repeated in one file is an error of its own (tested above), not a round trip.
        fc.uniqueArray(
          fc.record({
            ...(Object.fromEntries(textColumns.map((column) => [column, cell])) as Record<
              Exclude<CustomerColumn, 'active'>,
              typeof cell
            >),
            active: fc.boolean(),
          }),
          { minLength: 1, maxLength: 5, selector: (customer) => customer.customerNumber.toLowerCase() },
        ),
        (customers) => {
          const parsed = parseCustomersCsv(customersCsv(customers));
          expect(parsed.errors).toEqual([]);
          expect(parsed.rows.map((row) => row.customer)).toEqual(customers);
        },
      ),
    );
  });

  it('any printable ASCII text survives export then import (property)', () => {
    const ascii = fc
      .string({
        unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
        minLength: 1,
      })
      .filter((text) => text.trim() === text && text !== '');
    fc.assert(
      fc.property(ascii, ascii, (customerNumber, companyName) => {
        const parsed = parseCustomersCsv(customersCsv([{ customerNumber, companyName }]));
        expect(parsed.rows[0]?.customer).toMatchObject({ customerNumber, companyName });
      }),
    );
  });
});

describe('links: the next page of a Link header', () => {
  it('the cursor of the rel="next" link, among several rels', () => {
    const header =
      '</api/events?limit=50>; rel="first", </api/events?limit=50&cursor=abc%3D%3D>; rel="next", </api/events?cursor=zzz>; rel="prev"';
    expect(nextCursor(header)).toBe('abc==');
  });

  it('rel may be unquoted or one of several in the same link', () => {
    expect(nextCursor('</api/events?cursor=c1>; rel=next')).toBe('c1');
    expect(
      nextCursor(
        '</api/events?cursor=c2>; rel="prev"; title="x", <https://api.test/api/events?cursor=c3>; rel="next"',
      ),
    ).toBe('c3');
  });

  it('no header, no next link, or a next link without a cursor: no next page', () => {
    expect(nextCursor(null)).toBeUndefined();
    expect(nextCursor('')).toBeUndefined();
    expect(nextCursor('</api/events?cursor=c1>; rel="prev"')).toBeUndefined();
    expect(nextCursor('</api/events?limit=5>; rel="next"')).toBeUndefined();
  });
});

describe('tokens: what the console reads of an access token', () => {
  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const jwt = (body: unknown) => `${base64url({ alg: 'ES256', typ: 'JWT' })}.${base64url(body)}.c2lnbmF0dXJl`;
  const claims = { organization: 'org_code', roles: 'roles' };

  it('string roles, the organization and the expiry in milliseconds', () => {
    expect(
      readToken(jwt({ org_code: 'org_acme', roles: ['admin', 'viewer'], exp: 1_900_000_000 }), claims),
    ).toEqual({
      organization: 'org_acme',
      roles: ['admin', 'viewer'],
      expiresAt: 1_900_000_000_000,
    });
  });

  it('Kinde-style roles, objects with a key, read as their keys; entries of neither form are left out', () => {
    const token = jwt({
      org_code: 'org_acme',
      roles: [{ id: 'r1', key: 'admin', name: 'Admin' }, 'viewer', { name: 'no key' }, 7, null],
      exp: 1_900_000_000,
    });
    expect(readToken(token, claims).roles).toEqual(['admin', 'viewer']);
  });

  it('the claim names are the configured ones (AUTH_CLAIM_ORGANIZATION, AUTH_CLAIM_ROLES)', () => {
    const token = jwt({
      org_code: 'wrong',
      roles: ['wrong'],
      'https://acme.test/org': 'org_acme',
      'https://acme.test/roles': ['admin'],
      exp: 1_900_000_000,
    });
    expect(
      readToken(token, { organization: 'https://acme.test/org', roles: 'https://acme.test/roles' }),
    ).toMatchObject({ organization: 'org_acme', roles: ['admin'] });
  });

  it('a claim that is missing or of another type reads as no organization and no roles', () => {
    expect(readToken(jwt({ org_code: 42, roles: 'admin', exp: 1_900_000_000 }), claims)).toMatchObject({
      organization: '',
      roles: [],
    });
  });

  it('a payload with non-ASCII text and base64url characters (-, _) decodes as UTF-8', () => {
    const body = { org_code: 'Société Générale ü?>', roles: ['~~~?'], exp: 1_900_000_000 };
    const payload = base64url(body);
    expect(payload).toMatch(/[-_]/);
    expect(readToken(`x.${payload}.y`, claims)).toMatchObject({
      organization: body.org_code,
      roles: body.roles,
    });
  });

  it('a text that is not a JWT is refused', () => {
    expect(() => readToken('opaque-token', claims)).toThrow(/not a JWT/);
  });
});

describe('importChunk (a chunk of a CSV import: every row written once or listed)', () => {
  const rows = (count: number) =>
    Array.from({ length: count }, (_, index) => ({
      line: index + 2,
      customer: { customerNumber: `C-${index}`, companyName: `Company ${index}` },
    }));
  const refusal = (
    status: number,
    errors: { field: string; message: string }[] = [],
    retryAfterSeconds?: number,
  ) => ({ ok: false, status, detail: `refused ${status}`, errors, retryAfterSeconds }) as const;

  it('a 400 naming rows: those rows are listed by line, the rest is sent again without them and written', async () => {
    const sent: string[][] = [];
    const result = await importChunk(
      rows(5),
      async (batch) => {
        sent.push(batch.map((row) => row.customer.customerNumber));
        return sent.length === 1
          ? refusal(400, [
              { field: '[1].companyEmail', message: 'must match format "email"' },
              { field: '[3].customerNumber', message: 'is taken twice' },
            ])
          : { ok: true };
      },
      async () => {},
    );
    expect(sent).toEqual([
      ['C-0', 'C-1', 'C-2', 'C-3', 'C-4'],
      ['C-0', 'C-2', 'C-4'],
    ]);
    expect(result.imported).toBe(3);
    expect(result.errors.map((error) => [error.line, error.field])).toEqual([
      [3, 'companyEmail'],
      [5, 'customerNumber'],
    ]);
  });

  it('errors the API left unlisted (omittedErrors) come in later rounds, until the rest is written', async () => {
    let round = 0;
    const result = await importChunk(
      rows(4),
      async (batch) => {
        round++;
        const bad = batch.findIndex(
          (row) => row.customer.customerNumber === 'C-1' || row.customer.customerNumber === 'C-2',
        );
        return bad === -1
          ? { ok: true }
          : refusal(400, [{ field: `[${bad}].companyName`, message: 'is bad' }]);
      },
      async () => {},
    );
    expect(round).toBe(3);
    expect(result.imported).toBe(2);
    expect(result.errors.map((error) => error.line)).toEqual([3, 4]);
  });

  it('a 429 or 503 is tried again after its Retry-After; the rows are written once', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await importChunk(
      rows(3),
      async () => (++calls === 1 ? refusal(429, [], 2) : calls === 2 ? refusal(503) : { ok: true }),
      async (seconds) => {
        waits.push(seconds);
      },
    );
    expect(waits).toEqual([2, 1]);
    expect(result).toEqual({ imported: 3, errors: [] });
  });

  it('any other refusal lists the rows left as one range of lines, none written', async () => {
    const result = await importChunk(
      rows(3),
      async () => refusal(413),
      async () => {},
    );
    expect(result.imported).toBe(0);
    expect(result.errors).toEqual([{ line: 2, field: 'rows', message: 'lines 2–4 (3 rows): refused 413' }]);
  });
});

describe('the import preview: unknown rep numbers, counts and order', () => {
  const row = (line: number, repNumber: string | null) => ({
    line,
    customer: {
      customerNumber: `C-${line}`,
      companyName: 'Acme',
      companyEmail: null,
      companyPhone: null,
      pricing: null,
      terms: null,
      active: true,
      repNumber,
      externalId: null,
    },
  });

  it('a rep number no rep has is listed with every line naming it, each number asked once', async () => {
    const asked: string[] = [];
    const unknown = await unknownRepNumbers(
      [row(2, 'R-1'), row(3, 'R-404'), row(4, null), row(5, 'R-404'), row(6, 'R-1')],
      async (repNumber) => {
        asked.push(repNumber);
        return repNumber === 'R-1';
      },
    );
    expect([...(unknown ?? [])]).toEqual([['R-404', [3, 5]]]);
    expect(asked.sort()).toEqual(['R-1', 'R-404']);
  });

  it('a file naming more rep numbers than are looked up is not checked at all', async () => {
    const rows = Array.from({ length: REP_CHECK_MAX + 1 }, (_, index) => row(index + 2, `R-${index}`));
    expect(await unknownRepNumbers(rows, async () => false)).toBeUndefined();
  });

  it('rows with errors are counted once each, the header aside; errors sort by line, stably', () => {
    const errors = [
      { line: 12, field: 'a', message: 'first of 12' },
      { line: 4, field: 'b', message: 'x' },
      { line: 12, field: 'c', message: 'second of 12' },
      { line: 1, field: 'fax', message: 'unknown column' },
    ];
    expect(rowsWithErrors(errors)).toBe(2);
    expect(inLineOrder(errors).map((error) => error.message)).toEqual([
      'unknown column',
      'x',
      'first of 12',
      'second of 12',
    ]);
  });

  it('the error file has line, column and error, a formula-like cell behind an apostrophe', () => {
    expect(
      importErrorsCsv([
        { line: 3, field: 'companyEmail', message: 'Enter a company email like name@company.com' },
        { line: 5, field: 'row', message: '=HYPERLINK("x")' },
      ]).split(/\r?\n/),
    ).toEqual([
      'line,column,error',
      '3,companyEmail,Enter a company email like name@company.com',
      `5,row,"'=HYPERLINK(""x"")"`,
    ]);
  });
});
