// Pins the annotation/label keys and the finalizer to the strings in Spiderpool's pkg/constant/k8s.go:
// users' manifests carry them, so a typo here silently breaks compatibility.

import * as C from '../../src/api/v2beta1/constants.js';

describe('Spiderpool constants', () => {
  it('pod and namespace annotations', () => {
    expect(C.ANNO_POD_IPPOOL).toBe('ipam.spidernet.io/ippool');
    expect(C.ANNO_POD_IPPOOLS).toBe('ipam.spidernet.io/ippools');
    expect(C.ANNO_POD_ROUTES).toBe('ipam.spidernet.io/routes');
    expect(C.ANNO_POD_DNS).toBe('ipam.spidernet.io/dns');
    expect(C.ANNO_NS_DEFAULT_IPV4_IPPOOL).toBe('ipam.spidernet.io/default-ipv4-ippool');
    expect(C.ANNO_NS_DEFAULT_IPV6_IPPOOL).toBe('ipam.spidernet.io/default-ipv6-ippool');
  });

  it('workload (subnet manager) annotations', () => {
    expect(C.ANNO_SUBNET).toBe('ipam.spidernet.io/subnet');
    expect(C.ANNO_SUBNETS).toBe('ipam.spidernet.io/subnets');
    expect(C.ANNO_IPPOOL_IP_NUMBER).toBe('ipam.spidernet.io/ippool-ip-number');
    expect(C.ANNO_IPPOOL_RECLAIM).toBe('ipam.spidernet.io/ippool-reclaim');
  });

  it('auto-pool labels and their values', () => {
    expect(C.LABEL_IPPOOL_RECLAIM).toBe('ipam.spidernet.io/ippool-reclaim');
    expect(C.LABEL_IPPOOL_OWNER_SPIDER_SUBNET).toBe('ipam.spidernet.io/owner-spider-subnet');
    expect(C.LABEL_IPPOOL_OWNER_APPLICATION_GV).toBe('ipam.spidernet.io/owner-application-gv');
    expect(C.LABEL_IPPOOL_OWNER_APPLICATION_KIND).toBe('ipam.spidernet.io/owner-application-kind');
    expect(C.LABEL_IPPOOL_OWNER_APPLICATION_NAMESPACE).toBe('ipam.spidernet.io/owner-application-namespace');
    expect(C.LABEL_IPPOOL_OWNER_APPLICATION_NAME).toBe('ipam.spidernet.io/owner-application-name');
    expect(C.LABEL_IPPOOL_OWNER_APPLICATION_UID).toBe('ipam.spidernet.io/owner-application-uid');
    expect(C.LABEL_IPPOOL_INTERFACE).toBe('ipam.spidernet.io/interface');
    expect(C.LABEL_IPPOOL_IP_VERSION).toBe('ipam.spidernet.io/ip-version');
    expect([C.LABEL_VALUE_IP_VERSION_V4, C.LABEL_VALUE_IP_VERSION_V6]).toEqual(['IPv4', 'IPv6']);
    expect(C.LABEL_IPPOOL_CIDR).toBe('ipam.spidernet.io/ippool-cidr');
    expect(C.LABEL_SUBNET_CIDR).toBe('ipam.spidernet.io/subnet-cidr');
  });

  it('auto-pool podAffinity keys', () => {
    expect(C.AUTO_POOL_POD_AFFINITIES).toEqual([
      'ipam.spidernet.io/app-api-group',
      'ipam.spidernet.io/app-api-version',
      'ipam.spidernet.io/app-kind',
      'ipam.spidernet.io/app-namespace',
      'ipam.spidernet.io/app-name',
    ]);
  });

  it('finalizer, kinds and defaults', () => {
    expect(C.SPIDER_FINALIZER).toBe('spiderpool.spidernet.io');
    expect(C.K8S_KINDS).toEqual(['Pod', 'Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Job', 'CronJob']);
    expect(C.CLUSTER_DEFAULT_INTERFACE_NAME).toBe('eth0');
    expect(C.MULTUS_NETWORK_ATTACHMENT_ANNOT).toBe('k8s.v1.cni.cncf.io/networks');
    expect(C.MULTUS_DEFAULT_NET_ANNOT).toBe('v1.multus-cni.io/default-network');
  });

  it('every ipam.spidernet.io key is under the shared prefix', () => {
    for (const [name, v] of Object.entries(C)) {
      if (typeof v === 'string' && v.includes('spidernet.io/')) expect({ name, v, ok: v.startsWith(`${C.ANNOTATION_PREFIX}/`) }).toEqual({ name, v, ok: true });
    }
  });
});
