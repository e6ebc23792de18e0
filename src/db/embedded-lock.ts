// The lock file that keeps a second process off an embedded database's data directory.
import fs from 'node:fs';
import path from 'node:path';
import { makePrivateDirectory, PRIVATE_FILE_MODE } from '../kernel/private-files.js';

export class EmbeddedDatabaseBusyError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The embedded database in ${dataDir} is in use by process ${pid} (a running "salesreps serve"?). ` +
        'PGlite allows one process at a time: stop that process first, use the HTTP API it serves, ' +
        'or point DATABASE_URL at a PostgreSQL server.',
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How long a take-over guard may exist before it counts as left by a process that died mid-way. */
const GUARD_STALE_MS = 10_000;

/** The lock files this process holds. */
const lockedHere = new Set<string>();

/**
 * Takes the embedded database's lock file for this process, or throws when a live process holds it.
 * The file appears with its pid already in it (written aside, then hard-linked into place, which fails when the
 * file exists), so of two processes starting together exactly one gets it and the other never reads it empty.
 * A lock left by a process that died is taken over. Returns the release function.
 */
export function lockEmbeddedDatabase(dataDir: string): () => void {
  makePrivateDirectory(dataDir);
  const lockFile = path.join(dataDir, 'pglite.lock');
  // A lock file with this process's pid is taken over below; the same process opening the folder twice is not.
  if (lockedHere.has(lockFile)) throw new EmbeddedDatabaseBusyError(dataDir, process.pid);
  for (let attempt = 0; attempt < 100; attempt++) {
    if (createHoldingPid(lockFile)) {
      lockedHere.add(lockFile);
      return () => {
        lockedHere.delete(lockFile);
        if (readPid(lockFile) === process.pid) fs.rmSync(lockFile, { force: true });
      };
    }
    const holder = readPid(lockFile);
    // Our own pid in the file is a lock of an earlier process that had it (a container restarted).
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new EmbeddedDatabaseBusyError(dataDir, holder);
    }
    removeStaleLock(lockFile, holder);
  }
  throw new Error(`Could not lock the embedded database in ${dataDir}`);
}

/** Creates the file with this process's pid in it; false when it exists. */
function createHoldingPid(file: string): boolean {
  const draft = `${file}.${process.pid}.draft`;
  fs.writeFileSync(draft, String(process.pid), { mode: PRIVATE_FILE_MODE });
  try {
    fs.linkSync(draft, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    fs.rmSync(draft, { force: true });
  }
}

/**
 * Removes a lock whose process is gone. A second lock guards the removal, so that of two processes finding the
 * same stale lock, the slower one cannot remove the fresh lock the faster one has just taken.
 */
function removeStaleLock(lockFile: string, stalePid: number | undefined): void {
  const guard = `${lockFile}.takeover`;
  if (!createHoldingPid(guard)) {
    if (Date.now() - modifiedAt(guard) > GUARD_STALE_MS) fs.rmSync(guard, { force: true });
    else pause(50);
    return;
  }
  try {
    if (readPid(lockFile) === stalePid) fs.rmSync(lockFile, { force: true });
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

function modifiedAt(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return Date.now();
  }
}

/** Waits without giving up the thread: opening the database is synchronous up to here. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readPid(lockFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(lockFile, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
