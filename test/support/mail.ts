import fs from 'node:fs';
import path from 'node:path';
import { eventually } from '../effects/support/wait.js';

/** The sign-in link (invitation or reset) of the newest mail to `to` that the file transport wrote under DATA_DIR. */
export function mailedLink(dataDir: string, to: string): Promise<string> {
  return eventually(() => {
    const dir = path.join(dataDir, 'mail');
    const mail = (fs.existsSync(dir) ? fs.readdirSync(dir) : [])
      .map((name) => fs.readFileSync(path.join(dir, name), 'utf8').replace(/=\r?\n/g, ''))
      .find((text) => text.includes(`To: ${to}`));
    const link = mail?.match(/http:\/\/127\.0\.0\.1:\d+\/signin\/link\/[A-Za-z0-9_-]+/)?.[0];
    if (!link) throw new Error('no mail yet');
    return link;
  });
}
