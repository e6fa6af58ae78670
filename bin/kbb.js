#!/usr/bin/env node
// The library is TypeScript run through tsx, so `npx kbb` works right after `npm ci`
// with no build step and no stale compiled copy.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../repl/cli.ts');
process.exitCode = await main(process.argv.slice(2));
