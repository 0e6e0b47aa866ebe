// Spiderpool's annotation keys, label keys, finalizer and well-known values, verbatim from
// spidernet-io/spiderpool pkg/constant/k8s.go (and pkg/constant/ip.go). Users' manifests carry these
// strings, so they must match byte for byte; operator/test/crds/constants.test.ts pins them.

import { GROUP } from './types.js';

/** Go: AnnotationPre — prefix of every IPAM annotation and label (deprecated upstream, never removed). */
export const ANNOTATION_PREFIX = 'ipam.spidernet.io';
/** Go: CNIAnnotationPre. */
export const CNI_ANNOTATION_PREFIX = 'cni.spidernet.io';

// --- Pod annotations (Go: AnnoPod*) --------------------------------------------------------------

/** Go: AnnoPodIPPool — `{"interface":"eth0","ipv4":["p1"],"ipv6":["p2"]}` for one interface. */
export const ANNO_POD_IPPOOL = 'ipam.spidernet.io/ippool';
/** Go: AnnoPodIPPools — JSON array of the above, one per interface (takes precedence over ippool). */
export const ANNO_POD_IPPOOLS = 'ipam.spidernet.io/ippools';
/** Go: AnnoPodRoutes — JSON array of {dst, gw}. */
export const ANNO_POD_ROUTES = 'ipam.spidernet.io/routes';
/** Go: AnnoPodDNS. */
export const ANNO_POD_DNS = 'ipam.spidernet.io/dns';
/** Go: AnnoDefaultRouteInterface (coordinator). */
export const ANNO_DEFAULT_ROUTE_INTERFACE = 'ipam.spidernet.io/default-route-nic';

// --- Namespace annotations (Go: AnnoNSDefautlV4Pool / AnnoNSDefautlV6Pool, sic) ----------------

/** JSON array of pool names, e.g. `["ns-v4-pool"]`. */
export const ANNO_NS_DEFAULT_IPV4_IPPOOL = 'ipam.spidernet.io/default-ipv4-ippool';
export const ANNO_NS_DEFAULT_IPV6_IPPOOL = 'ipam.spidernet.io/default-ipv6-ippool';

// --- Workload (subnet manager / auto pool) annotations ------------------------------------------

/** Go: AnnoSpiderSubnet — `{"interface":"eth0","ipv4":["subnet-v4"],"ipv6":["subnet-v6"]}`. */
export const ANNO_SUBNET = 'ipam.spidernet.io/subnet';
/** Go: AnnoSpiderSubnets — JSON array of the above, one per interface. */
export const ANNO_SUBNETS = 'ipam.spidernet.io/subnets';
/** Go: AnnoSpiderSubnetPoolIPNumber — `N` (fixed size) or `+N` (replicas + N). */
export const ANNO_IPPOOL_IP_NUMBER = 'ipam.spidernet.io/ippool-ip-number';
/** Go: AnnoSpiderSubnetReclaimIPPool — `true`/`false`: delete the auto pool with its workload. */
export const ANNO_IPPOOL_RECLAIM = 'ipam.spidernet.io/ippool-reclaim';

// --- Labels Spiderpool puts on auto-created pools (Go: LabelIPPool*) ----------------------------

/** Go: LabelIPPoolReclaimIPPool — same string as the annotation. */
export const LABEL_IPPOOL_RECLAIM = 'ipam.spidernet.io/ippool-reclaim';
export const LABEL_IPPOOL_OWNER_SPIDER_SUBNET = 'ipam.spidernet.io/owner-spider-subnet';
export const LABEL_IPPOOL_OWNER_APPLICATION_GV = 'ipam.spidernet.io/owner-application-gv';
export const LABEL_IPPOOL_OWNER_APPLICATION_KIND = 'ipam.spidernet.io/owner-application-kind';
export const LABEL_IPPOOL_OWNER_APPLICATION_NAMESPACE = 'ipam.spidernet.io/owner-application-namespace';
export const LABEL_IPPOOL_OWNER_APPLICATION_NAME = 'ipam.spidernet.io/owner-application-name';
export const LABEL_IPPOOL_OWNER_APPLICATION_UID = 'ipam.spidernet.io/owner-application-uid';
export const LABEL_IPPOOL_INTERFACE = 'ipam.spidernet.io/interface';
export const LABEL_IPPOOL_IP_VERSION = 'ipam.spidernet.io/ip-version';
/** Values of {@link LABEL_IPPOOL_IP_VERSION} (Go: LabelValueIPVersionV4/V6). */
export const LABEL_VALUE_IP_VERSION_V4 = 'IPv4';
export const LABEL_VALUE_IP_VERSION_V6 = 'IPv6';
/**
 * Go: LabelIPPoolCIDR / LabelSubnetCIDR — the CIDR as a label value (Spiderpool's
 * CIDRToLabelValue replaces '.', ':' and '/' since those are not valid in label values).
 */
