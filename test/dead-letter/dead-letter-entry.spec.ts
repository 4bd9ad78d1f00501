import {
  DEAD_LETTER_FIELD_PREFIX,
  decodeDeadLetter,
  defaultDeadLetterStream,
  encodeDeadLetter,
  type DeadLetterMetadata,
} from '../../lib/dead-letter/index.js';

const metadata: DeadLetterMetadata = {
  originalEntryId: '1700000000000-3',
  stream: 'ai-pipeline:events',
  group: 'script-writer',
  consumer: 'script-writer-1',
  attempts: 5,
  reason: 'max-attempts',
  error: 'Topic 42 not found',
  stack: 'Error: Topic 42 not found\n    at handle (handler.ts:10:5)',
  deadLetteredAt: '2024-05-01T12:00:00.000Z',
};

const originalFields = ['type', 'topic.approved', 'id', 'e-1', 'payload', '{"topicId":"42"}'];

describe('dead-letter entry', () => {
  it('writes metadata fields first', () => {
    const fields = encodeDeadLetter(metadata, originalFields);

    const metadataNames = fields.slice(0, 18).filter((_, index) => index % 2 === 0);
    expect(metadataNames).toEqual([
      'dlq.originalEntryId',
      'dlq.stream',
      'dlq.group',
      'dlq.consumer',
      'dlq.attempts',
      'dlq.reason',
      'dlq.error',
      'dlq.stack',
      'dlq.deadLetteredAt',
    ]);
    expect(fields.slice(18)).toEqual(originalFields);
  });

  it('leaves out event ids a malformed original lacks', () => {
    const decoded = decodeDeadLetter('1700000000100-0', encodeDeadLetter(metadata, ['payload', '{not json']));

    expect(decoded.eventType).toBeUndefined();
    expect(decoded.eventId).toBeUndefined();
  });

  it('round-trips metadata and fields', () => {
    const decoded = decodeDeadLetter('1700000000100-0', encodeDeadLetter(metadata, originalFields));

    expect(decoded).toEqual({ id: '1700000000100-0', ...metadata, originalFields, eventType: 'topic.approved', eventId: 'e-1' });
    expect(typeof decoded.attempts).toBe('number');
  });

  it('keeps a dlq. original field as original', () => {
    const withPrefixedField = [`${DEAD_LETTER_FIELD_PREFIX}something`, 'kept', ...originalFields, 'dlq.reason', 'not-metadata'];

    const decoded = decodeDeadLetter('1700000000100-0', encodeDeadLetter(metadata, withPrefixedField));

    expect(decoded.originalFields).toEqual(withPrefixedField);
    expect(decoded.reason).toBe('max-attempts');
    expect(decoded.originalEntryId).toBe('1700000000000-3');
  });

  it('round-trips an empty original entry', () => {
    const decoded = decodeDeadLetter('1-0', encodeDeadLetter(metadata, []));

    expect(decoded.originalFields).toEqual([]);
    expect(decoded.deadLetteredAt).toBe(metadata.deadLetteredAt);
  });

  it('decodes an entry without metadata', () => {
    const decoded = decodeDeadLetter('1-0', originalFields);

    expect(decoded.originalFields).toEqual(originalFields);
    expect(decoded.originalEntryId).toBe('');
    expect(decoded.attempts).toBe(0);
    expect(decoded.reason).toBe('malformed');
  });

  it('names the default dead-letter stream', () => {
    expect(defaultDeadLetterStream('ai-pipeline:events')).toBe('ai-pipeline:events:dead-letter');
  });
});
