// The customers' TypeBox schemas: field limits, bodies, query parameters and responses.
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { pageQueryFields, searchQueryField } from '../routing/page-query.js';

/** Field limits of customers (docs/customers.md restates them). */
export const CUSTOMER_LIMITS = {
  customerNumber: 50,
  companyName: 200,
  email: 254,
  phone: 32,
  pricing: 50,
  terms: 100,
  repNumber: 32,
  externalId: 100,
  addresses: 20,
  contacts: 50,
  attributes: 50,
  attributeKey: 64,
  attributeValue: 500,
  addressLine: 200,
  addressPart: 100,
  postalCode: 20,
  label: 50,
  contactName: 100,
  search: 100,
  pageSize: 100,
  importItems: 1000,
} as const;

/** A bulk import of 1,000 customers does not fit the service-wide body limit; this route gets its own. */
export const IMPORT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

// Printable ASCII, no leading or trailing space: the form of ERP account and salesperson codes.
const CODE_PATTERN = '^[!-~](?:[ -~]*[!-~])?$';
// Text with at least one visible character (not a space, a zero-width or other format character, a lone
// combining mark) and no control characters (C0, DEL, C1).
const TEXT_PATTERN = '^(?=.*[^\\s\\p{Cf}\\p{Mn}\\p{Me}])[^\\u0000-\\u001F\\u007F-\\u009F]+$';

const code = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: CODE_PATTERN, description });
const text = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: TEXT_PATTERN });
const email = () => Type.String({ format: 'email', maxLength: CUSTOMER_LIMITS.email });
const phone = () =>
  Type.String({
    maxLength: CUSTOMER_LIMITS.phone,
    pattern: '^(?=.*[0-9])[^\\u0000-\\u001F\\u007F-\\u009F]+$',
  });
/** A field that may be left out or sent as null: both mean "none". */
const optionalOrNull = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

const CustomerNumber = code(
  CUSTOMER_LIMITS.customerNumber,
  'printable ASCII, 1–50 characters, no leading or trailing space',
);
const RepNumber = code(
  CUSTOMER_LIMITS.repNumber,
  'printable ASCII, 1–32 characters, no leading or trailing space',
);

const CustomerAddress = Type.Object(
  {
    label: Type.Optional(text(CUSTOMER_LIMITS.label)),
    line1: text(CUSTOMER_LIMITS.addressLine),
    line2: Type.Optional(text(CUSTOMER_LIMITS.addressLine)),
    city: Type.Optional(text(CUSTOMER_LIMITS.addressPart)),
    region: Type.Optional(text(CUSTOMER_LIMITS.addressPart)),
    postalCode: Type.Optional(text(CUSTOMER_LIMITS.postalCode)),
    country: Type.Optional(text(CUSTOMER_LIMITS.addressPart)),
  },
  { additionalProperties: false, description: 'A postal address; `label` says which, e.g. "Billing".' },
);

const CustomerContact = Type.Object(
  {
    name: text(CUSTOMER_LIMITS.contactName),
    title: Type.Optional(text(CUSTOMER_LIMITS.contactName)),
    email: Type.Optional(email()),
    phone: Type.Optional(phone()),
  },
  { additionalProperties: false, description: 'A person at the customer.' },
);

const ATTRIBUTE_KEY_PATTERN = `^[A-Za-z0-9_.:-]{1,${CUSTOMER_LIMITS.attributeKey}}$`;
const CustomerAttributes = Type.Record(
  Type.String({ pattern: ATTRIBUTE_KEY_PATTERN }),
  Type.String({ maxLength: CUSTOMER_LIMITS.attributeValue }),
  {
    additionalProperties: false,
    maxProperties: CUSTOMER_LIMITS.attributes,
    description:
      `String key–value pairs: up to ${CUSTOMER_LIMITS.attributes} keys of 1–${CUSTOMER_LIMITS.attributeKey} ` +
      `letters, digits or _ . : -, values up to ${CUSTOMER_LIMITS.attributeValue} characters.`,
  },
);

/** One customer as a PUT sends it: the whole record (a field left out is cleared). */
export const CustomerInput = Type.Object(
  {
    customerNumber: CustomerNumber,
    companyName: text(CUSTOMER_LIMITS.companyName),
    companyEmail: optionalOrNull(email()),
    companyPhone: optionalOrNull(phone()),
    pricing: optionalOrNull(code(CUSTOMER_LIMITS.pricing, 'a price tier code')),
    terms: optionalOrNull(text(CUSTOMER_LIMITS.terms)),
    active: Type.Optional(Type.Boolean({ default: true })),
    repNumber: optionalOrNull(RepNumber),
    externalId: optionalOrNull(code(CUSTOMER_LIMITS.externalId, "the record's id in another system")),
    addresses: Type.Optional(Type.Array(CustomerAddress, { maxItems: CUSTOMER_LIMITS.addresses })),
    contacts: Type.Optional(Type.Array(CustomerContact, { maxItems: CUSTOMER_LIMITS.contacts })),
    customerAttributes: Type.Optional(CustomerAttributes),
  },
  { additionalProperties: false },
);
export type CustomerInput = Static<typeof CustomerInput>;

