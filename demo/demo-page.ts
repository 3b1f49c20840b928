// The demo page (served at /demo by `broadcaster --demo`): a chat room with a presence list and
// a live ticker, built on the SDK bundle the server serves at /client/. Bundled by esbuild at
// `npm run build` into dist/demo/demo.js, with the SDK import left as it is.
import { Client, type PresenceEntry, type Subscription } from '/client/broadcaster-client.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const own = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
/** `?servers=ws://a/ws,ws://b/ws`: the addresses to try in turn (default: this page's server). */
const servers = (params.get('servers') ?? own).split(',').filter((s) => s.length > 0);

const client = new Client(servers, { reconnect: { initialDelay: 250, maxDelay: 4000, factor: 2 } });

function logEvent(text: string, kind: 'good' | 'bad' | '' = ''): void {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  if (kind !== '') li.className = kind;
  const list = $('events');
  list.prepend(li);
  while (list.children.length > 50) list.lastElementChild?.remove();
}

client.on('state', (e) => setState(e.state));
client.on('connecting', (e) => {
  $('server').textContent = e.url;
});
client.on('connected', (e) => {
  $('server').textContent = e.url;
  logEvent(`connected to ${e.url}`, 'good');
});
client.on('disconnected', (e) => {
  logEvent(`disconnected: ${e.code} ${e.reason}`, 'bad');
});

function setState(state: string): void {
  const el = $('state');
  el.dataset.state = state;
  el.textContent = state;
}

// Chat: messages are msgpack maps {name, text}.
interface ChatMessage {
  name: string;
  text: string;
}
const names = new Map<string, string>();
const chat: Subscription = client.subscribe(
  'demo:chat',
  {
    publication: (p) => {
      const m = p.data as Partial<ChatMessage> & { client?: string };
      const li = document.createElement('li');
      li.dataset.offset = String(p.offset);
      const offset = document.createElement('span');
      offset.className = 'offset';
      offset.textContent = `#${p.offset}`;
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = String(m.name ?? '?');
      const text = document.createElement('span');
      text.className = 'text';
      text.textContent = String(m.text ?? '');
      li.append(offset, name, text);
      $('messages').append(li);
      li.scrollIntoView({ block: 'nearest' });
      $('chat-offset').textContent = String(p.offset);
      if (typeof m.client === 'string' && typeof m.name === 'string') {
        names.set(m.client, m.name);
        renderPresence();
      }
    },
    subscribed: (e) => {
      $('chat-offset').textContent = e.position === null ? '–' : String(e.position.offset);
      if (e.wasRecovering) logEvent(`demo:chat ${e.recovered ? 'recovered: nothing missed' : 'NOT recovered: some messages are lost'}`, e.recovered ? 'good' : 'bad');
      else logEvent(`demo:chat subscribed at offset ${e.position?.offset ?? '–'}`);
      void reloadPresence();
    },
    join: (e) => {
      present.set(e.client, e);
      renderPresence();
      logEvent(`join ${e.client}`);
    },
    leave: (e) => {
      present.delete(e.client);
      renderPresence();
      logEvent(`leave ${e.client}`);
    },
    error: (e) => logEvent(`demo:chat error ${e.code}: ${e.message}`, 'bad'),
  },
  { format: 'msgpack', joinLeave: true },
);

// Presence: the list comes from chat.presence() after every (re)subscribe, then join/leave events.
const present = new Map<string, PresenceEntry>();
let me: string | null = null;

async function reloadPresence(): Promise<void> {
  try {
    const { client: mine, entries } = await chat.presence();
    me = mine;
    present.clear();
    for (const e of entries) present.set(e.client, e);
    $('me').textContent = me ?? '–';
    renderPresence();
  } catch (err) {
    logEvent(`presence: ${(err as Error).message}`, 'bad');
  }
}

function renderPresence(): void {
  const list = $('presence');
  list.replaceChildren(
    ...[...present.values()]
      .sort((a, b) => a.client.localeCompare(b.client))
      .map((e) => {
        const li = document.createElement('li');
        li.dataset.client = e.client;
        const name = names.get(e.client);
        li.textContent = `${e.client}${name === undefined ? '' : ` (${name})`}${e.client === me ? ' · you' : ''}`;
        if (e.client === me) li.className = 'me';
        return li;
      }),
  );
  $('presence-count').textContent = String(present.size);
}

// Ticker: the server publishes {symbol, price, at} every second.
let lastPrice = 0;
client.subscribe('demo:ticker', {
  publication: (p) => {
    const tick = JSON.parse(typeof p.data === 'string' ? p.data : new TextDecoder().decode(p.data as Uint8Array)) as { symbol: string; price: number };
    const el = $('price');
    el.textContent = `${tick.symbol} ${tick.price.toFixed(2)}`;
    el.className = tick.price >= lastPrice ? 'up' : 'down';
    lastPrice = tick.price;
    $('ticker-offset').textContent = String(p.offset);
  },
  subscribed: (e) => {
    if (e.wasRecovering) logEvent(`demo:ticker ${e.recovered ? 'recovered' : 'NOT recovered: ticks lost'}`, e.recovered ? 'good' : 'bad');
  },
});

const form = $<HTMLFormElement>('send');
const nameInput = form.elements.namedItem('name') as HTMLInputElement;
const textInput = form.elements.namedItem('text') as HTMLInputElement;
nameInput.value = params.get('name') ?? localStorage.getItem('demo-name') ?? `guest-${Math.floor(Math.random() * 1000)}`;
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = textInput.value.trim();
  if (text === '') return;
  localStorage.setItem('demo-name', nameInput.value);
  client.publish('demo:chat', { name: nameInput.value, text, client: me ?? undefined }).then(
    () => (textInput.value = ''),
    (err: Error & { code?: number }) => logEvent(`publish failed ${err.code ?? ''}: ${err.message}`, 'bad'),
  );
});

client.connect();
// For tests and the curious: the client and subscription objects.
(window as unknown as { demo: unknown }).demo = { client, chat };
