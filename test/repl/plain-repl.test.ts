import { describe, expect, it } from 'vitest';
import { kbb } from './kbb-process.js';

describe('kbb with no terminal on stdin (a script, CI)', () => {
  it('runs the lines in order with plain output; a failing line is reported and the next still runs', () => {
    const script = [
      'tokenize --json "도서관에서 책을"',
      '',
      'no-such-command',
      'tfrecord show /nonexistent/shard',
      'help tfrecord show',
      'exit',
      'tokenize never run',
    ].join('\n');
    const { status, stdout, stderr } = kbb([], script);
    // No raw-mode check, no Ink, no escape codes.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: an ESC is what an escape code starts with.
    expect(stdout + stderr).not.toMatch(/raw mode|\x1b\[/i);
    const [json, ...rest] = stdout.split('\n');
    expect(JSON.parse(json).tokens.join(' ')).toBe('도서관 ##에서 책을');
    expect(stderr).toContain("kbb: unknown command 'no-such-command'");
    expect(stderr).toContain('kbb: /nonexistent/shard: no such file');
    expect(rest.join('\n')).toContain('usage: tfrecord show <file> [flags]');
    expect(stdout).not.toContain('never run');
    expect(status).toBe(1);
  });

  it('exits 0 when every line succeeds, also at the end of input without exit', () => {
    const { status, stdout, stderr } = kbb([], 'help\n');
    expect(stderr).toBe('');
    expect(stdout).toMatch(/build-tfrecord +build masked pretraining examples/);
    expect(status).toBe(0);
  });
});
