import { describe, expect, it } from '@jest/globals';
import { IsOptional, IsString } from 'class-validator';

import {
  EventRegistry,
  ScriptApprovedPayload,
  TopicApprovedPayload,
  defaultEventRegistry,
  listPayloadFields,
  renderCatalogTable,
} from '../../lib/catalog/index.js';
import type { EventDefinition, EventType } from '../../lib/catalog/index.js';

class PipeNamePayload {
  @IsString()
  readonly id!: string;

  @IsOptional()
  @IsString()
  readonly note?: string;
}

describe('listPayloadFields', () => {
  it('lists fields in declaration order', () => {
    expect(listPayloadFields(TopicApprovedPayload)).toEqual([
      { name: 'topicId', optional: false },
      { name: 'title', optional: false },
      { name: 'channelType', optional: false },
      { name: 'niche', optional: false },
      { name: 'targetMarkets', optional: false },
      { name: 'estimatedCPM', optional: false },
      { name: 'hookIdeas', optional: false },
    ]);
  });

  it('marks optional fields', () => {
    const durationField = listPayloadFields(ScriptApprovedPayload).find((field) => field.name === 'durationSeconds');

    expect(durationField).toEqual({ name: 'durationSeconds', optional: true });
  });
});

describe('renderCatalogTable', () => {
  const registry = defaultEventRegistry();
  const table = renderCatalogTable(registry);
  const rows = table.trimEnd().split('\n');

  it('renders a header and one row per event', () => {
    expect(rows[0]).toBe('| Event | Source | Consumers | Meaning | Payload fields |');
    expect(rows[1]).toBe('|---|---|---|---|---|');
    expect(rows).toHaveLength(2 + registry.list().length);
  });

  it.each(
    defaultEventRegistry()
      .list()
      .map((definition) => definition.type),
  )('renders a row for %s', (type) => {
    expect(rows.filter((row) => row.startsWith(`| \`${type}\` |`))).toHaveLength(1);
  });

  it('renders the topic.approved row', () => {
    expect(rows).toContain(
      '| `topic.approved` | Topic Engine | Script Engine | ' +
        'A topic was approved, and the Script Engine generates its script automatically. | ' +
        '`topicId`, `title`, `channelType`, `niche`, ' +
        '`targetMarkets`, `estimatedCPM`, `hookIdeas` |',
    );
  });

  it('renders several consumers, no consumers and optional fields', () => {
    expect(rows).toContain(
      '| `script.approved` | Script Engine | Voice Engine, Media Engine | ' +
        'A script was approved, and voice-over and media production start in parallel. | ' +
        '`topicId`, `scriptId`, `channelType`, ' +
        '`language`, `durationSeconds?` |',
    );
    expect(rows).toContain(
      '| `topic.rejected` | Topic Engine | — | A topic was rejected and will not be produced. | `topicId`, `reason`, `rejectedBy?` |',
    );
  });

  it('escapes pipes in cells', () => {
    const definition: EventDefinition = {
      type: 'sample.piped' as EventType,
      payloadClass: PipeNamePayload as unknown as EventDefinition['payloadClass'],
      source: 'Left | Right',
      consumers: [],
      description: 'Event with a pipe in its source.',
      schemaVersion: 1,
    };

    const output = renderCatalogTable(new EventRegistry().register(definition));

    expect(output).toContain('| `sample.piped` | Left \\| Right | — | Event with a pipe in its source. | `id`, `note?` |');
  });
});
