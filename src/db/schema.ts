import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Table types: what the database holds. API types live in each feature's schemas. */
export interface OrganizationTable {
  id: string;
  name: string;
  identity_organization_id: string;
  created_at: Generated<Date>;
}

export interface SalesRepTable {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  phone_number: string | null;
  identity_provider_user_id: string;
  created_at: Generated<Date>;
}

/**
 * A rep's assignment to one organization. It carries copies of the rep's name, email and phone (which no
 * endpoint changes once the rep exists), so that a tenant's list is sorted and paged from this table alone.
 */
export interface OrganizationSalesRepTable {
  id: string;
  organization_id: string;
  sales_rep_id: string;
  rep_number: string;
  active: Generated<boolean>;
  roles: string[];
  first_name: string;
  last_name: string;
  email: string;
  phone_number: string | null;
  created_at: Generated<Date>;
}

export type EffectStatus = 'pending' | 'done' | 'dead';

/** The outbox: side effects recorded in the transaction of the change that implies them. */
export interface EffectTable {
  id: Generated<string>;
  organization_id: string;
  sales_rep_id: string;
  kind: string;
  payload: ColumnType<unknown, string, string>;
  status: Generated<EffectStatus>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  last_error: string | null;
  created_at: Generated<Date>;
  finished_at: Date | null;
}

export interface Tables {
  organization: OrganizationTable;
  sales_rep: SalesRepTable;
  organization_sales_rep: OrganizationSalesRepTable;
  effect: EffectTable;
}

export type Organization = Selectable<OrganizationTable>;
export type SalesRep = Selectable<SalesRepTable>;
export type NewSalesRep = Insertable<SalesRepTable>;
export type OrganizationSalesRep = Selectable<OrganizationSalesRepTable>;
