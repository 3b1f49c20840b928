import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const root = join(__dirname, '..', '..', '..');
const installer = join(root, 'scripts', 'systemd', 'install.sh');

/** Runs install.sh into a scratch root with a systemctl stand-in that records its calls. */
function install(dir: string, args: string[], path: string): { status: number | null; out: string; unit: string; calls: string } {
  const fakeBin = join(dir, 'fake-bin');
  mkdirSync(fakeBin, { recursive: true });
  writeFileSync(join(fakeBin, 'systemctl'), `#!/usr/bin/env bash\necho "$*" >> "${join(dir, 'systemctl.calls')}"\n`);
  chmodSync(join(fakeBin, 'systemctl'), 0o755);
  const res = spawnSync('bash', [installer, '--instances', '1', '--app-dir', root, '--no-sysctl', '--no-start', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, PATH: `${fakeBin}:${path}`, UNIT_DIR: join(dir, 'units'), ETC_DIR: join(dir, 'etc'), SYSCTL_DIR: join(dir, 'sysctl') },
  });
  const read = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  return { status: res.status, out: res.stdout + res.stderr, unit: read(join(dir, 'units', 'broadcaster@.service')), calls: read(join(dir, 'systemctl.calls')) };
}

describe('scripts/systemd/install.sh picks the node the operator chose', { timeout: 60_000 }, () => {
  test('--node PATH goes into ExecStart after a check that it loads a native uWS build', { timeout: 60_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'broadcaster-install-'));
    try {
      const res = install(dir, ['--node', process.execPath], process.env.PATH ?? '');
      assert.equal(res.status, 0, res.out);
      assert.match(res.unit, new RegExp(`^ExecStart=${process.execPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ${root}/dist/src/cli/main\\.js$`, 'm'));
      assert.match(res.out, new RegExp(`units will run .* \\(${process.version.replace(/\./g, '\\.')} uWS (current|legacy) `));
      assert.match(res.calls, /^daemon-reload$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without --node, the first node on PATH is used, not a fixed path', { timeout: 60_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'broadcaster-install-'));
    try {
      const chosen = join(dir, 'my-node', 'bin');
      mkdirSync(chosen, { recursive: true });
      symlinkSync(process.execPath, join(chosen, 'node'));
      const res = install(dir, [], `${chosen}:${process.env.PATH ?? ''}`);
      assert.equal(res.status, 0, res.out);
      assert.match(res.unit, new RegExp(`^ExecStart=${join(chosen, 'node')} `, 'm'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a node that cannot load uWS is refused with its reason, and nothing is installed', { timeout: 60_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'broadcaster-install-'));
    try {
      const fake = join(dir, 'old-node');
      writeFileSync(fake, '#!/usr/bin/env bash\necho "no native uWebSockets.js build loads on linux-x64, Node.js v23.0.0 (ABI 131)"\nexit 1\n');
      chmodSync(fake, 0o755);
      const res = install(dir, ['--node', fake], process.env.PATH ?? '');
      assert.equal(res.status, 2);
      assert.match(res.out, /cannot run broadcaster: no native uWebSockets\.js build loads on linux-x64, Node\.js v23\.0\.0 \(ABI 131\)/);
      assert.match(res.out, /pass --node with a supported Node\.js/);
      assert.equal(res.unit, '', 'no unit written');
      assert.equal(res.calls, '', 'systemctl not called');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
