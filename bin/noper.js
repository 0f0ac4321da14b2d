#!/usr/bin/env node
// Starts the command line: the compiled dist/ when it has been built, else the TypeScript source through tsx.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/bin/noper.js', import.meta.url);
let cli;
if (existsSync(dist)) {
  cli = await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('./noper.ts', import.meta.url).href);
}
await cli.main();
