export { crc32, crc32c } from './crc32.js';
export { maskCrc, maskedCrc32c } from './masked-crc32c.js';
