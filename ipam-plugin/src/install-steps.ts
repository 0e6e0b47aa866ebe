// The plugin installer's steps, pure or file-only so they are unit-tested (ipam-plugin/test/install.test.ts);
// install.ts runs them in the DaemonSet pod. Every error names the variable or file and the fix.
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';

export type StepResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Variables a CNI config template may use, as `${NAME}`. */
export const TEMPLATE_VARIABLES = ['NODE_NAME', 'OPERATOR_ENDPOINT', 'TLS_SERVER_NAME', 'CERT_DIR'] as const;
export type TemplateVars = Record<(typeof TEMPLATE_VARIABLES)[number], string>;

/**
 * Fills `${NAME}` placeholders; an unknown placeholder is an error (a typo would otherwise reach the
 * runtime as a literal). The result must be JSON with a `plugins` list or an `ipam` section whose type
 * is our shim, so a wrong template never reaches /etc/cni/net.d.
 */
export function renderCniConfig(template: string, vars: TemplateVars, shimType = 'spiderpool-ts-ipam'): StepResult<string> {
  const unknown = new Set<string>();
  const text = template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
    if ((TEMPLATE_VARIABLES as readonly string[]).includes(name)) return JSON.stringify(vars[name as keyof TemplateVars]).slice(1, -1);
    unknown.add(name);
    return whole;
  });
  if (unknown.size > 0) return { ok: false, error: `CNI config template: unknown placeholder(s) ${[...unknown].map((n) => `\${${n}}`).join(', ')}; known: ${TEMPLATE_VARIABLES.map((n) => `\${${n}}`).join(', ')}` };
  let conf: { plugins?: { ipam?: { type?: string } }[]; ipam?: { type?: string } };
  try {
    conf = JSON.parse(text) as typeof conf;
  } catch (e) {
    return { ok: false, error: `CNI config template: not JSON after substitution: ${(e as Error).message}` };
  }
  const ipamTypes = [conf.ipam?.type, ...(conf.plugins ?? []).map((p) => p?.ipam?.type)].filter(Boolean);
  if (!ipamTypes.includes(shimType)) return { ok: false, error: `CNI config template: no plugin has "ipam": {"type": "${shimType}"} (found ${JSON.stringify(ipamTypes)})` };
  return { ok: true, value: `${JSON.stringify(conf, null, 2)}\n` };
}

/**
 * host:port of a port of the operator's Service from the variables the kubelet injects for a Service
 * of the pod's namespace that existed when the pod started: <NAME>_SERVICE_HOST (the ClusterIP, which
 * kube-proxy serves on the host too) and <NAME>_SERVICE_PORT_<PORT NAME>. No DNS: on a node being
 * installed, cluster DNS may not run yet (its pods need this very IPAM).
 */
export function serviceAddress(env: NodeJS.ProcessEnv, service: string, portName: string): StepResult<string> {
  const prefix = service.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const port = portName.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const host = env[`${prefix}_SERVICE_HOST`]?.trim();
  const number = env[`${prefix}_SERVICE_PORT_${port}`]?.trim();
  if (!host || !number) {
    return {
      ok: false,
      error: `${prefix}_SERVICE_HOST/${prefix}_SERVICE_PORT_${port} are not set: the Service ${service} (with a port named ${portName}) did not exist when this pod started (the pod restarts and gets them)`,
    };
  }
  return { ok: true, value: isIP(host) === 6 ? `[${host}]:${number}` : `${host}:${number}` };
}

/** The shim's operator_endpoint: OPERATOR_ENDPOINT, else the Service's `grpc` port. */
export function operatorEndpoint(env: NodeJS.ProcessEnv, service: string): StepResult<string> {
  const explicit = env.OPERATOR_ENDPOINT?.trim();
  if (explicit) return { ok: true, value: explicit };
  const r = serviceAddress(env, service, 'grpc');
  return r.ok ? r : { ok: false, error: `${r.error}; or set OPERATOR_ENDPOINT=host:port` };
}

/** The /enroll URL: SPIDERPOOL_TS_ENROLL_URL, else https://<the Service's `enroll` port>. */
export function enrollUrl(env: NodeJS.ProcessEnv, service: string): StepResult<string> {
  const explicit = env.SPIDERPOOL_TS_ENROLL_URL?.trim();
  if (explicit) return { ok: true, value: explicit };
  const r = serviceAddress(env, service, 'enroll');
  return r.ok ? { ok: true, value: `https://${r.value}` } : { ok: false, error: `${r.error}; or set SPIDERPOOL_TS_ENROLL_URL=https://host:port` };
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * Writes `data` as dir/name unless it already holds exactly that: a temporary file in the same
 * directory, then rename, so a runtime never executes or reads a half-written file.
 */
export async function installFile(dir: string, name: string, data: Buffer | string, mode: number): Promise<StepResult<'written' | 'unchanged'>> {
  const path = join(dir, name);
  try {
    const current = await readFile(path).catch(() => undefined);
    if (current && sha256(current) === sha256(data)) return { ok: true, value: 'unchanged' };
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${name}.tmp-${process.pid}`);
    await writeFile(tmp, data, { mode });
    await chmod(tmp, mode); // the umask must not narrow an executable
    await rename(tmp, path);
    return { ok: true, value: 'written' };
  } catch (e) {
    return { ok: false, error: `${path}: ${(e as Error).message}` };
  }
}
