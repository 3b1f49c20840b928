import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_CHANNEL_LENGTH, channelNameProblem, isValidChannelName } from '../../src/protocol/channel-name';

test('accepts the documented channel alphabet', () => {
  for (const name of ['news', 'chat:42', 'a.b-c_d@e=f', 'A', 'x'.repeat(MAX_CHANNEL_LENGTH), 'user:42:inbox']) {
    assert.equal(channelNameProblem(name), null, name);
    assert.ok(isValidChannelName(name));
  }
});

test('refuses empty, too long, non-string and out-of-alphabet names with a reason', () => {
  assert.match(channelNameProblem('') ?? '', /empty/);
  assert.match(channelNameProblem('x'.repeat(MAX_CHANNEL_LENGTH + 1)) ?? '', /longer than 255/);
  assert.match(channelNameProblem(42) ?? '', /string/);
  assert.match(channelNameProblem(null) ?? '', /string/);
  for (const name of ['a b', 'a,b', 'a/b', 'a*', 'é', 'a%20', 'a\n', '__proto__!']) {
    assert.match(channelNameProblem(name) ?? '', /may only contain/, name);
    assert.equal(isValidChannelName(name), false);
  }
});
