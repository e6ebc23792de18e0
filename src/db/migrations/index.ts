import type { Migration, MigrationProvider } from 'kysely/migration';
import * as salesReps from './0001_sales_reps.js';

/** Migrations in order of their names; compiled in, so the built service needs no migration folder. */
const migrations: Record<string, Migration> = {
  '0001_sales_reps': salesReps,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
