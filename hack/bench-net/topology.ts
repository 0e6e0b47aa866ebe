// The bench's three data paths, side by side in namespaces of one run (`spbn-<run>-*`):
//   node to node   two "node" namespaces joined by one plain veth pair (their eth0s): the baseline;
//   macvlan pods   pods on those nodes with addresses from our pool (real operator + shim + Debian
//                  macvlan, bridge mode, master = the node's eth0): across the nodes, and two pods on
//                  one node (macvlan's internal bridge, no wire);
//   macvlan pods across subnets
//                  a pod of a second pool (198.18.95.0/24) on node 1 to the pod on node 2, through a
//                  router namespace whose one interface is a macvlan on node 2's eth0 holding both
//                  pools' gateways (what the pool's gateway points at in an underlay: a router on the
//                  segment); seed 004's "across subnets" row;
//   veth + bridge  two namespaces whose veths are ports of a Linux bridge in a third: one forwarding
//                  element in the path, as an overlay/bridge CNI has.
import { IpamPods, type NodeDef } from '../../tests/integration/dataplane/ipam-pods.js';
import { ipn, type Netns, sysctl } from '../../tests/integration/dataplane/netns.js';

export interface BenchPath {
  id: string;
  /** The row label, in seed 004's words where they fit. */
  label: string;
  clientNs: string;
  serverNs: string;
  serverIp: string;
}

export const BASELINE = 'node-to-node';

/** `adopt` gets the IpamPods before it starts, so the caller can stop it even if a later step fails. */
export async function buildBenchPaths(net: Netns, run: string, work: string, log: (m: string) => void, adopt: (ipam: IpamPods) => void): Promise<BenchPath[]> {
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

  // The router: a macvlan of node 2's uplink moved into its own namespace; no ICMP redirects (it
  // routes between two subnets on one segment, and the path measured is the routed one).
  const rt = await net.add('rt');
  await sysctl(rt, 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.default.send_redirects=0');
  await ipn(n2, 'link', 'add', 'rt0', 'link', 'eth0', 'type', 'macvlan', 'mode', 'bridge');
  await ipn(n2, 'link', 'set', 'rt0', 'netns', rt);
  await ipn(rt, 'link', 'set', 'rt0', 'name', 'eth0');
  await ipn(rt, 'link', 'set', 'eth0', 'up');
  await sysctl(rt, 'net.ipv4.conf.eth0.send_redirects=0');
  await net.addr(rt, 'eth0', '198.18.92.1/24', '198.18.95.1/24');

  const nodes: NodeDef[] = [
    { name: `bn-${run}-n1`, ns: n1 },
    { name: `bn-${run}-n2`, ns: n2 },
  ];
  const pool = `bn-${run}-v4`;
  const otherPool = `bn-${run}-x4`;
  const pools = [
    { name: pool, subnet: '198.18.92.0/24', ips: ['198.18.92.10-198.18.92.40'], gateway: '198.18.92.1' },
    { name: otherPool, subnet: '198.18.95.0/24', ips: ['198.18.95.10-198.18.95.40'], gateway: '198.18.95.1' },
  ];
  const ipam = new IpamPods({ run, work, nodes, pools, ipv6: false, netns: net, log });
  adopt(ipam);
  await ipam.start();
  const annotations = { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: [pool] }) };
  const p1 = await ipam.addPod('p1', nodes[0]!, annotations);
  const p1b = await ipam.addPod('p1b', nodes[0]!, annotations);
  const p2 = await ipam.addPod('p2', nodes[1]!, annotations);
  const p3 = await ipam.addPod('p3', nodes[0]!, { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: [otherPool] }) });

  const paths: BenchPath[] = [
    { id: BASELINE, label: 'node to node (veth pair)', clientNs: n1, serverNs: n2, serverIp: '198.18.93.2' },
    { id: 'macvlan-cross-node', label: 'Spiderpool-ts Pod on the same subnet based on macvlan, across nodes', clientNs: p1.netns, serverNs: p2.netns, serverIp: p2.ipv4! },
    { id: 'macvlan-same-node', label: 'Spiderpool-ts Pod on the same subnet based on macvlan, same node', clientNs: p1.netns, serverNs: p1b.netns, serverIp: p1b.ipv4! },
    { id: 'macvlan-cross-subnet', label: 'Spiderpool-ts Pod across subnets based on macvlan (router namespace), across nodes', clientNs: p3.netns, serverNs: p2.netns, serverIp: p2.ipv4! },
    { id: 'veth-bridge', label: 'veth + Linux bridge (overlay-like)', clientNs: ba, serverNs: bb, serverIp: '198.18.94.2' },
  ];
  return paths;
}