export const CustomerImport = Type.Array(CustomerInput, {
  minItems: 1,
  maxItems: CUSTOMER_LIMITS.importItems,
  description: `A bulk import: up to ${CUSTOMER_LIMITS.importItems} customers, applied all or none.`,
});
export type CustomerImport = Static<typeof CustomerImport>;

/** The one example customer of the API document: the PUT body's example, and (with its stored fields) the answers'. */
export const NORTHWIND_INPUT = {
  customerNumber: 'C-10042',
  companyName: 'Northwind Traders',
  companyEmail: 'orders@northwind.example.com',
  companyPhone: '555-555-0100',
  pricing: 'TIER-2',
  terms: 'Net 30',
  active: true,
  repNumber: 'REP-001',
  externalId: 'ERP-88231',
  addresses: [
    { label: 'Billing', line1: '1 Harbor Way', city: 'Seattle', postalCode: '98101', country: 'US' },
  ],
  contacts: [{ name: 'Ana Trujillo', title: 'Buyer', email: 'ana@northwind.example.com' }],
  customerAttributes: { segment: 'wholesale' },
} satisfies Static<typeof CustomerInput>;

/** The PUT body: one customer, or an array of them. */
export const PutCustomersBody = Type.Union([CustomerInput, CustomerImport], {
  examples: [NORTHWIND_INPUT],
});

// What responses carry: values stored after validation, so bounded by the same limits.
const textOut = (maxLength: number) => Type.String({ maxLength });
const textOrNullOut = (maxLength: number, description?: string) =>
  Type.Union([textOut(maxLength), Type.Null()], description ? { description } : {});
const timestampOut = () => Type.String({ format: 'date-time', maxLength: 40 });

export const Customer = Type.Object({
  organizationId: textOut(64),
  customerNumber: textOut(CUSTOMER_LIMITS.customerNumber),
  companyName: textOut(CUSTOMER_LIMITS.companyName),
  companyEmail: Type.Union([Type.String({ format: 'email', maxLength: CUSTOMER_LIMITS.email }), Type.Null()]),
  companyPhone: textOrNullOut(CUSTOMER_LIMITS.phone),
  pricing: textOrNullOut(CUSTOMER_LIMITS.pricing),
  terms: textOrNullOut(CUSTOMER_LIMITS.terms),
  active: Type.Boolean(),
  repNumber: textOrNullOut(
    CUSTOMER_LIMITS.repNumber,
    'The rep who serves the customer; null, or a number no rep holds, leaves it to Admins.',
  ),
  externalId: textOrNullOut(CUSTOMER_LIMITS.externalId),
  addresses: Type.Array(CustomerAddress, { maxItems: CUSTOMER_LIMITS.addresses }),
  contacts: Type.Array(CustomerContact, { maxItems: CUSTOMER_LIMITS.contacts }),
  customerAttributes: Type.Record(
    Type.String({ pattern: ATTRIBUTE_KEY_PATTERN }),
    textOut(CUSTOMER_LIMITS.attributeValue),
    { maxProperties: CUSTOMER_LIMITS.attributes },
  ),
  createdAt: timestampOut(),
  updatedAt: timestampOut(),
});
export type Customer = Static<typeof Customer>;

export const CUSTOMER_SORT_FIELDS = ['CustomerNumber', 'CompanyName', 'CompanyEmail', 'RepNumber'] as const;
export type CustomerSortField = (typeof CUSTOMER_SORT_FIELDS)[number];
export const ListCustomersQuery = Type.Object(
  {
    ...pageQueryFields({
      sortFields: CUSTOMER_SORT_FIELDS,
      defaultSort: 'CustomerNumber',
      maxPageSize: CUSTOMER_LIMITS.pageSize,
      defaultPageSize: 25,
    }),
    search: searchQueryField('Customers whose customer number or company name', CUSTOMER_LIMITS.search),
    repNumber: Type.Optional(RepNumber),
  },
  { additionalProperties: false },
);
export type ListCustomersQuery = Static<typeof ListCustomersQuery>;

export const CustomerParams = Type.Object(
  { customerNumber: CustomerNumber },
  { additionalProperties: false },
);
export type CustomerParams = Static<typeof CustomerParams>;

export const DeleteCustomerResponse = Type.Object({ success: Type.Literal(true) });
