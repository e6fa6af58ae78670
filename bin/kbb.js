#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=1099511627776 node
// The #! line sets glibc's malloc as the native backend needs it (lib/backend/malloc-tunables.ts; a
// test holds it equal to NATIVE_MALLOC_TUNABLES): glibc reads it only as a process starts.
// The library is TypeScript run through tsx, so `npx kbb` works right after `npm ci`
// with no build step and no stale compiled copy.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../repl/cli.ts');
process.exitCode = await main(process.argv.slice(2));
