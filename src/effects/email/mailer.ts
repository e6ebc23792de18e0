// Sending mail: through SMTP, or as files under DATA_DIR (MAIL=file), keyed by the effect.
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { EffectsConfig } from '../../config.js';
import { makePrivateDirectory, PRIVATE_FILE_MODE } from '../../kernel/private-files.js';
import { PermanentEffectError } from '../../kernel/remote-errors.js';
import type { MailMessage } from './messages.js';

/** Sends one message, keyed by the effect that asks for it, by the effect's deadline. */
export interface Mailer {
  send(effectId: string, message: MailMessage, deadline: AbortSignal): Promise<void>;
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
 * MAIL=file writes each message as DATA_DIR/mail/effect-<id>.eml (a retry writes the same file again: one effect, one
 * file); MAIL=smtp sends through SMTP_URL with a time-out on connecting, greeting and every socket wait.
 */
export function mailerFromConfig(config: EffectsConfig): Mailer {
  const from = config.mailFrom;
  if (config.mail.transport === 'file') {
    const directory = config.mail.directory;
    const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    return {
      // A local write: the effect's deadline is not needed.
      async send(effectId, message) {
        const file = path.join(directory, `effect-${effectId}.eml`);
        const info = await transport.sendMail({ from, ...message, messageId: messageId(effectId) });
        makePrivateDirectory(directory);
        // Written under a temporary name and renamed, so a reader never sees half a message.
        const temporary = `${file}.${process.pid}.tmp`;
        await fs.writeFile(temporary, info.message as Buffer, { mode: PRIVATE_FILE_MODE });
        await fs.rename(temporary, file);
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
    async send(effectId, message, deadline) {
      try {
        await byDeadline(transport.sendMail({ from, ...message, messageId: messageId(effectId) }), deadline);
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
