// Shape checks for the identity fields of an RPC. They end up inside IPAMBlock entries (one
// space-separated string per address, ADR 0005), in SpiderEndpoints and in logs; the calling node is
// authenticated, but what it sends is not trusted to be well-formed. Each field is held to the shape
// its real source guarantees, and a violation is an INVALID_ARGUMENT naming the field and the form.
import { invalidArgument } from './errors.js';

// CNI spec: "alphanumeric, underscore, hyphen or period, starting with an alphanumeric".
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// Linux dev_valid_name: 1-15 bytes, not "." or "..", no "/", ":" or whitespace.
const IFNAME = /^[^/:\s]{1,15}$/;
// Kubernetes: node and pod names are DNS subdomains, namespaces DNS labels.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// Object UIDs are UUIDs; accept any token without whitespace of a sane length.
const UID = /^[A-Za-z0-9_.:-]{1,128}$/;

type Kind = 'containerId' | 'ifname' | 'node' | 'podName' | 'namespace' | 'uid';

const FORMS: Record<Kind, { test: (v: string) => boolean; form: string }> = {
  containerId: { test: (v) => v.length <= 1024 && CONTAINER_ID.test(v), form: 'letters, digits, "_", "-" and "." starting with a letter or digit (CNI_CONTAINERID)' },
  ifname: { test: (v) => IFNAME.test(v) && v !== '.' && v !== '..', form: 'a Linux interface name: 1-15 characters, no "/", ":" or whitespace (CNI_IFNAME)' },
  node: { test: (v) => DNS_SUBDOMAIN.test(v), form: 'a Kubernetes node name (DNS subdomain)' },
  podName: { test: (v) => DNS_SUBDOMAIN.test(v), form: 'a Kubernetes pod name (DNS subdomain)' },
  namespace: { test: (v) => DNS_LABEL.test(v), form: 'a Kubernetes namespace name (DNS label)' },
  uid: { test: (v) => UID.test(v), form: 'a Kubernetes object UID' },
};

/** Throws INVALID_ARGUMENT when `value` is empty or not of `kind`'s form. */
export function requireField(value: string | undefined, field: string, kind: Kind): void {
  if (!value) throw invalidArgument(field);
  checkField(value, field, kind);
}

/** Like requireField, but an empty value is allowed (optional fields, e.g. a DEL without CNI_ARGS). */
export function checkField(value: string | undefined, field: string, kind: Kind): void {
  if (!value) return;
  const f = FORMS[kind];
  if (!f.test(value)) throw invalidArgument(field, `${JSON.stringify(value.slice(0, 80))} is not ${f.form}`);
}
