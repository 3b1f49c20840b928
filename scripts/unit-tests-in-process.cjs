// Runs every compiled unit test (dist/test/unit/*.test.js) in this one process: node:test runs
// what they register and exits 1 on a failure. Mutation testing runs it once per mutant, so it
// avoids `node --test`'s process per file.
const { readdirSync } = require('node:fs');
const { join } = require('node:path');

const dir = join(__dirname, '..', 'dist', 'test', 'unit');
for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort()) require(join(dir, file));
