#!/usr/bin/env node
// Restores lock entries for optional per-platform packages that `npm install` leaves out when
// the registry it used does not serve them (npm then writes a lock that `npm ci` rejects).
// Run after `npm install` changes package-lock.json: node scripts/lock-platform-packages.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [key, entry] of Object.entries({ ...packages })) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const match = /-(darwin|linux|win32|freebsd)-(x64|arm64|arm|ia32)$/.exec(name);
    const where = `node_modules/${name}`;
    if (match === null || packages[where] !== undefined || packages[`${key}/${where}`] !== undefined) continue;
    packages[where] = { version, cpu: [match[2]], license: entry.license ?? 'MIT', optional: true, os: [match[1]] };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} optional platform package entries to package-lock.json`);
