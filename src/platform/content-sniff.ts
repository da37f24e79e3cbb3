/**
 * The type of an image told from its first bytes, not from what the sender
 * claims. Only the formats accepted for upload are recognised.
 *
 *   sniffImageType(Buffer.from('89504e470d0a1a0a', 'hex')) // 'image/png'
 */
export type SniffedImageType = 'image/png' | 'image/jpeg' | 'image/webp';

/** Enough bytes for every signature below. */
export const SNIFF_BYTES = 12;

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);

export function sniffImageType(bytes: Buffer): SniffedImageType | null {
  if (bytes.subarray(0, 8).equals(PNG)) return 'image/png';
  if (bytes.subarray(0, 3).equals(JPEG)) return 'image/jpeg';
  // RIFF <4-byte size> WEBP
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return null;
}
