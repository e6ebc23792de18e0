// `salesreps backup` and `salesreps restore`: the embedded database and the key files, in one owner-only file.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Config } from '../config.js';
import { openDatabase } from '../db/database.js';
import { makePrivateDirectory, PRIVATE_FILE_MODE, restrictTree } from '../kernel/private-files.js';
import { BackupFileError, packArchive, unpackArchive } from './archive.js';
import { socketPath } from './socket.js';

export { BackupFileError } from './archive.js';

export class BackupCommandError extends Error {}

const FORMAT = 'salesreps-backup';
const FORMAT_VERSION = 1;
const MANIFEST = 'manifest.json';
const DATABASE = 'database.tar';

/** The files besides the database that a restored service needs to keep its identity, by their name in the backup. */
function keyFiles(config: Config): { name: string; file: string }[] {
  return [
    { name: 'issuer-key.json', file: config.auth.localKeyFile },
    { name: 'sso-encryption-keys', file: config.sso.keyFile },
  ];
}

function embeddedOnly(config: Config, command: string): void {
  if (config.databaseUrl) {
    throw new BackupCommandError(
      `DATABASE_URL is set: ${command} the PostgreSQL database with pg_dump and pg_restore (docs/operations.md, "Backups").`,
    );
  }
}

/** Asks the running service for its copy over DATA_DIR's socket; undefined when no service answers there. */
function askRunningService(dataDir: string): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath: socketPath(dataDir), method: 'POST', path: '/database' });
    request.once('error', (error: NodeJS.ErrnoException) => {
      // No socket, or the one of a process that died: nothing runs there.
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(undefined);
      else reject(error);
    });
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () => {
        const body = Buffer.concat(chunks);
        if (response.statusCode === 200) resolve(body);
        else
          reject(
            new BackupCommandError(
              `the running service could not copy its database (${response.statusCode}): see its log`,
            ),
          );
      });
    });
    request.end();
  });
}

/** The copy of the embedded database: from the service that runs on DATA_DIR, else opened here (locked meanwhile). */
async function copyDatabase(dataDir: string): Promise<{ tarball: Buffer; from: 'service' | 'folder' }> {
  const fromService = await askRunningService(dataDir);
  if (fromService) return { tarball: fromService, from: 'service' };
  if (!fs.existsSync(path.join(dataDir, 'pglite', 'PG_VERSION'))) {
    throw new BackupCommandError(`${dataDir} holds no embedded database (DATA_DIR): nothing to back up.`);
  }
  const database = await openDatabase({ dataDir });
  try {
    const dump = database.dumpDataDir;
    if (!dump) throw new Error('the embedded database cannot be copied');
    return { tarball: Buffer.from(await (await dump()).arrayBuffer()), from: 'folder' };
  } finally {
    await database.close();
  }
}

/**
 * Writes a consistent copy of the embedded database and the key files to `out`, owner-only. The file appears
 * whole or not at all: it is written aside and renamed over `out`.
 */
export async function backupText(config: Config, out: string): Promise<string> {
  embeddedOnly(config, 'back up');
  const { tarball, from } = await copyDatabase(config.dataDir);
  const keys = keyFiles(config).filter(({ file }) => fs.existsSync(file));
  const createdAt = new Date();
  const manifest = {
    format: FORMAT,
    version: FORMAT_VERSION,
    createdAt: createdAt.toISOString(),
    files: [DATABASE, ...keys.map(({ name }) => name)],
  };
  const archive = packArchive(
    [
      { name: MANIFEST, content: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) },
      { name: DATABASE, content: tarball },
      ...keys.map(({ name, file }) => ({ name, content: fs.readFileSync(file) })),
    ],
    createdAt.getTime(),
  );
  const target = path.resolve(out);
  const draft = `${target}.${process.pid}.partial`;
  try {
    fs.writeFileSync(draft, archive, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    fs.renameSync(draft, target);
  } catch (error) {
    throw new BackupCommandError(`cannot write ${target}: ${(error as Error).message}`);
  } finally {
    fs.rmSync(draft, { force: true });
  }
  const source = from === 'service' ? 'from the running service' : 'with no service running';
  return `Backed up the embedded database (${source}) and ${keys.map(({ name }) => name).join(', ') || 'no key file'} to ${target} (${archive.byteLength} bytes).`;
}

/** What a backup file holds, checked before anything is written. */
function readBackup(from: string): Map<string, Buffer> {
  let file: Buffer;
  try {
    file = fs.readFileSync(from);
  } catch (error) {
    throw new BackupCommandError(`cannot read ${from}: ${(error as Error).message}`);
  }
  const entries = unpackArchive(file);
  const manifest = (() => {
    try {
      return JSON.parse(entries.get(MANIFEST)?.toString() ?? '') as { format?: unknown; version?: unknown };
    } catch {
      return {};
    }
  })();
  if (manifest.format !== FORMAT || !entries.has(DATABASE)) {
    throw new BackupFileError(`${from} is not a backup file of salesreps backup`);
  }
  if (manifest.version !== FORMAT_VERSION) {
    throw new BackupFileError(
      `${from} is of backup format ${String(manifest.version)}, this release reads ${FORMAT_VERSION}`,
    );
  }
  return entries;
}

/** Whether a folder is missing or empty. */
function isEmptyFolder(folder: string): boolean {
  try {
    return fs.readdirSync(folder).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/**
 * Restores a backup into an empty (or missing) DATA_DIR: the embedded database, and the key files where the
 * configuration puts them (which must not exist). A restore that fails half-way leaves DATA_DIR empty again.
 */
export async function restoreText(config: Config, from: string): Promise<string> {
  embeddedOnly(config, 'restore');
  const { dataDir } = config;
  if (!isEmptyFolder(dataDir)) {
    throw new BackupCommandError(
      `DATA_DIR ${dataDir} is not empty: restore only into an empty folder (or a new one), never over a database.`,
    );
  }
  const entries = readBackup(from);
  const keys = keyFiles(config).filter(({ name }) => entries.has(name));
  const present = keys.find(({ file }) => fs.existsSync(file));
  if (present) {
    throw new BackupCommandError(`${present.file} exists: a restore does not replace a key file.`);
  }
  makePrivateDirectory(dataDir);
  const written: string[] = [];
  try {
    for (const { name, file } of keys) {
      makePrivateDirectory(path.dirname(file));
      fs.writeFileSync(file, entries.get(name) as Buffer, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
      written.push(file);
    }
    const database = await openDatabase({
      dataDir,
      loadDataDir: new Blob([entries.get(DATABASE) as Buffer]),
    }).catch((error: unknown) => {
      throw new BackupCommandError(
        `the embedded engine of this release cannot open the backup's database: ${(error as Error).message}`,
      );
    });
    await database.close();
    restrictTree(dataDir);
  } catch (error) {
    for (const file of written) fs.rmSync(file, { force: true });
    for (const entry of fs.readdirSync(dataDir))
      fs.rmSync(path.join(dataDir, entry), { recursive: true, force: true });
    throw error;
  }
  return `Restored the embedded database and ${keys.map(({ name }) => name).join(', ') || 'no key file'} into ${dataDir}: start the service on it.`;
}
