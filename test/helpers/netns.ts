import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { onProcessExit } from './exit-cleanup';

/** One "host": a network namespace with one interface `eth0` cabled to the lab's switch. */
export interface NetnsHost {
  /** The name the test gave it. */
  readonly name: string;
  /** The network namespace (`ip netns exec <namespace> …`). */
  readonly namespace: string;
  /** Its IPv4 address inside the lab (not routed anywhere else). */
  readonly address: string;
  /** Its cable's switch-side interface, inside the switch namespace. */
  readonly port: string;
}

/** Loss and delay added by `tc netem` in both directions of one host's cable. */
export interface Impairment {
  /** Percentage of packets dropped (0-100). */
  lossPercent?: number;
  /** Added one-way delay in ms. */
  delayMs?: number;
}

let labs = 0;

/** Runs `ip`/`tc` synchronously; throws with its stderr. */
function sh(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || (err as Error).message}`);
  }
}

/**
 * A private network of namespaces: one switch namespace holding a bridge, and one namespace per
 * host, each cabled to the bridge by a veth pair, addresses in one /24 that exists only inside the
 * lab. Nothing is created in the root namespace. Everything made is tracked; {@link destroy} (also
 * run at process exit) kills the processes started in it by PID and deletes every namespace, which
 * removes their links and the bridge with them.
 */
export class NetnsLab {
  private readonly hosts = new Map<string, NetnsHost>();
  private readonly created: string[] = [];
  private readonly children = new Set<ChildProcess>();
  /** Direct cables by host: the far end's namespace and device. */
  private readonly directs = new Map<string, { namespace: string; device: string }>();
  private readonly unregister: () => void;
  /** The switch namespace (holds the bridge `br0`). */
  readonly switchNamespace: string;

  /** Why namespaces cannot be used here (not root, or `ip netns` does not work), or null. */
  static unavailableReason(): string | null {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespace tests need root (ip netns add)';
    const probe = `bc-probe-${process.pid}`;
    try {
      sh('ip', ['netns', 'add', probe]);
      sh('ip', ['netns', 'del', probe]);
      return null;
    } catch (err) {
      return `ip netns is not usable here: ${(err as Error).message}`;
    }
  }

  /**
   * Makes the lab: hosts named `names` get `<subnet>.1`, `<subnet>.2`, … in order. `subnet` is the
   * first three octets of a private /24 (default a random `10.77.x`); it is only ever used inside the lab.
   */
  static create(names: string[], subnet = `10.77.${Math.floor(Math.random() * 256)}`): NetnsLab {
    if (!/^(10\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}|172\.(1[6-9]|2\d|3[01])\.\d{1,3})$/.test(subnet)) {
      throw new Error(`subnet "${subnet}" must be the first three octets of a private /24 (10.x.y, 172.16-31.y or 192.168.y)`);
    }
    if (names.length === 0 || names.length > 250 || new Set(names).size !== names.length || names.some((n) => !/^[a-z0-9]{1,8}$/.test(n))) {
      throw new Error('host names must be 1-250 distinct names of 1-8 characters a-z 0-9');
    }
    const lab = new NetnsLab(`bc${process.pid}-${++labs}`);
    try {
      lab.make(lab.switchNamespace);
      sh('ip', ['-n', lab.switchNamespace, 'link', 'add', 'br0', 'type', 'bridge']);
      sh('ip', ['-n', lab.switchNamespace, 'link', 'set', 'br0', 'up']);
      names.forEach((name, i) => {
        lab.addHost(name, `${subnet}.${i + 1}`);
      });
      return lab;
    } catch (err) {
      lab.destroy();
      throw err;
    }
  }

  private constructor(private readonly id: string) {
    this.switchNamespace = `${id}-sw`;
    this.unregister = onProcessExit(() => this.destroy());
  }

  /** Every namespace the lab created, in creation order. */
  get namespaces(): string[] {
    return [...this.created];
  }

  /** The host called `name`. */
  host(name: string): NetnsHost {
    const host = this.hosts.get(name);
    if (host === undefined) throw new Error(`no host "${name}" in this lab (hosts: ${[...this.hosts.keys()].join(', ')})`);
    return host;
  }

  /** Starts `command` inside host `name` (`ip netns exec`); the lab kills it by PID on destroy. */
  spawn(name: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.host(name).namespace, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Runs `command` inside host `name` to completion (killed after `timeoutMs`); resolves with its exit code and output. */
  async run(name: string, command: string, args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = this.spawn(name, command, args);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    return { code, stdout, stderr };
  }

  /** Pulls host `name`'s cable at the switch (`ip link set <port> down`): the host loses carrier. */
  cut(name: string): void {
    sh('ip', ['-n', this.switchNamespace, 'link', 'set', this.host(name).port, 'down']);
  }

  /** Plugs host `name`'s cable back in. */
  heal(name: string): void {
    sh('ip', ['-n', this.switchNamespace, 'link', 'set', this.host(name).port, 'up']);
  }

  /**
   * Cables host `name` straight to host `to` (a second veth pair, addresses `<subnet>.<4i+1>` and
   * `.<4i+2>`/30 for the i-th such cable) and routes `to`'s lab address over it from `name`: traffic
   * between the two leaves the switch, so {@link cutDirect} partitions them and nothing else.
   */
  direct(name: string, to: string, subnet = '10.78.0'): void {
    const [a, b] = [this.host(name), this.host(to)];
    const i = this.directs.size;
    if (i >= 63) throw new Error('at most 63 direct cables per lab');
    const [near, far] = [`d-${to}`.slice(0, 15), `d-${name}`.slice(0, 15)];
    sh('ip', ['-n', a.namespace, 'link', 'add', near, 'type', 'veth', 'peer', 'name', far, 'netns', b.namespace]);
    sh('ip', ['-n', a.namespace, 'addr', 'add', `${subnet}.${4 * i + 1}/30`, 'dev', near]);
    sh('ip', ['-n', b.namespace, 'addr', 'add', `${subnet}.${4 * i + 2}/30`, 'dev', far]);
    sh('ip', ['-n', a.namespace, 'link', 'set', near, 'up']);
    sh('ip', ['-n', b.namespace, 'link', 'set', far, 'up']);
    sh('ip', ['-n', a.namespace, 'route', 'add', `${b.address}/32`, 'dev', near]);
    this.directs.set(name, { namespace: b.namespace, device: far });
  }

  /** Pulls the far end of host `name`'s direct cable (`ip link set … down` in the other host): the two are partitioned, the route stays (no detour via the switch). */
  cutDirect(name: string): void {
    const cable = this.directs.get(name);
    if (cable === undefined) throw new Error(`host "${name}" has no direct cable`);
    sh('ip', ['-n', cable.namespace, 'link', 'set', cable.device, 'down']);
  }

  /** Plugs host `name`'s direct cable back in. */
  healDirect(name: string): void {
    const cable = this.directs.get(name);
    if (cable === undefined) throw new Error(`host "${name}" has no direct cable`);
    sh('ip', ['-n', cable.namespace, 'link', 'set', cable.device, 'up']);
  }

  /** Why `tc netem` cannot be used on this kernel (no sch_netem), or null when it can. */
  netemProblem(): string | null {
    try {
      sh('tc', ['-n', this.switchNamespace, 'qdisc', 'add', 'dev', 'br0', 'root', 'netem', 'delay', '1ms']);
      sh('tc', ['-n', this.switchNamespace, 'qdisc', 'del', 'dev', 'br0', 'root']);
      return null;
    } catch (err) {
      return `tc netem is not available on this kernel (${(err as Error).message.replace(/^.*failed: /, '')}); cut() partitions and throttle() slows a link without it`;
    }
  }

  /** Adds (or replaces) `tc netem` loss/delay on both ends of host `name`'s cable (needs sch_netem: see {@link netemProblem}). */
  impair(name: string, impairment: Impairment): void {
    const args: string[] = [];
    if (impairment.delayMs !== undefined) args.push('delay', `${impairment.delayMs}ms`);
    if (impairment.lossPercent !== undefined) args.push('loss', `${impairment.lossPercent}%`);
    if (args.length === 0) throw new Error('an impairment needs lossPercent or delayMs');
    const problem = this.netemProblem();
    if (problem !== null) throw new Error(problem);
    const host = this.host(name);
    sh('tc', ['-n', host.namespace, 'qdisc', 'replace', 'dev', 'eth0', 'root', 'netem', ...args]);
    sh('tc', ['-n', this.switchNamespace, 'qdisc', 'replace', 'dev', host.port, 'root', 'netem', ...args]);
  }

  /**
   * Limits both directions of host `name`'s cable to `rateKbit` with a token bucket (`tc tbf`,
   * a queue of at most `limitBytes`, beyond which packets are dropped): a slow, lossy-under-load link.
   */
  throttle(name: string, rateKbit: number, limitBytes = 3000): void {
    const args = ['tbf', 'rate', `${rateKbit}kbit`, 'burst', '1600', 'limit', String(limitBytes)];
    const host = this.host(name);
    sh('tc', ['-n', host.namespace, 'qdisc', 'replace', 'dev', 'eth0', 'root', ...args]);
    sh('tc', ['-n', this.switchNamespace, 'qdisc', 'replace', 'dev', host.port, 'root', ...args]);
  }

  /** Removes the netem or tbf qdisc from host `name`'s cable. */
  repair(name: string): void {
    const host = this.host(name);
    sh('tc', ['-n', host.namespace, 'qdisc', 'del', 'dev', 'eth0', 'root']);
    sh('tc', ['-n', this.switchNamespace, 'qdisc', 'del', 'dev', host.port, 'root']);
  }

  /** The qdisc line(s) of host `name`'s interface (`tc qdisc show`). */
  qdisc(name: string): string {
    return sh('tc', ['-n', this.host(name).namespace, 'qdisc', 'show', 'dev', 'eth0']);
  }

  /** Kills the processes started in the lab by PID, then deletes every namespace it made (links and bridge go with them). Idempotent and synchronous. */
  destroy(): void {
    for (const child of this.children) if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
    this.children.clear();
    for (const namespace of this.created.splice(0).reverse()) {
      // Anything still running in it (a grandchild of ip netns exec) is ours: stop it by PID.
      try {
        for (const pid of sh('ip', ['netns', 'pids', namespace]).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // the namespace may already be gone
      }
      try {
        sh('ip', ['netns', 'del', namespace]);
      } catch {
        // already gone
      }
    }
    this.unregister();
  }

  private make(namespace: string): void {
    sh('ip', ['netns', 'add', namespace]);
    this.created.push(namespace);
    sh('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
  }

  private addHost(name: string, address: string): void {
    const namespace = `${this.id}-${name}`;
    const port = `p-${name}`;
    this.make(namespace);
    sh('ip', ['-n', this.switchNamespace, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace]);
    sh('ip', ['-n', this.switchNamespace, 'link', 'set', port, 'master', 'br0', 'up']);
    sh('ip', ['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    sh('ip', ['-n', namespace, 'link', 'set', 'eth0', 'up']);
    this.hosts.set(name, { name, namespace, address, port });
  }
}
