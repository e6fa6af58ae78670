import { isUtf8 } from 'node:buffer';

/**
 * Length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence, so a chunk can
 * be decoded on its own and the incomplete tail carried to the next one.
 */
export function completeUtf8Prefix(bytes: Uint8Array): number {
  const end = bytes.length;
  for (let back = 1; back <= 3 && back <= end; back++) {
    const b = bytes[end - back];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    // Only a valid lead byte can start an incomplete sequence; anything else is left for validation to reject.
    const needed = b >= 0xf5 || b < 0xc2 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return needed > back ? end - back : end;
  }
  return end;
}

/** Index of the first byte that is not part of a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    let needed: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [needed, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [needed, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [needed, min] = [3, 0x10000];
    else return i;
    if (i + needed >= bytes.length) return i; // the sequence is cut off
    let cp = b & (0x3f >> needed);
    for (let k = 1; k <= needed; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += needed + 1;
  }
  return -1;
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes bytes already known to be valid UTF-8; a BOM is kept, as Python's "utf-8" codec keeps it. */
export const decodeUtf8 = (bytes: Uint8Array): string => strictDecoder.decode(bytes);
