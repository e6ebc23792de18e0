// The backup file: a gzipped tar of named files, which `tar tzf` lists and `tar xzf` unpacks.
import { gunzipSync, gzipSync } from 'node:zlib';

const BLOCK = 512;

export class BackupFileError extends Error {}

interface ArchiveEntry {
  name: string;
  content: Uint8Array;
}

/** Writes an ASCII field of a ustar header at its offset. */
function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value.slice(0, length), offset, length, 'ascii');
}

/** An octal number field, zero-padded and NUL-terminated as ustar writes it. */
function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

function header(entry: ArchiveEntry, modifiedAt: number): Buffer {
  if (Buffer.byteLength(entry.name) > 100) throw new Error(`archive entry name too long: ${entry.name}`);
  const block = Buffer.alloc(BLOCK);
  field(block, 0, 100, entry.name);
  field(block, 100, 8, octal(0o600, 8));
  field(block, 108, 8, octal(0, 8));
  field(block, 116, 8, octal(0, 8));
  field(block, 124, 12, octal(entry.content.byteLength, 12));
  field(block, 136, 12, octal(Math.floor(modifiedAt / 1000), 12));
  field(block, 148, 8, ' '.repeat(8));
  field(block, 156, 1, '0');
  field(block, 257, 8, 'ustar\u000000');
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  field(block, 148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** The entries as a gzipped ustar archive (regular files only, names of at most 100 bytes). */
export function packArchive(entries: ArchiveEntry[], modifiedAt = Date.now()): Buffer {
  const parts = entries.flatMap((entry) => [
    header(entry, modifiedAt),
    entry.content,
    padding(entry.content.byteLength),
  ]);
  return gzipSync(Buffer.concat([...parts, Buffer.alloc(2 * BLOCK)]));
}

/** The regular files of a gzipped tar archive, by name; a file that is no such archive is a BackupFileError. */
export function unpackArchive(file: Uint8Array): Map<string, Buffer> {
  let tar: Buffer;
  try {
    tar = gunzipSync(file);
  } catch {
    throw new BackupFileError('not a backup file of salesreps (not gzip-compressed)');
  }
  const entries = new Map<string, Buffer>();
  for (let offset = 0; offset + BLOCK <= tar.length; ) {
    const block = tar.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) break;
    const text = (start: number, length: number) =>
      block
        .subarray(start, start + length)
        .toString('ascii')
        .replace(/\0.*$/s, '');
    const stored = Number.parseInt(text(148, 8).trim(), 8);
    const computed = block.reduce((sum, byte, index) => sum + (index >= 148 && index < 156 ? 32 : byte), 0);
    if (stored !== computed)
      throw new BackupFileError('not a backup file of salesreps (a damaged tar header)');
    const size = Number.parseInt(text(124, 12).trim() || '0', 8);
    const start = offset + BLOCK;
    if (start + size > tar.length) throw new BackupFileError('the backup file is truncated');
    if (text(156, 1) === '0' || text(156, 1) === '')
      entries.set(text(0, 100), tar.subarray(start, start + size));
    offset = start + size + padding(size).length;
  }
  return entries;
}
