import { describe, expect, it } from 'vitest';
import { commonPrefix, complete } from '../../repl/interactive/complete.js';
import { History } from '../../repl/interactive/history.js';
import { deleteBackward, deleteWordBackward, insertText, lineOf, moveLeft } from '../../repl/interactive/line-editor.js';
import { lineWords, splitLine } from '../../repl/interactive/split-line.js';
import { registry } from '../../repl/registry/commands.js';

describe('splitting a REPL line into words', () => {
  it('honours quotes and backslashes as a shell does for plain arguments', () => {
    expect(lineWords(`tokenize "도서관에서 책을" 'a "b"' c\\ d --n 2`)).toEqual(['tokenize', '도서관에서 책을', 'a "b"', 'c d', '--n', '2']);
    expect(lineWords(`x "say \\"hi\\"" ''`)).toEqual(['x', 'say "hi"', '']);
    expect(lineWords('   ')).toEqual([]);
  });

  it('refuses an unclosed quote, and reports where each word was', () => {
    expect(() => lineWords('tokenize "open')).toThrow(/unclosed quote/);
    expect(splitLine('ab  "c d"').words).toEqual([
      { value: 'ab', start: 0, end: 2 },
      { value: 'c d', start: 4, end: 9 },
    ]);
  });
});

describe('the line editor and history', () => {
  it('edits at the cursor, by code point', () => {
    let line = insertText(lineOf('kbb 책'), '😀');
    line = deleteBackward(line);
    expect(line).toEqual({ text: 'kbb 책', cursor: 5 });
    line = insertText(moveLeft(line), 'x');
    expect(line.text).toBe('kbb x책');
    expect(deleteWordBackward(lineOf('stats out/dir  ')).text).toBe('stats ');
  });

  it('keeps no blank lines or immediate repeats, and the draft under the newest entry', () => {
    const history = new History(['a'], 3);
    expect(history.add('b')).toBe(true);
    expect(history.add('b')).toBe(false);
    expect(history.add('  ')).toBe(false);
    history.add('c');
    history.add('d');
    expect(history.all).toEqual(['b', 'c', 'd']);
    expect(history.previous('typing')).toBe('d');
    expect(history.previous('d')).toBe('c');
    expect(history.next()).toBe('d');
    expect(history.next()).toBe('typing');
    expect(history.next()).toBeUndefined();
  });
});

describe('Tab completion over the real registry', () => {
  const listDir = (dir: string): string[] => (dir === '/p/out' ? ['build/', 'notes.txt', '.hidden'] : ['out/', 'data/']);
  const candidates = (text: string): readonly string[] => complete(text, registry, { cwd: '/p', listDir }).candidates;

  it('completes command names, then subcommands, then flags not yet given', () => {
    expect(candidates('tf')).toEqual(['tfrecord']);
    expect(candidates('')).toContain('exit');
    expect(candidates('tfrecord ')).toEqual(['show']);
    expect(candidates('ckpt ')).toEqual(['ls', 'diff']);
    expect(candidates('build-tfrecord --input_dir x --max_s')).toEqual(['--max_seq_length']);
    expect(candidates('build-tfrecord --input_dir x --in')).toEqual([]);
    expect(candidates('export --no-t')).toEqual(['--no-tokenizer']);
    expect(candidates('help tfrecord ')).toEqual(['show']);
  });

  it('completes file paths for path flags and path arguments, not for other values', () => {
    expect(candidates('stats out/')).toEqual(['out/build/', 'out/notes.txt']);
    expect(candidates('stats out/.')).toEqual(['out/.hidden']);
    expect(candidates('build-tfrecord --output_dir o')).toEqual(['out/']);
    expect(candidates('build-tfrecord --seed ')).toEqual([]);
    expect(candidates('tfrecord show --n 2 o')).toEqual(['out/']);
    expect(candidates('tokenize o')).toEqual([]);
  });

  it('quotes what needs quoting and finds the common prefix', () => {
    expect(complete('stats my', registry, { cwd: '/', listDir: () => ['my dir/'] }).candidates).toEqual(['my\\ dir/']);
    expect(commonPrefix(['data/sample-corpus/', 'data/sample-tokenizer/'])).toBe('data/sample-');
  });
});
