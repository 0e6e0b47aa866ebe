// admission.k8s.io/v1 AdmissionReview: the request the apiserver sends and the answers we give.
// A refusal carries every field error as `<field>: <reason>` in status.message (what kubectl prints)
// and as status.details.causes (what clients can parse).
import { type FieldError, fieldMessage } from './footprint.js';

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  name?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string; details?: { causes: { field: string; message: string; reason: string }[] } };
  patchType?: 'JSONPatch';
  /** base64 of a JSON Patch */
  patch?: string;
  warnings?: string[];
}

/** What a handler decides; the server adds the uid. */
export type Verdict =
  | { allowed: true; patch?: JsonPatchOp[]; warnings?: string[] }
  | { allowed: false; errors: FieldError[]; code?: number; reason?: string };

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

export const allow = (patch?: JsonPatchOp[]): Verdict => (patch && patch.length > 0 ? { allowed: true, patch } : { allowed: true });

export const deny = (errors: FieldError[]): Verdict => ({ allowed: false, errors });

/** The webhook could not decide (the registry is unreachable): refuse, and say to retry. */
export const unavailable = (why: string): Verdict => ({
  allowed: false,
  code: 503,
  reason: 'ServiceUnavailable',
  errors: [{ field: 'metadata', message: `admission could not be decided: ${why}; retry` }],
});

export function toResponse(uid: string, kind: string, name: string | undefined, v: Verdict): AdmissionResponse {
  if (v.allowed) {
    return {
      uid,
      allowed: true,
      ...(v.patch ? { patchType: 'JSONPatch' as const, patch: Buffer.from(JSON.stringify(v.patch)).toString('base64') } : {}),
      ...(v.warnings && v.warnings.length > 0 ? { warnings: v.warnings } : {}),
    };
  }
  const what = `${kind} ${name ?? ''}`.trim();
  return {
    uid,
    allowed: false,
    status: {
      code: v.code ?? 422,
      reason: v.reason ?? 'Invalid',
      message: `${what} refused: ${v.errors.map(fieldMessage).join('; ')}`,
      details: { causes: v.errors.map((e) => ({ field: e.field, message: e.message, reason: 'FieldValueForbidden' })) },
    },
  };
}

/** JSON Pointer escaping of one path segment (RFC 6901). */
export const pointer = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');
