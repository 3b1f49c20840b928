// Runs every compiled unit test (dist/test/unit/*.test.js) in this one process, the slowest files
// last. Mutation testing (stryker.config.json) runs it once per mutant with
// `--test-reporter=./scripts/exit-on-first-failure.mjs`, so a caught mutant stops at its first
// failing test, and without `node --test`'s process per file. The fuzz properties run 2,000
// frames each here (BROADCASTER_FUZZ_RUNS) instead of 20,000.
const { readdirSync } = require('node:fs');
const { join } = require('node:path');

process.env.BROADCASTER_FUZZ_RUNS ??= '2000';
const dir = join(__dirname, '..', 'dist', 'test', 'unit');
const last = ['security.test.js', 'fuzz-decode.test.js'];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js'))
  .sort((a, b) => last.indexOf(a) - last.indexOf(b) || a.localeCompare(b));
for (const file of files) require(join(dir, file));
