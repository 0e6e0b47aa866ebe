// The name of a workload's auto pool, byte-for-byte what Spiderpool generates
// (pkg/applicationcontroller/applicationinformers/utils.go AutoPoolName), so that an operator
// taking over a Spiderpool cluster finds the pools it already created:
//
//   auto{4|6}-{appName}-{ifName}-{first 5 chars of the UID's last dash-separated group}
//
// lowercased, the app name cut so the whole name fits a DNS-1123 subdomain (253 chars).
// Deliberate differences, all only for inputs where Spiderpool produces a name the API server
// rejects, or crashes: (1) Spiderpool budgets 7 fixed characters but "auto4" + three '-' is 8, so its
// longest names are 254 characters; we budget 8; (2) when the interface name alone is too long
// Spiderpool slices with a negative index (panic); we cut the interface name too; (3) characters a
// Kubernetes name cannot hold (an interface called `net_1`) become '-', and a cut that leaves a
// trailing '.' drops it.

import type { IPVersion } from '../../api/v2beta1/types.js';

export const MAX_POOL_NAME_LENGTH = 253; // k8svalidation.DNS1123SubdomainMaxLength
const UID_SUFFIX_LENGTH = 5;
/** "auto4" plus three '-' (Spiderpool counts 7 and so overshoots by one). */
const FIXED_PART_LENGTH = 8;

function sanitize(part: string): string {
  return part.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
}

export function uidSuffix(uid: string): string {
  const groups = uid.split('-');
  return (groups[groups.length - 1] ?? '').slice(0, UID_SUFFIX_LENGTH).toLowerCase();
}

export function autoPoolName(appName: string, ipVersion: IPVersion, ifName: string, appUID: string): string {
  const suffix = uidSuffix(appUID);
  const budget = MAX_POOL_NAME_LENGTH - suffix.length - FIXED_PART_LENGTH;
  let app = appName;
  let nic = ifName;
  if (app.length + nic.length > budget) {
    if (nic.length >= budget) nic = nic.slice(0, Math.max(1, Math.floor(budget / 2)));
    app = app.slice(0, budget - nic.length);
  }
  app = sanitize(app).replace(/\.+$/, '');
  nic = sanitize(nic);
  return `auto${ipVersion}-${app}-${nic}-${suffix}`;
}
