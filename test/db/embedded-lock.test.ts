import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { EmbeddedDatabaseBusyError } from '../../src/db/embedded-lock.js';

describe('the embedded database lock within one process', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-lock-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('refuses a second open of the same folder by the same process, and allows it once the first is closed', async () => {
    const first = await openDatabase({ dataDir });
    await expect(openDatabase({ dataDir })).rejects.toBeInstanceOf(EmbeddedDatabaseBusyError);
    // The refused open left the first one's lock in place.
    expect(fs.readFileSync(path.join(dataDir, 'pglite.lock'), 'utf8')).toBe(String(process.pid));
    await first.close();
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
    const again = await openDatabase({ dataDir });
    await again.close();
  });
});
