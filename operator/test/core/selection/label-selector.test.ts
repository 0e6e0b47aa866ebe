import { evaluateLabelSelector } from '../../../src/core/selection/index.js';

const labels = { app: 'web', tier: 'front' };

describe('label selector', () => {
  it('empty selector matches everything, including no labels', () => {
    expect(evaluateLabelSelector({}, labels)).toEqual({ valid: true, matches: true });
    expect(evaluateLabelSelector({}, undefined)).toEqual({ valid: true, matches: true });
  });
  it.each([
    [{ matchLabels: { app: 'web' } }, true],
    [{ matchLabels: { app: 'web', tier: 'back' } }, false],
    [{ matchLabels: { missing: '' } }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'In' as const, values: ['web', 'api'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'In' as const, values: ['api'] }] }, false],
    [{ matchExpressions: [{ key: 'nope', operator: 'In' as const, values: ['x'] }] }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn' as const, values: ['api'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn' as const, values: ['web'] }] }, false],
    [{ matchExpressions: [{ key: 'nope', operator: 'NotIn' as const, values: ['x'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' as const }] }, true],
    [{ matchExpressions: [{ key: 'nope', operator: 'Exists' as const }] }, false],
    [{ matchExpressions: [{ key: 'nope', operator: 'DoesNotExist' as const }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' as const }] }, false],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['back'] }] }, false],
  ])('%j → %s', (sel, matches) => {
    expect(evaluateLabelSelector(sel, labels)).toEqual({ valid: true, matches });
  });
  it.each([
    [{ key: 'a', operator: 'In', values: [] }, 'In requirement on "a" has no values'],
    [{ key: 'a', operator: 'NotIn' }, 'NotIn requirement on "a" has no values'],
    [{ key: 'a', operator: 'Exists', values: ['x'] }, 'Exists requirement on "a" must not have values'],
    [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }, 'DoesNotExist requirement on "a" must not have values'],
    [{ key: 'a', operator: 'Gt', values: ['1'] }, 'unknown operator "Gt" on "a"'],
  ])('invalid requirement %j', (req, reason) => {
    expect(evaluateLabelSelector({ matchExpressions: [req as never] }, labels)).toEqual({ valid: false, reason });
  });
});
