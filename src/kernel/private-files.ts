// Owner-only folders and files for everything the service keeps on disk.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Everything the service keeps on disk (the embedded database, its lock, the local issuer key, written mail) holds
 * every tenant's data or a secret, so it is the owner's alone: folders 0700, files 0600, whatever the umask (a
 * mode given at creation is narrowed by the umask, never widened, so these are at most owner-only).
 */
export const PRIVATE_DIRECTORY_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const GROUP_AND_OTHERS = 0o077;

/**
 * Creates the folder (and any missing parent) owner-only, and takes group and others off it if it exists. A folder
 * of another owner (a mounted volume) cannot be changed and is left as it is: what the service creates in it is
 * still owner-only.
 */
export function makePrivateDirectory(directory: string): void {
  fs.mkdirSync(directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  restrict(directory, fs.statSync(directory).mode);
}

/**
 * Takes group and others off every folder and file under `root` (symbolic links are left alone). For the embedded
 * database: PGlite writes the files of a new database with mode 0666 whatever the umask.
 */
export function restrictTree(root: string): void {
  restrict(root, fs.statSync(root).mode);
  for (const entry of fs.readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isSymbolicLink()) continue;
    const file = path.join(entry.parentPath, entry.name);
    restrict(file, fs.lstatSync(file).mode);
  }
}

function restrict(file: string, mode: number): void {
  if ((mode & GROUP_AND_OTHERS) === 0) return;
  try {
    fs.chmodSync(file, mode & ~GROUP_AND_OTHERS & 0o7777);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
  }
}
