// The bench's three data paths, side by side in namespaces of one run (`spbn-<run>-*`):
//   node to node   two "node" namespaces joined by one plain veth pair (their eth0s): the baseline;
//   macvlan pods   pods on those nodes with addresses from our pool (real operator + shim + Debian
//                  macvlan, bridge mode, master = the node's eth0): across the nodes, and two pods on
//                  one node (macvlan's internal bridge, no wire);
//   veth + bridge  two namespaces whose veths are ports of a Linux bridge in a third: one forwarding
//                  element in the path, as an overlay/bridge CNI has.
import { IpamPods, type NodeDef } from '../../tests/integration/dataplane/ipam-pods.js';
import type { Netns } from '../../tests/integration/dataplane/netns.js';

export interface BenchPath {
  id: string;
  /** The row label, in seed 004's words where they fit. */
  label: string;
  clientNs: string;
  serverNs: string;
  serverIp: string;
}

export const BASELINE = 'node-to-node';

export async function buildBenchPaths(net: Netns, run: string, work: string, log: (m: string) => void): Promise<{ paths: BenchPath[]; ipam: IpamPods }> {
  const n1 = await net.add('n1');
  const n2 = await net.add('n2');
  await net.veth(n1, 'eth0', n2, 'eth0');
  await net.addr(n1, 'eth0', '198.18.93.1/24');
  await net.addr(n2, 'eth0', '198.18.93.2/24');

  const bsw = await net.add('bsw');
  const ba = await net.add('ba');
  const bb = await net.add('bb');
  await net.bridge(bsw);
  await net.veth(bsw, 'p-a', ba, 'eth0');
  await net.veth(bsw, 'p-b', bb, 'eth0');
  await net.attach(bsw, 'p-a');
  await net.attach(bsw, 'p-b');
  await net.addr(ba, 'eth0', '198.18.94.1/24');
  await net.addr(bb, 'eth0', '198.18.94.2/24');

  const nodes: NodeDef[] = [
    { name: `bn-${run}-n1`, ns: n1 },
    { name: `bn-${run}-n2`, ns: n2 },
  ];
  const pool = `bn-${run}-v4`;
  const ipam = new IpamPods({ run, work, nodes, pools: [{ name: pool, subnet: '198.18.92.0/24', ips: ['198.18.92.10-198.18.92.40'], gateway: '198.18.92.1' }], ipv6: false, netns: net, log });
  await ipam.start();
  const annotations = { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: [pool] }) };
  const p1 = await ipam.addPod('p1', nodes[0]!, annotations);
  const p1b = await ipam.addPod('p1b', nodes[0]!, annotations);
  const p2 = await ipam.addPod('p2', nodes[1]!, annotations);

  const paths: BenchPath[] = [
    { id: BASELINE, label: 'node to node (veth pair)', clientNs: n1, serverNs: n2, serverIp: '198.18.93.2' },
    { id: 'macvlan-cross-node', label: 'Spiderpool-ts Pod on the same subnet based on macvlan, across nodes', clientNs: p1.netns, serverNs: p2.netns, serverIp: p2.ipv4! },
    { id: 'macvlan-same-node', label: 'Spiderpool-ts Pod on the same subnet based on macvlan, same node', clientNs: p1.netns, serverNs: p1b.netns, serverIp: p1b.ipv4! },
    { id: 'veth-bridge', label: 'veth + Linux bridge (overlay-like)', clientNs: ba, serverNs: bb, serverIp: '198.18.94.2' },
  ];
  return { paths, ipam };
}
