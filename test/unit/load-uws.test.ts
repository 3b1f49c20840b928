import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NativeUwsError, loadUws, type LoadUwsEnvironment } from '../../src/uws/load-uws';
import type { PlatformFacts } from '../../src/uws/platform';
import type { UwsBuild, UwsBuildId } from '../../src/uws/uws-builds';

const NATIVE = { App: () => null, SSLApp: () => null };
const FALLBACK = { App: () => null }; // the legacy package's pure-JS implementation has no SSLApp

const debian12Node20: PlatformFacts = { platform: 'linux', arch: 'x64', nodeVersion: 'v20.20.2', nodeAbi: '115', glibc: '2.36' };
const debian12Node24: PlatformFacts = { ...debian12Node20, nodeVersion: 'v24.22.3', nodeAbi: '137' };

function build(id: UwsBuildId, installed = true): UwsBuild {
  return {
    id,
    dependency: id === 'current' ? 'uWebSockets.js' : 'uws-legacy',
    supports: `${id} platforms`,
    packageDir: () => (installed ? `/pkgs/${id}` : null),
    binaryPath: (dir, platform, arch, abi) => `${dir}/uws_${platform}_${arch}_${abi}.node`,
  };
}

/** Addon files that exist, and what loading each gives (an Error is thrown). */
function env(platform: PlatformFacts, addons: Record<string, unknown>, extra: Partial<LoadUwsEnvironment> = {}): LoadUwsEnvironment & { loaded: string[] } {
  const loaded: string[] = [];
  return {
    platform,
    buildChoice: undefined,
    fallbackFlag: undefined,
    builds: [build('current'), build('legacy')],
    exists: (file) => file in addons,
    requireAddon: (file) => {
      loaded.push(file);
      const result = addons[file];
      if (result instanceof Error) throw result;
      return result;
    },
    loaded,
    ...extra,
  };
}

const glibcError = new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by uws_linux_x64_115.node)\nmore");

describe('choosing the native uWebSockets.js build', () => {
  test('auto takes the current build when it loads', () => {
    const e = env(debian12Node24, { '/pkgs/current/uws_linux_x64_137.node': NATIVE, '/pkgs/legacy/uws_linux_x64_137.node': NATIVE });
    const { api, build: loaded } = loadUws(e);
    assert.equal(api, NATIVE);
    assert.deepEqual(loaded, { id: 'current', version: 'unknown', binary: '/pkgs/current/uws_linux_x64_137.node', nodeAbi: '137', glibc: '2.36' });
    assert.deepEqual(e.loaded, ['/pkgs/current/uws_linux_x64_137.node'], 'the legacy build is not even loaded');
  });

  test('auto falls back to the legacy build when the current one needs a newer glibc (Node 20 on Debian 12)', () => {
    const e = env(debian12Node20, { '/pkgs/current/uws_linux_x64_115.node': glibcError, '/pkgs/legacy/uws_linux_x64_115.node': NATIVE });
    const { build: loaded } = loadUws(e);
    assert.equal(loaded.id, 'legacy');
    assert.equal(loaded.binary, '/pkgs/legacy/uws_linux_x64_115.node');
  });

  test('a module without SSLApp (the pure-JS fallback) is never accepted', () => {
    const e = env(debian12Node20, { '/pkgs/current/uws_linux_x64_115.node': glibcError, '/pkgs/legacy/uws_linux_x64_115.node': FALLBACK });
    assert.throws(
      () => loadUws(e),
      (err: Error) => err instanceof NativeUwsError && /legacy \(uws-legacy unknown\): .* is not the native API/.test(err.message),
    );
  });

  test('nothing loads: the error names platform, Node ABI, glibc, what each build said and where each runs', () => {
    const e = env(debian12Node24, { '/pkgs/current/uws_linux_x64_137.node': glibcError });
    assert.throws(
      () => loadUws(e),
      (err: Error) => {
        assert.ok(err instanceof NativeUwsError);
        assert.match(err.message, /^no native uWebSockets\.js build loads on linux-x64, Node\.js v24\.22\.3 \(ABI 137\), glibc 2\.36\. /);
        assert.match(
          err.message,
          /current \(uWebSockets\.js unknown\): \/lib\/x86_64-linux-gnu\/libc\.so\.6: version `GLIBC_2\.38' not found \(required by uws_linux_x64_115\.node\);/,
        );
        assert.doesNotMatch(err.message, /more/, 'only the first line of each load error');
        assert.match(err.message, /legacy \(uws-legacy unknown\): no addon for linux-x64 Node ABI 137\./);
        assert.match(err.message, /current: current platforms; legacy: legacy platforms/);
        assert.match(err.message, /pure-JS fallback is refused/);
        return true;
      },
    );
  });

  test('an uninstalled optional build is reported as such', () => {
    const e = env(debian12Node24, {}, { builds: [build('current'), build('legacy', false)] });
    assert.throws(() => loadUws(e), /legacy \(uws-legacy\): not installed/);
  });

  test('BROADCASTER_UWS_BUILD=legacy forces the legacy build even where the current one loads', () => {
    const e = env(debian12Node20, { '/pkgs/current/uws_linux_x64_115.node': NATIVE, '/pkgs/legacy/uws_linux_x64_115.node': NATIVE }, { buildChoice: 'legacy' });
    assert.equal(loadUws(e).build.id, 'legacy');
    assert.deepEqual(e.loaded, ['/pkgs/legacy/uws_linux_x64_115.node']);
  });

  test('a forced build that cannot load says so and how to undo it', () => {
    const e = env(
      debian12Node20,
      { '/pkgs/current/uws_linux_x64_115.node': glibcError, '/pkgs/legacy/uws_linux_x64_115.node': NATIVE },
      { buildChoice: 'current' },
    );
    assert.throws(() => loadUws(e), /\(BROADCASTER_UWS_BUILD=current; unset it to try every build\)/);
  });

  test('an unknown BROADCASTER_UWS_BUILD names the accepted values', () => {
    assert.throws(
      () => loadUws(env(debian12Node20, {}, { buildChoice: 'newest' })),
      /invalid BROADCASTER_UWS_BUILD "newest": set it to auto, current or legacy/,
    );
  });

  test('UWS_USE_FALLBACK=1 or true is refused before anything loads', () => {
    for (const flag of ['1', 'true', 'TRUE']) {
      const e = env(debian12Node20, { '/pkgs/legacy/uws_linux_x64_115.node': NATIVE }, { fallbackFlag: flag });
      assert.throws(() => loadUws(e), /UWS_USE_FALLBACK is set.*unset UWS_USE_FALLBACK/);
      assert.deepEqual(e.loaded, []);
    }
    const off = env(debian12Node20, { '/pkgs/legacy/uws_linux_x64_115.node': NATIVE }, { fallbackFlag: '0' });
    assert.equal(loadUws(off).build.id, 'legacy');
  });
});
