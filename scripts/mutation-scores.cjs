// Prints the mutation score per module and per file from Stryker's JSON report
// (reports/mutation/mutation.json): killed (and timed out) over all valid mutants.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const report = JSON.parse(readFileSync(join(__dirname, '..', 'reports', 'mutation', 'mutation.json'), 'utf8'));
const modules = new Map();
const rows = [];
for (const [file, { mutants }] of Object.entries(report.files)) {
  const tally = { killed: 0, survived: 0 };
  for (const m of mutants) {
    if (m.status === 'Killed' || m.status === 'Timeout') tally.killed++;
    else if (m.status === 'Survived' || m.status === 'NoCoverage') tally.survived++;
  }
  rows.push([file, tally]);
  const module = file.split('/').slice(0, 2).join('/');
  const sum = modules.get(module) ?? { killed: 0, survived: 0 };
  sum.killed += tally.killed;
  sum.survived += tally.survived;
  modules.set(module, sum);
}
const pct = ({ killed, survived }) => (killed + survived === 0 ? 'n/a' : `${((100 * killed) / (killed + survived)).toFixed(1)}%`);
console.log('| module | mutants | killed | survived | score |\n|---|--:|--:|--:|--:|');
for (const [module, t] of modules) console.log(`| ${module} | ${t.killed + t.survived} | ${t.killed} | ${t.survived} | ${pct(t)} |`);
console.log('\n| file | mutants | killed | survived | score |\n|---|--:|--:|--:|--:|');
for (const [file, t] of rows.sort()) console.log(`| ${file} | ${t.killed + t.survived} | ${t.killed} | ${t.survived} | ${pct(t)} |`);
