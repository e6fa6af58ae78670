/**
 * Builds the package the notebooks load (`npm run build:lib`): tslab compiles notebook cells with
 * its own TypeScript 5.0 to CommonJS and cannot import kbb's `.ts` sources, so
 *
 *   dist/kbb.cjs       lib/index.ts bundled by esbuild (CommonJS; npm packages stay external and
 *                      resolve from the project's node_modules, but those that are ES modules only)
 *   dist/kernel.cjs    kernel/index.ts, the notebook display helpers, bundled the same way
 *   dist/kbb.d.cts     their types: declarations emitted by the project's TypeScript into
 *   dist/kernel.d.cts  dist/types/, re-exported, so notebook cells are type-checked against kbb
 *
 * A module's `import.meta.url` becomes its source file's URL (a CommonJS bundle has no
 * `import.meta`), so code that finds files next to its source — the builder's worker script — works
 * unchanged from the bundle. The bundle therefore belongs to this checkout; dist/ is not committed.
 *
 * The build is skipped while every input (lib/, kernel/, package.json, this script) is unchanged
 * since the last one; `--force` builds anyway. Prints one line saying which it did.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import ts from 'typescript';
import { writeBytesAtomically } from '../lib/fs/atomic-write.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const recordFile = join(dist, '.build-record.json');

const BUNDLES = [
  { entry: 'lib/index.ts', out: 'kbb', types: './types/lib/index.js', about: 'kbb: the library (lib/index.ts)' },
  { entry: 'kernel/index.ts', out: 'kernel', types: './types/kernel/index.js', about: 'kbb notebook display helpers (kernel/index.ts)' },
] as const;

interface InputRecord {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Every file the build reads: sources under lib/ and kernel/, package.json, tsconfig.json and this script. */
async function inputs(): Promise<InputRecord[]> {
  const files: string[] = [join(root, 'package.json'), join(root, 'tsconfig.json'), fileURLToPath(import.meta.url)];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.(ts|js|mjs|cjs|json)$/.test(entry.name)) files.push(path);
    }
  };
  await walk(join(root, 'lib'));
  await walk(join(root, 'kernel'));
  files.sort();
  return Promise.all(
    files.map(async (path) => {
      const { size, mtimeMs } = await stat(path);
      return { path: relative(root, path), size, mtimeMs };
    }),
  );
}

async function upToDate(current: InputRecord[]): Promise<boolean> {
  try {
    const recorded = JSON.parse(await readFile(recordFile, 'utf8')) as { inputs: InputRecord[] };
    for (const b of BUNDLES) await Promise.all([stat(join(dist, `${b.out}.cjs`)), stat(join(dist, `${b.out}.d.cts`))]);
    return JSON.stringify(recorded.inputs) === JSON.stringify(current);
  } catch {
    return false;
  }
}

/** `import.meta.url` → the module's own source URL; any other use of `import.meta` fails the build. */
const importMetaAsSourceUrl: Plugin = {
  name: 'import-meta-as-source-url',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
      if (args.path.includes(`${join('node_modules', '')}`)) return undefined;
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta')) return undefined;
      const contents = source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href));
      if (contents.includes('import.meta')) {
        return { errors: [{ text: `${relative(root, args.path)} uses import.meta other than import.meta.url, which the CommonJS bundle cannot provide` }] };
      }
      return { contents, loader: args.path.endsWith('ts') ? 'ts' : 'js' };
    });
  },
};

/**
 * Packages that publish only ES modules are bundled in: `require()` of one gives a namespace whose
 * `default` esbuild's CommonJS interop does not unwrap. Every other package stays external.
 */
const BUNDLED_PACKAGES: readonly string[] = ['p-map'];

/** The project's packages (and their subpaths) that the bundle requires from node_modules. */
function externalPackages(): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const names = ['dependencies', 'devDependencies', 'optionalDependencies'].flatMap((field) => Object.keys(manifest[field] ?? {}));
  return names.filter((name) => !BUNDLED_PACKAGES.includes(name)).flatMap((name) => [name, `${name}/*`]);
}

async function bundle(entry: string, out: string): Promise<void> {
  const result = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: externalPackages(),
    plugins: [importMetaAsSourceUrl],
    write: false,
    absWorkingDir: root,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].text;
  if (/\bimport\.meta\b/.test(code)) throw new Error(`${entry}: the bundle still uses import.meta`);
  await writeBytesAtomically(join(dist, `${out}.cjs`), code);
}

/** Declarations for lib/ and kernel/ under dist/types/, from the project's tsconfig. */
function declarations(): void {
  const configFile = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    outDir: join(dist, 'types'),
    rootDir: root,
  };
  const program = ts.createProgram(
    BUNDLES.map((b) => join(root, b.entry)),
    options,
  );
  const emitted = program.emit();
  const errors = ts
    .getPreEmitDiagnostics(program)
    .concat(emitted.diagnostics)
    .filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
    throw new Error(ts.formatDiagnostics(errors, host));
  }
}

/**
 * One build at a time per checkout (tests and notebooks may start it together): a lock folder,
 * taken over when its holder is gone for longer than any build takes.
 */
async function withLock<T>(run: () => Promise<T>): Promise<T> {
  const lock = join(dist, '.build-lock');
  await mkdir(dist, { recursive: true });
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 120_000) await rm(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await run();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const force = process.argv.includes('--force');
  const current = await inputs();
  if (!force && (await upToDate(current))) {
    console.log(`dist/ is up to date (${BUNDLES.map((b) => `${b.out}.cjs`).join(', ')})`);
    return;
  }
  const started = performance.now();
  await rm(recordFile, { force: true });
  await Promise.all(BUNDLES.map((b) => bundle(b.entry, b.out)));
  await rm(join(dist, 'types'), { recursive: true, force: true });
  declarations();
  for (const b of BUNDLES) {
    await writeBytesAtomically(
      join(dist, `${b.out}.d.cts`),
      `// ${b.about}: types for ${b.out}.cjs (generated by scripts/build-lib.ts)\nexport * from '${b.types}';\n`,
    );
  }
  await writeBytesAtomically(recordFile, `${JSON.stringify({ inputs: current }, null, 1)}\n`);
  console.log(`built ${BUNDLES.map((b) => `dist/${b.out}.cjs`).join(', ')} and their types in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await withLock(main);
