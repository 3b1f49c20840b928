// A node:test reporter for mutation testing: prints nothing and ends the process with exit code 1
// at the first failing test (tests run in this process: scripts/unit-tests-in-process.cjs).
export default async function* exitOnFirstFailure(source) {
  for await (const event of source) {
    if (event.type === 'test:fail') {
      process.stderr.write(`failed: ${event.data.name}\n`);
      process.exit(1);
    }
  }
  yield '';
}
