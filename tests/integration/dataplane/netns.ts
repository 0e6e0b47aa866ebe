// Network-namespace plumbing for the data-path suite and `npm run bench:net`: namespaces, veth pairs,
// bridges and addresses, each created object remembered by a `Netns` registry so `teardown()` can
// remove it all (deleting a namespace takes its links with it), also after a failure half-way.
// Only namespaces this module creates are touched; the host's own interfaces never are.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export function sh(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** `ip -n <ns> …` */
export const ipn = (ns: string, ...args: string[]): Promise<string> => sh('ip', ['-n', ns, ...args]);

/**
 * sysctl k=v … inside a namespace, written to /proc/sys directly (net.* there is per namespace; no
 * dependency on procps's sysctl binary, which a minimal CI image may lack).
 */
export function sysctl(ns: string, ...kv: string[]): Promise<string> {
  const script = kv
    .map((pair) => {
      const [key, value] = pair.split('=') as [string, string];
      if (!/^[\w.]+$/.test(key) || !/^\w+$/.test(value)) throw new Error(`sysctl: unexpected ${pair}`);
      return `echo ${value} > /proc/sys/${key.replaceAll('.', '/')}`;
    })
    .join(' && ');
  return sh('ip', ['netns', 'exec', ns, 'sh', '-c', script]);
}

/**
 * The sysctls every namespace of ours gets before any interface exists in it: IPv6 duplicate address
 * detection off (addresses usable at once instead of "tentative" for ~1 s; `default` covers links
 * created or moved in later, `all` those already there).
 */
export const NO_DAD = ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.dad_transmits=0', 'net.ipv6.conf.default.dad_transmits=0'];

export class Netns {
  private readonly created: string[] = [];

  /** `prefix` names everything of this run (`<prefix>-<name>`), so a leftover is attributable. */
  constructor(readonly prefix: string) {}

  name(role: string): string {
    return `${this.prefix}-${role}`;
  }

  /** A fresh namespace with lo up and DAD off; fails if the name exists (not ours to reuse). */
  async add(role: string): Promise<string> {
    const ns = this.name(role);
    await sh('ip', ['netns', 'add', ns]);
    this.created.push(ns);
    await ipn(ns, 'link', 'set', 'lo', 'up');
    await sysctl(ns, ...NO_DAD);
    return ns;
  }

  /** veth pair `a`@nsA <-> `b`@nsB, both up (created in nsA, peer moved to nsB). */
  async veth(nsA: string, a: string, nsB: string, b: string): Promise<void> {
    await ipn(nsA, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', nsB);
    await ipn(nsA, 'link', 'set', a, 'up');
    await ipn(nsB, 'link', 'set', b, 'up');
  }

  /** A bridge `br` in `ns` (STP off, no forward delay: ports forward at once), up. */
  async bridge(ns: string, br = 'br0'): Promise<void> {
    await ipn(ns, 'link', 'add', br, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    await ipn(ns, 'link', 'set', br, 'up');
  }

  async attach(ns: string, port: string, br = 'br0'): Promise<void> {
    await ipn(ns, 'link', 'set', port, 'master', br, 'up');
  }

  async addr(ns: string, dev: string, ...cidrs: string[]): Promise<void> {
    for (const c of cidrs) await ipn(ns, 'addr', 'add', c, 'dev', dev, ...(c.includes(':') ? ['nodad'] : []));
  }

  /** Removes every namespace this registry created (their links go with them); never throws. */
  async teardown(): Promise<string[]> {
    const problems: string[] = [];
    for (const ns of this.created.splice(0).reverse()) {
      if (!existsSync(`/run/netns/${ns}`)) continue;
      await sh('ip', ['netns', 'del', ns]).catch((e: Error) => problems.push(e.message));
    }
    return problems;
  }
}
