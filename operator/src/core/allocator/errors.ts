/** claim() of an address the pool cannot hand out (outside ips, or excluded, reserved, the gateway). */
export class IPNotInPoolError extends Error {
  override readonly name = 'IPNotInPoolError';

  constructor(readonly ip: string) {
    super(`IP ${ip} is not allocatable in this pool (outside spec.ips, or excluded, reserved or the gateway)`);
  }
}

/**
 * resize() would leave held addresses outside the pool. Refused rather than dropped: an address in use
 * must stay accounted for until its pod releases it.
 */
export class ResizeConflictError extends Error {
  override readonly name = 'ResizeConflictError';

  constructor(readonly ips: readonly string[]) {
    const shown = ips.slice(0, 20).join(', ');
    const more = ips.length > 20 ? ` and ${ips.length - 20} more` : '';
    super(`cannot remove ${ips.length} allocated IP(s) from the pool: ${shown}${more}`);
  }
}
