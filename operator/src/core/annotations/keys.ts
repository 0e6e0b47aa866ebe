// Annotation and label keys this core reads or writes, spelled exactly as Spiderpool's pkg/constant/k8s.go
// spells them. Temporary home: the lead merges these into operator/src/api/v2beta1/constants.ts.

const PRE = 'ipam.spidernet.io';

// Pod annotations (pool selection, routes).
export const ANNO_POD_IPPOOL = `${PRE}/ippool`;
export const ANNO_POD_IPPOOLS = `${PRE}/ippools`;
export const ANNO_POD_ROUTES = `${PRE}/routes`;

// Namespace annotations (namespace default pools).
export const ANNO_NS_DEFAULT_IPV4_IPPOOL = `${PRE}/default-ipv4-ippool`;
export const ANNO_NS_DEFAULT_IPV6_IPPOOL = `${PRE}/default-ipv6-ippool`;

// Workload (pod template) annotations of the SpiderSubnet / auto-pool feature.
export const ANNO_SUBNET = `${PRE}/subnet`;
export const ANNO_SUBNETS = `${PRE}/subnets`;
export const ANNO_IPPOOL_IP_NUMBER = `${PRE}/ippool-ip-number`;
export const ANNO_IPPOOL_RECLAIM = `${PRE}/ippool-reclaim`;

// Labels Spiderpool puts on auto-created pools (pkg/subnetmanager ReconcileAutoIPPool).
export const LABEL_IPPOOL_RECLAIM = ANNO_IPPOOL_RECLAIM;
export const LABEL_OWNER_SPIDER_SUBNET = `${PRE}/owner-spider-subnet`;
export const LABEL_OWNER_APPLICATION_GV = `${PRE}/owner-application-gv`;
export const LABEL_OWNER_APPLICATION_KIND = `${PRE}/owner-application-kind`;
export const LABEL_OWNER_APPLICATION_NAMESPACE = `${PRE}/owner-application-namespace`;
export const LABEL_OWNER_APPLICATION_NAME = `${PRE}/owner-application-name`;
export const LABEL_OWNER_APPLICATION_UID = `${PRE}/owner-application-uid`;
export const LABEL_IPPOOL_INTERFACE = `${PRE}/interface`;
export const LABEL_IPPOOL_IP_VERSION = `${PRE}/ip-version`;
export const LABEL_IPPOOL_CIDR = `${PRE}/ippool-cidr`;
export const LABEL_SUBNET_CIDR = `${PRE}/subnet-cidr`;
export const LABEL_VALUE_IPV4 = 'IPv4';
export const LABEL_VALUE_IPV6 = 'IPv6';

// matchLabels keys of an auto pool's spec.podAffinity (constant.AutoPoolPodAffinity*).
export const AUTO_POOL_AFFINITY_APP_API_GROUP = `${PRE}/app-api-group`;
export const AUTO_POOL_AFFINITY_APP_API_VERSION = `${PRE}/app-api-version`;
export const AUTO_POOL_AFFINITY_APP_KIND = `${PRE}/app-kind`;
export const AUTO_POOL_AFFINITY_APP_NAMESPACE = `${PRE}/app-namespace`;
export const AUTO_POOL_AFFINITY_APP_NAME = `${PRE}/app-name`;

// Multus annotations read to find the network an interface belongs to (constant.Multus*).
export const ANNO_MULTUS_DEFAULT_NETWORK = 'v1.multus-cni.io/default-network';
export const ANNO_MULTUS_NETWORKS = 'k8s.v1.cni.cncf.io/networks';

/** Spiderpool's constant.ClusterDefaultInterfaceName: the first NIC. */
export const CLUSTER_DEFAULT_INTERFACE = 'eth0';
