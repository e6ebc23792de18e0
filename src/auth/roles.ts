// The role keys the policies read from a token's roles claim; apart from policies.ts so that the CLI's
// argument check reads them without loading the policies' queries.
export const ROLE_ADMIN = 'Admin';
export const ROLE_SALES_REP = 'SalesRep';
