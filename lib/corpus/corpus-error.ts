import { InputError } from '../fs/input-error.js';

/** Where in a file a problem is. */
export interface CorpusErrorPlace {
  /** 1-based line: of the text file, or of the JSON line in the decompressed archive. */
  readonly line?: number;
  /** 0-based byte offset of the problem (in the file, or in the decompressed data — see `decompressed`). */
  readonly byteOffset?: number;
  /** True when `byteOffset` counts decompressed bytes rather than bytes of the file on disk. */
  readonly decompressed?: boolean;
}

/** Bad corpus input, with where it is: the file and, when known, the 1-based line and the byte offset. */
export class CorpusError extends InputError {
  readonly line?: number;
  readonly byteOffset?: number;
  readonly decompressed: boolean;

  constructor(
    override readonly file: string,
    readonly problem: string,
    where: CorpusErrorPlace = {},
  ) {
    const byte = where.byteOffset === undefined ? '' : `${where.decompressed ? 'decompressed byte' : 'byte'} ${where.byteOffset}`;
    const place = [where.line === undefined ? '' : `line ${where.line}`, byte].filter(Boolean).join(', ');
    super(file, `${file}${place ? ` (${place})` : ''}: ${problem}`);
    this.name = 'CorpusError';
    this.line = where.line;
    this.byteOffset = where.byteOffset;
    this.decompressed = where.decompressed ?? false;
  }
}

/** Why a read failed, for a `CorpusError` that already names the file: the store's message without the path repeated. */
export function readProblem(error: unknown, path: string): string {
  const { code, message } = error as { code?: unknown; message?: string };
  if (code === 'ENOENT') return 'not found';
  const text = String(message ?? error);
  return `cannot read (${text.startsWith(`${path}: `) ? text.slice(path.length + 2) : text})`;
}
