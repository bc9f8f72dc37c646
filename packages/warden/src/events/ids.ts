import { randomBytes } from 'node:crypto';

/**
 * UUIDv7 (RFC 9562 §5.7): 48-bit millisecond timestamp, then random bits, so
 * ids sort by creation time. Random bytes are drawn in blocks to keep the
 * per-event cost to a slice and a few writes.
 */
let pool = Buffer.alloc(0);
let offset = 0;

export function uuidv7(now = Date.now()): string {
  if (offset + 10 > pool.length) {
    pool = randomBytes(10 * 512);
    offset = 0;
  }
  const b = Buffer.allocUnsafe(16);
  b.writeUIntBE(now, 0, 6);
  pool.copy(b, 6, offset, offset + 10);
  offset += 10;
  b[6] = (b[6]! & 0x0f) | 0x70; // version 7
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
