// The connectivity suite's network: a "switch" namespace holding bridge br0; two simulated nodes whose
// eth0 is a veth port on it (macvlan's master, as a node's uplink NIC); and a router namespace on the
// same switch holding each subnet's gateway address (router-on-a-stick), forwarding IPv4 and IPv6
// between the subnets. Everything lives in namespaces `Netns` creates, removed by its teardown.
import { type Netns, sysctl } from './netns.js';

export interface Subnet {
  /** e.g. 198.18.90.0/24 */
  v4: string;
  /** the router's (and the pool's gateway) address, e.g. 198.18.90.1 */
  gw4: string;
  v6: string;
  gw6: string;
}

export interface SwitchedTopology {
  switchNs: string;
  routerNs: string;
  /** node role -> namespace */
  nodes: Map<string, string>;
}

const prefixLen = (cidr: string): string => cidr.split('/')[1]!;

export async function buildSwitchedTopology(net: Netns, nodeRoles: readonly string[], subnets: readonly Subnet[]): Promise<SwitchedTopology> {
  const switchNs = await net.add('sw');
  await net.bridge(switchNs);
  const nodes = new Map<string, string>();
  for (const role of nodeRoles) {
    const ns = await net.add(role);
    await net.veth(switchNs, `p-${role}`, ns, 'eth0');
    await net.attach(switchNs, `p-${role}`);
    nodes.set(role, ns);
  }
  const routerNs = await net.add('rt');
  await net.veth(switchNs, 'p-rt', routerNs, 'eth0');
  await net.attach(switchNs, 'p-rt');
  for (const s of subnets) await net.addr(routerNs, 'eth0', `${s.gw4}/${prefixLen(s.v4)}`, `${s.gw6}/${prefixLen(s.v6)}`);
  await sysctl(routerNs, 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
  return { switchNs, routerNs, nodes };
}