export const LABEL_IPPOOL_CIDR = 'ipam.spidernet.io/ippool-cidr';
export const LABEL_SUBNET_CIDR = 'ipam.spidernet.io/subnet-cidr';

// --- podAffinity matchLabels keys of auto pools (Go: AutoPoolPodAffinityApp*) -------------------

export const AUTO_POOL_POD_AFFINITY_APP_API_GROUP = 'ipam.spidernet.io/app-api-group';
export const AUTO_POOL_POD_AFFINITY_APP_API_VERSION = 'ipam.spidernet.io/app-api-version';
export const AUTO_POOL_POD_AFFINITY_APP_KIND = 'ipam.spidernet.io/app-kind';
export const AUTO_POOL_POD_AFFINITY_APP_NAMESPACE = 'ipam.spidernet.io/app-namespace';
export const AUTO_POOL_POD_AFFINITY_APP_NAME = 'ipam.spidernet.io/app-name';
/** Go: AutoPoolPodAffinities — the only matchLabels keys an auto pool's podAffinity may carry. */
export const AUTO_POOL_POD_AFFINITIES = [
  AUTO_POOL_POD_AFFINITY_APP_API_GROUP,
  AUTO_POOL_POD_AFFINITY_APP_API_VERSION,
  AUTO_POOL_POD_AFFINITY_APP_KIND,
  AUTO_POOL_POD_AFFINITY_APP_NAMESPACE,
  AUTO_POOL_POD_AFFINITY_APP_NAME,
] as const;

// --- Finalizer, kinds, misc ----------------------------------------------------------------------

/** Go: SpiderFinalizer = SpiderpoolAPIGroup. Spiderpool puts it on pools, subnets and endpoints. */
export const SPIDER_FINALIZER = GROUP;

/** Go: Kind* for the workloads the subnet manager (auto pools) understands. */
export const KIND_POD = 'Pod';
export const KIND_DEPLOYMENT = 'Deployment';
export const KIND_STATEFULSET = 'StatefulSet';
export const KIND_DAEMONSET = 'DaemonSet';
export const KIND_REPLICASET = 'ReplicaSet';
export const KIND_JOB = 'Job';
export const KIND_CRONJOB = 'CronJob';
export const KIND_UNKNOWN = 'Unknown';
/** Go: K8sKinds. */
export const K8S_KINDS = [
  KIND_POD,
  KIND_DEPLOYMENT,
  KIND_REPLICASET,
  KIND_DAEMONSET,
  KIND_STATEFULSET,
  KIND_JOB,
  KIND_CRONJOB,
] as const;

/** Go: ClusterDefaultInterfaceName. */
export const CLUSTER_DEFAULT_INTERFACE_NAME = 'eth0';

/** Go: SpecIPVersionField / SpecDefaultField — field selectors Spiderpool indexes pools by. */
export const SPEC_IP_VERSION_FIELD = 'spec.ipVersion';
export const SPEC_DEFAULT_FIELD = 'spec.default';

// --- Multus annotations Spiderpool reads (Go: Multus*) -------------------------------------------

export const MULTUS_DEFAULT_NET_ANNOT = 'v1.multus-cni.io/default-network';
export const MULTUS_NETWORK_ATTACHMENT_ANNOT = 'k8s.v1.cni.cncf.io/networks';
export const MULTUS_NETWORK_STATUS_ANNOT = 'k8s.v1.cni.cncf.io/network-status';
