// Sending mail: through SMTP, or as files under DATA_DIR (MAIL=file), keyed by the effect.
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { EffectsConfig } from '../../config.js';
import { makePrivateDirectory, PRIVATE_FILE_MODE } from '../../kernel/private-files.js';
import { PermanentEffectError } from '../../kernel/remote-errors.js';
import type { MailMessage } from './messages.js';

/** The files' name without extension: the recipient as a file name allows, the time to the second, the effect. */
function mailFileName(recipient: string, at: Date, effectId: string): string {
  const person = recipient
    .toLowerCase()
    .replace(/[^a-z0-9@.+-]/g, '_')
    .slice(0, 100);
  const time = at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  return `${person}_${time}_effect-${effectId}`;
}

/** The name an earlier attempt of the effect wrote its message under, if one did. */
async function earlierName(directory: string, effectId: string): Promise<string | undefined> {
  const suffix = `_effect-${effectId}.eml`;
  const earlier = (await fs.readdir(directory)).find((file) => file.endsWith(suffix));
  return earlier?.slice(0, -'.eml'.length);
}

async function writeWhole(file: string, content: string | Buffer): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, content, { mode: PRIVATE_FILE_MODE });
  await fs.rename(temporary, file);
}

/** The effect that asks for a mail: its id keys the message; `attempts` counts this one (1: the first). */
interface MailingEffect {
  id: string;
  attempts: number;
}

/** Sends one message, keyed by the effect that asks for it, by the effect's deadline. */
export interface Mailer {
  send(effect: MailingEffect, message: MailMessage, deadline: AbortSignal): Promise<void>;
  close(): void;
}

/** The same Message-ID on every attempt of an effect, so a mail system can recognise a repeat. */
function messageId(effectId: string): string {
  return `<effect-${effectId}@salesreps>`;
}

/**
 * Rejects when the deadline passes first. nodemailer cannot abort a send: one that the server still accepts after
 * the deadline is sent again by the retry, with the same Message-ID.
 */
function byDeadline<T>(work: Promise<T>, deadline: AbortSignal): Promise<T> {
  deadline.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(new Error(`The mail was not sent by the effect's deadline (${deadline.reason})`));
    deadline.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => deadline.removeEventListener('abort', onAbort));
  });
}

/**
 * MAIL=file writes each message into DATA_DIR/mail as `<recipient>_<time>_effect-<id>.eml`, so that `ls` groups a
 * person's mail in the order it came, with a plain-text copy (`.txt`: the headers a reader needs and the text part,
 * whose links quoted-printable would split across lines). A retry writes the same files again: one effect, one
 * pair of files. MAIL=smtp sends through SMTP_URL with a time-out on connecting, greeting and every socket wait.
 */
export function mailerFromConfig(config: EffectsConfig): Mailer {
  const from = config.mailFrom;
  if (config.mail.transport === 'file') {
    const directory = config.mail.directory;
    const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    return {
      // A local write: the effect's deadline is not needed.
      async send(effect, message) {
        makePrivateDirectory(directory);
        // Only a later attempt can find files of its own: the first skips reading a directory that grows with every
        // mail sent.
        const earlier = effect.attempts > 1 ? await earlierName(directory, effect.id) : undefined;
        const name = earlier ?? mailFileName(message.to, new Date(), effect.id);
        const info = await transport.sendMail({ from, ...message, messageId: messageId(effect.id) });
        const plain = [
          `From: ${from}`,
          `To: ${message.to}`,
          `Subject: ${message.subject}`,
          '',
          message.text,
          '',
        ];
        // The copy first, so that it is there once the message is; each under a temporary name and renamed, so a
        // reader never sees half a file.
        await writeWhole(path.join(directory, `${name}.txt`), plain.join('\n'));
        await writeWhole(path.join(directory, `${name}.eml`), info.message as Buffer);
      },
      close: () => transport.close(),
    };
  }
  const transport = nodemailer.createTransport({
    url: config.mail.url,
    connectionTimeout: config.callTimeoutMs,
    greetingTimeout: config.callTimeoutMs,
    socketTimeout: config.callTimeoutMs,
  });
  return {
    async send(effect, message, deadline) {
      try {
        await byDeadline(transport.sendMail({ from, ...message, messageId: messageId(effect.id) }), deadline);
      } catch (error) {
        // A 5xx reply to the recipient or the message is final; anything else (no connection, 4xx) may pass later.
        const code = (error as { responseCode?: unknown }).responseCode;
        if (typeof code === 'number' && code >= 500) {
          throw new PermanentEffectError(`The mail server refused the message: ${(error as Error).message}`);
        }
        throw error;
      }
    },
    close: () => transport.close(),
  };
}
