// Reads from the API where 404 is an answer: undefined for a missing object, an Error naming what was
// read (cause kept) for anything else; a StatefulSet being deleted counts as gone.
import { ApiException, type AppsV1Api, type CoreV1Api, type V1StatefulSet } from '@kubernetes/client-node';
import { readLiveStatefulSet, readPod, unlessNotFound } from '../../src/framework/api-reads.js';

const apiError = (code: number) => new ApiException(code, `HTTP-Code: ${code}`, '{}', {});

describe('unlessNotFound', () => {
  it('passes the value through', async () => {
    await expect(unlessNotFound('reading x', async () => 7)).resolves.toBe(7);
  });

  it('404 is undefined', async () => {
    await expect(unlessNotFound('reading x', () => Promise.reject(apiError(404)))).resolves.toBeUndefined();
  });

  it('any other failure names what was read and keeps the cause', async () => {
    const cause = apiError(500);
    const err = await unlessNotFound('reading x', () => Promise.reject(cause)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`reading x: ${cause.message}`);
    expect((err as Error).cause).toBe(cause);
    await expect(unlessNotFound('reading y', () => Promise.reject('boom'))).rejects.toThrow('reading y: boom');
  });
});

describe('readPod / readLiveStatefulSet', () => {
  it('reads the named pod; a missing one is undefined; an error names the pod', async () => {
    const asked: unknown[] = [];
    const core = {
      readNamespacedPod: async (r: { namespace: string; name: string }) => {
        asked.push(r);
        if (r.name === 'gone') throw apiError(404);
        if (r.name === 'bad') throw apiError(403);
        return { metadata: r };
      },
    } as unknown as CoreV1Api;
    await expect(readPod(core, 'ns', 'web-0')).resolves.toEqual({ metadata: { namespace: 'ns', name: 'web-0' } });
    await expect(readPod(core, 'ns', 'gone')).resolves.toBeUndefined();
    await expect(readPod(core, 'ns', 'bad')).rejects.toThrow(/^reading pod ns\/bad: /);
    expect(asked[0]).toEqual({ namespace: 'ns', name: 'web-0' });
  });

  it('a StatefulSet being deleted or missing is undefined; an error names it', async () => {
    const sets: Record<string, V1StatefulSet> = {
      db: { metadata: { name: 'db' }, spec: { replicas: 3 } as V1StatefulSet['spec'] },
      dying: { metadata: { name: 'dying', deletionTimestamp: new Date() } },
    };
    const apps = {
      readNamespacedStatefulSet: async ({ name }: { name: string }) => {
        if (name === 'bad') throw apiError(500);
        const s = sets[name];
        if (s === undefined) throw apiError(404);
        return s;
      },
    } as unknown as AppsV1Api;
    await expect(readLiveStatefulSet(apps, 'ns', 'db')).resolves.toBe(sets.db);
    await expect(readLiveStatefulSet(apps, 'ns', 'dying')).resolves.toBeUndefined();
    await expect(readLiveStatefulSet(apps, 'ns', 'none')).resolves.toBeUndefined();
    await expect(readLiveStatefulSet(apps, 'ns', 'bad')).rejects.toThrow(/^reading statefulset ns\/bad: /);
  });
});
