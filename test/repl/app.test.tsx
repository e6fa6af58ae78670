import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../repl/interactive/app.js';
import { ProgressBar } from '../../repl/interactive/progress-bar.js';
import { fakeRegistry } from './fake-registry.js';

const tick = (ms = 30): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForFrame(lastFrame: () => string | undefined, test: (frame: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const frame = lastFrame() ?? '';
    if (test(frame)) return frame;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen was:\n${frame}`);
    await tick(10);
  }
}

let unmount: (() => void) | undefined;
afterEach(() => unmount?.());

async function start(props: Partial<Parameters<typeof App>[0]> = {}) {
  const registry = fakeRegistry();
  const saved: string[] = [];
  const instance = render(<App registry={registry} onHistory={(line) => saved.push(line)} {...props} />);
  unmount = instance.unmount;
  await tick(); // useInput subscribes in an effect
  const type = async (text: string): Promise<void> => {
    instance.stdin.write(text);
    await tick();
  };
  return { ...instance, registry, saved, type, waitFor: (text: string) => waitForFrame(instance.lastFrame, (f) => f.includes(text), JSON.stringify(text)) };
}

describe('the kbb> prompt (Ink)', () => {
  it('text and Enter in one input chunk submit the line (a paste, or tmux send-keys)', async () => {
    const app = await start();
    await app.type('echo hello world\r');
    const frame = await app.waitFor('hello world\n');
    expect(frame).toContain('kbb> echo hello world');
    // Two lines in one chunk run one after the other.
    await app.type('echo one\recho --upper two\r');
    await app.waitFor('TWO');
    expect(app.lastFrame()).toMatch(/one\n[\s\S]*TWO/);
    // Control keys inside such a chunk act as keys: Ctrl-U clears what was typed before it.
    await app.type('echo lost\x15echo kept\r');
    await app.waitFor('\nkept');
    expect(app.lastFrame()).not.toContain('lost');
    expect(app.saved).toEqual(['echo hello world', 'echo one', 'echo --upper two', 'echo kept']);
  });

  it('keys typed one at a time, Backspace and the arrows edit the line', async () => {
    const app = await start();
    for (const key of ['e', 'c', 'h', 'x', '\x7f', 'o', ' ', 'b', '\x1b[D', 'a', '\x1b[C', 'c']) await app.type(key);
    await app.type('\r');
    await app.waitFor('kbb> echo abc');
    expect(app.lastFrame()).toContain('\nabc');
  });

  it('↑ and ↓ walk the history, earlier sessions included, and give back the line being typed', async () => {
    const app = await start({ history: ['echo from yesterday'] });
    await app.type('echo today\r');
    await app.waitFor('\ntoday');
    await app.type('draft');
    await app.type('\x1b[A');
    expect(app.lastFrame()).toMatch(/kbb> echo today\s*$/);
    await app.type('\x1b[A');
    expect(app.lastFrame()).toMatch(/kbb> echo from yesterday\s*$/);
    await app.type('\x1b[B');
    await app.type('\x1b[B');
    expect(app.lastFrame()).toMatch(/kbb> draft\s*$/);
  });

  it('Tab completes command names, subcommands, flags and paths', async () => {
    const listDir = (dir: string): string[] => (dir.endsWith('/data') ? ['sample-corpus/', 'sample-tokenizer/'] : ['data/', 'README.md']);
    const app = await start({ listDir, cwd: '/project' });
    await app.type('ec\t');
    expect(app.lastFrame()).toMatch(/kbb> echo\s*$/);
    await app.type('--up\t');
    expect(app.lastFrame()).toMatch(/kbb> echo --upper\s*$/);
    await app.type('\x15'); // Ctrl-U clears the line
    await app.type('corpus s\t');
    expect(app.lastFrame()).toMatch(/kbb> corpus stats\s*$/);
    await app.type('da\t');
    expect(app.lastFrame()).toMatch(/kbb> corpus stats data\/\s*$/);
    await app.type('sample-\t');
    // Two candidates: the common prefix is typed and both are listed.
    const frame = app.lastFrame()!;
    expect(frame).toContain('kbb> corpus stats data/sample-');
    expect(frame).toContain('data/sample-corpus/  data/sample-tokenizer/');
  });

  it('an error is shown with its message and the prompt stays', async () => {
    const app = await start();
    await app.type('fail\r');
    await app.waitFor('error: boom: the file is missing');
    await app.type('no-such-command\r');
    await app.waitFor("unknown command 'no-such-command'");
    await app.type('corpus stats x --n seven\r');
    await app.waitFor('expected an integer, got "seven"');
    await app.type('echo still here\r');
    await app.waitFor('\nstill here');
  });

  it('a long command shows a live progress bar; Ctrl-C cancels it and returns to the prompt', async () => {
    const app = await start();
    await app.type('slow\r');
    const frame = await app.waitFor('working');
    expect(frame).toMatch(/working █+░+ 25% \| 250 B of 1\.0 KB \| 7 examples \| .+ \| ETA /);
    expect(frame).toContain('Ctrl-C cancels');
    await app.type('\x03');
    await app.waitFor('cancelled');
    expect(app.registry.seen.signal?.aborted).toBe(true);
    await app.type('echo after\r');
    await app.waitFor('\nafter');
  });

  it('Ctrl-C with no command running clears the line, and hints how to leave on an empty one', async () => {
    const app = await start();
    await app.type('echo half-typed');
    await app.type('\x03');
    expect(app.lastFrame()).toMatch(/kbb>\s*$/);
    await app.type('\x03');
    await app.waitFor('type exit or press Ctrl-D to leave');
  });
});

describe('the progress bar', () => {
  it('shows the fraction, done and total, extra counters, rate and ETA', () => {
    const { lastFrame, unmount: stop } = render(
      <ProgressBar
        progress={{ label: 'building', unit: 'bytes', total: 2_000_000, done: 500_000, extra: ['examples'], values: { examples: 1234 }, started: 0, now: 2000 }}
        width={8}
      />,
    );
    expect(lastFrame()).toBe('building ██░░░░░░ 25% | 500.0 KB of 2.0 MB | 1,234 examples | 250.0 KB/s | ETA 6s');
    stop();
  });
});
