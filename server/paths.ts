// Where Noper's own files live, whether it runs from source (tsx) or from dist/ (tsc).
import fs from 'node:fs';
import path from 'node:path';

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'views'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`Noper's root (package.json and views/) not found above ${start}`);
    dir = up;
  }
}

export const ROOT = findRoot(import.meta.dirname);
export const VIEWS_DIR = path.join(ROOT, 'views');
export const LOCALES_DIR = path.join(ROOT, 'locales');
export const PUBLIC_DIR = path.join(ROOT, 'public');
export const PLUGINS_DIR = path.join(ROOT, 'plugins');
