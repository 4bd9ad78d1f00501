import { describe, expect, it } from '@jest/globals';
import { IsString } from 'class-validator';

import {
  BUILT_IN_EVENT_DEFINITIONS,
  EventRegistry,
  EventRegistryError,
  TopicApprovedPayload,
  defaultEventRegistry,
  isValidEventType,
} from '../../lib/catalog/index.js';
import type { EventDefinition, EventType } from '../../lib/catalog/index.js';

class SamplePayload {
  @IsString()
  readonly id!: string;
}

/** Definition with an arbitrary name, cast the way an untyped caller would pass it. */
function definitionNamed(type: string, overrides: Partial<EventDefinition> = {}): EventDefinition {
  return {
    type: type as EventType,
    payloadClass: SamplePayload as unknown as EventDefinition['payloadClass'],
    source: 'Test Service',
    consumers: ['Other Service'],
    description: 'Event used by the registry tests.',
    schemaVersion: 1,
    ...overrides,
  };
}

const CATALOG_TABLE_ROWS: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ['topic.approved', 'Topic Engine', ['Script Engine']],
  ['topic.rejected', 'Topic Engine', []],
  ['script.approved', 'Script Engine', ['Voice Engine', 'Media Engine']],
  ['script.hook_flagged', 'Analytics', ['Script Engine']],
  ['voice.generated', 'Voice Engine', ['Media Engine']],
  ['media.ready', 'Media Engine', ['Localization']],
  ['analytics.hook_weak', 'Analytics', ['Script Engine']],
  ['analytics.niche_underperforming', 'Analytics', ['Topic Engine']],
  ['community.topic_exported', 'Community', ['Topic Engine']],
  ['localization.completed', 'Localization', ['Admin UI']],
];

describe('defaultEventRegistry', () => {
  it('contains the ten catalog events with their sources and consumers', () => {
    const rows = defaultEventRegistry()
      .list()
      .map((definition) => [definition.type, definition.source, definition.consumers]);

    expect(rows).toEqual(CATALOG_TABLE_ROWS);
  });

  it('returns independent registries', () => {
    const first = defaultEventRegistry();
    const second = defaultEventRegistry();

    first.register(definitionNamed('sample.only_in_first'));

    expect(first.has('sample.only_in_first')).toBe(true);
    expect(second.has('sample.only_in_first')).toBe(false);
    expect(defaultEventRegistry().list()).toHaveLength(10);
  });

  it('uses schema version 1 for every built-in event', () => {
    expect(BUILT_IN_EVENT_DEFINITIONS.map((definition) => definition.schemaVersion)).toEqual(Array(10).fill(1));
  });
});

describe('EventRegistry', () => {
  it('returns registered definitions by name', () => {
    const registry = defaultEventRegistry();

    expect(registry.get('topic.approved')?.payloadClass).toBe(TopicApprovedPayload);
    expect(registry.has('topic.approved')).toBe(true);
    expect(registry.has('topic.unknown')).toBe(false);
    expect(registry.get('topic.unknown' as EventType)).toBeUndefined();
  });

  it('rejects a duplicate name', () => {
    const registry = defaultEventRegistry();

    expect(() => registry.register(definitionNamed('topic.approved'))).toThrow(EventRegistryError);
    expect(() => registry.register(definitionNamed('topic.approved'))).toThrow(
      'Event type "topic.approved" is already registered by source "Topic Engine"',
    );
    expect(registry.get('topic.approved')?.payloadClass).toBe(TopicApprovedPayload);
  });

  it.each([
    ['upper case', 'Topic.Approved'],
    ['single segment', 'topic'],
    ['empty segment', 'topic..approved'],
    ['trailing dot', 'topic.approved.'],
    ['leading digit', 'topic.1approved'],
    ['hyphen', 'topic.hook-weak'],
    ['space', 'topic approved'],
    ['empty string', ''],
  ])('rejects a name with %s', (_title, name) => {
    const registry = new EventRegistry();

    expect(() => registry.register(definitionNamed(name))).toThrow(EventRegistryError);
    expect(() => registry.register(definitionNamed(name))).toThrow(`Invalid event definition "${name}"`);
    expect(registry.list()).toEqual([]);
  });

  it.each(['topic.approved', 'analytics.niche_underperforming', 'a.b', 'shop.order.v2_created', 'stage2.done'])(
    'accepts the name %s',
    (name) => {
      expect(isValidEventType(name)).toBe(true);
      expect(() => new EventRegistry().register(definitionNamed(name))).not.toThrow();
    },
  );

  it.each([
    ['schema version 0', { schemaVersion: 0 }, 'schemaVersion must be a positive integer, received 0'],
    ['fractional schema version', { schemaVersion: 1.5 }, 'schemaVersion must be a positive integer, received 1.5'],
    ['empty source', { source: ' ' }, 'source must be a non-empty string'],
    ['empty consumer name', { consumers: ['Script Engine', ''] }, 'consumers must be an array of non-empty'],
    ['missing payload class', { payloadClass: undefined }, 'payloadClass must be a class'],
  ])('rejects a definition with %s', (_title, overrides, message) => {
    const definition = definitionNamed('sample.event', overrides);

    expect(() => new EventRegistry().register(definition)).toThrow(message);
  });

  it('stores a frozen copy of the definition', () => {
    const consumers = ['Other Service'];
    const registry = new EventRegistry().register(definitionNamed('sample.event', { consumers }));

    consumers.push('Late Service');
    const stored = registry.get('sample.event' as EventType);

    expect(stored?.consumers).toEqual(['Other Service']);
    expect(Object.isFrozen(stored)).toBe(true);
    expect(Object.isFrozen(stored?.consumers)).toBe(true);
  });

  it('lists definitions in registration order', () => {
    const registry = new EventRegistry().register(definitionNamed('sample.second')).register(definitionNamed('sample.first'));

    expect(registry.list().map((definition) => definition.type)).toEqual(['sample.second', 'sample.first']);
  });
});
