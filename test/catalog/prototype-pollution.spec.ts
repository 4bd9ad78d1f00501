import { afterEach, describe, expect, it } from '@jest/globals';

import { LocalizationCompletedPayload, LocalizedVideo, TopicApprovedPayload, validatePayload } from '../../lib/catalog/index.js';
import { SPEC_TOPIC_APPROVED, validPayloads } from './payload-fixtures.js';
import { errorPaths, expectInvalid, expectValid } from './result-helpers.js';

const ATTACK_KEYS = '"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}';

/** JSON text of `payload` with the attack keys inserted before its own fields. */
function withAttackKeys(payload: object): string {
  return `{${ATTACK_KEYS},${JSON.stringify(payload).slice(1)}`;
}

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
}

describe('validatePayload with prototype pollution keys', () => {
  afterEach(() => {
    // Keeps one failure from leaking into later tests in this worker.
    delete (Object.prototype as Record<string, unknown>).polluted;
  });

  it('parses the attack keys as own properties', () => {
    const parsed = JSON.parse(withAttackKeys(SPEC_TOPIC_APPROVED)) as object;

    expect(Object.keys(parsed)).toEqual(expect.arrayContaining(['__proto__', 'constructor']));
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it('keeps prototypes clean at the top level', () => {
    const parsed: unknown = JSON.parse(withAttackKeys(SPEC_TOPIC_APPROVED));

    const value = expectValid(validatePayload(TopicApprovedPayload, parsed));

    expectNoPollution();
    expect(Object.getPrototypeOf(value)).toBe(TopicApprovedPayload.prototype);
    expect(value.constructor).toBe(TopicApprovedPayload);
    expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(value, 'constructor')).toBe(false);
    expect(value).not.toHaveProperty('polluted');
    expect(TopicApprovedPayload.prototype).not.toHaveProperty('polluted');
    expect(Object.keys(value).sort()).toEqual(Object.keys(SPEC_TOPIC_APPROVED).sort());
  });

  it('keeps prototypes clean in nested objects', () => {
    const payload = validPayloads()['localization.completed'];
    const [first, second] = payload.localizations;
    const json = `{"topicId":"123","mediaId":"med-1","stage":1,"localizations":[${withAttackKeys(first!)},${JSON.stringify(second)}]}`;

    const value = expectValid(validatePayload(LocalizationCompletedPayload, JSON.parse(json)));

    expectNoPollution();
    const item = value.localizations[0];
    expect(Object.getPrototypeOf(item)).toBe(LocalizedVideo.prototype);
    expect(Object.prototype.hasOwnProperty.call(item, '__proto__')).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(item, 'constructor')).toBe(false);
    expect(LocalizedVideo.prototype).not.toHaveProperty('polluted');
  });

  it('keeps prototypes clean for an invalid payload', () => {
    const parsed: unknown = JSON.parse(withAttackKeys({ ...SPEC_TOPIC_APPROVED, estimatedCPM: -1 }));

    const errors = expectInvalid(validatePayload(TopicApprovedPayload, parsed));

    expectNoPollution();
    expect(errorPaths(errors)).toEqual(['estimatedCPM']);
  });

  it('keeps prototypes clean for computed __proto__ keys in literals', () => {
    // A computed key creates an own property, unlike `__proto__: value` in a literal.
    const literal = { ...SPEC_TOPIC_APPROVED, ['__proto__']: { polluted: true } };

    const value = expectValid(validatePayload(TopicApprovedPayload, literal));

    expectNoPollution();
    expect(Object.getPrototypeOf(value)).toBe(TopicApprovedPayload.prototype);
    expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).toBe(false);
  });
});
