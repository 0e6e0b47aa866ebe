// The shim ↔ agent framing (ADR 0013): round trips, and hostile bytes answered with errors.
import fc from 'fast-check';
import { encodeStatusDetails, GrpcCode } from '../../operator/src/rpc/errors.js';
import { decodeRequest, decodeResponse, encodeError, encodeOk, encodeRequest, FrameReader, MAX_FRAME_BYTES } from '../src/agent/wire.js';
import { RpcError } from '../src/rpc-client.js';

const ALLOCATE = {
  containerId: 'c0ffee01',
  netns: '/var/run/netns/x',
  ifname: 'eth0',
  pod: { namespace: 'team-a', name: 'web-0', uid: '2b6f0c1e-5f2a-4d5e-9a51-0c1f2e3d4a5b' },
  nodeName: 'node-1',
  defaultIpv4Ippool: ['default-v4'],
  defaultIpv6Ippool: [],
  cleanGateway: true,
  requestId: 'r-1',
  networkName: 'macvlan-net',
};

function bodies(bytes: Buffer): Buffer[] {
  const out = new FrameReader().push(bytes);
  if (out instanceof RpcError) throw out;
  return out;
}

describe('agent wire format', () => {
  it('round-trips a request: method, deadline and protobuf message', () => {
    const [body, ...rest] = bodies(encodeRequest('allocate', ALLOCATE, 3000));
    expect(rest).toHaveLength(0);
    const req = decodeRequest(body!);
    expect(req).toEqual({ method: 'allocate', deadlineMs: 3000, request: expect.objectContaining(ALLOCATE) });
  });

  it('names GC "gc" on the wire and maps it back to the generated method', () => {
    const frame = encodeRequest('gC', { nodeName: 'node-1', networkName: 'n', validAttachments: [], requestId: '' }, 10);
    expect(frame.subarray(5, 7).toString()).toBe('gc');
    expect(decodeRequest(bodies(frame)[0]!)).toMatchObject({ method: 'gC', deadlineMs: 10 });
  });

  it('round-trips an answer and an error with its ErrorInfo detail', () => {
    const ok = decodeResponse('status', bodies(encodeOk('status', { ready: true, message: 'leader' }))[0]!);
    expect(ok).toEqual({ ready: true, message: 'leader' });
    const detail = { reason: 'not-leader', metadata: { leader: '10.0.0.7:9443' } };
    const err = decodeResponse('allocate', bodies(encodeError(new RpcError(GrpcCode.UNAVAILABLE, 'not the leader → ask', detail)))[0]!);
    expect(err).toBeInstanceOf(RpcError);
    expect({ ...(err as RpcError), message: (err as RpcError).message }).toEqual({ name: 'RpcError', code: 14, message: 'not the leader → ask', detail });
    const bare = decodeResponse('allocate', bodies(encodeError(new RpcError(GrpcCode.NOT_FOUND, 'gone')))[0]!) as RpcError;
    expect([bare.code, bare.message, bare.detail]).toEqual([5, 'gone', undefined]);
  });

  it('carries the same google.rpc.Status bytes as the grpc-status-details-bin trailer', () => {
    const detail = { reason: 'pool-exhausted', metadata: { pool: 'p' } };
    const frame = encodeError(new RpcError(GrpcCode.RESOURCE_EXHAUSTED, 'full', detail));
    expect(frame.subarray(5)).toEqual(encodeStatusDetails(GrpcCode.RESOURCE_EXHAUSTED, 'full', detail));
  });

  it('reassembles frames split anywhere and split several out of one chunk', () => {
    const a = encodeRequest('status', { nodeName: 'node-1' }, 1);
    const b = encodeRequest('check', { containerId: 'c', ifname: 'eth0', pod: undefined, nodeName: 'n', requestId: '' }, 2);
    const all = Buffer.concat([a, b]);
    for (let cut = 0; cut <= all.length; cut++) {
      const r = new FrameReader();
      const first = r.push(all.subarray(0, cut)) as Buffer[];
      const second = r.push(all.subarray(cut)) as Buffer[];
      const got = [...first, ...second].map((x) => (decodeRequest(x) as { method: string }).method);
      expect(got).toEqual(['status', 'check']);
      expect(r.pending).toBe(0);
    }
  });

  it('refuses a frame announced above the limit', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_FRAME_BYTES + 1);
    const err = new FrameReader().push(header);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect((err as RpcError).message).toMatch(/exceeds the 1048576-byte limit/);
  });

  it('answers malformed bodies with an error value, never a throw (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = decodeRequest(Buffer.from(bytes));
        if (r instanceof RpcError) expect([GrpcCode.INVALID_ARGUMENT, GrpcCode.UNIMPLEMENTED]).toContain(r.code);
        const res = decodeResponse('allocate', Buffer.from(bytes));
        expect(res).toBeDefined();
      }),
      { numRuns: 2000 },
    );
    expect((decodeRequest(Buffer.from([5, 0x6e, 0x6f])) as RpcError).message).toMatch(/too short/);
    expect((decodeRequest(Buffer.from([3, 0x66, 0x6f, 0x6f, 0, 0, 0, 1])) as RpcError).message).toMatch(/unknown method "foo"/);
  });
});
