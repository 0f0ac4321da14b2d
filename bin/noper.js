#!/usr/bin/env node
// Starts the command line: the compiled dist/ when it has been built, else the TypeScript source through tsx.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/bin/noper.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('./noper.ts', import.meta.url).href);
}
