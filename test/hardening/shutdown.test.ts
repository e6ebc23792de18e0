import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalIssuer } from '../../src/auth/local-issuer.js';
import { loadConfig } from '../../src/config.js';
import {
  builtService,
  migratedDataDir,
  type RunningServer,
  startServiceProcess,
} from '../support/process.js';

// A real process on the embedded database (a PostgreSQL pool closes the same way; the outage suite covers it).
describe('SIGTERM on a running service process', () => {
  const build = builtService();
  let dataDir: string;
  let service: RunningServer;
  let token: string;

  beforeAll(async () => {
    dataDir = migratedDataDir('salesreps-shutdown-');
    service = await startServiceProcess(build.cli, {
      DATA_DIR: dataDir,
      DEMO: 'true',
      SHUTDOWN_TIMEOUT_MS: '10000',
      LOG_LEVEL: 'info',
    });
    const issuer = await openLocalIssuer(loadConfig({ DATA_DIR: dataDir }).auth);
    token = await issuer.sign({ userId: 'demo_admin', organization: 'demo_org', roles: ['Admin'] }, 600);
    // The demo organization is created just after the server starts listening.
    for (let attempt = 0; attempt < 50; attempt++) {
      const response = await fetch(`http://127.0.0.1:${service.port}/api/organizations/salesreps`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (response.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 120_000);
  afterAll(() => {
    if (service.child.exitCode === null) service.child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('finishes a request in flight, refuses new connections, closes the database and exits 0', async () => {
    const body = JSON.stringify({
      firstName: 'Ida',
      lastName: 'Inflight',
      email: 'ida.inflight@example.com',
      repNumber: 'FLIGHT-1',
    });
    const socket = net.connect(service.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    const closed = new Promise<void>((resolve) => socket.once('close', resolve));
    // Headers and half the body: the request is in flight when the signal arrives.
    socket.write(
      'PUT /api/organizations/salesreps HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        `Authorization: Bearer ${token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
        body.slice(0, 20),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    service.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 700));

    expect(service.child.exitCode).toBeNull();
    const refused = await new Promise<string>((resolve) => {
      const probe = net.connect(service.port, '127.0.0.1');
      probe.once('connect', () => {
        probe.destroy();
        resolve('connected');
      });
      probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');

    socket.write(body.slice(20));
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '{}')).toMatchObject({
      email: 'ida.inflight@example.com',
    });

    expect(await service.exited).toBe(0);
    expect(service.logs.some((line) => line.msg === 'shutting down' && line.signal === 'SIGTERM')).toBe(true);
    // The embedded database was closed: its lock file is gone, so the next start may open it.
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
  }, 60_000);
});
