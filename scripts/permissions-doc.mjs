#!/usr/bin/env node
// Writes docs/permissions.md from the role × operation table in tests/e2e/permissions.matrix.ts.
// Run `npm run build` first (it compiles the table to tests/dist); tests/static/generated-drift.test.ts
// fails while the committed file differs.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { permissionsMarkdown } = await import(path.join(repo, 'tests/dist/e2e/permissions.matrix.js'));
const out = path.join(repo, 'docs/permissions.md');
writeFileSync(out, permissionsMarkdown());
console.log(`wrote ${path.relative(process.cwd(), out)}`);
