import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './helpers/fixtures.js';

/**
 * lib/'s layout rule (lib/README.md): shared machinery below, then the pipeline's stages in order. A
 * stage imports machinery and earlier stages only; machinery imports machinery only; nothing in lib/
 * imports the command line, the notebooks' kernel, tests or scripts.
 */
const MACHINERY = ['autodiff', 'backend', 'checksum', 'fs', 'package', 'random', 'simd', 'tensor', 'tensorboard', 'text', 'tfrecord', 'threads'];
const STAGES = ['corpus', 'tokenizer', 'pretraining', 'model', 'checkpoint', 'train', 'cloud', 'convert'];

const lib = join(projectRoot, 'lib');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|js)$/.test(name) ? [path] : [];
  });
}

/** Every relative module a file imports (static, dynamic and type-only imports, re-exports). */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]);
  return specifiers.map((s) => resolve(dirname(file), s));
}

/** The lib folder a path is in ('' for lib/index.ts), or undefined outside lib/. */
function libFolder(path: string): string | undefined {
  const rel = relative(lib, path);
  if (rel.startsWith('..')) return undefined;
  return rel.includes(sep) ? rel.split(sep)[0] : '';
}

/** Why `file` may not import `target`, or undefined where it may. */
function importProblem(file: string, target: string): string | undefined {
  const from = libFolder(file);
  const to = libFolder(target);
  if (from === undefined) return undefined;
  if (to === undefined) return 'outside lib/';
  if (from === '' || to === from) return undefined;
  if (to === '') return 'the package index';
  if (MACHINERY.includes(from) && STAGES.includes(to)) return 'machinery importing a stage';
  if (STAGES.includes(from) && STAGES.includes(to) && STAGES.indexOf(to) > STAGES.indexOf(from)) return 'a later stage';
  return undefined;
}

describe('lib/ layout', () => {
  const folders = readdirSync(lib).filter((name) => statSync(join(lib, name)).isDirectory());

  it('every folder is machinery or a stage, and opens with a README saying what it is for and what it may import', () => {
    expect([...folders].sort()).toEqual([...MACHINERY, ...STAGES].sort());
    for (const folder of folders) {
      const readme = join(lib, folder, 'README.md');
      expect(existsSync(readme), `lib/${folder}/README.md`).toBe(true);
      expect(readFileSync(readme, 'utf8'), `lib/${folder}/README.md names what it may import`).toMatch(/may import/i);
    }
  });

  it('no file imports upward: a stage only from machinery and earlier stages, machinery only from machinery, lib/ never from outside it', () => {
    const problems: string[] = [];
    for (const file of sourceFiles(lib)) {
      for (const target of relativeImports(file)) {
        const problem = importProblem(file, target);
        if (problem) problems.push(`${relative(projectRoot, file)} imports ${relative(projectRoot, target)}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the rule refuses each kind of upward import', () => {
    const at = (path: string): string => join(projectRoot, path);
    expect(importProblem(at('lib/model/bigbird.ts'), at('lib/convert/hf-names.ts'))).toBe('a later stage');
    expect(importProblem(at('lib/corpus/read-corpus.ts'), at('lib/tokenizer/index.ts'))).toBe('a later stage');
    expect(importProblem(at('lib/text/py-strip.ts'), at('lib/corpus/index.ts'))).toBe('machinery importing a stage');
    expect(importProblem(at('lib/checkpoint/warm-start.ts'), at('repl/commands/warm-start.ts'))).toBe('outside lib/');
    expect(importProblem(at('lib/model/bigbird.ts'), at('lib/index.ts'))).toBe('the package index');
    expect(importProblem(at('lib/convert/hf-export.ts'), at('lib/tokenizer/index.ts'))).toBeUndefined();
    expect(importProblem(at('lib/model/attention.ts'), at('lib/autodiff/recompute.ts'))).toBeUndefined();
  });
});
