// The running service's backup channel: a unix socket in DATA_DIR, answered with a copy of the embedded database.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { PRIVATE_FILE_MODE } from '../kernel/private-files.js';

/** The socket's name in DATA_DIR. */
const BACKUP_SOCKET = 'backup.sock';

/** The longest path a unix socket may have (Linux's sun_path, less its final NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

export const socketPath = (dataDir: string) => path.join(dataDir, BACKUP_SOCKET);

interface BackupChannel {
  close(): Promise<void>;
}

interface Log {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/**
 * Listens on DATA_DIR/backup.sock; a POST to /database answers the embedded database's files as a tarball. Only
 * the owner of DATA_DIR may connect (the folder is 0700, the socket 0600): that is the whole authentication, and
 * nothing listens on the network. The caller holds the embedded database's lock, so a socket file found there is
 * the leftover of a process that died, and is replaced. Undefined when the path is too long for a socket.
 */
export async function serveBackups(
  dataDir: string,
  dumpDataDir: () => Promise<Blob>,
  log: Log,
): Promise<BackupChannel | undefined> {
  const file = socketPath(dataDir);
  if (Buffer.byteLength(file) > MAX_SOCKET_PATH_BYTES) {
    log.warn(
      { socket: file },
      'DATA_DIR is too long a path for the backup socket: `salesreps backup` works only with the service stopped',
    );
    return undefined;
  }
  const server = http.createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== '/database') {
      response.writeHead(404).end();
      return;
    }
    const started = performance.now();
    dumpDataDir().then(
      async (tarball) => {
        const bytes = Buffer.from(await tarball.arrayBuffer());
        response
          .writeHead(200, { 'content-type': 'application/x-tar', 'content-length': bytes.byteLength })
          .end(bytes);
        log.info(
          { bytes: bytes.byteLength, ms: Math.round(performance.now() - started) },
          'copied the embedded database for a backup',
        );
      },
      (error: unknown) => {
        log.error({ err: error }, 'could not copy the embedded database for a backup');
        response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      },
    );
  });
  fs.rmSync(file, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => {
      server.off('error', reject);
      resolve();
    });
  });
  fs.chmodSync(file, PRIVATE_FILE_MODE);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
