// The migrations in order, compiled into the service, for Kysely's migrator.
import type { Migration, MigrationProvider } from 'kysely/migration';
import * as salesReps from './0001_sales_reps.js';
import * as customers from './0002_customers.js';
import * as effects from './0003_effects.js';
import * as assignmentCounts from './0004_assignment_counts.js';
import * as effectDoneByRep from './0005_effect_done_by_rep.js';
import * as namesOnAssignment from './0006_names_on_assignment.js';
import * as effectRetention from './0007_effect_retention.js';
import * as events from './0008_events.js';
import * as signin from './0009_signin.js';
import * as webhooks from './0010_webhooks.js';
import * as salesRepSearch from './0011_sales_rep_search.js';
import * as effectOrderingKey from './0012_effect_ordering_key.js';
import * as sso from './0013_sso.js';
import * as scim from './0014_scim.js';
import * as saml from './0015_saml.js';
import * as signingKeyAndDpopProofs from './0016_signing_key_and_dpop_proofs.js';
import * as scimLastRequest from './0017_scim_last_request.js';
import * as ssoSetupAndRefresh from './0018_sso_setup_and_refresh.js';
import * as signinLast from './0019_signin_last.js';
import * as invitationPending from './0020_invitation_pending.js';
import * as substringSearch from './0021_substring_search.js';
import * as trigramIndexAlone from './0022_trigram_index_alone.js';
import * as trigramIndexesWithoutPendingList from './0023_trigram_indexes_without_pending_list.js';

/** Migrations in order of their names; compiled in, so the built service needs no migration folder. */
const migrations: Record<string, Migration> = {
  '0001_sales_reps': salesReps,
  '0002_customers': customers,
  '0003_effects': effects,
  '0004_assignment_counts': assignmentCounts,
  '0005_effect_done_by_rep': effectDoneByRep,
  '0006_names_on_assignment': namesOnAssignment,
  '0007_effect_retention': effectRetention,
  '0008_events': events,
  '0009_signin': signin,
  '0010_webhooks': webhooks,
  '0011_sales_rep_search': salesRepSearch,
  '0012_effect_ordering_key': effectOrderingKey,
  '0013_sso': sso,
  '0014_scim': scim,
  '0015_saml': saml,
  '0016_signing_key_and_dpop_proofs': signingKeyAndDpopProofs,
  '0017_scim_last_request': scimLastRequest,
  '0018_sso_setup_and_refresh': ssoSetupAndRefresh,
  '0020_invitation_pending': invitationPending,
  '0019_signin_last': signinLast,
  '0021_substring_search': substringSearch,
  '0022_trigram_index_alone': trigramIndexAlone,
  '0023_trigram_indexes_without_pending_list': trigramIndexesWithoutPendingList,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
