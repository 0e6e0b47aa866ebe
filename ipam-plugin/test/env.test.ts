import { CniCode, CniError } from '../src/cni/errors.js';
import { parseCniArgs, parseEnv } from '../src/cni/env.js';

const ADD = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/var/run/netns/cni-1',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0;K8S_POD_UID=uid-1;K8S_POD_INFRA_CONTAINER_ID=abc123',
};

function errorOf(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('expected a CniError');
}

describe('parseEnv', () => {
  it('reads every variable of an ADD', () => {
    expect(parseEnv(ADD)).toEqual({
      command: 'ADD',
      containerId: 'abc123',
      netns: '/var/run/netns/cni-1',
      ifname: 'eth0',
      path: ['/opt/cni/bin', '/usr/lib/cni'],
      pod: { namespace: 'ns1', name: 'web-0', uid: 'uid-1', infraContainerId: 'abc123' },
    });
  });

  it.each([
    [{ CNI_COMMAND: undefined }, /^CNI_COMMAND is not set/],
    [{ CNI_COMMAND: 'add' }, /^CNI_COMMAND "add" is not one of ADD, DEL, CHECK, VERSION, GC, STATUS/],
    [{ CNI_CONTAINERID: '' }, /^CNI_CONTAINERID is not set \(required for ADD\)/],
    [{ CNI_NETNS: undefined }, /^CNI_NETNS is not set/],
    [{ CNI_IFNAME: undefined }, /^CNI_IFNAME is not set/],
    [{ CNI_PATH: '' }, /^CNI_PATH is not set/],
    [{ CNI_CONTAINERID: '-abc' }, /^CNI_CONTAINERID "-abc" must be alphanumerics/],
    [{ CNI_CONTAINERID: 'a/b' }, /^CNI_CONTAINERID "a\/b"/],
    [{ CNI_IFNAME: 'averyveryverylongname' }, /^CNI_IFNAME "averyveryverylongname" is longer than 15 bytes/],
    [{ CNI_IFNAME: 'eth 0' }, /^CNI_IFNAME "eth 0" is not a valid interface name/],
    [{ CNI_ARGS: 'K8S_POD_NAMESPACE=a;K8S_POD_NAME=b' }, /^CNI_ARGS: K8S_POD_UID is missing or empty \(required for ADD\)/],
    [{ CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=b;K8S_POD_UID=u' }, /^CNI_ARGS: K8S_POD_NAMESPACE is missing/],
    [{ CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=a;K8S_POD_NAME=;K8S_POD_UID=u' }, /^CNI_ARGS: K8S_POD_NAME is missing or empty/],
    [{ CNI_ARGS: 'K8S_POD_NAMESPACE=a;bogus' }, /^CNI_ARGS: item 1 "bogus" is not KEY=VALUE/],
    [{ CNI_ARGS: 'K8S_POD_NAMESPACE=a;K8S_POD_NAMESPACE=b' }, /^CNI_ARGS: K8S_POD_NAMESPACE is given twice/],
    [{ CNI_ARGS: 'K8S_POD_NAMESPACE=a;K8S_POD_NAME=b;K8S_POD_UID=u;FOO=1' }, /^CNI_ARGS: unknown key FOO \(set IgnoreUnknown=1/],
    [{ CNI_ARGS: 'IgnoreUnknown=maybe;K8S_POD_NAMESPACE=a' }, /^CNI_ARGS: IgnoreUnknown "maybe" is not a boolean/],
  ])('%j → code 4: %s', (patch, message) => {
    const err = errorOf(() => parseEnv({ ...ADD, ...patch }));
    expect(err.code).toBe(CniCode.InvalidEnv);
    expect(err.message).toMatch(message);
  });

  it('accepts unknown CNI_ARGS keys with IgnoreUnknown=1 or true', () => {
    expect(parseCniArgs('IgnoreUnknown=true;FOO=bar').get('FOO')).toBe('bar');
    expect(parseCniArgs('IgnoreUnknown=1;FOO=a=b').get('FOO')).toBe('a=b');
  });

  it('lets DEL through without netns or pod identity (it must never block sandbox removal)', () => {
    const env = parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'abc', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' });
    expect(env.netns).toBe('');
    expect(env.pod).toEqual({ namespace: '', name: '', uid: '', infraContainerId: '' });
  });

  it('still needs the container id and interface for DEL', () => {
    expect(errorOf(() => parseEnv({ CNI_COMMAND: 'DEL', CNI_IFNAME: 'eth0', CNI_PATH: '/x' })).message).toMatch(/^CNI_CONTAINERID is not set \(required for DEL\)/);
    expect(errorOf(() => parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'a', CNI_PATH: '/x' })).message).toMatch(/^CNI_IFNAME is not set \(required for DEL\)/);
  });

  it('needs pod namespace and name for CHECK, not the UID', () => {
    const env = parseEnv({ ...ADD, CNI_COMMAND: 'CHECK', CNI_ARGS: 'K8S_POD_NAMESPACE=a;K8S_POD_NAME=b' });
    expect(env.pod.uid).toBe('');
    expect(errorOf(() => parseEnv({ ...ADD, CNI_COMMAND: 'CHECK', CNI_ARGS: 'K8S_POD_NAMESPACE=a' })).message).toMatch(/^CNI_ARGS: K8S_POD_NAME is missing/);
  });

  it('needs only CNI_PATH for GC and STATUS', () => {
    expect(parseEnv({ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }).command).toBe('GC');
    expect(errorOf(() => parseEnv({ CNI_COMMAND: 'STATUS' })).message).toMatch(/^CNI_PATH is not set \(required for STATUS\)/);
  });
});
