/**
 * Builds the booking page (web/booking-page) into web/booking-page/dist:
 * one JS and one CSS file with content hashes in their names (served with a
 * year's cache) and index.html (served without). Runs in `npm ci` (prepare)
 * and before `npm start` when dist is missing; esbuild only, no CDN.
 */
import { build } from 'esbuild';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../web/booking-page/', import.meta.url));
const out = `${root}dist`;
await rm(out, { recursive: true, force: true });
await mkdir(`${out}/assets`, { recursive: true });
const result = await build({
  entryPoints: [`${root}main.tsx`, `${root}style.css`],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: `${out}/assets`,
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const files = await readdir(`${out}/assets`);
const js = files.find((f) => f.startsWith('main-') && f.endsWith('.js'));
const css = files.find((f) => f.startsWith('style-') && f.endsWith('.css'));
if (!js || !css || !result.metafile) throw new Error('the page build produced no main-*.js or style-*.css');
await writeFile(`${out}/index.html`, `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Book</title>
<link rel="stylesheet" href="/book/assets/${basename(css)}">
<script type="module" src="/book/assets/${basename(js)}"></script>
</head>
<body>
<div id="app"></div>
<noscript>This booking page needs JavaScript.</noscript>
</body>
</html>
`);
console.log(`booking page built: ${js}, ${css}`);
