#!/usr/bin/env node
// Writes the settings' tables (README.md, docs/operations.md) and .env.example from src/config-schema.ts, as
// built into dist/; with --check it writes nothing and fails when one of them differs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSettingsDocuments } from '../dist/config-docs.js';

const check = process.argv.includes('--check');
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const stale = await writeSettingsDocuments(root, check);
if (check && stale.length > 0) {
  console.error(`${stale.join(', ')}: not as src/config-schema.ts says; run npm run config:docs`);
  process.exit(1);
}
for (const file of stale) console.log(`wrote ${file}`);
